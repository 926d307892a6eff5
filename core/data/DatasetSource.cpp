#include "data/DatasetSource.h"

#include "data/FormatLoaders.h"
#include "data/MovieLens100kLoader.h"
#include "data/PreparedData.h"
#include "data/SampleGenerator.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TextFile.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

namespace fs = std::filesystem;

namespace reclab {

namespace {

struct FormatName {
    DataFormat format;
    const char* name;
};
const FormatName kFormatNames[] = {
    {DataFormat::Auto, "auto"},           {DataFormat::Sample, "sample"},
    {DataFormat::MovieLens100k, "ml-100k"}, {DataFormat::MovieLensDat, "ml-1m"},
    {DataFormat::MovieLensDat, "ml-10m"}, {DataFormat::MovieLensCsv, "movielens-csv"},
    {DataFormat::MovieLensCsv, "ml-20m"}, {DataFormat::MovieLensCsv, "ml-25m"},
    {DataFormat::MovieLensCsv, "ml-latest"}, {DataFormat::RecBole, "recbole"},
    {DataFormat::AmazonJson, "amazon-json"}, {DataFormat::AmazonCsv, "amazon-csv"},
    {DataFormat::Delimited, "csv"},       {DataFormat::Prepared, "prepared"},
};

// Whether a format's main file is in a folder; one that is there but is not a regular file (a
// FIFO, a folder) is refused naming it.
bool isFile(const fs::path& p)
{
    std::error_code ec;
    if (!fs::exists(p, ec))
        return false;
    requireRegularFile(p.string());
    return true;
}

char firstNonSpace(const std::string& path)
{
    const ReadableFile file(path);
    char buf[256] = {};
    const auto n = static_cast<std::streamsize>(file.read(buf, sizeof buf, 0));
    std::streamsize k = 0;
    if (n >= 3 && buf[0] == '\xEF' && buf[1] == '\xBB' && buf[2] == '\xBF')
        k = 3;
    for (; k < n; ++k)
        if (buf[k] != ' ' && buf[k] != '\t' && buf[k] != '\r' && buf[k] != '\n')
            return buf[k];
    return 0;
}

// The one file in dir whose name ends with ext (and does not start with skipPrefix), or "".
std::string singleFileWith(const fs::path& dir, const std::string& ext, const std::string& skipPrefix = "")
{
    std::string found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || name.size() < ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
            continue;
        if (!skipPrefix.empty() && name.rfind(skipPrefix, 0) == 0)
            continue;
        if (!found.empty())
            return "";
        found = entry.path().string();
    }
    return found;
}

// A product metadata file (meta_*.json) beside the reviews, or "".
std::string amazonMetaBeside(const fs::path& file)
{
    const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && name.rfind("meta_", 0) == 0)
            return entry.path().string();
    }
    return "";
}

// Where a folder's interactions are, for the folder formats.
std::string folderFile(const fs::path& dir, DataFormat format)
{
    switch (format) {
    case DataFormat::MovieLens100k: return (dir / "u.data").string();
    case DataFormat::MovieLensDat: return (dir / "ratings.dat").string();
    case DataFormat::MovieLensCsv: return (dir / "ratings.csv").string();
    case DataFormat::RecBole: return singleFileWith(dir, ".inter");
    case DataFormat::AmazonJson: {
        std::string f = singleFileWith(dir, ".json", "meta_");
        return f.empty() ? singleFileWith(dir, ".jsonl", "meta_") : f;
    }
    default: return "";
    }
}

} // namespace

DataFormat parseDataFormat(const std::string& name)
{
    for (const auto& f : kFormatNames)
        if (name == f.name)
            return f.format;
    std::string all;
    for (const auto& n : dataFormatNames())
        all += (all.empty() ? "" : ", ") + n;
    throw ConfigError("format", "unknown format '" + name + "'; expected one of " + all);
}

const char* dataFormatName(DataFormat format)
{
    for (const auto& f : kFormatNames)
        if (f.format == format)
            return f.name;
    return "auto";
}

std::vector<std::string> dataFormatNames()
{
    std::vector<std::string> out;
    for (const auto& f : kFormatNames)
        out.emplace_back(f.name);
    return out;
}

