// How one kind of task turns a dataset into training epochs and held-out metrics:
// ImplicitRankingTask (leave-one-out, sampled negatives, HR/NDCG) and RatingPredictionTask
// (random hold-out, ratings as labels, RMSE/MAE). The trainer is the same for both.
#pragma once

#include "data/BehaviourSplit.h"
#include "data/ColdItemSplit.h"
#include "data/CommonSplit.h"
#include "data/Dataset.h"
#include "data/Splits.h"
#include "data/UserItemIndex.h"
#include "eval/ClickEvaluator.h"
#include "eval/FullRankingEvaluator.h"
#include "eval/HeldOutEvaluator.h"
#include "eval/RatingEvaluator.h"
#include "eval/SampledRankingEvaluator.h"
#include "zoo/ModelRegistry.h"
#include "runs/TrainConfig.h"

#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reclab {

class Random;
struct Fnv1a;

// One epoch of training examples in the order they are fed, on the CPU.
struct EpochData {
    torch::Tensor users;    // int64 [n]
    torch::Tensor items;    // int64 [n]
    torch::Tensor labels;   // float [n]
    torch::Tensor negItems; // int64 [n], pairwise models only
    torch::Tensor history;       // int64 [n, L], click-through models only (see Batch)
    torch::Tensor historyLength; // int64 [n], click-through models only
    torch::Tensor targets;       // int64 [n, L], next-item models: the item after each position (Batch);
                                 // [n, 1] for one state per history: the item after the history
    torch::Tensor negativeTargets; // int64 [n, L or 1, k]: k unconsumed items beside each target (loss bce/bpr)
    // > 0: these are one rank's rows (EpochShard) of an epoch of this many rows; 0: every row.
    int64_t epochRows = 0;
};

// One rank's share of an epoch in a run on several processes: of each batch of `batch` rows of
// the shuffled epoch, the rows [len * rank / size, len * (rank + 1) / size). Every rank draws
// the same epoch (the same seed) and keeps its share, so the ranks' rows together are exactly
// one process's. Samplers that cannot keep a share return every row (epochRows 0).
struct EpochShard {
    int64_t batch = 0;
    int rank = 0;
    int size = 1;
    bool whole() const { return size <= 1; }
};

// Pointwise: each training row labelled 1 plus `negatives` unconsumed items (never in seen)
// labelled 0; pairwise: `negatives` (user, consumed, unconsumed) triples per row. Negatives are
// drawn afresh each epoch, from `pool` when given (the cold protocol's warm items), else from every item.
EpochData implicitFeedbackEpoch(const InteractionTable& train, const UserItemIndex& seen, int32_t numItems, int negatives,
                                Random& rng, InputType input, const EpochShard& shard,
                                const std::vector<int32_t>* pool = nullptr);
// The training ratings as labels, in a seeded order.
EpochData ratingEpoch(const InteractionTable& train, Random& rng, const EpochShard& shard);

class TrainingTask {
public:
    virtual ~TrainingTask() = default;
    virtual ModelShape shape() const = 0;
    // Pointwise: labelled (user, item) rows; pairwise: (user, consumed, unconsumed) triples.
    // shard: the rows this rank keeps (EpochShard); samplers of rows keep only those.
    virtual EpochData sampleEpoch(Random& rng, InputType input, const EpochShard& shard = {}) const = 0;
    // Metrics on the test part (perUser, when given, receives them per test user); on the validation part (held out when the configuration names a
    // validation metric; ConfigError otherwise), names without the "val_" prefix.
    virtual MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const = 0;
    virtual MetricValues evaluateValidation(Recommender& model, const torch::Device& device) const = 0;
    // Identifies the split: the data, the held-out parts and their evaluation candidates. Two
    // runs with equal fingerprints were tested on the same users and items, so their per-user
    // metrics pair up.
    std::string splitFingerprint() const;
    // What the person training should know about how the split met the model (users left out
    // and why), one sentence each.
    virtual std::vector<std::string> notes() const { return {}; }

    static std::unique_ptr<TrainingTask> create(TaskKind kind, const Dataset& dataset, const TrainConfig& config);

protected:
    explicit TrainingTask(const Dataset& dataset) : dataset_(dataset) {}
    // Adds what this task holds out to the fingerprint.
    virtual void hashHeldOut(Fnv1a& hash) const = 0;
    // Sizes and side data (genres, years, ages) every model shape carries.
    ModelShape baseShape() const;

    const Dataset& dataset_;
};

// A task over one kind of split, made before anything the task builds from it (evaluators).
template <class Split> class SplitTask : public TrainingTask {
public:
    const Split& split() const { return split_; }

protected:
    SplitTask(const Dataset& dataset, Split split)
        : TrainingTask(dataset), numUsers_(dataset.numUsers()), numItems_(dataset.numItems()), split_(std::move(split))
    {
    }
    int32_t numUsers_, numItems_;
    Split split_;
};

class ImplicitRankingTask : public SplitTask<LeaveOneOutSplit> {
public:
    ImplicitRankingTask(const Dataset& dataset, const TrainConfig& config);
    ModelShape shape() const override;
    EpochData sampleEpoch(Random& rng, InputType input, const EpochShard& shard = {}) const override;
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const override;
    MetricValues evaluateValidation(Recommender& model, const torch::Device& device) const override;

