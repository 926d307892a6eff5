#include "data/FormatLoaders.h"

#include "data/FieldParsers.h"
#include "data/SideData.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TextFile.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <unordered_map>

namespace fs = std::filesystem;

namespace reclab {

namespace {

using Clock = std::chrono::steady_clock;

std::string inDir(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }
// Whether an optional side file is there; something there that is not a regular file (a FIFO,
// a folder) is refused naming it rather than skipped or read.
bool exists(const std::string& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        return false;
    requireRegularFile(path);
    return true;
}

std::string folderName(const std::string& dir)
{
    fs::path p = fs::absolute(fs::path(dir)).lexically_normal();
    if (p.filename().empty())
        p = p.parent_path();
    return p.filename().string();
}

void requireFields(const TextFile& file, long line, size_t found, size_t expected, const char* layout)
{
    if (found != expected)
        throw DataError(file.path(), line, "",
                        "expected " + std::to_string(expected) + " fields (" + layout + "), found " + std::to_string(found));
}

// Calls fn(file, line, fields) for each line of a "::"-separated MovieLens .dat file, after
// checking it has `count` fields (layout names them for the message).
template <typename Fn>
void forEachDatRecord(const std::string& path, size_t count, const char* layout, Fn&& fn)
{
    TextFile file(path);
    std::vector<std::string_view> f;
    file.forEachLine([&](long line, std::string_view text) {
        splitFields(text, "::", f);
        requireFields(file, line, f.size(), count, layout);
        fn(file, line, f);
    });
}

// Adds a warning to the load report when some lines of a UTF-8 file had broken bytes.
void noteRepairs(Dataset& ds, const Utf8Repair& utf8)
{
    if (utf8.lines())
        ds.report.warnings.push_back(utf8.warning());
}

void addGenreList(ItemSideBuilder& items, int32_t item, std::string_view list, char sep)
{
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(sep, start);
        if (end == std::string_view::npos)
            end = list.size();
        const std::string name(list.substr(start, end - start));
        if (!name.empty() && name != "(no genres listed)")
            items.addGenre(item, name);
        start = end + 1;
    }
}

// MovieLens ratings files: numeric ids, and the release's rating scale (1 to 5 in whole stars
// for ml-100k and ml-1m, 0.5 to 5 in half stars from ml-10m on).
Dataset loadRatings(const std::string& path, const DelimitedFormat& options, const char* sep, int header, double step,
                    const char* scale)
{
    DelimitedFormat f = options;
    f.separator = sep;
    f.header = header;
    if (f.columns.empty() && header == 0)
        f.columns = {ColumnRole::User, ColumnRole::Item, ColumnRole::Rating, ColumnRole::Timestamp};
    if (f.ids == IdKinds::Detect)
        f.ids = IdKinds::Numeric;
    f.ratingMin = step;
    f.ratingMax = 5;
    f.ratingStep = step;
    f.scaleName = scale;
    return loadDelimited(path, f);
}

const char* occupationName(long long code)
{
    static const char* const kNames[] = {"other", "academic/educator", "artist", "clerical/admin",
                                         "college/grad student", "customer service", "doctor/health care",
                                         "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
                                         "programmer", "retired", "sales/marketing", "scientist", "self-employed",
                                         "technician/engineer", "tradesman/craftsman", "unemployed", "writer"};
    return code >= 0 && code <= 20 ? kNames[code] : "other";
}

} // namespace

