#include "data/PreparedData.h"

#include "util/Error.h"
#include "util/Files.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace reclab {

namespace {

constexpr char kMagic[8] = {'R', 'L', 'P', 'R', 'E', 'P', '\0', '\1'};
constexpr int kVersion = 3; // 2 added the review text, 3 the users' postal codes; older files are still read

// FNV-1a over 8-byte words (bytes for the tail of each call): a cheap whole-file checksum that
// writer and reader compute over the same sequence of calls.
struct Checksum {
    uint64_t h = 1469598103934665603ull;
    void add(const void* data, size_t n)
    {
        const auto* p = static_cast<const unsigned char*>(data);
        size_t k = 0;
        for (; k + 8 <= n; k += 8) {
            uint64_t w;
            std::memcpy(&w, p + k, 8);
            h = (h ^ w) * 1099511628211ull;
        }
        for (; k < n; ++k)
            h = (h ^ p[k]) * 1099511628211ull;
    }
};

// Writes through a buffer into an AtomicFileWriter: the file appears whole or not at all, and
// a full disk is an IoError naming it.
class Writer {
public:
    explicit Writer(const std::string& path) : out_(path) {}
    void raw(const void* data, size_t n)
    {
        sum_.add(data, n);
        if (buffer_.size() + n > kBuffer)
            flush();
        if (n >= kBuffer)
            out_.write(data, n);
        else
            buffer_.append(static_cast<const char*>(data), n);
    }
    void u64(uint64_t v) { raw(&v, sizeof v); }
    template <typename V> void put(const V& v)
    {
        u64(v.size());
        raw(v.data(), v.size() * sizeof(typename V::value_type));
    }
    void put(const std::vector<std::string>& v)
    {
        u64(v.size());
        for (const auto& s : v) {
            const auto len = static_cast<uint32_t>(s.size());
            raw(&len, sizeof len);
            raw(s.data(), s.size());
        }
    }
    void finish()
    {
        const uint64_t h = sum_.h;
        buffer_.append(reinterpret_cast<const char*>(&h), sizeof h);
        flush();
        out_.commit();
    }

private:
    static constexpr size_t kBuffer = size_t{1} << 20;
    void flush()
    {
        out_.write(buffer_);
        buffer_.clear();
    }
    AtomicFileWriter out_;
    std::string buffer_;
    Checksum sum_;
};

class Reader {
public:
    explicit Reader(const std::string& path) : path_(path), file_(path), left_(file_.size()) {}
    [[noreturn]] void damaged(const std::string& what) const
    {
        throw DataError(path_, 0, "", "not a valid prepared dataset (" + what + "); prepare it again");
    }
    void raw(void* data, size_t n, const char* what)
    {
        if (n > left_ || (n && file_.read(data, n, offset_) != n))
            damaged(std::string("truncated in ") + what);
        left_ -= n;
        offset_ += n;
        sum_.add(data, n);
    }
    uint64_t u64(const char* what)
    {
        uint64_t v = 0;
        raw(&v, sizeof v, what);
        return v;
    }
    template <typename V> void get(const char* what, V& v)
    {
        using T = typename V::value_type;
        const uint64_t n = u64(what);
        if (n > left_ / sizeof(T))
            damaged(std::string("impossible length of ") + what);
        v.resize(n);
        raw(v.data(), n * sizeof(T), what);
    }
    void get(const char* what, std::vector<std::string>& v)
    {
        const uint64_t n = u64(what);
        if (n > left_ / 4)
            damaged(std::string("impossible length of ") + what);
        v.resize(n);
        for (auto& s : v) {
            uint32_t len = 0;
            raw(&len, sizeof len, what);
            if (len > left_)
                damaged(std::string("impossible length in ") + what);
            s.resize(len);
            raw(s.data(), len, what);
        }
    }
    void verifyEnd()
    {
        const uint64_t expected = sum_.h;
        uint64_t stored = 0;
        if (left_ != sizeof stored || file_.read(&stored, sizeof stored, offset_) != sizeof stored)
            damaged("wrong length");
        if (stored != expected)
            damaged("checksum mismatch: the file is damaged");
    }

private:
    std::string path_;
    ReadableFile file_;
    uint64_t left_ = 0, offset_ = 0;
    Checksum sum_;
};

nlohmann::json filtersJson(const FilterConfig& f)
{
    nlohmann::json j{{"remove_duplicates", f.removeDuplicates}, {"user_core", f.userCore}, {"item_core", f.itemCore}};
    j["rating_threshold"] = f.ratingThreshold ? nlohmann::json(*f.ratingThreshold) : nlohmann::json(nullptr);
    j["time_from"] = f.timeFrom ? nlohmann::json(*f.timeFrom) : nlohmann::json(nullptr);
    j["time_to"] = f.timeTo ? nlohmann::json(*f.timeTo) : nlohmann::json(nullptr);
    return j;
}

FilterConfig filtersFrom(const nlohmann::json& j)
{
    FilterConfig f;
    f.removeDuplicates = j.at("remove_duplicates").get<bool>();
    f.userCore = j.at("user_core").get<int>();
    f.itemCore = j.at("item_core").get<int>();
    if (!j.at("rating_threshold").is_null())
        f.ratingThreshold = j.at("rating_threshold").get<float>();
    if (!j.at("time_from").is_null())
        f.timeFrom = j.at("time_from").get<int64_t>();
    if (!j.at("time_to").is_null())
        f.timeTo = j.at("time_to").get<int64_t>();
    return f;
}

const char* splitKindName(SplitKind k)
{
    switch (k) {
    case SplitKind::LeaveOneOut: return "loo";
    case SplitKind::Ratio: return "ratio";
    case SplitKind::Temporal: return "temporal";
    case SplitKind::ByUser: return "by-user";
    }
    return "loo";
}

nlohmann::json splitJson(const SplitConfig& c)
{
    return {{"kind", splitKindName(c.kind)}, {"train", c.train}, {"valid", c.valid}, {"test", c.test},
            {"loo_validation", c.looValidation}, {"seed", c.seed}, {"negatives", c.effectiveNegatives()}};
}

SplitConfig splitFrom(const nlohmann::json& j)
{
    SplitConfig c = parseSplitSpec(j.at("kind").get<std::string>() == "loo" ? "loo" : j.at("kind").get<std::string>() + ":0.5");
    c.train = j.at("train").get<double>();
    c.valid = j.at("valid").get<double>();
    c.test = j.at("test").get<double>();
    c.looValidation = j.at("loo_validation").get<bool>();
    c.seed = j.at("seed").get<uint64_t>();
    c.negatives = j.at("negatives").get<int>();
    return c;
}

nlohmann::json countsJson(const DatasetCounts& c)
{
    return {{"users", c.users}, {"items", c.items}, {"interactions", c.interactions}};
}

DatasetCounts countsFrom(const nlohmann::json& j)
{
    DatasetCounts c;
    c.users = j.at("users").get<int32_t>();
    c.items = j.at("items").get<int32_t>();
    c.interactions = j.at("interactions").get<size_t>();
    return c;
}

// The sections after a prepared file's header, in file order: fn(name, field) for each, so the
// writer and the reader cannot disagree on the layout.
template <typename D, typename S, typename Fn> void forEachSection(D& ds, S& split, int version, Fn&& fn)
{
    fn("user ids", ds.userIds);
    fn("item ids", ds.itemIds);
    fn("genre names", ds.genreNames);
    fn("users", ds.interactions.user);
    fn("items", ds.interactions.item);
    fn("ratings", ds.interactions.rating);
    fn("timestamps", ds.interactions.timestamp);
    fn("titles", ds.items.title);
    fn("years", ds.items.year);
    fn("genres", ds.items.genreStart);
    fn("genres", ds.items.genreList);
    fn("tags", ds.items.tags);
    fn("ages", ds.users.age);
    fn("genders", ds.users.gender);
    fn("occupations", ds.users.occupation);
    fn("split", split.part);
    fn("evaluation rows", split.evalRows);
    fn("negatives", split.negatives);
    if (version >= 2) {
        fn("review users", ds.reviews.user);
        fn("review items", ds.reviews.item);
        fn("reviews", ds.reviews.text);
    }
    if (version >= 3)
        fn("postal codes", ds.users.zip);
}

} // namespace

