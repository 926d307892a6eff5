#include "data/MovieLens100kLoader.h"

#include "data/SideData.h"
#include "util/Error.h"
#include "util/TextFile.h"

#include <filesystem>
#include <unordered_map>

namespace fs = std::filesystem;

namespace reclab {

namespace {

std::string joinPath(const std::string& dir, const char* name)
{
    return (fs::path(dir) / name).string();
}

long long intField(const TextFile& file, long line, std::string_view value, const char* field)
{
    long long v = 0;
    if (!parseInt64(value, v))
        throw DataError(file.path(), line, field,
                        "expected an integer, found '" + std::string(value.substr(0, 40)) + "'");
    return v;
}

void expectFieldCount(const TextFile& file, long line, size_t found, size_t expected, const char* layout)
{
    if (found != expected)
        throw DataError(file.path(), line, "",
                        "expected " + std::to_string(expected) + " fields (" + layout + "), found " +
                            std::to_string(found));
}

// Year from "Toy Story (1995)" or else from a release date such as "01-Jan-1995".
int32_t yearOf(std::string_view title, std::string_view date)
{
    if (const int32_t y = yearFromTitle(title))
        return y;
    long long y = 0;
    if (date.size() >= 4 && parseInt64(date.substr(date.size() - 4), y) && y > 1800 && y < 2100)
        return static_cast<int32_t>(y);
    return 0;
}

// Calls fn(line, fields) for each line of file, split at sep and checked to hold `count` fields.
template <typename Fn>
void forEachRecord(const TextFile& file, const char* sep, size_t count, const char* layout, Fn&& fn)
{
    std::vector<std::string_view> f;
    file.forEachLine([&](long line, std::string_view text) {
        splitFields(text, sep, f);
        expectFieldCount(file, line, f.size(), count, layout);
        fn(line, f);
    });
}

// Gives the id in field f0 the next index; a second row with the same id is an error.
void addId(const TextFile& file, long line, std::string_view f0, const char* field,
           std::unordered_map<long long, int32_t>& index, std::vector<std::string>& ids)
{
    const long long id = intField(file, line, f0, field);
    if (!index.emplace(id, static_cast<int32_t>(ids.size())).second)
        throw DataError(file.path(), line, field, "duplicate id " + std::to_string(id));
    ids.emplace_back(f0);
}

void readGenres(const std::string& dir, Dataset& ds)
{
    TextFile file(joinPath(dir, "u.genre"));
    forEachRecord(file, "|", 2, "name|index", [&](long line, const std::vector<std::string_view>& f) {
        const long long index = intField(file, line, f[1], "index");
        if (index < 0 || index >= 32)
            throw DataError(file.path(), line, "index", "expected 0 to 31");
        if (ds.genreNames.size() <= static_cast<size_t>(index))
            ds.genreNames.resize(static_cast<size_t>(index) + 1);
        ds.genreNames[static_cast<size_t>(index)] = std::string(f[0]);
    });
}

void readItems(const std::string& dir, Dataset& ds, std::unordered_map<long long, int32_t>& itemIndex)
{
    TextFile file(joinPath(dir, "u.item"));
    const size_t genreCount = ds.genreNames.size();
    forEachRecord(file, "|", 5 + genreCount, "id|title|release date|video date|url|genre flags",
                  [&](long line, const std::vector<std::string_view>& f) {
                      addId(file, line, f[0], "movie id", itemIndex, ds.itemIds);
                      std::vector<int32_t> genres;
                      for (size_t g = 0; g < genreCount; ++g) {
                          const std::string_view flag = f[5 + g];
                          if (flag != "0" && flag != "1")
                              throw DataError(file.path(), line, ds.genreNames[g], "expected a 0/1 genre flag");
                          if (flag == "1")
                              genres.push_back(static_cast<int32_t>(g));
                      }
                      ds.items.title.push_back(toUtf8(f[1]));
                      ds.items.year.push_back(yearOf(f[1], f[2]));
                      ds.items.appendGenres(genres);
                  });
}

void readUsers(const std::string& dir, Dataset& ds, std::unordered_map<long long, int32_t>& userIndex)
{
    TextFile file(joinPath(dir, "u.user"));
    forEachRecord(file, "|", 5, "id|age|gender|occupation|zip", [&](long line, const std::vector<std::string_view>& f) {
        addId(file, line, f[0], "user id", userIndex, ds.userIds);
        const long long age = intField(file, line, f[1], "age");
        ds.users.age.push_back(static_cast<int32_t>(age));
        ds.users.gender.push_back(f[2] == "M" ? 'M' : f[2] == "F" ? 'F' : '?');
        ds.users.occupation.emplace_back(f[3]);
        ds.users.zip.emplace_back(f[4]);
    });
}

// Reads a u.data-shaped file (u.data, uK.base, uK.test) into out.
void readRatings(const std::string& path, InteractionTable& out,
                 const std::unordered_map<long long, int32_t>& userIndex,
                 const std::unordered_map<long long, int32_t>& itemIndex)
{
    TextFile file(path);
    out.reserve(100000);
    forEachRecord(
        file, "\t", 4, "user, item, rating, timestamp separated by tabs",
        [&](long line, const std::vector<std::string_view>& f) {
            const long long u = intField(file, line, f[0], "user id");
            const long long i = intField(file, line, f[1], "item id");
            double rating = 0;
            if (!parseDouble(f[2], rating) || rating < 1 || rating > 5 || rating != static_cast<int>(rating))
                throw DataError(file.path(), line, "rating",
                                "expected a rating of 1 to 5 whole stars (the ml-100k scale), found '" +
                                    std::string(f[2].substr(0, 40)) + "'");
            const long long t = intField(file, line, f[3], "timestamp");
            const auto uit = userIndex.find(u);
            if (uit == userIndex.end())
                throw DataError(file.path(), line, "user id", "user " + std::to_string(u) + " is not in u.user");
            const auto iit = itemIndex.find(i);
            if (iit == itemIndex.end())
                throw DataError(file.path(), line, "item id", "item " + std::to_string(i) + " is not in u.item");
            out.append(uit->second, iit->second, static_cast<float>(rating), t);
        });
    if (out.size() == 0)
        throw DataError(file.path(), 0, "", "the file holds no ratings");
}

} // namespace

bool looksLikeMovieLens100k(const std::string& dir)
{
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / "u.data", ec) && fs::is_regular_file(fs::path(dir) / "u.item", ec);
}

