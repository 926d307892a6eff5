// The cold-start protocol as a training task: the split of data/ColdItemSplit.h, warm-only
// training epochs, and the cold rankings' metrics.
#include "train/TrainingTask.h"

#include "models/Recommender.h"
#include "runs/Metrics.h"
#include "util/Error.h"
#include "util/Hash.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <numeric>

namespace reclab {

ColdTask::ColdTask(const Dataset& dataset, const TrainConfig& config, TaskKind kind)
    : SplitTask(dataset, makeColdItemSplit(dataset, config.coldShare, config.seed)), kind_(kind),
      negatives_(config.negatives), topK_(config.topK)
{
    if (kind == TaskKind::ClickThrough)
        throw ConfigError("protocol", "the cold protocol trains ranking and rating models; click-through and sequence "
                                      "models read histories, which it does not build (use common or din)");
    if (!config.validationMetric.empty())
        throw ConfigError("validation-metric", "the cold protocol holds out no validation part");
    for (int32_t i = 0; i < numItems_; ++i)
        if (!split_.isCold(i))
            warm_.push_back(i);
    const InteractionTable& train = split_.train;
    if (train.size() > 0)
        globalMean_ = std::accumulate(train.rating.begin(), train.rating.end(), 0.0) / static_cast<double>(train.size());
}

ModelShape ColdTask::shape() const
{
    ModelShape s = baseShape();
    s.train = &split_.train;
    s.globalMean = globalMean_;
    return s;
}

EpochData ColdTask::sampleEpoch(Random& rng, InputType input, const EpochShard& shard) const
{
    if (kind_ == TaskKind::RatingPrediction)
        return ratingEpoch(split_.train, rng, shard);
    return implicitFeedbackEpoch(split_.train, split_.seen, numItems_, negatives_, rng, input, shard, &warm_);
}

MetricValues ColdTask::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    torch::NoGradGuard noGrad;
    model.eval();
    const ColdRanks ranks = rankColdTargets(split_, [&](int32_t user, const std::vector<int32_t>& items, std::vector<float>& out) {
        const auto candidates = torch::tensor(std::vector<int64_t>(items.begin(), items.end()), torch::kLong).to(device);
        const auto users = torch::full({candidates.size(0)}, int64_t{user}, torch::kLong).to(device);
        const auto scores = model.predict(users, candidates).to(torch::kCPU, torch::kFloat).contiguous();
        out.assign(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel());
    });
    const std::string at = "@" + std::to_string(topK_);
    auto mrr = [this](const std::vector<int64_t>& r, size_t k) { return r[k] < topK_ ? 1.0 / double(r[k] + 1) : 0.0; };
    MetricValues values;
    if (perUser)
        perUser->clear(); // replaced, as every evaluator does
    for (const bool full : {false, true}) {
        const auto& r = full ? ranks.full : ranks.sampled;
        const std::string prefix = full ? "full_" : "";
        double mrrSum = 0;
        for (size_t k = 0; k < r.size(); ++k)
            mrrSum += mrr(r, k);
        values.push_back({prefix + "hr" + at, hitRateAtK(r, topK_)});
        values.push_back({prefix + "ndcg" + at, ndcgAtK(r, topK_)});
        values.push_back({prefix + "mrr" + at, r.empty() ? 0.0 : mrrSum / static_cast<double>(r.size())});
        if (perUser) {
            UserMetric hr{prefix + "hr" + at, split_.testUser, {}}, ndcg{prefix + "ndcg" + at, split_.testUser, {}};
            for (size_t k = 0; k < r.size(); ++k) {
                hr.values.push_back(r[k] < topK_ ? 1.0 : 0.0);
                ndcg.values.push_back(ndcgAtK({r[k]}, topK_));
            }
            perUser->push_back(std::move(hr));
            perUser->push_back(std::move(ndcg));
        }
    }
    return values;
}

MetricValues ColdTask::evaluateValidation(Recommender&, const torch::Device&) const
{
    throw ConfigError("validation-metric", "the cold protocol holds out no validation part");
}

std::vector<std::string> ColdTask::notes() const
{
    std::vector<std::string> notes{std::to_string(split_.coldItems.size()) + " of " + std::to_string(numItems_) +
                                   " items are cold (held out with " + std::to_string(split_.coldRows.size()) +
                                   " interactions); " + std::to_string(split_.testUser.size()) +
                                   " users are tested on the latest cold item they chose"};
    if (split_.usersWithoutTraining > 0)
        notes.push_back(std::to_string(split_.usersWithoutTraining) +
                        " test users chose only cold items, so no model learned anything about them");
    return notes;
}

void ColdTask::hashHeldOut(Fnv1a& hash) const
{
    hash.bytes("cold", 4);
    hash.column(split_.coldItems);
    hash.column(split_.testUser);
    hash.column(split_.testItem);
    for (const auto& n : split_.negatives)
        hash.column(n);
}

} // namespace reclab
