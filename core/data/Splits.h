// Train/validation/test splits. LeaveOneOutSplit holds out each user's latest interaction (the
// NCF protocol) and, when asked, the one before it for validation (RecBole's leave-one-out);
// RatioSplit is a seeded random split of the rows (rating prediction). The test part is the
// same with or without validation: validation only ever comes out of the training part.
#pragma once

#include "data/Dataset.h"

#include <cstdint>
#include <vector>

namespace reclab {

struct LeaveOneOutSplit {
    InteractionTable train;
    std::vector<int32_t> testUser; // one entry per user with at least two interactions
    std::vector<int32_t> testItem;
    std::vector<int32_t> validUser; // empty unless validation was held out
    std::vector<int32_t> validItem;
};

// The latest interaction of every user (ties broken by file order, the later row wins) goes to
// test; users with a single interaction keep it in train. With validation, the latest but one
// of every user with at least three interactions goes to validation (same tie rule).
LeaveOneOutSplit makeLeaveOneOutSplit(const Dataset& dataset, bool validation = false);

struct RatioSplit {
    InteractionTable train;
    InteractionTable test;
    InteractionTable valid; // empty unless validation was held out
};

// Rows shuffled with seed; the first trainFraction of them train, the rest test.
// trainFraction in (0, 1). validFraction (a share of all rows) is then taken from the end of the
// training rows, so the test rows do not depend on it.
RatioSplit makeRandomRatioSplit(const Dataset& dataset, double trainFraction, uint64_t seed, double validFraction = 0.0);

} // namespace reclab