Dataset loadMovieLensDat(const std::string& dir, const DelimitedFormat& options)
{
    const auto started = Clock::now();
    const bool oneMillion = exists(inDir(dir, "users.dat"));
    Dataset ds = loadRatings(inDir(dir, "ratings.dat"), options, "::", 0, oneMillion ? 1.0 : 0.5, oneMillion ? "ml-1m" : "ml-10m");
    ds.name = folderName(dir);
    ds.source = fs::absolute(fs::path(dir)).lexically_normal().string();
    ds.report.format = oneMillion ? "ml-1m" : "ml-10m";

    ItemSideBuilder items(ds);
    if (exists(inDir(dir, "movies.dat")))
        forEachDatRecord(inDir(dir, "movies.dat"), 3, "MovieID::Title::Genres",
                         [&](const TextFile&, long, const auto& f) {
                             const int32_t item = items.indexOf(f[0]);
                             if (item < 0)
                                 return; // a movie nobody rated
                             items.setTitle(item, std::string(f[1]));
                             addGenreList(items, item, f[2], '|');
                         });
    if (exists(inDir(dir, "tags.dat")))
        forEachDatRecord(inDir(dir, "tags.dat"), 4, "UserID::MovieID::Tag::Timestamp",
                         [&](const TextFile&, long, const auto& f) {
                             const int32_t item = items.indexOf(f[1]);
                             if (item >= 0)
                                 items.addTag(item, f[2]);
                         });
    items.finish();
    if (oneMillion) {
        UserSideBuilder users(ds);
        forEachDatRecord(inDir(dir, "users.dat"), 5, "UserID::Gender::Age::Occupation::Zip-code",
                         [&](const TextFile& file, long line, const auto& f) {
                             long long age = 0, occupation = 0;
                             if (!parseInt64(f[2], age))
                                 throw DataError(file.path(), line, "Age (column 3)",
                                                 "expected an age group such as 18 or 25, found '" + std::string(f[2]) +
                                                     "'");
                             if (!parseInt64(f[3], occupation))
                                 throw DataError(file.path(), line, "Occupation (column 4)",
                                                 "expected an occupation code 0-20, found '" + std::string(f[3]) + "'");
                             const int32_t user = users.indexOf(f[0]);
                             if (user >= 0)
                                 users.set(user, static_cast<int32_t>(age),
                                           f[1] == "M"   ? 'M'
                                           : f[1] == "F" ? 'F'
                                                         : '?',
                                           occupationName(occupation), std::string(f[4]));
                         });
        users.finish();
    }
    ds.report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return ds;
}

Dataset loadMovieLensCsv(const std::string& dir, const DelimitedFormat& options)
{
    const auto started = Clock::now();
    Dataset ds = loadRatings(inDir(dir, "ratings.csv"), options, ",", 1, 0.5, "MovieLens");
    ds.name = folderName(dir);
    ds.source = fs::absolute(fs::path(dir)).lexically_normal().string();
    ds.report.format = "movielens-csv";

    ItemSideBuilder items(ds);
    std::vector<std::string> f;
    if (exists(inDir(dir, "movies.csv"))) {
        TextFile movies(inDir(dir, "movies.csv"));
        Utf8Repair utf8(movies.path());
        movies.forEachLine([&](long line, std::string_view raw) {
            const std::string_view text = utf8(line, raw);
            if (line == 1)
                return; // movieId,title,genres
            if (!splitQuotedRecord(text, ",", f))
                throw DataError(movies.path(), line, "title (column 2)", "a quoted title has no closing quote");
            requireFields(movies, line, f.size(), 3, "movieId,title,genres");
            const int32_t item = items.indexOf(f[0]);
            if (item < 0)
                return;
            items.setTitle(item, f[1]);
            addGenreList(items, item, f[2], '|');
        });
        noteRepairs(ds, utf8);
    }
    if (exists(inDir(dir, "tags.csv"))) {
        TextFile tags(inDir(dir, "tags.csv"));
        Utf8Repair utf8(tags.path());
        tags.forEachLine([&](long line, std::string_view raw) {
            const std::string_view text = utf8(line, raw);
            if (line == 1)
                return; // userId,movieId,tag,timestamp
            if (!splitQuotedRecord(text, ",", f))
                throw DataError(tags.path(), line, "tag (column 3)", "a quoted tag has no closing quote");
            requireFields(tags, line, f.size(), 4, "userId,movieId,tag,timestamp");
            const int32_t item = items.indexOf(f[1]);
            if (item >= 0)
                items.addTag(item, f[2]);
        });
        noteRepairs(ds, utf8);
    }
    items.finish();
    ds.report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return ds;
}

