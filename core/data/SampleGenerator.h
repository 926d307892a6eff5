// The bundled sample dataset: generated, deterministic from a seed, with planted structure so
// that models genuinely learn and teachers can point at what they learned.
//
// Planted structure (documented in datasets/sample.md):
//   - every item has a primary genre (and sometimes a second) and a latent vector near its
//     genre's centre; items have a long-tail popularity bias;
//   - every user has a latent taste and interest in a few genres; one favourite genre fades
//     and another grows over the user's timeline (interests drift);
//   - each interaction is drawn from a softmax over the unseen items of taste, current genre
//     interest and popularity; its rating follows taste plus noise plus a bonus for the share
//     of the user's recent picks that share a genre with it (what DIN's attention can find).
#pragma once

#include "data/Dataset.h"

#include <cstdint>

namespace reclab {

struct SampleConfig {
    uint64_t seed = 42;
    int32_t users = 600;
    int32_t items = 400;
    int32_t factors = 8;          // latent dimension of the planted tastes
    int32_t minPerUser = 20;      // interactions per user: minPerUser + a long-tailed extra
    int32_t maxPerUser = 150;
    double tasteWeight = 1.6;     // how strongly latent taste drives choices
    double genreWeight = 2.2;     // how strongly current genre interest drives choices
    double popularityWeight = 1.0;
    double recentGenreWeight = 3.0; // rating bonus per unit share of recent picks sharing a genre
};

// The genre names the sample uses (12).
const std::vector<std::string>& sampleGenreNames();

Dataset generateSampleDataset(const SampleConfig& config = {});

// The planted favourite genres of a user at the start and the end of its timeline (for tests
// and the attention view): index into sampleGenreNames().
struct PlantedInterest {
    std::vector<int32_t> startGenres;
    std::vector<int32_t> endGenres;
};
std::vector<PlantedInterest> plantedInterests(const SampleConfig& config = {});

} // namespace reclab
