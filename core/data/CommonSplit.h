// The common protocol's split, one for every model family: each user's interactions in time
// order (file order breaks a timestamp tie, the later row counting as later); the latest is held
// out for test, the one before it for validation (users with at least three), the rest train.
// Every held-out interaction carries what came before it — the user's earlier interactions,
// the latest maxHistory of them, oldest first (for test that includes the validation one) — so
// a model that reads a history scores it from exactly the past; with training samples, every
// training interaction carries its earlier training interactions the same way.
#pragma once

#include "data/BehaviourSplit.h"
#include "data/Dataset.h"
#include "data/Splits.h"

#include <cstdint>
#include <vector>

namespace reclab {

struct HeldOutInteractions {
    std::vector<int32_t> user; // ascending, one row per user
    std::vector<int32_t> item;
    std::vector<float> rating;
    std::vector<std::vector<int32_t>> history; // per row, oldest first, at most maxHistory

    size_t size() const { return user.size(); }
};

struct CommonSplit {
    LeaveOneOutSplit rows; // the training table and the held-out (user, item) pairs
    HeldOutInteractions test, valid;
    BehaviourSamples train; // every training row with its history, label 1; empty without samples
};

// Throws DataError naming the dataset when no user has two interactions, or when every
// interaction has the same timestamp (the split needs an order in time).
CommonSplit makeCommonSplit(const Dataset& dataset, int maxHistory, bool trainingSamples);

} // namespace reclab