PreparedData prepareDataset(const Dataset& source, const std::string& sourceSpec, const FilterConfig& filters,
                            const SplitConfig& split)
{
    PreparedData p;
    p.sourceSpec = sourceSpec;
    p.sourceFingerprint = source.fingerprint();
    p.filters = filters;
    p.dataset = applyFilters(source, filters, &p.summary);
    if (p.dataset.interactions.size() == 0)
        throw ConfigError("filters", "the filters leave no interactions (" + filters.describe() + ")");
    p.dataset.presplit = std::make_shared<const SplitAssignment>(makeSplit(p.dataset, split));
    p.fingerprint = p.dataset.fingerprint();
    return p;
}

void writePreparedData(const PreparedData& p, const std::string& path)
{
    if (!p.dataset.presplit)
        throw Error("prepared data without a split cannot be saved");
    const Dataset& ds = p.dataset;
    const SplitAssignment& split = *ds.presplit;
    const nlohmann::json header{{"version", kVersion},
                                {"name", ds.name},
                                {"source", p.sourceSpec},
                                {"format", ds.report.format},
                                {"source_fingerprint", p.sourceFingerprint},
                                {"fingerprint", p.fingerprint},
                                {"filters", filtersJson(p.filters)},
                                {"before", countsJson(p.summary.before)},
                                {"after", countsJson(p.summary.after)},
                                {"split", splitJson(split.config)}};
    const std::string text = header.dump();
    Writer w(path);
    w.raw(kMagic, sizeof kMagic);
    w.u64(text.size());
    w.raw(text.data(), text.size());
    forEachSection(ds, split, kVersion, [&](const char*, const auto& field) { w.put(field); });
    w.finish();
}

