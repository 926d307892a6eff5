#include "eval/SampledRankingEvaluator.h"

#include "models/Recommender.h"
#include "util/Error.h"
#include "util/Random.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>

namespace reclab {

std::vector<int32_t> drawNegatives(const std::vector<int32_t>& testUsers, const UserItemIndex& seen, int32_t numItems,
                                   int numNegatives, uint64_t seed, const std::string& protocol, const std::string& remedy)
{
    int32_t fewest = 0;
    if (const int64_t most = seen.mostDistinctNegatives(testUsers, numItems, &fewest); numNegatives > most)
        throw ConfigError("eval-negatives", "the " + protocol + " protocol ranks each held-out item against " +
                                                std::to_string(numNegatives) + " items the user never interacted with, but a user (index " +
                                                std::to_string(fewest) + ") has only " + std::to_string(std::max<int64_t>(most, 0)) +
                                                remedy);
    Random rng(seed);
    std::vector<int32_t> negatives(testUsers.size() * static_cast<size_t>(numNegatives));
    for (size_t row = 0; row < testUsers.size(); ++row)
        seen.sampleUnseen(testUsers[row], numItems, numNegatives, rng, negatives.data() + row * static_cast<size_t>(numNegatives));
    return negatives;
}

SampledRankingEvaluator::SampledRankingEvaluator(const std::vector<int32_t>& testUsers,
                                                 const std::vector<int32_t>& testItems,
                                                 const UserItemIndex& seen, int32_t numItems,
                                                 int numNegatives, uint64_t seed)
    : SampledRankingEvaluator(testUsers, testItems, drawNegatives(testUsers, seen, numItems, numNegatives, seed, "sampled",
                                                                                  "; use --protocol full, or data with more items"),
                                                                    numNegatives)
{
}

SampledRankingEvaluator::SampledRankingEvaluator(const std::vector<int32_t>& testUsers,
                                                 const std::vector<int32_t>& testItems,
                                                 const std::vector<int32_t>& negatives, int numNegatives)
{
    const auto n = static_cast<int64_t>(testUsers.size());
    users_ = torch::empty({n}, torch::kLong);
    candidates_ = torch::empty({n, 1 + numNegatives}, torch::kLong);
    auto* u = users_.data_ptr<int64_t>();
    auto* c = candidates_.data_ptr<int64_t>();
    for (int64_t row = 0; row < n; ++row) {
        u[row] = testUsers[static_cast<size_t>(row)];
        int64_t* out = c + row * (1 + numNegatives);
        out[0] = testItems[static_cast<size_t>(row)];
        std::copy_n(negatives.begin() + row * numNegatives, numNegatives, out + 1);
    }
}

std::vector<int64_t> SampledRankingEvaluator::ranks(Recommender& model, const torch::Device& device) const
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    const int64_t n = users_.size(0);
    const int64_t width = candidates_.size(1);
    std::vector<int64_t> out(static_cast<size_t>(n));
    // On the CPU, chunks of about 16k pairs keep the activations in cache (NeuMF's defaults on
    // ml-100k: 0.30 s instead of 1.37 s as one chunk; two plain threads were slower here, unlike
    // the full ranking's slices). A GPU takes about 1M pairs per forward.
    const int64_t pairs = device.is_cpu() ? int64_t(1) << 14 : int64_t(1) << 20;
    const int64_t chunk = std::max<int64_t>(1, pairs / width);
    for (int64_t start = 0; start < n; start += chunk) {
        const int64_t len = std::min(chunk, n - start);
        auto cand = candidates_.narrow(0, start, len).to(device);
        auto users = users_.narrow(0, start, len).to(device).unsqueeze(1).expand({len, width});
        auto scores = model.predict(users.reshape({-1}), cand.reshape({-1})).view({len, width});
        auto rank = (scores.narrow(1, 1, width - 1) > scores.narrow(1, 0, 1)).sum(1).to(torch::kCPU);
        std::copy_n(rank.data_ptr<int64_t>(), len, out.begin() + start);
    }
    model.train(wasTraining);
    return out;
}

MetricValues SampledRankingEvaluator::evaluate(Recommender& model, const torch::Device& device, int k, UserMetrics* perUser) const
{
    const auto r = ranks(model, device);
    if (perUser) {
        const int64_t* u = users_.data_ptr<int64_t>();
        std::vector<int32_t> users(r.size());
        std::vector<UserRanking> rankings(r.size());
        for (size_t row = 0; row < r.size(); ++row) {
            users[row] = static_cast<int32_t>(u[row]);
            rankings[row] = {{r[row]}, 1};
        }
        *perUser = userTopKMetrics(users, rankings, k, false);
    }
    const std::string suffix = "@" + std::to_string(k);
    return {{"hr" + suffix, hitRateAtK(r, k)}, {"ndcg" + suffix, ndcgAtK(r, k)}, {"mrr" + suffix, mrrAtK(r, k)}};
}

} // namespace reclab
