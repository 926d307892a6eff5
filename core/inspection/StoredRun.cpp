#include "inspection/StoredRun.h"

#include "rl/BanditRecords.h"

#include "compiled/GraphModule.h"

#include "data/DatasetSource.h"
#include "zoo/ModelRegistry.h"
#include "models/Recommender.h"
#include "models/BlendModel.h"
#include "train/Trainer.h"
#include "runs/StoredRuns.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace reclab {

Dataset runDataset(const RunRecord& run, const std::string& dataOverride)
{
    const std::string spec = !dataOverride.empty()      ? dataOverride
                             : run.dataset == "sample" ? std::string("sample")
                                                       : run.datasetSource;
    Dataset dataset;
    try {
        dataset = loadDataset(spec);
    } catch (const Error& e) {
        throw Error("cannot load run " + std::to_string(run.id) + "'s data (" + e.what() + "); give it with --data");
    }
    if (dataset.fingerprint() != run.datasetFingerprint)
        throw Error(spec + " is not the data run " + std::to_string(run.id) + " was trained on (fingerprint " +
                    dataset.fingerprint() + ", the run's " + run.datasetFingerprint + "); give it with --data");
    return dataset;
}

namespace {

StoredModel withBlendModel(const std::string& databasePath, StoredModel out)
{
    const auto params = nlohmann::json::parse(out.run.paramsJson, nullptr, false);
    const auto blend = params.is_object() ? params.find("blend") : params.end();
    if (blend == params.end() || !blend->is_object() || !(*blend)["runs"].is_array() || (*blend)["runs"].size() != 2 ||
        !(*blend)["weight"].is_number())
        throw Error("run " + std::to_string(out.run.id) + " is a blend without its two runs and weight");
    const StoredModel a = loadStoredModel(databasePath, (*blend)["runs"][0].get<int64_t>(), out.data);
    const StoredModel b = loadStoredModel(databasePath, (*blend)["runs"][1].get<int64_t>(), out.data);
    out.model = std::make_shared<BlendModelImpl>(a.model, b.model, (*blend)["weight"].get<double>(), out.data->numUsers());
    out.model->eval();
    return out;
}

} // namespace

StoredModel loadStoredModel(const std::string& databasePath, int64_t runId, std::shared_ptr<const Dataset> data,
                            const std::string& dataOverride)
{
    StoredModel out;
    out.run = findStoredRun(databasePath, runId);
    if (out.run.model == kBanditModel)
        throw ConfigError("run", "run " + std::to_string(runId) + " is a bandit run (a ranking policy's record), not a "
                                 "trained model: pick a model's run");
    if (data && data->fingerprint() != out.run.datasetFingerprint)
        throw Error(data->name + " is not the data run " + std::to_string(runId) + " was trained on");
    out.data = data ? std::move(data) : std::make_shared<const Dataset>(runDataset(out.run, dataOverride));
    out.config = storedTrainConfig(databasePath, runId);
    out.config.device = "cpu";
    if (out.run.model == "blend") // its two runs, loaded on the same data, and the chosen weight
        return withBlendModel(databasePath, std::move(out));
    const std::filesystem::path dir(runArtifactDir(databasePath, runId));
    for (const char* name : {"best.pt", "last.pt"})
        if (out.checkpoint.empty() && std::filesystem::exists(dir / name))
            out.checkpoint = (dir / name).string();
    if (out.checkpoint.empty() && !out.config.customGraph() && abilitiesOf(out.config).trainable)
        throw Error("run " + std::to_string(runId) + " has no checkpoint: it stopped before its first epoch ended");
    Trainer trainer(out.data, out.config);
    out.model = trainer.loadModel(out.checkpoint);
    out.model->eval();
    return out;
}

int32_t userIndexOf(const Dataset& data, const std::string& id)
{
    for (int32_t u = 0; u < data.numUsers(); ++u)
        if (data.userIds[static_cast<size_t>(u)] == id)
            return u;
    throw Error(data.name + " has no user " + id);
}

std::string itemTitle(const Dataset& data, int32_t item)
{
    const auto at = static_cast<size_t>(item);
    return at < data.items.title.size() && !data.items.title[at].empty() ? data.items.title[at] : data.itemIds[at];
}

int32_t itemIndexOf(const Dataset& data, const std::string& id)
{
    for (int32_t i = 0; i < data.numItems(); ++i)
        if (data.itemIds[static_cast<size_t>(i)] == id)
            return i;
    throw Error(data.name + " has no item " + id);
}

std::shared_ptr<InspectionCache::Data> InspectionCache::data(const std::string& databasePath, int64_t runId)
{
    const RunRecord run = findStoredRun(databasePath, runId);
    {
        std::lock_guard lock(mutex_);
        if (const auto found = data_.find(run.datasetFingerprint); found != data_.end())
            return found->second;
    }
    auto loaded = std::make_shared<Data>();
    loaded->dataset = std::make_shared<const Dataset>(runDataset(run, {}));
    loaded->index = std::make_unique<InteractionIndex>(*loaded->dataset);
    std::lock_guard lock(mutex_);
    return data_.emplace(run.datasetFingerprint, std::move(loaded)).first->second; // the first one loaded wins
}

std::shared_ptr<InspectionCache::Model> InspectionCache::model(const std::string& databasePath, int64_t runId)
{
    const auto key = std::make_pair(databasePath, runId);
    uint64_t generation = 0;
    {
        std::lock_guard lock(mutex_);
        if (const auto found = models_.find(key); found != models_.end())
            return found->second;
        generation = generation_;
    }
    auto loaded = std::make_shared<Model>();
    loaded->data = data(databasePath, runId);
    loaded->stored = loadStoredModel(databasePath, runId, loaded->data->dataset);
    // The views ask one model again and again (users, candidates, runs side by side): DIN's
    // weights for every pair of items are worth computing once here, in the loading worker.
    if (auto* graph = dynamic_cast<GraphModelImpl*>(loaded->stored.model.get()))
        graph->prepareAttentionTable();
    std::lock_guard lock(mutex_);
    if (generation != generation_)
        return loaded; // the run list changed while it loaded: used once, not kept
    return models_.emplace(key, std::move(loaded)).first->second;
}

void InspectionCache::retain(const std::string& databasePath, const std::vector<int64_t>& runIds)
{
    const std::set<int64_t> keep(runIds.begin(), runIds.end());
    std::lock_guard lock(mutex_);
    ++generation_;
    for (auto it = models_.begin(); it != models_.end();)
        it = it->first.first != databasePath || !keep.count(it->first.second) ? models_.erase(it) : std::next(it);
    // Datasets that neither a kept run nor a view's worker holds.
    for (auto it = data_.begin(); it != data_.end();)
        it = it->second.use_count() > 1 ? std::next(it) : data_.erase(it);
}

} // namespace reclab
