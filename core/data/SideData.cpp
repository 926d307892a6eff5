#include "data/SideData.h"

#include "util/TextFile.h"

#include <algorithm>

namespace reclab {

int32_t yearFromTitle(std::string_view title)
{
    while (!title.empty() && title.back() == ' ')
        title.remove_suffix(1);
    if (title.size() < 6 || title.back() != ')')
        return 0;
    const size_t open = title.rfind('(');
    if (open == std::string_view::npos)
        return 0;
    long long y = 0;
    // "(1995)" and "(1994-1998)" (a series) both give the first year.
    if (parseInt64(title.substr(open + 1, 4), y) && y > 1800 && y < 2100)
        return static_cast<int32_t>(y);
    return 0;
}

ItemSideBuilder::ItemSideBuilder(Dataset& dataset) : ds_(dataset)
{
    const size_t n = dataset.itemIds.size();
    index_.reserve(n);
    for (size_t i = 0; i < n; ++i)
        index_.emplace(dataset.itemIds[i], static_cast<int32_t>(i));
    title_.resize(n);
    year_.resize(n);
    genres_.resize(n);
    tags_.resize(n);
}

int32_t ItemSideBuilder::indexOf(std::string_view rawId) const
{
    const auto it = index_.find(rawId);
    return it == index_.end() ? -1 : it->second;
}

void ItemSideBuilder::setTitle(int32_t item, std::string title)
{
    year_[static_cast<size_t>(item)] = yearFromTitle(title);
    title_[static_cast<size_t>(item)] = toUtf8(title);
    anyTitle_ = true;
}

void ItemSideBuilder::setYear(int32_t item, int32_t year)
{
    year_[static_cast<size_t>(item)] = year;
    anyTitle_ = true;
}

void ItemSideBuilder::addGenre(int32_t item, const std::string& name)
{
    if (name.empty())
        return;
    auto& list = genres_[static_cast<size_t>(item)];
    const int32_t g = ds_.genreIndex(toUtf8(name));
    if (std::find(list.begin(), list.end(), g) == list.end())
        list.push_back(g);
    anyGenre_ = true;
}

void ItemSideBuilder::addTag(int32_t item, std::string_view tag)
{
    auto& list = tags_[static_cast<size_t>(item)];
    std::string t = toUtf8(tag);
    if (t.empty() || list.size() >= 20 || std::find(list.begin(), list.end(), t) != list.end())
        return;
    list.push_back(std::move(t));
    anyTag_ = true;
}

void ItemSideBuilder::finish()
{
    ItemSideData& out = ds_.items;
    if (anyTitle_) {
        out.title = std::move(title_);
        out.year = std::move(year_);
    }
    if (anyGenre_) {
        out.genreStart.clear();
        out.genreList.clear();
        for (const auto& g : genres_)
            out.appendGenres(g);
    }
    if (anyTag_) {
        out.tags.assign(tags_.size(), std::string());
        for (size_t i = 0; i < tags_.size(); ++i)
            for (const auto& t : tags_[i])
                out.tags[i] += (out.tags[i].empty() ? "" : ", ") + t;
    }
}

UserSideBuilder::UserSideBuilder(Dataset& dataset) : ds_(dataset)
{
    const size_t n = dataset.userIds.size();
    for (size_t u = 0; u < n; ++u)
        index_.emplace(dataset.userIds[u], static_cast<int32_t>(u));
    data_.age.assign(n, 0);
    data_.gender.assign(n, '?');
    data_.occupation.assign(n, std::string());
    data_.zip.assign(n, std::string());
}

int32_t UserSideBuilder::indexOf(std::string_view rawId) const
{
    const auto it = index_.find(rawId);
    return it == index_.end() ? -1 : it->second;
}

void UserSideBuilder::set(int32_t user, int32_t age, char gender, std::string occupation, std::string zip)
{
    const auto u = static_cast<size_t>(user);
    data_.age[u] = age;
    data_.gender[u] = gender;
    data_.occupation[u] = toUtf8(occupation);
    data_.zip[u] = toUtf8(zip);
    any_ = true;
}

void UserSideBuilder::finish()
{
    if (any_)
        ds_.users = std::move(data_);
}

} // namespace reclab
