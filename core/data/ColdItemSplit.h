// The cold-start protocol's split: a seeded share of the items is held out with all their
// interactions, as if they had just arrived. Models train on the warm items' interactions; each
// user who chose a cold item is tested on the latest one they chose, ranked against the cold
// items they never chose (all of them, and 100 sampled ones fixed by the seed), ties counted
// against the target. ID-only models have never seen a cold item; content models have its text.
#pragma once

#include "data/Dataset.h"
#include "data/UserItemIndex.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace reclab {

struct ColdItemSplit {
    double share = 0.1;
    uint64_t seed = 42;
    std::vector<char> cold;         // per item
    std::vector<int32_t> coldItems; // ascending
    InteractionTable train;         // every interaction with a warm item
    InteractionTable coldRows;      // every interaction with a cold item (none trains)
    // One test row per user with a cold interaction: the latest (file order breaks ties).
    std::vector<int32_t> testUser, testItem;
    std::vector<std::vector<int32_t>> negatives; // per test row: 100 cold items the user never chose, ascending
    int32_t usersWithoutTraining = 0;            // test users with no warm interaction to learn from
    UserItemIndex seen;                          // every interaction, for the candidates of each ranking

    bool isCold(int32_t item) const { return cold[static_cast<size_t>(item)] != 0; }
};

// Throws ConfigError for a share outside (0, 0.9], and DataError naming the dataset when the
// split leaves too few cold items (under 101, for the sampled ranking) or no test user.
ColdItemSplit makeColdItemSplit(const Dataset& dataset, double share = 0.1, uint64_t seed = 42);
// Only which items that split holds out (1 = cold), without its tables: for showing them.
std::vector<char> coldItemFlags(size_t numItems, double share, uint64_t seed);

// Ranks of each test row's target among the cold items the user never chose ("full") or among
// its 100 negatives ("sampled"), from scores of (user, items): 0 is the top; ties count against
// the target. scores(user, items, out) fills out[k] for items[k].
struct ColdRanks {
    std::vector<int64_t> full, sampled;
};
using ItemScorer = std::function<void(int32_t user, const std::vector<int32_t>& items, std::vector<float>& out)>;
ColdRanks rankColdTargets(const ColdItemSplit& split, const ItemScorer& scores);
// (HR@k and NDCG@k of the ranks: runs/Metrics.h.)

} // namespace reclab