namespace {

// Columns of a RecBole side file, by the name before ":type".
struct AtomicHeader {
    std::vector<std::string> names, types;
    int find(std::initializer_list<const char*> candidates) const
    {
        for (const char* c : candidates)
            for (size_t k = 0; k < names.size(); ++k)
                if (names[k] == c)
                    return static_cast<int>(k);
        return -1;
    }
};

AtomicHeader atomicHeader(const TextFile& file, std::string_view line)
{
    AtomicHeader h;
    std::vector<std::string_view> f;
    splitFields(line, "\t", f);
    for (const auto& field : f) {
        const size_t colon = field.find(':');
        if (colon == std::string_view::npos)
            throw DataError(file.path(), 1, std::string(field), "expected a RecBole header field 'name:type' (token, token_seq, float or float_seq)");
        h.names.emplace_back(field.substr(0, colon));
        h.types.emplace_back(field.substr(colon + 1));
    }
    return h;
}

// Reads a RecBole side file: a "name:type" header, then tab-separated rows of the same width.
// onHeader(header, line) picks the columns; onRow(fields) takes each row.
template <typename OnHeader, typename OnRow> void readAtomicFile(const std::string& path, OnHeader onHeader, OnRow onRow)
{
    TextFile file(path);
    AtomicHeader h;
    std::vector<std::string_view> v;
    file.forEachLine([&](long line, std::string_view text) {
        if (h.names.empty()) {
            h = atomicHeader(file, text);
            onHeader(h, line);
            return;
        }
        splitFields(text, "\t", v);
        if (v.size() != h.names.size())
            throw DataError(file.path(), line, "", "expected " + std::to_string(h.names.size()) +
                                                       " tab-separated fields, found " + std::to_string(v.size()));
        onRow(v);
    });
}

} // namespace

Dataset loadRecBoleAtomic(const std::string& interFile, const DelimitedFormat& options)
{
    const auto started = Clock::now();
    DelimitedFormat f = options;
    f.separator = "\t";
    f.header = 1;
    for (const auto& name : resolveDelimitedFormat(interFile, f).headerNames)
        if (name.find(':') == std::string::npos)
            throw DataError(interFile, 1, "header", "expected RecBole 'name:type' fields such as user_id:token, found '" + name + "'");
    Dataset ds = loadDelimited(interFile, f);
    const fs::path path(interFile);
    ds.name = path.stem().string();
    ds.source = fs::absolute(path).lexically_normal().string();
    ds.report.format = "recbole";

    const std::string itemFile = fs::path(path).replace_extension(".item").string();
    if (exists(itemFile)) {
        ItemSideBuilder items(ds);
        int idCol = -1, titleCol = -1, yearCol = -1, genreCol = -1;
        bool genreSeq = false;
        readAtomicFile(
            itemFile,
            [&](const AtomicHeader& h, long line) {
                idCol = h.find({"item_id", "movie_id", "business_id", "book_id"});
                titleCol = h.find({"movie_title", "title", "item_name", "name"});
                yearCol = h.find({"release_year", "year"});
                genreCol = h.find({"class", "genre", "genres", "categories", "category"});
                genreSeq = genreCol >= 0 && h.types[static_cast<size_t>(genreCol)].find("seq") != std::string::npos;
                if (idCol < 0)
                    throw DataError(itemFile, line, "header", "no item id column (item_id:token)");
            },
            [&](const std::vector<std::string_view>& v) {
                const int32_t item = items.indexOf(v[static_cast<size_t>(idCol)]);
                if (item < 0)
                    return;
                if (titleCol >= 0)
                    items.setTitle(item, std::string(v[static_cast<size_t>(titleCol)]));
                long long year = 0;
                if (yearCol >= 0 && parseInt64(v[static_cast<size_t>(yearCol)], year))
                    items.setYear(item, static_cast<int32_t>(year));
                if (genreCol >= 0 && genreSeq)
                    addGenreList(items, item, v[static_cast<size_t>(genreCol)], ' ');
                else if (genreCol >= 0)
                    items.addGenre(item, std::string(v[static_cast<size_t>(genreCol)]));
            });
        items.finish();
    }
    const std::string userFile = fs::path(path).replace_extension(".user").string();
    if (exists(userFile)) {
        UserSideBuilder users(ds);
        int idCol = -1, ageCol = -1, genderCol = -1, occCol = -1, zipCol = -1;
        readAtomicFile(
            userFile,
            [&](const AtomicHeader& h, long line) {
                idCol = h.find({"user_id"});
                ageCol = h.find({"age"});
                genderCol = h.find({"gender"});
                occCol = h.find({"occupation"});
                zipCol = h.find({"zip_code", "zip"});
                if (idCol < 0)
                    throw DataError(userFile, line, "header", "no user id column (user_id:token)");
            },
            [&](const std::vector<std::string_view>& v) {
                const int32_t user = users.indexOf(v[static_cast<size_t>(idCol)]);
                if (user < 0)
                    return;
                long long age = 0;
                if (ageCol >= 0)
                    parseInt64(v[static_cast<size_t>(ageCol)], age);
                const std::string_view g = genderCol >= 0 ? v[static_cast<size_t>(genderCol)] : std::string_view();
                users.set(user, static_cast<int32_t>(age), g == "M" ? 'M' : g == "F" ? 'F' : '?',
                          occCol >= 0 ? std::string(v[static_cast<size_t>(occCol)]) : std::string(),
                          zipCol >= 0 ? std::string(v[static_cast<size_t>(zipCol)]) : std::string());
            });
        users.finish();
    }
    ds.report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return ds;
}

