// Train/test splits. LeaveOneOutSplit holds out each user's latest interaction (the NCF
// protocol); RatioSplit is a seeded random split of the rows (rating prediction).
#pragma once

#include "data/Dataset.h"

#include <cstdint>
#include <vector>

namespace reclab {

struct LeaveOneOutSplit {
    InteractionTable train;
    std::vector<int32_t> testUser; // one entry per user with at least two interactions
    std::vector<int32_t> testItem;
};

// The latest interaction of every user (ties broken by file order, the later row wins) goes to
// test; users with a single interaction keep it in train.
LeaveOneOutSplit makeLeaveOneOutSplit(const Dataset& dataset);

struct RatioSplit {
    InteractionTable train;
    InteractionTable test;
};

// Rows shuffled with seed; the first trainFraction of them train. trainFraction in (0, 1).
RatioSplit makeRandomRatioSplit(const Dataset& dataset, double trainFraction, uint64_t seed);

} // namespace reclab