PreparedData readPreparedData(const std::string& path)
{
    Reader r(path);
    char magic[8];
    r.raw(magic, sizeof magic, "the file type");
    if (std::memcmp(magic, kMagic, sizeof magic) != 0)
        throw DataError(path, 0, "", "not a RecLab prepared dataset (expected a .rlprep file written by 'reclab-cli data prepare')");
    const uint64_t len = r.u64("the header");
    if (len > (64u << 20))
        r.damaged("impossible header length");
    std::string text(len, '\0');
    r.raw(text.data(), len, "the header");
    PreparedData p;
    nlohmann::json header;
    SplitAssignment split;
    int version = kVersion;
    try {
        header = nlohmann::json::parse(text);
        version = header.at("version").get<int>();
        if (version < 1 || version > kVersion)
            throw DataError(path, 0, "version", "written by another RecLab version (" + header.at("version").dump() + ")");
        p.dataset.name = header.at("name").get<std::string>();
        p.sourceSpec = header.at("source").get<std::string>();
        p.dataset.report.format = header.at("format").get<std::string>();
        p.sourceFingerprint = header.at("source_fingerprint").get<std::string>();
        p.fingerprint = header.at("fingerprint").get<std::string>();
        p.filters = filtersFrom(header.at("filters"));
        p.summary.before = countsFrom(header.at("before"));
        p.summary.after = countsFrom(header.at("after"));
        split.config = splitFrom(header.at("split"));
    } catch (const nlohmann::json::exception& e) {
        r.damaged(std::string("bad header: ") + e.what());
    }
    Dataset& ds = p.dataset;
    ds.source = path;
    forEachSection(ds, split, version, [&](const char* name, auto& field) { r.get(name, field); });
    r.verifyEnd();

    // The checksum catches damage; these catch a file that was written inconsistently.
    const size_t n = ds.interactions.user.size();
    const auto users = static_cast<int32_t>(ds.userIds.size());
    const auto items = static_cast<int32_t>(ds.itemIds.size());
    if (ds.interactions.item.size() != n || ds.interactions.rating.size() != n || ds.interactions.timestamp.size() != n ||
        split.part.size() != n)
        r.damaged("columns of different lengths");
    for (size_t k = 0; k < n; ++k)
        if (ds.interactions.user[k] < 0 || ds.interactions.user[k] >= users || ds.interactions.item[k] < 0 ||
            ds.interactions.item[k] >= items || split.part[k] > TestPart)
            r.damaged("an index out of range");
    if (ds.reviews.user.size() != ds.reviews.size() || ds.reviews.item.size() != ds.reviews.size())
        r.damaged("review columns of different lengths");
    for (size_t k = 0; k < ds.reviews.size(); ++k)
        if (ds.reviews.user[k] < 0 || ds.reviews.user[k] >= users || ds.reviews.item[k] < 0 || ds.reviews.item[k] >= items)
            r.damaged("a review's user or item out of range");
    for (size_t k = 0; k < n; ++k)
        if (!std::isfinite(ds.interactions.rating[k]))
            r.damaged("a rating that is not a finite number");
    const size_t neg = static_cast<size_t>(std::max(0, split.config.effectiveNegatives()));
    if (split.negatives.size() != split.evalRows.size() * neg)
        r.damaged("negatives of the wrong length");
    for (const uint32_t row : split.evalRows)
        if (row >= n)
            r.damaged("an evaluation row out of range");
    for (const int32_t item : split.negatives)
        if (item < 0 || item >= items)
            r.damaged("a negative item out of range");
    ds.presplit = std::make_shared<const SplitAssignment>(std::move(split));
    if (ds.fingerprint() != p.fingerprint)
        r.damaged("fingerprint mismatch");
    return p;
}

} // namespace reclab
