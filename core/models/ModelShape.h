// What a model's factory needs to know about the prepared data: sizes, the training table for
// count-based models, side data, per-item sample counts. Torch-free.
#pragma once

#include "data/Dataset.h"

#include <cstdint>
#include <vector>

namespace reclab {

// What a factory needs to know about the prepared data.
struct ModelShape {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    double globalMean = 0.0;            // mean training rating
    const InteractionTable* train = nullptr; // for count-based models
    const ItemSideData* itemData = nullptr;  // genres and years, for models that read them
    const UserSideData* userData = nullptr;  // ages and genders (graphs' dense features)
    int64_t numGenres = 0;
    // base / din: in how many training samples each item occurs, as candidate or behaviour
    // (the n_j of mini-batch aware regularisation).
    const std::vector<int64_t>* itemSampleCounts = nullptr;
    // The data itself, for graphs that read item text (the training part is `train`).
    const Dataset* dataset = nullptr;
    // The weights will come from a checkpoint: word vectors need not be read or trained again.
    bool restoring = false;
};

} // namespace reclab
