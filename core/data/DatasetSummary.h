// Figures for the dataset browser's statistics panel and row queries for its table, computed
// in core so they are tested without a GUI and run in a worker thread.
#pragma once

#include "data/Dataset.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reclab {

struct DatasetSummary {
    DatasetStats stats;
    std::vector<std::pair<float, size_t>> ratingHistogram;  // rating value -> rows (ascending values)
    std::vector<int32_t> itemPopularity;                    // interactions per item, most popular first
    std::vector<std::pair<int32_t, int32_t>> userActivity;  // interactions per user -> users with that many
    std::vector<std::pair<int64_t, size_t>> perMonth;       // first second of a month (UTC) -> rows
    std::vector<std::string> warnings;                      // the load's (LoadReport::warnings)
};
DatasetSummary summarize(const Dataset& dataset);

// First second (UTC) of the month that contains t.
int64_t monthStart(int64_t t);

struct RowFilter {
    std::string user;  // exact raw user id; empty: any
    std::string item;  // exact raw item id; empty: any
    std::optional<float> minRating, maxRating;
    std::optional<int64_t> from, to; // from <= timestamp < to
    std::string title;               // case-insensitive substring of the item title
    bool empty() const { return user.empty() && item.empty() && !minRating && !maxRating && !from && !to && title.empty(); }
};

enum class RowOrder { File, User, Item, Title, Rating, Time };

// Row numbers that pass filter, in the requested order (stable: ties keep file order). Returns
// nothing (std::nullopt) when cancel becomes true mid-way.
std::optional<std::vector<uint32_t>> selectRows(const Dataset& dataset, const RowFilter& filter, RowOrder order,
                                                bool descending, const std::atomic<bool>* cancel = nullptr);

// Rows of one user in time order (ties in file order).
std::vector<uint32_t> userHistory(const Dataset& dataset, int32_t user);

} // namespace reclab
