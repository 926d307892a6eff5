#include "data/UserItemIndex.h"

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

} // namespace reclab
