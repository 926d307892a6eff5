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

// The shape of a whole dataset: its sizes, side data and every row as the training table.
inline ModelShape modelShapeOf(const Dataset& data)
{
    ModelShape s;
    s.numUsers = data.numUsers();
    s.numItems = data.numItems();
    s.train = &data.interactions;
    s.itemData = &data.items;
    s.userData = &data.users;
    s.numGenres = static_cast<int64_t>(data.genreNames.size());
    s.dataset = &data;
    return s;
}

} // namespace reclab
