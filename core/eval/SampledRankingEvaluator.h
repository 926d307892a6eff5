// The NCF protocol: each user's held-out item is ranked against a fixed set of sampled items
// the user never interacted with; HR@K and NDCG@K over users. The negatives are drawn once
// from a seed, so every epoch and every model sees the same candidates.
#pragma once

#include "data/UserItemIndex.h"
#include "runs/Metrics.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

class Recommender;

// numNegatives distinct items each of users never interacted with (seen), drawn once from
// seed, row after row. Throws ConfigError naming the protocol, and remedy after it, when a user
// has fewer such items.
std::vector<int32_t> drawNegatives(const std::vector<int32_t>& users, const UserItemIndex& seen, int32_t numItems,
                                   int numNegatives, uint64_t seed, const std::string& protocol, const std::string& remedy);

class SampledRankingEvaluator {
public:
    // seen must hold every interaction of the user (train and test), so no negative is an
    // item the user actually consumed.
    SampledRankingEvaluator(const std::vector<int32_t>& testUsers, const std::vector<int32_t>& testItems,
                            const UserItemIndex& seen, int32_t numItems, int numNegatives, uint64_t seed);

    // Fixed candidates from a prepared split: negatives holds numNegatives items per test row.
    SampledRankingEvaluator(const std::vector<int32_t>& testUsers, const std::vector<int32_t>& testItems,
                            const std::vector<int32_t>& negatives, int numNegatives);

    // 0-based rank of the held-out item per test user: how many candidates scored strictly
    // higher (ties count in the held-out item's favour, as in the NCF reference code).
    std::vector<int64_t> ranks(Recommender& model, const torch::Device& device) const;
    // perUser, when given, receives each test user's hr, ndcg and mrr.
    MetricValues evaluate(Recommender& model, const torch::Device& device, int k, UserMetrics* perUser = nullptr) const;

    // [users, 1 + negatives]; column 0 holds the held-out item.
    const torch::Tensor& candidates() const { return candidates_; }
    const torch::Tensor& users() const { return users_; }

private:
    torch::Tensor users_;
    torch::Tensor candidates_;
};

} // namespace reclab