Dataset loadAmazonRatingsCsv(const std::string& file, const DelimitedFormat& options)
{
    // user,item,rating,timestamp without a header as Amazon ships them; the content decides: a
    // first line that names its columns is a header.
    DelimitedFormat f = options;
    f.separator = ",";
    if (f.ids == IdKinds::Detect)
        f.ids = IdKinds::Text; // reviewer ids and ASINs
    if (f.columns.empty()) {
        const ResolvedFormat probe = resolveDelimitedFormat(file, f);
        if (probe.format.header != 1)
            f.columns = {ColumnRole::User, ColumnRole::Item, ColumnRole::Rating, ColumnRole::Timestamp};
        f.header = probe.format.header;
    }
    Dataset ds = loadDelimited(file, f);
    ds.report.format = "amazon-ratings";
    return ds;
}

namespace {

// The 2014 Amazon meta files are Python literals ({'asin': '...'}); this rewrites one line as
// JSON (single-quoted strings become double-quoted ones).
std::string pythonLiteralToJson(std::string_view in)
{
    std::string out;
    out.reserve(in.size() + 16);
    size_t k = 0;
    while (k < in.size()) {
        const char c = in[k];
        if (c == '\'' || c == '"') {
            const char quote = c;
            out.push_back('"');
            ++k;
            while (k < in.size() && in[k] != quote) {
                if (in[k] == '\\' && k + 1 < in.size()) {
                    if (in[k + 1] == '\'')
                        out.push_back('\'');
                    else {
                        out.push_back('\\');
                        out.push_back(in[k + 1]);
                    }
                    k += 2;
                    continue;
                }
                if (in[k] == '"')
                    out += "\\\"";
                else
                    out.push_back(in[k]);
                ++k;
            }
            out.push_back('"');
            ++k;
            continue;
        }
        if (in.compare(k, 4, "True") == 0) {
            out += "true";
            k += 4;
        } else if (in.compare(k, 5, "False") == 0) {
            out += "false";
            k += 5;
        } else if (in.compare(k, 4, "None") == 0) {
            out += "null";
            k += 4;
        } else {
            out.push_back(c);
            ++k;
        }
    }
    return out;
}

nlohmann::json parseJsonLine(const std::string& path, long line, std::string_view text)
{
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        if (!text.empty() && text.find('\'') != std::string_view::npos) {
            try {
                return nlohmann::json::parse(pythonLiteralToJson(text));
            } catch (const nlohmann::json::exception&) {
            }
        }
        throw DataError(path, line, "", "expected one JSON object per line");
    }
}

} // namespace

