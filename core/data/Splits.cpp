#include "data/Splits.h"

#include "util/Error.h"
#include "util/Random.h"

#include <numeric>

namespace reclab {

LeaveOneOutSplit makeLeaveOneOutSplit(const Dataset& dataset)
{
    const InteractionTable& all = dataset.interactions;
    const size_t nUsers = static_cast<size_t>(dataset.numUsers());
    std::vector<int64_t> latestRow(nUsers, -1);
    std::vector<int32_t> count(nUsers, 0);
    for (size_t r = 0; r < all.size(); ++r) {
        const auto u = static_cast<size_t>(all.user[r]);
        ++count[u];
        if (latestRow[u] < 0 || all.timestamp[r] >= all.timestamp[static_cast<size_t>(latestRow[u])])
            latestRow[u] = static_cast<int64_t>(r);
    }
    LeaveOneOutSplit split;
    std::vector<char> isTest(all.size(), 0);
    for (size_t u = 0; u < nUsers; ++u) {
        if (count[u] < 2)
            continue;
        isTest[static_cast<size_t>(latestRow[u])] = 1;
        split.testUser.push_back(static_cast<int32_t>(u));
        split.testItem.push_back(all.item[static_cast<size_t>(latestRow[u])]);
    }
    split.train.reserve(all.size() - split.testUser.size());
    for (size_t r = 0; r < all.size(); ++r)
        if (!isTest[r])
            split.train.appendRow(all, r);
    return split;
}

RatioSplit makeRandomRatioSplit(const Dataset& dataset, double trainFraction, uint64_t seed)
{
    if (!(trainFraction > 0.0 && trainFraction < 1.0))
        throw ConfigError("train fraction", "expected a number between 0 and 1");
    const InteractionTable& all = dataset.interactions;
    std::vector<size_t> order(all.size());
    std::iota(order.begin(), order.end(), size_t{0});
    Random rng(seed);
    rng.shuffle(order.begin(), order.end());
    const auto nTrain = static_cast<size_t>(static_cast<double>(all.size()) * trainFraction + 0.5);
    RatioSplit split;
    split.train.reserve(nTrain);
    split.test.reserve(all.size() - nTrain);
    for (size_t k = 0; k < order.size(); ++k)
        (k < nTrain ? split.train : split.test).appendRow(all, order[k]);
    return split;
}

} // namespace reclab
