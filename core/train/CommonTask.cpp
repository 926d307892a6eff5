#include "train/TrainingTask.h"

#include "runs/Protocols.h"
#include "util/Error.h"
#include "util/Hash.h"
#include "util/Random.h"

#include <numeric>

namespace reclab {

namespace {

// The sampled negatives of the common protocol come from fixed seeds, not the run's: runs of
// any model and any seed on the same data rank the same candidates, so they pair up.
constexpr uint64_t kTestSeed = 0x636f6d6d6f6eull; // "common"
constexpr uint64_t kValidationSeed = kTestSeed ^ 0x5a17ull;

HeldOutOptions heldOutOptions(const Dataset& dataset, const TrainConfig& config, const ModelAbilities& model,
                              uint64_t seed, bool allItems)
{
    HeldOutOptions o;
    o.negatives = config.evalNegatives;
    o.seed = seed;
    o.historyLength = config.historyLength;
    o.allItems = allItems;
    o.logits = model.clickLogits;
    o.ratings = model.ratings();
    o.minRating = dataset.minRating();
    o.maxRating = dataset.maxRating();
    return o;
}

// What full ranking leaves out for a part: the training rows, plus the extra held-out pairs.
UserItemIndex excluded(const InteractionTable& train, const std::vector<int32_t>& users,
                       const std::vector<int32_t>& items, int32_t numUsers)
{
    InteractionTable t = train;
    for (size_t k = 0; k < users.size(); ++k)
        t.append(users[k], items[k], 1.f, 0);
    return UserItemIndex(t, numUsers);
}

CommonSplit commonSplit(const Dataset& dataset, const TrainConfig& config, const ModelAbilities& model)
{
    if (dataset.presplit)
        throw ConfigError("protocol", "the common protocol splits by time itself; load the dataset without its prepared split");
    return makeCommonSplit(dataset, config.historyLength, model.readsHistory);
}

} // namespace

CommonTask::CommonTask(const Dataset& dataset, const TrainConfig& config, const ModelAbilities& model)
    : SplitTask(dataset, commonSplit(dataset, config, model)), model_(model), negatives_(config.negatives),
      topK_(config.topK), windows_(model.nextItems), sampledNegatives_(config.loss == "ce" ? 0 : config.loss == "bpr" ? 1 : config.negatives), seen_(dataset.interactions, dataset.numUsers()),
      test_(split_.test, seen_, excluded(split_.rows.train, split_.rows.validUser, split_.rows.validItem, numUsers_),
            numItems_, heldOutOptions(dataset, config, model, kTestSeed, true))
{
    const std::string key = config.validationKey();
    if (!key.empty()) {
        if (split_.valid.size() == 0)
            throw DataError(dataset.source, 0, "", "no user has three interactions, so there is nothing to validate on");
        if (key == "logloss" && !model.clickLogits)
            throw ConfigError("validation-metric", "logloss needs a model whose scores are click probabilities");
        if ((key == "rmse" || key == "mae") && !model.ratings())
            throw ConfigError("validation-metric", key + " needs a model that predicts ratings");
        const bool full = key.rfind(kFullPrefix, 0) == 0;
        validation_.emplace(split_.valid, seen_, UserItemIndex(split_.rows.train, numUsers_), numItems_,
                            heldOutOptions(dataset, config, model, kValidationSeed, full));
    }
    const InteractionTable& train = split_.rows.train;
    if (train.size() > 0)
        globalMean_ = std::accumulate(train.rating.begin(), train.rating.end(), 0.0) / static_cast<double>(train.size());
    itemSampleCounts_ = itemSampleCounts(split_.train, numItems_); // empty samples: all 0
}

ModelShape CommonTask::shape() const
{
    ModelShape s = baseShape();
    s.train = &split_.rows.train;
    s.globalMean = globalMean_;
    if (model_.readsHistory)
        s.itemSampleCounts = &itemSampleCounts_;
    return s;
}

int32_t CommonTask::unconsumedItem(int32_t user, Random& rng) const
{
    // A user who consumed every item gets any item rather than a loop without end.
    const bool canSample = seen_.countOf(user) < static_cast<size_t>(numItems_);
    int32_t item = 0;
    do
        item = static_cast<int32_t>(rng.below(static_cast<uint64_t>(numItems_)));
    while (canSample && seen_.contains(user, item));
    return item;
}

EpochData CommonTask::behaviourEpoch(Random& rng) const
{
    // Each training interaction (label 1) followed by `negatives_` unconsumed items (label 0)
    // with the same history, in a seeded order.
    const BehaviourSamples& pos = split_.train;
    const auto per = static_cast<size_t>(1 + negatives_);
    const size_t n = pos.size() * per;
    const auto L = static_cast<size_t>(pos.maxHistory);
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    rng.shuffle(order.begin(), order.end());
    const auto rows = static_cast<int64_t>(n);
    EpochData data;
    data.users = torch::empty({rows}, torch::kLong);
    data.items = torch::empty({rows}, torch::kLong);
    data.labels = torch::empty({rows}, torch::kFloat);
    data.history = torch::empty({rows, static_cast<int64_t>(L)}, torch::kLong);
    data.historyLength = torch::empty({rows}, torch::kLong);
    auto* u = data.users.data_ptr<int64_t>();
    auto* i = data.items.data_ptr<int64_t>();
    auto* y = data.labels.data_ptr<float>();
    auto* h = data.history.data_ptr<int64_t>();
    auto* len = data.historyLength.data_ptr<int64_t>();
    for (size_t k = 0; k < n; ++k) {
        const size_t r = order[k] / per;
        const bool positive = order[k] % per == 0;
        const int32_t user = pos.user[r];
        const int32_t item = positive ? pos.item[r] : unconsumedItem(user, rng);
        u[k] = user;
        i[k] = item;
        y[k] = positive ? 1.f : 0.f;
        len[k] = pos.length[r];
        std::copy_n(pos.history.begin() + static_cast<long>(r * L), L, h + k * L);
    }
    return data;
}

EpochData CommonTask::windowEpoch(Random& rng) const
{
    // Each user's training interactions in time order (the samples come grouped by user, oldest
    // first), cut from the latest back into windows of up to L + 1 items: the first L the
    // history, each one's next item its target. Every training interaction but a user's first
    // is a target exactly once; the earliest window of a user is the shortest. A model with one
    // state per history (not one per position) gets a window per target instead: the up to L
    // interactions before it, the target after the last (and, for a model that predicts the
    // next K items, the K − 1 training interactions after that, −1 past the user's last).
    const BehaviourSamples& pos = split_.train;
    const auto L = static_cast<size_t>(pos.maxHistory);
    struct Window {
        size_t begin, length, end; // sample rows [begin, begin + length) are the history; the user's end
    };
    std::vector<Window> windows;
    for (size_t begin = 0; begin < pos.size();) {
        size_t end = begin;
        while (end < pos.size() && pos.user[end] == pos.user[begin])
            ++end;
        for (size_t last = end - 1; last > begin;) { // last: the window's final target
            const size_t first = last > begin + L ? last - L : begin;
            windows.push_back({first, last - first, end});
            last = model_.nextItemsEveryStep ? first : last - 1;
        }
        begin = end;
    }
    std::vector<uint32_t> order(windows.size());
    std::iota(order.begin(), order.end(), 0u);
    rng.shuffle(order.begin(), order.end());
    const auto rows = static_cast<int64_t>(windows.size());
    const auto width = static_cast<int64_t>(L);
    EpochData data;
    data.users = torch::empty({rows}, torch::kLong);
    data.history = torch::full({rows, width}, static_cast<int64_t>(numItems_), torch::kLong);
    data.historyLength = torch::empty({rows}, torch::kLong);
    const bool everyStep = model_.nextItemsEveryStep;
    const auto K = static_cast<size_t>(everyStep ? 1 : std::max<int64_t>(model_.nextItemSteps, 1));
    const int64_t perTarget = sampledNegatives_, targetWidth = everyStep ? width : static_cast<int64_t>(K);
    data.targets = torch::full({rows, targetWidth}, -1, torch::kLong);
    if (perTarget > 0)
        data.negativeTargets = torch::full({rows, targetWidth, perTarget}, -1, torch::kLong);
    auto* negative = perTarget > 0 ? data.negativeTargets.data_ptr<int64_t>() : nullptr;
    auto* u = data.users.data_ptr<int64_t>();
    auto* h = data.history.data_ptr<int64_t>();
    auto* len = data.historyLength.data_ptr<int64_t>();
    auto* t = data.targets.data_ptr<int64_t>();
    for (size_t k = 0; k < windows.size(); ++k) {
        const Window& w = windows[order[k]];
        u[k] = pos.user[w.begin];
        len[k] = static_cast<int64_t>(w.length);
        for (size_t j = 0; j < w.length; ++j)
            h[k * L + j] = pos.item[w.begin + j];
        // The targets of this row: at each position of the history, or the K after it.
        const size_t count = everyStep ? w.length : std::min(K, w.end - w.begin - w.length);
        const size_t first = everyStep ? w.begin + 1 : w.begin + w.length, at = k * static_cast<size_t>(targetWidth);
        for (size_t j = 0; j < count; ++j) {
            t[at + j] = pos.item[first + j];
            for (int64_t n = 0; negative && n < perTarget; ++n)
                negative[(at + j) * static_cast<size_t>(perTarget) + static_cast<size_t>(n)] =
                    unconsumedItem(static_cast<int32_t>(u[k]), rng);
        }
    }
    return data;
}

std::vector<std::string> CommonTask::notes() const
{
    if (!windows_)
        return {};
    // A user whose training part is one interaction has no history to predict it from.
    const BehaviourSamples& train = split_.train;
    size_t single = 0;
    for (size_t begin = 0; begin < train.size();) {
        size_t end = begin;
        while (end < train.size() && train.user[end] == train.user[begin])
            ++end;
        single += end - begin == 1;
        begin = end;
    }
    if (single == 0)
        return {};
    return {std::to_string(single) + (single == 1 ? " user has" : " users have") +
            " one training interaction and no history before it, so next-item training leaves " +
            (single == 1 ? "it" : "them") + " out"};
}

EpochData CommonTask::sampleEpoch(Random& rng, InputType input, const EpochShard& shard) const
{
    if (model_.ratings())
        return ratingEpoch(split_.rows.train, rng, shard);
    if (windows_)
        return windowEpoch(rng);
    if (model_.readsHistory)
        return behaviourEpoch(rng);
    return implicitFeedbackEpoch(split_.rows.train, seen_, numItems_, negatives_, rng, input, shard);
}

MetricValues CommonTask::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    return test_.evaluate(model, device, topK_, perUser);
}

MetricValues CommonTask::evaluateValidation(Recommender& model, const torch::Device& device) const
{
    if (!validation_)
        throw ConfigError("validation-metric", "this run holds out no validation part");
    return validation_->evaluate(model, device, topK_);
}

void CommonTask::hashHeldOut(Fnv1a& hash) const
{
    // The test part and its candidates only: runs with and without early stopping, of any
    // model, share the fingerprint, and their per-user test metrics pair up.
    hash.bytes("common", 6);
    hash.column(split_.rows.testUser);
    hash.column(split_.rows.testItem);
    hash.column(test_.candidates());
}

} // namespace reclab