Dataset loadMovieLens100k(const std::string& dir)
{
    Dataset ds;
    ds.name = "ml-100k";
    ds.source = fs::absolute(fs::path(dir)).lexically_normal().string();
    readGenres(dir, ds);
    std::unordered_map<long long, int32_t> itemIndex, userIndex;
    readItems(dir, ds, itemIndex);
    readUsers(dir, ds, userIndex);
    readRatings(joinPath(dir, "u.data"), ds.interactions, userIndex, itemIndex);
    return ds;
}

RatingFold loadMovieLens100kFold(const std::string& dir, const Dataset& ds, int fold)
{
    if (fold < 1 || fold > 5)
        throw ConfigError("fold", "MovieLens-100K has folds 1 to 5, not " + std::to_string(fold));
    // Raw ids of the loaded dataset back to its indices.
    auto indexOf = [](const std::vector<std::string>& ids) {
        std::unordered_map<long long, int32_t> index;
        for (size_t k = 0; k < ids.size(); ++k)
            index.emplace(std::stoll(ids[k]), static_cast<int32_t>(k));
        return index;
    };
    const auto userIndex = indexOf(ds.userIds);
    const auto itemIndex = indexOf(ds.itemIds);
    const std::string base = "u" + std::to_string(fold);
    RatingFold out;
    readRatings(joinPath(dir, (base + ".base").c_str()), out.train, userIndex, itemIndex);
    readRatings(joinPath(dir, (base + ".test").c_str()), out.test, userIndex, itemIndex);
    return out;
}

} // namespace reclab
