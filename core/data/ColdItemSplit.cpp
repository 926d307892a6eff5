#include "data/ColdItemSplit.h"

#include "data/UserItemIndex.h"
#include "util/Error.h"
#include "util/Words.h"
#include "util/Random.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace reclab {

namespace {

constexpr int kSampledNegatives = 100;

// The split's first draws: which items are cold (rng then goes on to the negatives).
std::vector<char> drawColdItems(size_t n, double share, Random& rng)
{
    if (!(share > 0) || share > 0.9)
        throw ConfigError("cold share", "expected a share of the items in (0, 0.9]");
    std::vector<int32_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    rng.shuffle(order.begin(), order.end());
    const auto count = static_cast<size_t>(std::llround(share * static_cast<double>(n)));
    std::vector<char> cold(n, 0);
    for (size_t k = 0; k < count; ++k)
        cold[static_cast<size_t>(order[k])] = 1;
    return cold;
}

} // namespace

std::vector<char> coldItemFlags(size_t n, double share, uint64_t seed)
{
    Random rng(seed);
    return drawColdItems(n, share, rng);
}

ColdItemSplit makeColdItemSplit(const Dataset& ds, double share, uint64_t seed)
{
    ColdItemSplit s;
    s.share = share;
    s.seed = seed;
    const auto n = static_cast<size_t>(ds.numItems());
    Random rng(seed);
    s.cold = drawColdItems(n, share, rng);
    for (size_t i = 0; i < n; ++i)
        if (s.cold[i])
            s.coldItems.push_back(static_cast<int32_t>(i));
    if (s.coldItems.size() <= kSampledNegatives)
        throw DataError(ds.source, 0, "", "a cold share of " + shortNumber(share) + " leaves " + std::to_string(s.coldItems.size()) +
                                              " cold items; the sampled ranking needs more than " + std::to_string(kSampledNegatives) +
                                              " (a larger --cold-share)");

    const InteractionTable& t = ds.interactions;
    std::vector<int64_t> latest(static_cast<size_t>(ds.numUsers()), -1); // row of each user's latest cold interaction
    for (size_t r = 0; r < t.size(); ++r) {
        const bool cold = s.cold[static_cast<size_t>(t.item[r])];
        (cold ? s.coldRows : s.train).appendRow(t, r);
        if (!cold)
            continue;
        int64_t& l = latest[static_cast<size_t>(t.user[r])];
        if (l < 0 || t.timestamp[r] >= t.timestamp[static_cast<size_t>(l)])
            l = static_cast<int64_t>(r);
    }
    s.seen = UserItemIndex(t, ds.numUsers());
    const UserItemIndex& seen = s.seen;
    const UserItemIndex warm(s.train, ds.numUsers());
    std::vector<int32_t> unchosen;
    for (int32_t u = 0; u < ds.numUsers(); ++u) {
        const int64_t r = latest[static_cast<size_t>(u)];
        if (r < 0)
            continue;
        unchosen.clear();
        for (const int32_t i : s.coldItems)
            if (!seen.contains(u, i))
                unchosen.push_back(i);
        if (unchosen.size() < kSampledNegatives)
            continue; // a user who chose nearly every cold item has too few to rank against
        s.testUser.push_back(u);
        s.testItem.push_back(t.item[static_cast<size_t>(r)]);
        // A seeded partial shuffle: the first 100 of the unchosen cold items.
        for (size_t k = 0; k < kSampledNegatives; ++k)
            std::swap(unchosen[k], unchosen[k + rng.below(unchosen.size() - k)]);
        s.negatives.emplace_back(unchosen.begin(), unchosen.begin() + kSampledNegatives);
        std::sort(s.negatives.back().begin(), s.negatives.back().end());
        s.usersWithoutTraining += warm.countOf(u) == 0;
    }
    if (s.testUser.empty())
        throw DataError(ds.source, 0, "", "no user chose a cold item: nothing to test");
    return s;
}

ColdRanks rankColdTargets(const ColdItemSplit& s, const ItemScorer& scores)
{
    const UserItemIndex& seen = s.seen;
    ColdRanks out;
    std::vector<int32_t> items;
    std::vector<float> values;
    for (size_t k = 0; k < s.testUser.size(); ++k) {
        const int32_t u = s.testUser[k], target = s.testItem[k];
        items.assign(1, target);
        for (const int32_t i : s.coldItems)
            if (!seen.contains(u, i))
                items.push_back(i);
        values.assign(items.size(), 0.f);
        scores(u, items, values);
        const float mine = values[0];
        auto above = [mine](float v) { return v >= mine || std::isnan(v); }; // ties and NaN against the target
        out.full.push_back(std::count_if(values.begin() + 1, values.end(), above));
        // The sampled negatives are among the unchosen ones: their scores are already there.
        int64_t rank = 0;
        const auto& neg = s.negatives[k];
        for (size_t j = 1; j < items.size(); ++j)
            if (std::binary_search(neg.begin(), neg.end(), items[j]) && above(values[j]))
                ++rank;
        out.sampled.push_back(rank);
    }
    return out;
}

} // namespace reclab
