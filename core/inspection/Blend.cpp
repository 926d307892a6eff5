#include "inspection/Blend.h"

#include "inspection/StoredRun.h"
#include "models/BlendModel.h"
#include "runs/StoredRuns.h"
#include "store/ExperimentStore.h"
#include "train/TrainingTask.h"
#include "util/Clock.h"
#include "util/Error.h"
#include "util/Words.h"
#include "zoo/ModelRegistry.h"

#include <nlohmann/json.hpp>


namespace reclab {

std::vector<double> defaultBlendWeights()
{
    std::vector<double> w;
    for (int k = 0; k <= 10; ++k)
        w.push_back(k / 10.0);
    return w;
}

namespace {

void requireBlendable(const StoredModel& m)
{
    if (m.run.status != RunStatus::Finished)
        throw ConfigError("runs", "run " + std::to_string(m.run.id) + " is " + runStatusName(m.run.status) + ", not FINISHED");
    const auto abilities = abilitiesOfRun(m.run.paramsJson);
    if (abilities && abilities->readsHistory)
        throw ConfigError("runs", "run " + std::to_string(m.run.id) + " (" + m.run.model +
                                      ") reads a behaviour history; a blend scores users and items");
}

} // namespace

BlendResult blendRuns(const std::string& db, int64_t runA, int64_t runB, const std::vector<double>& weights,
                      const std::string& dataOverride)
{
    if (runA == runB)
        throw ConfigError("runs", "give two different runs");
    if (weights.empty())
        throw ConfigError("weights", "give at least one weight");
    const StoredModel a = loadStoredModel(db, runA, nullptr, dataOverride);
    const StoredModel b = loadStoredModel(db, runB, a.data);
    requireBlendable(a);
    requireBlendable(b);
    if (a.run.splitFingerprint != b.run.splitFingerprint)
        throw ConfigError("runs", "runs " + std::to_string(runA) + " and " + std::to_string(runB) +
                                      " were split differently (other protocol, seed or validation part); blend runs of one split");
    const TrainConfig& config = a.config;
    if (config.validationKey().empty())
        throw ConfigError("runs", "run " + std::to_string(runA) + " held out no validation part (--validation-metric), so "
                                      "the weight could only be chosen on the test part");
    const auto task = TrainingTask::create(taskOf(config), *a.data, config);
    if (task->splitFingerprint() != a.run.splitFingerprint)
        throw ConfigError("runs", "run " + std::to_string(runA) + "'s split cannot be made again from its data");
    const torch::Device cpu(torch::kCPU);
    BlendModel blend(a.model, b.model, weights.front(), a.data->numUsers(), 17,
                     taskOf(config) == TaskKind::RatingPrediction);
    blend->eval();

    BlendResult r;
    r.validationKey = config.validationKey();
    const bool lower = lowerIsBetter(r.validationKey);
    double best = 0;
    for (const double w : weights) {
        if (!(w >= 0 && w <= 1))
            throw ConfigError("weights", "weights are from 0 to 1");
        blend->setWeight(w);
        const double value = metricOr(task->evaluateValidation(*blend, cpu), r.validationKey, 0.0);
        r.validation.emplace_back(w, value);
        if (r.validation.size() == 1 || (lower ? value < best : value > best)) {
            best = value;
            r.weight = w;
        }
    }
    blend->setWeight(r.weight);
    UserMetrics perUser;
    r.test = task->evaluate(*blend, cpu, &perUser);

    // Stored as a run of its own: the first run's settings, the model "blend", the two runs and the weight.
    nlohmann::json params = nlohmann::json::parse(a.run.paramsJson);
    params["model"] = "blend";
    params["blend"] = {{"runs", {runA, runB}},
                       {"models", {a.run.model, b.run.model}},
                       {"weight", r.weight},
                       {"chosen_on", "val_" + r.validationKey}};
    RunRecord record;
    record.model = "blend";
    record.name = a.run.model + " + " + b.run.model;
    record.dataset = a.data->name;
    record.datasetSource = a.data->source;
    record.datasetFingerprint = a.data->fingerprint();
    record.paramsJson = params.dump();
    record.seed = static_cast<int64_t>(config.seed);
    ExperimentStore store(db);
    r.runId = store.beginRun(record);
    store.setSplitFingerprint(r.runId, a.run.splitFingerprint);
    std::vector<MetricPoint> points;
    const double now = unixTimeNow();
    for (const auto& m : r.test)
        points.push_back({m.name, 0, 1, m.value, now});
    points.push_back({"val_" + r.validationKey, 0, 1, best, now});
    points.push_back({"blend_weight", 0, 1, r.weight, now});
    store.recordMetrics(r.runId, points);
    store.recordUserMetrics(r.runId, perUser);
    std::string notes = "Blend of run " + std::to_string(runA) + " (" + a.run.model + ") and run " + std::to_string(runB) +
                        " (" + b.run.model + "), weight " + shortNumber(r.weight) + " on the first, chosen on val_" +
                        r.validationKey + ":";
    for (const auto& [w, v] : r.validation)
        notes += " " + shortNumber(w) + " → " + formatMetric(v);
    store.setNotes(r.runId, notes);
    store.finishRun(r.runId, RunStatus::Finished, "");
    return r;
}

} // namespace reclab
