// The in-memory dataset every model trains on: a columnar interaction table indexed by dense
// user and item numbers, the raw ids behind those numbers, and item/user side data.
#pragma once

#include "util/Column.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

struct SplitAssignment; // data/Preparation.h

// One row per interaction, one column per field; user and item are dense 0-based indices.
struct InteractionTable {
    Column<int32_t> user;
    Column<int32_t> item;
    Column<float> rating;      // explicit rating, or 1 for implicit data
    Column<int64_t> timestamp; // seconds since the Unix epoch

    size_t size() const { return user.size(); }
    void reserve(size_t n);
    void append(int32_t u, int32_t i, float r, int64_t t);
    void appendRow(const InteractionTable& from, size_t row);
};

// Per-item side data. Every vector is either empty (the source has no such data) or holds one
// entry per item index.
struct ItemSideData {
    std::vector<std::string> title; // UTF-8
    std::vector<int32_t> year;      // 0 when unknown
    // Genres (or product categories) of item i are genreList[genreStart[i] .. genreStart[i+1]),
    // indices into Dataset::genreNames. genreStart has numItems + 1 entries when present.
    std::vector<uint32_t> genreStart;
    std::vector<int32_t> genreList;
    std::vector<std::string> tags; // distinct user tags of the item, "a, b, c"

    // Appends the genre list of the next item (items are added in index order).
    void appendGenres(const std::vector<int32_t>& genres);
    bool hasGenre(int32_t item, int32_t genre) const;
    bool hasGenres() const { return !genreStart.empty(); }
};

// Per-user side data; as for items, each vector is empty or has one entry per user index.
struct UserSideData {
    std::vector<int32_t> age;            // 0 when unknown
    std::vector<char> gender;            // 'M', 'F' or '?'
    std::vector<std::string> occupation; // empty when unknown
    std::vector<std::string> zip;        // postal code as written; empty when unknown
};

// Review text written with interactions (Amazon's summary and reviewText), one entry per review,
// keyed by its (user, item) pair rather than by row so that splits need not carry it: a model
// that reads reviews takes those whose pair is in its training part.
struct ReviewTable {
    std::vector<int32_t> user, item;
    std::vector<std::string> text; // UTF-8
    size_t size() const { return text.size(); }
    bool empty() const { return text.empty(); }
    void append(int32_t u, int32_t i, std::string words)
    {
        user.push_back(u);
        item.push_back(i);
        text.push_back(std::move(words));
    }
};

// What a loader saw besides the rows it kept: rows skipped in "skip bad rows" mode (with the
// first few reasons) and how long loading took.
struct LoadReport {
    std::string format;      // the format that was detected or asked for, e.g. "ml-1m"
    size_t skippedRows = 0;
    std::vector<std::string> problems; // messages of the first skipped rows
    // What loaded but looks wrong, one message each naming the file and line (a last line
    // without a line ending that is shorter than the others: the file may be truncated).
    std::vector<std::string> warnings;
    double seconds = 0;
};

struct Dataset {
    std::string name;   // short name shown to people, e.g. "ml-100k" or "sample"
    std::string source; // where it came from: a folder, or "generated (seed 42)"

    std::vector<std::string> userIds; // raw id of each user index
    std::vector<std::string> itemIds; // raw id of each item index
    std::vector<std::string> genreNames;
    LoadReport report;
    // Set for a prepared dataset (data/PreparedData.h): the saved split every run must use.
    std::shared_ptr<const SplitAssignment> presplit;

    InteractionTable interactions;
    ItemSideData items;
    UserSideData users;
    ReviewTable reviews;

    int32_t numUsers() const { return static_cast<int32_t>(userIds.size()); }
    int32_t numItems() const { return static_cast<int32_t>(itemIds.size()); }
    std::vector<std::string> genresOf(int32_t item) const;
    // Index of genre name, appended to genreNames when new.
    int32_t genreIndex(const std::string& name);
    float minRating() const;
    float maxRating() const;

    // A stable hash of the interaction table, the id lists and the saved split (if any), so
    // that runs can prove they saw identical data. 16 hex digits.
    std::string fingerprint() const;
};

// Summary figures for display and for the CLI.
struct DatasetStats {
    int32_t users = 0;
    int32_t items = 0;
    size_t interactions = 0;
    double density = 0.0;
    float ratingMin = 0, ratingMax = 0;
    int64_t firstTimestamp = 0, lastTimestamp = 0;
    size_t repeatedRows = 0; // rows whose (user, item) pair an earlier row already has
};
DatasetStats computeStats(const Dataset& dataset);

// Rows that repeat a (user, item) pair of another row: how many (every row of a pair but one)
// and one of them (its row number; -1 when there are none).
struct RepeatedPairs {
    size_t rows = 0;
    int64_t exampleRow = -1;
};
RepeatedPairs findRepeatedPairs(const Dataset& dataset);

} // namespace reclab