Dataset loadAmazonJson(const std::string& file, const std::string& metaFile, bool skipBadRows)
{
    const auto started = Clock::now();
    Dataset ds;
    const fs::path path(file);
    ds.name = path.stem().string();
    ds.source = fs::absolute(path).lexically_normal().string();
    ds.report.format = "amazon-json";
    std::unordered_map<std::string, int32_t> users, items;
    TextFile text(file);
    Utf8Repair utf8(file);
    // Review text is kept up to a budget, so that a category of tens of millions of reviews still
    // loads as ratings (the ids and ratings take a few percent of the text's size).
    constexpr size_t kReviewTextLimit = size_t{1} << 30;
    size_t reviewBytes = 0, reviewsLeftOut = 0;
    auto idOf = [](std::unordered_map<std::string, int32_t>& map, std::vector<std::string>& names, std::string id) {
        const auto [it, added] = map.emplace(id, static_cast<int32_t>(names.size()));
        if (added)
            names.push_back(std::move(id));
        return it->second;
    };
    text.forEachLine([&](long line, std::string_view raw) {
        try {
            const nlohmann::json row = parseJsonLine(file, line, utf8(line, raw));
            if (!row.is_object())
                throw DataError(file, line, "", "expected a JSON object {\"reviewerID\": ..., \"asin\": ..., ...}");
            auto textField = [&](const char* key) {
                const auto it = row.find(key);
                if (it == row.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
                    throw DataError(file, line, key, "expected a non-empty string");
                return it->get<std::string>();
            };
            auto numberField = [&](const char* key) {
                const auto it = row.find(key);
                if (it == row.end() || !it->is_number())
                    throw DataError(file, line, key, "expected a number");
                return it->get<double>();
            };
            std::string user = textField("reviewerID");
            std::string item = textField("asin");
            const double rating = numberField("overall");
            if (!(rating >= 0) || !fitsFloat(rating))
                throw DataError(file, line, "overall", "expected a rating of 0 or more, as a 32-bit number");
            const double time = numberField("unixReviewTime");
            if (!(std::fabs(time) < 9e18))
                throw DataError(file, line, "unixReviewTime", "expected Unix seconds");
            const int32_t u = idOf(users, ds.userIds, std::move(user)), i = idOf(items, ds.itemIds, std::move(item));
            ds.interactions.append(u, i, static_cast<float>(rating), static_cast<int64_t>(time));
            // The review's words: its summary line, then its text.
            std::string words;
            for (const char* key : {"summary", "reviewText"}) {
                const auto it = row.find(key);
                if (it != row.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
                    words += (words.empty() ? "" : "\n") + it->get<std::string>();
            }
            if (!words.empty() && reviewBytes + words.size() <= kReviewTextLimit) {
                reviewBytes += words.size();
                ds.reviews.append(u, i, std::move(words));
            } else if (!words.empty()) {
                ++reviewsLeftOut;
            }
        } catch (const DataError& e) {
            if (!skipBadRows)
                throw;
            if (ds.report.problems.size() < 5)
                ds.report.problems.push_back(e.what());
            ++ds.report.skippedRows;
        }
    });
    noteRepairs(ds, utf8);
    if (reviewsLeftOut)
        ds.report.warnings.push_back(file + ": the text of " + std::to_string(reviewsLeftOut) +
                                     " reviews past the first 1 GiB of review text was not kept (their ratings were)");
    if (ds.interactions.size() == 0)
        throw DataError(file, 0, "", ds.report.skippedRows ? "no valid reviews: every line was malformed" : "the file holds no reviews");

    if (!metaFile.empty()) {
        ItemSideBuilder side(ds);
        TextFile meta(metaFile);
        Utf8Repair metaUtf8(metaFile);
        meta.forEachLine([&](long line, std::string_view raw) {
            const nlohmann::json row = parseJsonLine(metaFile, line, metaUtf8(line, raw));
            const auto asin = row.find("asin");
            if (!row.is_object() || asin == row.end() || !asin->is_string())
                throw DataError(metaFile, line, "asin", "expected a product id string");
            const int32_t item = side.indexOf(asin->get_ref<const std::string&>());
            if (item < 0)
                return;
            const auto title = row.find("title");
            if (title != row.end() && title->is_string())
                side.setTitle(item, title->get<std::string>());
            for (const char* key : {"category", "categories"}) {
                const auto cats = row.find(key);
                if (cats == row.end() || !cats->is_array())
                    continue;
                for (const auto& c : *cats) {
                    if (c.is_string())
                        side.addGenre(item, c.get<std::string>());
                    else if (c.is_array()) // 2014: a list of category paths
                        for (const auto& leaf : c)
                            if (leaf.is_string())
                                side.addGenre(item, leaf.get<std::string>());
                }
            }
        });
        side.finish();
        noteRepairs(ds, metaUtf8);
    }
    ds.report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return ds;
}

} // namespace reclab