DataFormat detectDataFormat(const std::string& spec)
{
    if (spec == "sample" || spec.rfind("sample:", 0) == 0)
        return DataFormat::Sample;
    const fs::path path(spec);
    struct stat st {};
    if (::stat(spec.c_str(), &st) != 0)
        requireRegularFile(spec); // names why: missing, a loop of links, no permission
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        requireRegularFile(spec); // a FIFO or a device is refused, never read
    if (S_ISDIR(st.st_mode)) {
        if (isFile(path / "u.data"))
            return DataFormat::MovieLens100k;
        if (isFile(path / "ratings.dat"))
            return DataFormat::MovieLensDat;
        if (isFile(path / "ratings.csv"))
            return DataFormat::MovieLensCsv;
        if (!singleFileWith(path, ".inter").empty())
            return DataFormat::RecBole;
        if (!folderFile(path, DataFormat::AmazonJson).empty())
            return DataFormat::AmazonJson;
        throw DataError(spec, 0, "",
                        "no supported dataset in this folder; expected MovieLens files (u.data, ratings.dat or "
                        "ratings.csv), one RecBole .inter file or one Amazon .json reviews file");
    }
    const std::string name = path.filename().string();
    const std::string ext = path.extension().string();
    if (ext == ".rlprep")
        return DataFormat::Prepared;
    if (ext == ".inter")
        return DataFormat::RecBole;
    if (name == "u.data")
        return DataFormat::MovieLens100k;
    if (name == "ratings.dat")
        return DataFormat::MovieLensDat;
    if (name == "ratings.csv" && isFile(path.parent_path() / "movies.csv"))
        return DataFormat::MovieLensCsv;
    if (firstNonSpace(spec) == '{')
        return DataFormat::AmazonJson;
    // Amazon's ratings_<Category>.csv have no header; a file of that name with one is a CSV of
    // its own (the content decides, the name only breaks ties).
    if (name.rfind("ratings_", 0) == 0 && ext == ".csv")
        return resolveDelimitedFormat(spec, {}).format.header == 1 ? DataFormat::Delimited : DataFormat::AmazonCsv;
    return DataFormat::Delimited;
}

Dataset loadDataset(const std::string& spec, const LoadOptions& options)
{
    const DataFormat format = options.format == DataFormat::Auto ? detectDataFormat(spec) : options.format;
    if (format == DataFormat::Sample) {
        SampleConfig config;
        if (spec.size() > 7 && spec.rfind("sample:", 0) == 0) {
            long long seed = 0;
            if (!parseInt64(std::string_view(spec).substr(7), seed) || seed < 0)
                throw DataError(spec, 0, "seed", "expected sample:SEED with a non-negative integer seed");
            config.seed = static_cast<uint64_t>(seed);
        }
        Dataset ds = generateSampleDataset(config);
        ds.report.format = "sample";
        return ds;
    }
    std::error_code ec;
    const fs::path path(spec);
    struct stat st {};
    if (::stat(spec.c_str(), &st) != 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
        requireRegularFile(spec); // missing, a FIFO, a device: refused naming what it is
    const bool folder = S_ISDIR(st.st_mode);
    // The folder formats accept their main file too (u.data, ratings.dat, ratings.csv).
    const fs::path dir = folder ? path : (path.parent_path().empty() ? fs::path(".") : path.parent_path());
    std::string file = folder ? folderFile(path, format) : spec;
    if (folder && file.empty() && format != DataFormat::MovieLens100k)
        throw DataError(spec, 0, "", std::string("no ") + dataFormatName(format) + " data file in this folder");
    const auto started = std::chrono::steady_clock::now();
    Dataset ds;
    switch (format) {
    case DataFormat::MovieLens100k:
        ds = loadMovieLens100k(dir.string());
        ds.report.format = "ml-100k";
        break;
    case DataFormat::MovieLensDat: ds = loadMovieLensDat(dir.string(), options.delimited); break;
    case DataFormat::MovieLensCsv: ds = loadMovieLensCsv(dir.string(), options.delimited); break;
    case DataFormat::RecBole: ds = loadRecBoleAtomic(file, options.delimited); break;
    case DataFormat::AmazonJson:
        ds = loadAmazonJson(file, options.metaFile.empty() ? amazonMetaBeside(file) : options.metaFile,
                            options.delimited.skipBadRows);
        break;
    case DataFormat::AmazonCsv: ds = loadAmazonRatingsCsv(file, options.delimited); break;
    case DataFormat::Prepared: ds = readPreparedData(file).dataset; break;
    case DataFormat::Delimited:
        if (folder)
            throw DataError(spec, 0, "", "a delimited file is needed here, not a folder");
        ds = loadDelimited(file, options.delimited);
        break;
    case DataFormat::Auto:
    case DataFormat::Sample: break;
    }
    ds.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return ds;
}

} // namespace reclab
