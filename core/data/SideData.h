// Helpers the loaders share to attach side files (titles, genres, tags, demographics) to the
// users and items of an already loaded interaction table.
#pragma once

#include "data/Dataset.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reclab {

// Year from a title such as "Toy Story (1995)"; 0 when there is none.
int32_t yearFromTitle(std::string_view title);

// Collects item side data keyed by raw item id; items without interactions are ignored.
class ItemSideBuilder {
public:
    explicit ItemSideBuilder(Dataset& dataset);
    // Dense index of a raw id, or -1 when the item has no interactions.
    int32_t indexOf(std::string_view rawId) const;
    void setTitle(int32_t item, std::string title); // sets the year from the title too
    void setYear(int32_t item, int32_t year);
    void addGenre(int32_t item, const std::string& name);
    void addTag(int32_t item, std::string_view tag);
    // Writes everything into the dataset's ItemSideData.
    void finish();

private:
    Dataset& ds_;
    std::unordered_map<std::string_view, int32_t> index_;
    std::vector<std::string> title_;
    std::vector<int32_t> year_;
    std::vector<std::vector<int32_t>> genres_;
    std::vector<std::vector<std::string>> tags_;
    bool anyTitle_ = false, anyGenre_ = false, anyTag_ = false;
};

class UserSideBuilder {
public:
    explicit UserSideBuilder(Dataset& dataset);
    int32_t indexOf(std::string_view rawId) const;
    void set(int32_t user, int32_t age, char gender, std::string occupation, std::string zip = {});
    void finish();

private:
    Dataset& ds_;
    std::unordered_map<std::string_view, int32_t> index_;
    UserSideData data_;
    bool any_ = false;
};

} // namespace reclab
