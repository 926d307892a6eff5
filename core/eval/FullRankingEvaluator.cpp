#include "eval/FullRankingEvaluator.h"

#include "models/Recommender.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <limits>
#include <map>

namespace reclab {

FullRankingEvaluator::FullRankingEvaluator(const std::vector<int32_t>& users, const std::vector<int32_t>& items,
                                           UserItemIndex exclude, int32_t numItems, std::vector<int64_t> itemCounts)
    : exclude_(std::move(exclude)), numItems_(numItems), itemCounts_(std::move(itemCounts))
{
    std::map<int32_t, std::vector<int32_t>> byUser;
    for (size_t i = 0; i < users.size(); ++i)
        byUser[users[i]].push_back(items[i]);
    for (auto& [user, list] : byUser) {
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
        users_.push_back(user);
        relevant_.push_back(std::move(list));
    }
}

FullRankingEvaluator::Ranking FullRankingEvaluator::rank(Recommender& model, const torch::Device& device, int k) const
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    Ranking out;
    out.users = users_;
    out.rankings.resize(users_.size());
    out.topLists.resize(users_.size());
    const size_t topK = std::min<size_t>(static_cast<size_t>(std::max(k, 0)), static_cast<size_t>(numItems_));
    const auto n = static_cast<int64_t>(users_.size());
    // About 4M scores per forward pass.
    const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 22) / std::max<int32_t>(numItems_, 1));
    constexpr float kExcluded = -std::numeric_limits<float>::infinity();
    for (int64_t start = 0; start < n; start += chunk) {
        const int64_t len = std::min(chunk, n - start);
        const std::vector<int64_t> batch(users_.begin() + start, users_.begin() + start + len);
        const auto users = torch::tensor(batch, torch::kLong).to(device);
        auto scores = model.fullSortPredict(users).to(torch::kCPU, torch::kFloat).contiguous();
        float* base = scores.data_ptr<float>();
        for (int64_t r = 0; r < len; ++r) {
            const auto u = static_cast<size_t>(start + r);
            float* s = base + r * numItems_;
            const std::vector<int32_t>& relevant = relevant_[u];
            for (const int32_t* it = exclude_.begin(users_[u]); it != exclude_.end(users_[u]); ++it)
                if (!std::binary_search(relevant.begin(), relevant.end(), *it))
                    s[*it] = kExcluded;
            UserRanking& ranking = out.rankings[u];
            ranking.relevantCount = static_cast<int64_t>(relevant.size());
            for (const int32_t item : relevant) {
                const float target = s[item];
                int64_t higher = 0;
                for (int32_t j = 0; j < numItems_; ++j)
                    higher += s[j] > target ? 1 : 0;
                ranking.relevantRanks.push_back(higher);
            }
            // The K best in one pass: a small list by score, descending; on equal scores the
            // lower item id first (it is met first, and a later equal score does not displace it).
            auto& top = out.topLists[u];
            top.clear();
            for (int32_t j = 0; j < numItems_ && topK > 0; ++j) {
                const float v = s[j];
                if (top.size() == topK && !(v > s[top.back()]))
                    continue;
                auto at = std::upper_bound(top.begin(), top.end(), v, [s](float x, int32_t item) { return x > s[item]; });
                top.insert(at, j);
                if (top.size() > topK)
                    top.pop_back();
            }
            while (!top.empty() && s[top.back()] == kExcluded) // fewer candidates than K
                top.pop_back();
        }
    }
    model.train(wasTraining);
    return out;
}

MetricValues FullRankingEvaluator::evaluate(Recommender& model, const torch::Device& device, int k, UserMetrics* perUser) const
{
    const Ranking r = rank(model, device, k);
    if (perUser)
        *perUser = userTopKMetrics(r.users, r.rankings, k, true);
    const TopKMetrics m = topKMetrics(r.rankings, k);
    const std::string at = "@" + std::to_string(k);
    MetricValues values{{"hr" + at, m.hit},     {"ndcg" + at, m.ndcg},          {"mrr" + at, m.mrr},
                        {"recall" + at, m.recall}, {"precision" + at, m.precision}, {"map" + at, m.map},
                        {"coverage" + at, itemCoverageAtK(r.topLists, numItems_, k)}};
    if (!itemCounts_.empty())
        values.push_back({"avgpop" + at, averagePopularityAtK(r.topLists, itemCounts_, k)});
    return values;
}

} // namespace reclab