    // The evaluators of the protocol, for the test part: sampled for "loo", full for "full".
    const SampledRankingEvaluator* sampledEvaluator() const { return sampled_ ? &*sampled_ : nullptr; }
    const FullRankingEvaluator* fullEvaluator() const { return full_ ? &*full_ : nullptr; }

private:
    void hashHeldOut(Fnv1a& hash) const override;
    // One part's evaluator, sampled or full.
    struct Ranker {
        std::optional<SampledRankingEvaluator> sampled;
        std::optional<FullRankingEvaluator> full;
        MetricValues evaluate(Recommender& model, const torch::Device& device, int k) const;
    };

    int negatives_, topK_;
    UserItemIndex seen_; // all interactions: negatives are never consumed items
    std::optional<SampledRankingEvaluator> sampled_;
    std::optional<FullRankingEvaluator> full_;
    std::optional<Ranker> validation_;
};

class RatingPredictionTask : public SplitTask<RatioSplit> {
public:
    RatingPredictionTask(const Dataset& dataset, const TrainConfig& config);
    ModelShape shape() const override;
    EpochData sampleEpoch(Random& rng, InputType input, const EpochShard& shard = {}) const override;
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const override;
    MetricValues evaluateValidation(Recommender& model, const torch::Device& device) const override;

private:
    void hashHeldOut(Fnv1a& hash) const override;
    double globalMean_ = 0.0;
    RatingEvaluator evaluator_;
    std::optional<RatingEvaluator> validation_;
};

// The DIN protocol: every rating a sample with the user's earlier ratings as its behaviours,
// label rating >= positiveRating, a seeded testFraction of the users held out.
class ClickThroughTask : public SplitTask<BehaviourSplit> {
public:
    ClickThroughTask(const Dataset& dataset, const TrainConfig& config);
    ModelShape shape() const override;
    EpochData sampleEpoch(Random& rng, InputType input, const EpochShard& shard = {}) const override;
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const override;
    MetricValues evaluateValidation(Recommender& model, const torch::Device& device) const override;

    const ClickEvaluator& evaluator() const { return evaluator_; }

private:
    void hashHeldOut(Fnv1a& hash) const override;
    std::vector<int64_t> itemSampleCounts_;
    ClickEvaluator evaluator_;
    std::optional<ClickEvaluator> validation_;
};

// The common protocol ("common"): one split for every model family (data/CommonSplit), each
// family trained as it learns — rating models on the training ratings, ranking models on
// implicit feedback with sampled negatives, models that read a history on every training
// interaction with its earlier ones, plus sampled negatives sharing that history — and all
// evaluated alike (eval/HeldOutEvaluator): the same held-out items, the same sampled negatives.
class CommonTask : public SplitTask<CommonSplit> {
public:
    CommonTask(const Dataset& dataset, const TrainConfig& config, const ModelAbilities& model);
    ModelShape shape() const override;
    EpochData sampleEpoch(Random& rng, InputType input, const EpochShard& shard = {}) const override;
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const override;
    MetricValues evaluateValidation(Recommender& model, const torch::Device& device) const override;

    const HeldOutEvaluator& testEvaluator() const { return test_; }
    std::vector<std::string> notes() const override;

private:
    void hashHeldOut(Fnv1a& hash) const override;
    EpochData behaviourEpoch(Random& rng) const;
    int32_t unconsumedItem(int32_t user, Random& rng) const; // a sampled negative
    // Next-item models: windows of each user's training sequence (EpochData::targets), with
    // sampled negatives per target for the losses that need them (EpochData::negativeTargets).
    EpochData windowEpoch(Random& rng) const;

    ModelAbilities model_;
    int negatives_, topK_;
    bool windows_;
    int sampledNegatives_; // per next-item target with loss bce (--negatives) or bpr (1); 0 with ce
    UserItemIndex seen_; // all interactions: negatives are never consumed items
    double globalMean_ = 0.0;
    std::vector<int64_t> itemSampleCounts_;
    HeldOutEvaluator test_;
    std::optional<HeldOutEvaluator> validation_;
};

// The cold-start protocol (data/ColdItemSplit.h): ranking and rating models train on the warm
// items' interactions (implicit negatives drawn from warm items only, as the cold ones have not
// arrived yet); each test user's latest cold item is ranked against the cold items they did not
// choose, 100 sampled and all of them.
class ColdTask : public SplitTask<ColdItemSplit> {
public:
    ColdTask(const Dataset& dataset, const TrainConfig& config, TaskKind kind);
    ModelShape shape() const override;
    EpochData sampleEpoch(Random& rng, InputType input, const EpochShard& shard = {}) const override;
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const override;
    MetricValues evaluateValidation(Recommender& model, const torch::Device& device) const override;
    std::vector<std::string> notes() const override;

private:
    void hashHeldOut(Fnv1a& hash) const override;
    TaskKind kind_;
    int negatives_, topK_;
    std::vector<int32_t> warm_; // the items training may use
    double globalMean_ = 0.0;
};

} // namespace reclab
