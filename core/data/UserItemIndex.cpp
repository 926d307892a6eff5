#include "data/UserItemIndex.h"

#include "util/Error.h"
#include "util/Random.h"

namespace reclab {

UserItemIndex::UserItemIndex(const InteractionTable& table, int32_t numUsers)
    : offsets_(static_cast<size_t>(numUsers) + 1, 0)
{
    for (const int32_t u : table.user)
        ++offsets_[static_cast<size_t>(u) + 1];
    for (size_t u = 0; u < static_cast<size_t>(numUsers); ++u)
        offsets_[u + 1] += offsets_[u];
    items_.resize(table.size());
    std::vector<int64_t> fill(offsets_.begin(), offsets_.end() - 1);
    for (size_t r = 0; r < table.size(); ++r)
        items_[static_cast<size_t>(fill[static_cast<size_t>(table.user[r])]++)] = table.item[r];
    // Sort and deduplicate each row in place, then compact.
    std::vector<int64_t> compacted(offsets_.size(), 0);
    int64_t out = 0;
    for (size_t u = 0; u < static_cast<size_t>(numUsers); ++u) {
        auto first = items_.begin() + offsets_[u];
        auto last = items_.begin() + offsets_[u + 1];
        std::sort(first, last);
        last = std::unique(first, last);
        compacted[u] = out;
        for (auto it = first; it != last; ++it)
            items_[static_cast<size_t>(out++)] = *it;
    }
    compacted[static_cast<size_t>(numUsers)] = out;
    items_.resize(static_cast<size_t>(out));
    offsets_ = std::move(compacted);
}

void UserItemIndex::sampleUnseen(int32_t user, int32_t numItems, int count, Random& rng, int32_t* out) const
{
    const auto available = static_cast<int64_t>(numItems) - static_cast<int64_t>(countOf(user));
    if (available < count)
        throw Error("user index " + std::to_string(user) + " has " + std::to_string(std::max<int64_t>(available, 0)) +
                    " items it never interacted with; " + std::to_string(count) + " different negatives cannot be sampled");
    for (int k = 0; k < count; ++k) {
        int32_t item = 0;
        while (true) {
            item = static_cast<int32_t>(rng.below(static_cast<uint64_t>(numItems)));
            if (contains(user, item))
                continue;
            if (k >= available || std::find(out, out + k, item) == out + k)
                break;
        }
        out[k] = item;
    }
}

int64_t UserItemIndex::mostDistinctNegatives(const std::vector<int32_t>& users, int32_t numItems, int32_t* fewestUser) const
{
    int64_t most = numItems;
    for (const int32_t user : users) {
        const auto available = static_cast<int64_t>(numItems) - static_cast<int64_t>(countOf(user));
        if (available < most) {
            most = available;
            if (fewestUser)
                *fewestUser = user;
        }
    }
    return most;
}

} // namespace reclab
