#include "data/Dataset.h"

#include "data/Preparation.h"

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

namespace {
// FNV-1a, 64 bits: stable across platforms and fast enough for 25M rows.
struct Fnv1a {
    uint64_t h = 1469598103934665603ull;
    void bytes(const void* data, size_t n)
    {
        const auto* p = static_cast<const unsigned char*>(data);
        for (size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 1099511628211ull;
        }
    }
    template <typename V> void column(const V& v)
    {
        const uint64_t n = v.size();
        bytes(&n, sizeof n);
        bytes(v.data(), v.size() * sizeof(typename V::value_type));
    }
    void strings(const std::vector<std::string>& v)
    {
        for (const auto& s : v) {
            bytes(s.data(), s.size());
            bytes("\0", 1);
        }
    }
};
} // namespace

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
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
    return buf;
}

DatasetStats computeStats(const Dataset& dataset)
{
    DatasetStats s;
    s.users = dataset.numUsers();
    s.items = dataset.numItems();
    s.interactions = dataset.interactions.size();
    if (s.users > 0 && s.items > 0)
        s.density = static_cast<double>(s.interactions) /
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

} // namespace reclab
