// The in-memory dataset every model trains on: a columnar interaction table indexed by dense
// user and item numbers, the raw ids behind those numbers, and item/user side data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

// One row per interaction, one column per field; user and item are dense 0-based indices.
struct InteractionTable {
    std::vector<int32_t> user;
    std::vector<int32_t> item;
    std::vector<float> rating;      // explicit rating, or 1 for implicit data
    std::vector<int64_t> timestamp; // seconds since the Unix epoch

    size_t size() const { return user.size(); }
    void reserve(size_t n);
    void append(int32_t u, int32_t i, float r, int64_t t);
    void appendRow(const InteractionTable& from, size_t row);
};

struct ItemSideData {
    std::vector<std::string> title; // UTF-8
    std::vector<int32_t> year;      // 0 when unknown
    std::vector<uint32_t> genreMask; // bit g set when the item has genre g
};

struct UserSideData {
    std::vector<int32_t> age;            // 0 when unknown
    std::vector<char> gender;            // 'M', 'F' or '?'
    std::vector<std::string> occupation; // empty when unknown
};

struct Dataset {
    std::string name;   // short name shown to people, e.g. "ml-100k" or "sample"
    std::string source; // where it came from: a folder, or "generated (seed 42)"

    std::vector<std::string> userIds; // raw id of each user index
    std::vector<std::string> itemIds; // raw id of each item index
    std::vector<std::string> genreNames;

    InteractionTable interactions;
    ItemSideData items;
    UserSideData users;

    int32_t numUsers() const { return static_cast<int32_t>(userIds.size()); }
    int32_t numItems() const { return static_cast<int32_t>(itemIds.size()); }
    std::vector<std::string> genresOf(int32_t item) const;
    float minRating() const;
    float maxRating() const;

    // A stable hash of the interaction table and the id lists, so that runs can prove they
    // saw identical data. 16 hex digits.
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
};
DatasetStats computeStats(const Dataset& dataset);

} // namespace reclab
