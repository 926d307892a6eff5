// Full ranking: every user's held-out items are ranked against all items the user has not
// interacted with in training (seen items are excluded, as RecBole's full sort does), giving
// HR, NDCG, MRR, precision, recall and MAP at K, plus the item coverage and the average
// popularity of the top-K lists.
#pragma once

#include "data/UserItemIndex.h"
#include "runs/Metrics.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace reclab {

class Recommender;

class FullRankingEvaluator {
public:
    // (users[i], items[i]) are the held-out pairs; exclude holds what is not ranked (the
    // training interactions, plus validation ones when testing); itemCounts, when given, is the
    // training popularity of each item for avgpop@K.
    FullRankingEvaluator(const std::vector<int32_t>& users, const std::vector<int32_t>& items, UserItemIndex exclude,
                         int32_t numItems, std::vector<int64_t> itemCounts = {});

    struct Ranking {
        std::vector<int32_t> users;                 // distinct evaluated users
        std::vector<UserRanking> rankings;          // per user: ranks of the held-out items
        std::vector<std::vector<int32_t>> topLists; // per user: the top K items, best first
    };
    // Ranks count the candidates scoring strictly higher (ties in the held-out item's favour,
    // as the sampled protocol does); other held-out items of the same user stay candidates.
    // Top-K lists break ties by item index and never contain excluded items.
    Ranking rank(Recommender& model, const torch::Device& device, int k) const;
    // perUser, when given, receives each user's hr, ndcg, mrr, recall, precision and map.
    MetricValues evaluate(Recommender& model, const torch::Device& device, int k, UserMetrics* perUser = nullptr) const;

    size_t numUsers() const { return users_.size(); }

private:
    std::vector<int32_t> users_;
    std::vector<std::vector<int32_t>> relevant_; // per users_ entry, sorted
    UserItemIndex exclude_;
    int32_t numItems_;
    std::vector<int64_t> itemCounts_;
};

} // namespace reclab
