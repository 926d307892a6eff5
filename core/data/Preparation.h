// Preparing a dataset for a fair comparison: filters (duplicates, rating threshold, k-core,
// time window) and splits (random ratio, leave-one-out by time, global temporal, by user) with
// fixed sampled negatives. Everything is seeded and deterministic.
#pragma once

#include "data/Dataset.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reclab {

struct FilterConfig {
    bool removeDuplicates = false;          // keep only the latest row of each (user, item)
    std::optional<float> ratingThreshold;   // keep rating >= threshold; kept rows become implicit (1)
    int userCore = 0;                       // every user keeps at least this many interactions
    int itemCore = 0;                       // every item keeps at least this many interactions
    std::optional<int64_t> timeFrom, timeTo; // keep from <= timestamp < to
    bool empty() const;
    std::string describe() const;
};

struct DatasetCounts {
    int32_t users = 0, items = 0;
    size_t interactions = 0;
};
DatasetCounts countsOf(const Dataset& dataset); // users and items that have interactions

struct FilterSummary {
    DatasetCounts before, after;
    size_t duplicates = 0;     // rows removed as duplicates
    size_t belowThreshold = 0; // rows removed by the rating threshold
    size_t outsideWindow = 0;  // rows removed by the time window
    int kcoreRounds = 0;       // passes until the k-core reached its fixed point
};

// The filtered dataset with users and items renumbered (those left without interactions are
// dropped, side data follows). The source is not modified.
Dataset applyFilters(const Dataset& source, const FilterConfig& filters, FilterSummary* summary = nullptr);

// Keeps the rows with keep[row] != 0, drops users and items left without rows and renumbers the
// rest in their old order, or (byFirstUse) in the order of their first interaction in time, so
// that the users and items of an earlier cut keep their numbers in a later one; side data and
// names follow.
Dataset keepRows(const Dataset& source, const std::vector<char>& keep, bool byFirstUse = false);

enum class SplitKind { LeaveOneOut, Ratio, Temporal, ByUser };
enum Part : uint8_t { TrainPart = 0, ValidPart = 1, TestPart = 2 };

struct SplitConfig {
    SplitKind kind = SplitKind::LeaveOneOut;
    double train = 0.8, valid = 0.0, test = 0.2; // fractions for ratio, temporal and by-user
    bool looValidation = true;                   // leave-one-out also holds out a validation item
    uint64_t seed = 42;
    int negatives = -1; // sampled negatives per evaluation row; -1: 99 for leave-one-out, else 0
    int effectiveNegatives() const { return negatives >= 0 ? negatives : kind == SplitKind::LeaveOneOut ? 99 : 0; }
    std::string describe() const;
};

// "loo", "loo:test" (no validation item), "ratio:8,1,1", "ratio:0.8", "temporal:0.8",
// "temporal:8,1,1", "by-user:0.8" or "by-user:8,1,1". Throws ConfigError naming the option.
SplitConfig parseSplitSpec(const std::string& spec);

// A split of a dataset: which part each interaction belongs to, and for every evaluation row
// (validation and test) a fixed list of sampled items the user never interacted with.
struct SplitAssignment {
    SplitConfig config;
    std::vector<uint8_t> part;      // Part per interaction row
    std::vector<uint32_t> evalRows; // rows in ValidPart or TestPart that have negatives
    std::vector<int32_t> negatives; // evalRows.size() * config.effectiveNegatives()
    size_t count(Part p) const;
};

SplitAssignment makeSplit(const Dataset& dataset, const SplitConfig& config);

} // namespace reclab
