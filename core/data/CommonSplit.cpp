#include "data/CommonSplit.h"

#include "util/Error.h"

#include <algorithm>
#include <numeric>

namespace reclab {

namespace {

// The items of rows [from, to) of order, the latest maxHistory of them.
std::vector<int32_t> itemsOf(const InteractionTable& t, const std::vector<uint32_t>& order, size_t from, size_t to,
                             int maxHistory)
{
    from = std::max(from, to > static_cast<size_t>(maxHistory) ? to - static_cast<size_t>(maxHistory) : size_t{0});
    std::vector<int32_t> out;
    out.reserve(to - from);
    for (size_t k = from; k < to; ++k)
        out.push_back(t.item[order[k]]);
    return out;
}

void holdOut(HeldOutInteractions& part, std::vector<int32_t>& users, std::vector<int32_t>& items,
             const InteractionTable& t, uint32_t row, std::vector<int32_t> history)
{
    part.user.push_back(t.user[row]);
    part.item.push_back(t.item[row]);
    part.rating.push_back(t.rating[row]);
    part.history.push_back(std::move(history));
    users.push_back(t.user[row]);
    items.push_back(t.item[row]);
}

} // namespace

CommonSplit makeCommonSplit(const Dataset& dataset, int maxHistory, bool trainingSamples)
{
    const InteractionTable& t = dataset.interactions;
    if (t.size() > 0 && std::all_of(t.timestamp.begin(), t.timestamp.end(), [&](int64_t s) { return s == t.timestamp[0]; }))
        throw DataError(dataset.source, 0, "timestamp",
                        std::string("every interaction has the same time (the data has no timestamps), and ") +
                            (trainingSamples ? "a model that reads the behaviour sequence needs each user's behaviours in "
                                               "time order"
                                             : "the common protocol holds out each user's latest one"));
    // Rows grouped by user, each user's rows in time order (stable: file order breaks ties).
    std::vector<uint32_t> order(t.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return t.user[a] != t.user[b] ? t.user[a] < t.user[b] : t.timestamp[a] < t.timestamp[b];
    });
    CommonSplit split;
    split.train.maxHistory = maxHistory;
    std::vector<char> heldOut(t.size(), 0);
    const int32_t pad = dataset.numItems();
    for (size_t begin = 0; begin < order.size();) {
        size_t end = begin;
        while (end < order.size() && t.user[order[end]] == t.user[order[begin]])
            ++end;
        const size_t count = end - begin;
        // Training rows of this user: all but the held-out ones at the end.
        size_t trainEnd = end;
        if (count >= 2) {
            trainEnd = end - (count >= 3 ? 2 : 1);
            if (count >= 3)
                holdOut(split.valid, split.rows.validUser, split.rows.validItem, t, order[end - 2],
                        itemsOf(t, order, begin, end - 2, maxHistory));
            holdOut(split.test, split.rows.testUser, split.rows.testItem, t, order[end - 1],
                    itemsOf(t, order, begin, end - 1, maxHistory));
            for (size_t k = trainEnd; k < end; ++k)
                heldOut[order[k]] = 1;
        }
        for (size_t k = begin; trainingSamples && k < trainEnd; ++k) {
            const std::vector<int32_t> history = itemsOf(t, order, begin, k, maxHistory);
            split.train.user.push_back(t.user[order[k]]);
            split.train.item.push_back(t.item[order[k]]);
            split.train.label.push_back(1.f);
            split.train.length.push_back(static_cast<int32_t>(history.size()));
            split.train.history.insert(split.train.history.end(), history.begin(), history.end());
            split.train.history.insert(split.train.history.end(), static_cast<size_t>(maxHistory) - history.size(), pad);
        }
        begin = end;
    }
    if (split.test.size() == 0)
        throw DataError(dataset.source, 0, "", "no user has two interactions, so the common protocol has nothing to test");
    split.rows.train.reserve(t.size() - split.test.size() - split.valid.size());
    for (size_t r = 0; r < t.size(); ++r)
        if (!heldOut[r])
            split.rows.train.appendRow(t, r);
    return split;
}

} // namespace reclab
