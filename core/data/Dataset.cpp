#include "data/Dataset.h"

#include "data/Preparation.h"
#include "util/Hash.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace reclab {

void InteractionTable::reserve(size_t n)
{
    user.reserve(n);
    item.reserve(n);
    rating.reserve(n);
    timestamp.reserve(n);
}

void InteractionTable::append(int32_t u, int32_t i, float r, int64_t t)
{
    user.push_back(u);
    item.push_back(i);
    rating.push_back(r);
    timestamp.push_back(t);
}

void InteractionTable::appendRow(const InteractionTable& from, size_t row)
{
    append(from.user[row], from.item[row], from.rating[row], from.timestamp[row]);
}

void ItemSideData::appendGenres(const std::vector<int32_t>& genres)
{
    if (genreStart.empty())
        genreStart.push_back(0);
    genreList.insert(genreList.end(), genres.begin(), genres.end());
    genreStart.push_back(static_cast<uint32_t>(genreList.size()));
}

bool ItemSideData::hasGenre(int32_t item, int32_t genre) const
{
    if (item < 0 || static_cast<size_t>(item) + 1 >= genreStart.size())
        return false;
    const auto first = genreList.begin() + genreStart[static_cast<size_t>(item)];
    const auto last = genreList.begin() + genreStart[static_cast<size_t>(item) + 1];
    return std::find(first, last, genre) != last;
}

std::vector<std::string> Dataset::genresOf(int32_t item) const
{
    std::vector<std::string> out;
    if (item < 0 || static_cast<size_t>(item) + 1 >= items.genreStart.size())
        return out;
    for (uint32_t k = items.genreStart[static_cast<size_t>(item)]; k < items.genreStart[static_cast<size_t>(item) + 1]; ++k) {
        const auto g = static_cast<size_t>(items.genreList[k]);
        if (g < genreNames.size())
            out.push_back(genreNames[g]);
    }
    return out;
}

int32_t Dataset::genreIndex(const std::string& name)
{
    for (size_t g = 0; g < genreNames.size(); ++g)
        if (genreNames[g] == name)
            return static_cast<int32_t>(g);
    genreNames.push_back(name);
    return static_cast<int32_t>(genreNames.size() - 1);
}

float Dataset::minRating() const
{
    const auto& r = interactions.rating;
    return r.empty() ? 0.f : *std::min_element(r.begin(), r.end());
}

float Dataset::maxRating() const
{
    const auto& r = interactions.rating;
    return r.empty() ? 0.f : *std::max_element(r.begin(), r.end());
}


std::string Dataset::fingerprint() const
{
    Fnv1a f;
    f.strings(userIds);
    f.strings(itemIds);
    f.column(interactions.user);
    f.column(interactions.item);
    f.column(interactions.rating);
    f.column(interactions.timestamp);
    if (presplit) {
        f.column(presplit->part);
        f.column(presplit->evalRows);
        f.column(presplit->negatives);
    }
    return f.hex();
}

DatasetStats computeStats(const Dataset& dataset)
{
    DatasetStats s;
    s.users = dataset.numUsers();
    s.items = dataset.numItems();
    s.interactions = dataset.interactions.size();
    s.repeatedRows = findRepeatedPairs(dataset).rows;
    // The share of (user, item) pairs that occur: a repeated pair counts once.
    if (s.users > 0 && s.items > 0)
        s.density = static_cast<double>(s.interactions - s.repeatedRows) /
                    (static_cast<double>(s.users) * static_cast<double>(s.items));
    s.ratingMin = dataset.minRating();
    s.ratingMax = dataset.maxRating();
    const auto& t = dataset.interactions.timestamp;
    if (!t.empty()) {
        const auto [lo, hi] = std::minmax_element(t.begin(), t.end());
        s.firstTimestamp = *lo;
        s.lastTimestamp = *hi;
    }
    return s;
}

RepeatedPairs findRepeatedPairs(const Dataset& dataset)
{
    const InteractionTable& t = dataset.interactions;
    const auto users = static_cast<size_t>(std::max(dataset.numUsers(), 0));
    {
        // Most files keep each user's rows together (MovieLens, RecBole): one pass then, with the
        // last user seen per item, answers exactly. Otherwise the counting sort below.
        std::vector<int32_t> lastUser(static_cast<size_t>(std::max(dataset.numItems(), 0)), -1);
        std::vector<char> done(users, 0);
        RepeatedPairs out;
        bool grouped = true;
        int32_t current = -1;
        for (size_t r = 0; r < t.size() && grouped; ++r) {
            const int32_t u = t.user[r];
            if (u != current) {
                if (current >= 0)
                    done[static_cast<size_t>(current)] = 1;
                grouped = !done[static_cast<size_t>(u)];
                current = u;
            }
            int32_t& last = lastUser[static_cast<size_t>(t.item[r])];
            if (last == u) {
                if (out.rows++ == 0)
                    out.exampleRow = static_cast<int64_t>(r);
            }
            last = u;
        }
        if (grouped)
            return out;
    }
    // Rows grouped by user (a counting sort), each user's items sorted: a repeat is an item
    // equal to the one before it.
    std::vector<size_t> start(users + 2, 0);
    for (size_t r = 0; r < t.size(); ++r)
        ++start[static_cast<size_t>(t.user[r]) + 2];
    for (size_t u = 2; u < start.size(); ++u)
        start[u] += start[u - 1];
    std::vector<int32_t> byUser(t.size());
    for (size_t r = 0; r < t.size(); ++r)
        byUser[start[static_cast<size_t>(t.user[r]) + 1]++] = t.item[r];
    RepeatedPairs out;
    int32_t exampleUser = -1, exampleItem = -1;
    for (size_t u = 0; u < users; ++u) {
        const auto first = byUser.begin() + static_cast<long>(start[u]);
        const auto last = byUser.begin() + static_cast<long>(start[u + 1]);
        std::sort(first, last);
        for (auto it = first; it != last && it + 1 != last; ++it)
            if (*it == *(it + 1)) {
                ++out.rows;
                if (exampleUser < 0) {
                    exampleUser = static_cast<int32_t>(u);
                    exampleItem = *it;
                }
            }
    }
    // The example: the second row of the first repeated pair, in file order.
    bool seen = false;
    for (size_t r = 0; exampleUser >= 0 && r < t.size(); ++r)
        if (t.user[r] == exampleUser && t.item[r] == exampleItem) {
            if (seen) {
                out.exampleRow = static_cast<int64_t>(r);
                break;
            }
            seen = true;
        }
    return out;
}

} // namespace reclab
