// The DIN protocol (Zhou et al. 2018, MovieLens set-up): every rating is one sample whose
// behaviour sequence is the user's earlier ratings in time order (the latest maxHistory of
// them), labelled positive when the rating is at least positiveRating. Users, not rows, are
// split: a seeded trainUserShare of them train, the rest test, so test users are unseen.
#pragma once

#include "data/Dataset.h"

#include <cstdint>
#include <vector>

namespace reclab {

struct BehaviourSamples {
    int maxHistory = 0;
    std::vector<int32_t> user;
    std::vector<int32_t> item;
    std::vector<float> label; // 1 or 0
    // Row r's behaviours are history[r*maxHistory .. r*maxHistory + length[r]), oldest first;
    // the rest of the row is padding (the value numItems).
    std::vector<int32_t> history;
    std::vector<int32_t> length;

    size_t size() const { return user.size(); }
};

struct BehaviourSplit {
    BehaviourSamples train;
    BehaviourSamples test;
    BehaviourSamples valid;          // empty unless validUserShare > 0
    std::vector<int32_t> testUsers;  // sorted
    std::vector<int32_t> validUsers; // sorted
};

struct BehaviourSplitOptions {
    int maxHistory = 50;
    double trainUserShare = 0.8;
    // A share of all users taken from the training users for validation; the test users do not
    // depend on it.
    double validUserShare = 0.0;
    float positiveRating = 4.0f;
    uint64_t seed = 42;
};

// How many samples each item occurs in, as the target or a behaviour (an item twice in one
// sample counts once): the n_j of DIN's mini-batch aware regularisation.
std::vector<int64_t> itemSampleCounts(const BehaviourSamples& samples, int32_t numItems);

// Ratings of equal timestamp keep their file order. Throws DataError when the dataset has no
// explicit ratings (every rating equal) or fewer than two users.
BehaviourSplit makeBehaviourSplit(const Dataset& dataset, const BehaviourSplitOptions& options);

} // namespace reclab
