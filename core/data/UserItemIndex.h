// Which items each user has interacted with, as sorted CSR rows: membership tests for
// negative sampling and for excluding seen items from rankings.
#pragma once

#include "data/Dataset.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace reclab {

class Random;

class UserItemIndex {
public:
    UserItemIndex() = default;
    UserItemIndex(const InteractionTable& table, int32_t numUsers);

    bool contains(int32_t user, int32_t item) const
    {
        const int32_t* first = items_.data() + offsets_[static_cast<size_t>(user)];
        const int32_t* last = items_.data() + offsets_[static_cast<size_t>(user) + 1];
        return std::binary_search(first, last, item);
    }
    size_t countOf(int32_t user) const
    {
        return static_cast<size_t>(offsets_[static_cast<size_t>(user) + 1] - offsets_[static_cast<size_t>(user)]);
    }
    const int32_t* begin(int32_t user) const { return items_.data() + offsets_[static_cast<size_t>(user)]; }
    const int32_t* end(int32_t user) const { return items_.data() + offsets_[static_cast<size_t>(user) + 1]; }
    // Writes count distinct items in [0, numItems) that user never interacted with, drawn with
    // rng. Throws Error when fewer than count exist (repeated negatives would distort every
    // sampled metric). Shared by the evaluators and the prepared splits, so both draw alike.
    void sampleUnseen(int32_t user, int32_t numItems, int count, Random& rng, int32_t* out) const;
    // The largest count sampleUnseen can draw without repeating an item for every one of users
    // (the fewest items any of them never interacted with), and that user; numItems when empty.
    int64_t mostDistinctNegatives(const std::vector<int32_t>& users, int32_t numItems, int32_t* fewestUser = nullptr) const;
    int32_t numUsers() const { return static_cast<int32_t>(offsets_.empty() ? 0 : offsets_.size() - 1); }

private:
    std::vector<int64_t> offsets_;
    std::vector<int32_t> items_; // distinct, sorted within each user
};

} // namespace reclab
