// The common protocol's evaluation of one held-out part (test or validation), the same for
// every model family: each user's held-out item is ranked against a fixed set of sampled items
// the user never interacted with and, optionally, against every item the user has not trained
// on; a model that reads a history scores each candidate from the user's interactions before
// the held-out one. From the same sampled candidates: AUC and GAUC (the held-out item positive,
// the sampled ones negative), LogLoss when the scores are click logits, and for rating models
// RMSE and MAE of the held-out item's predicted rating.
#pragma once

#include "data/CommonSplit.h"
#include "data/UserItemIndex.h"
#include "runs/Metrics.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace reclab {

class Recommender;

struct HeldOutOptions {
    int negatives = 99;
    uint64_t seed = 0;          // of the sampled negatives
    int historyLength = 50;     // behaviours a history model reads
    bool allItems = true;       // also rank against every item not excluded ("full_" metrics)
    bool logits = false;        // scores are click logits: LogLoss of their sigmoid
    bool ratings = false;       // scores are ratings: RMSE and MAE, clamped to the scale
    float minRating = 1.f, maxRating = 5.f;
};

class HeldOutEvaluator {
public:
    // seen holds every interaction (no negative is an item the user consumed); exclude what
    // full ranking leaves out (training rows, plus validation ones when testing).
    HeldOutEvaluator(const HeldOutInteractions& part, const UserItemIndex& seen, UserItemIndex exclude, int32_t numItems,
                     const HeldOutOptions& options);

    // perUser, when given, receives each user's hr, ndcg, mrr and auc (and rmse, mae).
    MetricValues evaluate(Recommender& model, const torch::Device& device, int k, UserMetrics* perUser = nullptr) const;

    // Per row: the held-out item, then the sampled negatives.
    const std::vector<int32_t>& candidates() const { return candidates_; }
    int width() const { return options_.negatives + 1; }

private:
    // Scores [rows, width] of the sampled candidates, on the CPU.
    std::vector<float> sampledScores(Recommender& model, const torch::Device& device) const;
    // 0-based rank of each row's held-out item among all items not excluded.
    std::vector<int64_t> fullRanks(Recommender& model, const torch::Device& device) const;
    bool readsHistory(Recommender& model) const;

    HeldOutInteractions part_;
    UserItemIndex exclude_;
    int32_t numItems_;
    HeldOutOptions options_;
    std::vector<int32_t> candidates_; // rows x width
};

} // namespace reclab
