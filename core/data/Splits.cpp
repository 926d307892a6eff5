#include "data/Splits.h"

#include "util/Error.h"
#include "util/Random.h"

#include <numeric>

namespace reclab {

LeaveOneOutSplit makeLeaveOneOutSplit(const Dataset& dataset, bool validation)
{
    const InteractionTable& all = dataset.interactions;
    const size_t nUsers = static_cast<size_t>(dataset.numUsers());
    // The latest and the latest but one row of each user; a later row wins a timestamp tie.
    std::vector<int64_t> latestRow(nUsers, -1), previousRow(nUsers, -1);
    std::vector<int32_t> count(nUsers, 0);
    const auto notBefore = [&](size_t r, int64_t other) {
        return other < 0 || all.timestamp[r] >= all.timestamp[static_cast<size_t>(other)];
    };
    for (size_t r = 0; r < all.size(); ++r) {
        const auto u = static_cast<size_t>(all.user[r]);
        ++count[u];
        if (notBefore(r, latestRow[u])) {
            previousRow[u] = latestRow[u];
            latestRow[u] = static_cast<int64_t>(r);
        } else if (notBefore(r, previousRow[u])) {
            previousRow[u] = static_cast<int64_t>(r);
        }
    }
    LeaveOneOutSplit split;
    std::vector<char> heldOut(all.size(), 0);
    for (size_t u = 0; u < nUsers; ++u) {
        if (count[u] < 2)
            continue;
        const auto test = static_cast<size_t>(latestRow[u]);
        heldOut[test] = 1;
        split.testUser.push_back(static_cast<int32_t>(u));
        split.testItem.push_back(all.item[test]);
        if (validation && count[u] >= 3) {
            const auto valid = static_cast<size_t>(previousRow[u]);
            heldOut[valid] = 1;
            split.validUser.push_back(static_cast<int32_t>(u));
            split.validItem.push_back(all.item[valid]);
        }
    }
    split.train.reserve(all.size() - split.testUser.size() - split.validUser.size());
    for (size_t r = 0; r < all.size(); ++r)
        if (!heldOut[r])
            split.train.appendRow(all, r);
    return split;
}

RatioSplit makeRandomRatioSplit(const Dataset& dataset, double trainFraction, uint64_t seed, double validFraction)
{
    if (!(trainFraction > 0.0 && trainFraction < 1.0))
        throw ConfigError("train fraction", "expected a number between 0 and 1");
    if (!(validFraction >= 0.0 && validFraction < trainFraction))
        throw ConfigError("validation fraction", "expected a number from 0 up to the training share");
    const InteractionTable& all = dataset.interactions;
    std::vector<size_t> order(all.size());
    std::iota(order.begin(), order.end(), size_t{0});
    Random rng(seed);
    rng.shuffle(order.begin(), order.end());
    const auto nTrain = static_cast<size_t>(static_cast<double>(all.size()) * trainFraction + 0.5);
    const auto nValid = std::min(nTrain, static_cast<size_t>(static_cast<double>(all.size()) * validFraction + 0.5));
    RatioSplit split;
    split.train.reserve(nTrain - nValid);
    split.valid.reserve(nValid);
    split.test.reserve(all.size() - nTrain);
    for (size_t k = 0; k < order.size(); ++k)
        (k < nTrain - nValid ? split.train : k < nTrain ? split.valid : split.test).appendRow(all, order[k]);
    return split;
}

} // namespace reclab
