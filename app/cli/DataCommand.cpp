#include "DataCommand.h"
#include "Commands.h"
#include "CliErrors.h"
#include "OptionChecks.h"
#include "StopSignals.h"

#include "data/DatasetSource.h"
#ifdef RECLAB_HAVE_DOWNLOAD
#include "data/Downloader.h"
#endif
#include "data/FieldParsers.h"
#include "data/PreparedData.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace reclab::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string separatorFrom(const std::string& s)
{
    if (s == "tab" || s == "\\t")
        return "\t";
    if (s == "space")
        return " ";
    return s;
}

} // namespace

LoadOptions loadOptionsFrom(const SourceOptions& o)
{
    LoadOptions l;
    l.format = parseDataFormat(o.format);
    l.delimited.separator = separatorFrom(o.sep);
    if (o.header && o.noHeader)
        throw ConfigError("header", "--header and --no-header contradict each other");
    l.delimited.header = o.header ? 1 : o.noHeader ? 0 : -1;
    if (!o.columns.empty())
        l.delimited.columns = parseColumnRoles(o.columns);
    l.delimited.skipBadRows = o.skipBadRows;
    l.delimited.ids = parseIdKinds(o.ids);
    l.delimited.threads = o.threads;
    l.metaFile = o.meta;
    return l;
}

void addSourceOptions(CLI::App* cmd, SourceOptions& o)
{
    cmd->add_option("source", o.source, "A dataset folder or file, or 'sample'")->required();
    cmd->add_option("--format", o.format, "auto, ml-100k, ml-1m, ml-10m, movielens-csv, recbole, amazon-json, amazon-csv, csv, prepared")
        ->capture_default_str();
    cmd->add_option("--columns", o.columns, "Roles of the file's columns in order, e.g. user,item,rating,timestamp ('-' ignores one)");
    cmd->add_option("--sep", o.sep, "Field separator: ',', tab, '::', ';', '|' or space (default: detected)");
    cmd->add_flag("--header", o.header, "The first line names the columns");
    cmd->add_flag("--no-header", o.noHeader, "The first line is data");
    cmd->add_flag("--skip-bad-rows", o.skipBadRows, "Skip malformed rows and report how many, instead of failing");
    cmd->add_option("--threads", o.threads, "Parser threads (default: one per core, at most 8)")->check(CLI::Range(0, 64));
    cmd->add_option("--ids", o.ids,
                    "User and item ids: auto (a column is numeric when most of its first rows' ids are numbers, and a "
                    "text value in it is then a bad row), numeric or text")
        ->capture_default_str();
    cmd->add_option("--meta", o.meta, "Amazon product metadata (JSON lines) for titles and categories");
}

void printSkipped(const Dataset& ds)
{
    for (const auto& warning : ds.report.warnings)
        std::cerr << "reclab-cli: warning: " << oneLine(warning) << std::endl;
    if (ds.report.skippedRows == 0)
        return;
    std::cerr << "reclab-cli: skipped " << ds.report.skippedRows << " malformed rows";
    if (!ds.report.problems.empty())
        std::cerr << "; first: " << oneLine(ds.report.problems.front());
    std::cerr << std::endl;
}

namespace {

std::optional<int64_t> timeOption(const std::string& value, const char* option)
{
    if (value.empty())
        return std::nullopt;
    int64_t t = 0;
    if (!parseTimestampField(value, t))
        throw ConfigError(option, "expected Unix seconds or a date such as 2003-01-31");
    return t;
}

nlohmann::json countsJson(const DatasetCounts& c)
{
    return {{"users", c.users}, {"items", c.items}, {"interactions", c.interactions}};
}


int runStats(const DataOptions& o)
{
    const auto started = Clock::now();
    const Dataset ds = loadDataset(o.src.source, loadOptionsFrom(o.src));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const DatasetStats s = computeStats(ds);
    printSkipped(ds);
    if (o.json) {
        nlohmann::json j{{"users", s.users},
                         {"items", s.items},
                         {"interactions", s.interactions},
                         {"density", s.density},
                         {"rating_min", s.ratingMin},
                         {"rating_max", s.ratingMax},
                         {"first_timestamp", s.firstTimestamp},
                         {"last_timestamp", s.lastTimestamp},
                         {"load_seconds", seconds},
                         {"format", ds.report.format},
                         {"skipped_rows", ds.report.skippedRows},
                         {"repeated_pair_rows", s.repeatedRows},
                         {"warnings", ds.report.warnings}};
        std::cout << j.dump() << std::endl;
        return 0;
    }
    std::printf("%s (%s)\n", ds.name.c_str(), ds.report.format.c_str());
    std::printf("users         %d\nitems         %d\ninteractions  %zu\ndensity       %.6f\n", s.users, s.items,
                s.interactions, s.density);
    std::printf("ratings       %g to %g\ntime          %lld to %lld\nloaded in     %.3f s\n",
                static_cast<double>(s.ratingMin), static_cast<double>(s.ratingMax),
                static_cast<long long>(s.firstTimestamp), static_cast<long long>(s.lastTimestamp), seconds);
    if (s.repeatedRows > 0)
        std::printf("duplicates    %zu rows repeat a (user, item) pair of an earlier row; ranking protocols need "
                    "--dedup or --keep-duplicates\n",
                    s.repeatedRows);
    return 0;
}

int runPrepare(const DataOptions& o)
{
    if (o.out.empty())
        throw ConfigError("out", "name the prepared file to write, e.g. --out ml-100k.rlprep");
    FilterConfig f;
    f.removeDuplicates = o.dedup;
    if (o.threshold >= 0)
        f.ratingThreshold = static_cast<float>(o.threshold);
    f.userCore = o.userCore ? o.userCore : o.kcore;
    f.itemCore = o.itemCore ? o.itemCore : o.kcore;
    f.timeFrom = timeOption(o.from, "from");
    f.timeTo = timeOption(o.to, "to");
    SplitConfig split = parseSplitSpec(o.split);
    split.seed = static_cast<uint64_t>(o.seed);
    split.negatives = o.negatives;

    const Dataset source = loadDataset(o.src.source, loadOptionsFrom(o.src));
    printSkipped(source);
    const PreparedData p = prepareDataset(source, o.src.source, f, split);
    writePreparedData(p, o.out);
    const SplitAssignment& s = *p.dataset.presplit;
    if (o.json) {
        nlohmann::json j{{"out", o.out},
                         {"fingerprint", p.fingerprint},
                         {"source_fingerprint", p.sourceFingerprint},
                         {"filters", f.describe()},
                         {"split", s.config.describe()},
                         {"before", countsJson(p.summary.before)},
                         {"after", countsJson(p.summary.after)},
                         {"kcore_rounds", p.summary.kcoreRounds},
                         {"train", s.count(TrainPart)},
                         {"valid", s.count(ValidPart)},
                         {"test", s.count(TestPart)},
                         {"negatives", s.config.effectiveNegatives()}};
        std::cout << j.dump() << std::endl;
        return 0;
    }
    std::printf("%s: %s; %s\n", o.out.c_str(), f.describe().c_str(), s.config.describe().c_str());
    std::printf("before  %d users, %d items, %zu interactions\n", p.summary.before.users, p.summary.before.items,
                p.summary.before.interactions);
    std::printf("after   %d users, %d items, %zu interactions\n", p.summary.after.users, p.summary.after.items,
                p.summary.after.interactions);
    std::printf("split   train %zu, valid %zu, test %zu; %d negatives per evaluation row\n", s.count(TrainPart),
                s.count(ValidPart), s.count(TestPart), s.config.effectiveNegatives());
    std::printf("fingerprint %s\n", p.fingerprint.c_str());
    return 0;
}

#ifdef RECLAB_HAVE_DOWNLOAD
std::atomic<bool> downloadCancel{false};

void onDownloadSignal(int)
{
    downloadCancel = true;
}

int runDownload(const DataOptions& o)
{
    if (o.list) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& a : movieLensArchives()) {
            if (o.json)
                list.push_back({{"name", a.name}, {"url", a.url}, {"md5", a.md5}, {"bytes", a.approxBytes},
                                {"description", a.description}});
            else
                std::printf("%-16s %7.1f MB  %s\n", a.name.c_str(), double(a.approxBytes) / 1e6, a.description.c_str());
        }
        if (o.json)
            std::cout << list.dump() << std::endl;
        return 0;
    }
    if (o.name.empty())
        throw ConfigError("name", "name an archive (" + archiveNames() + ") or pass --list");
    if (o.toDir.empty())
        throw ConfigError("to", "name the folder to download into, e.g. --to datasets");
    DownloadRequest request{o.name, o.toDir, o.url, o.md5, o.force, o.keepArchive};
    // Progress goes to a terminal only, so scripts see nothing but the result or one error line.
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    int lastPercent = -1;
    DownloadProgressFn progress = [&](const DownloadProgress& p) {
        if (!tty || p.total == 0)
            return;
        int percent = int(100 * p.done / p.total);
        if (percent == lastPercent && p.stage != DownloadStage::Done)
            return;
        lastPercent = percent;
        std::fprintf(stderr, "\r%-12s %3d%%  %.1f / %.1f MB", downloadStageName(p.stage), percent, double(p.done) / 1e6,
                     double(p.total) / 1e6);
        if (p.stage == DownloadStage::Done)
            std::fprintf(stderr, "\n");
    };
    downloadCancel = false;
    DownloadResult r;
    try {
        const StopSignals signals(onDownloadSignal);
        r = downloadArchive(request, progress, &downloadCancel);
    } catch (...) {
        if (tty && lastPercent >= 0)
            std::fprintf(stderr, "\n");
        throw;
    }
    if (o.json) {
        nlohmann::json j{{"name", o.name},         {"folder", r.datasetDir.string()}, {"url", r.url},
                         {"md5", r.md5},           {"sha256", r.sha256},             {"archive_bytes", r.archiveBytes},
                         {"extracted_bytes", r.extractedBytes}, {"files", r.files},
                         {"already_present", r.alreadyPresent}, {"seconds", r.seconds}};
        std::cout << j.dump() << std::endl;
        return 0;
    }
    if (r.alreadyPresent)
        std::printf("%s: already downloaded and verified (MD5 %s)\n", r.datasetDir.c_str(), r.md5.c_str());
    else
        std::printf("%s: %zu files, %.1f MB from %s in %.1f s (MD5 %s verified)\n", r.datasetDir.c_str(), r.files.size(),
                    double(r.extractedBytes) / 1e6, r.url.c_str(), r.seconds, r.md5.c_str());
    return 0;
}
#else
int runDownload(const DataOptions&)
{
    throw ConfigError("download", "this reclab-cli was built without libcurl, OpenSSL and libzip");
}
#endif

} // namespace

void addDataCommand(CLI::App& app, DataOptions& o)
{
    auto* data = addCommand(app, "data");
    auto* stats = data->add_subcommand("stats", "Load a dataset and print its size, density, rating range and time span");
    addSourceOptions(stats, o.src);
    stats->add_flag("--json", o.json, "Print one JSON object");

    auto* prepare = data->add_subcommand("prepare", "Filter and split a dataset into a prepared file that runs can share");
    addSourceOptions(prepare, o.src);
    prepare->add_option("--threshold", o.threshold, "Keep ratings >= R as implicit feedback")->check(limitOf("threshold"));
    prepare->add_option("--kcore", o.kcore, "Iterative k-core: every user and item keeps at least K interactions")
        ->check(CLI::Range(0, 1000000));
    prepare->add_option("--user-core", o.userCore, "k-core for users only")->check(CLI::Range(0, 1000000));
    prepare->add_option("--item-core", o.itemCore, "k-core for items only")->check(CLI::Range(0, 1000000));
    prepare->add_flag("--dedup", o.dedup, "Keep only the latest interaction of each user-item pair");
    prepare->add_option("--from", o.from, "Keep interactions at or after this time (Unix seconds or YYYY-MM-DD)");
    prepare->add_option("--to", o.to, "Keep interactions before this time");
    prepare->add_option("--split", o.split, "loo, loo:test, ratio:8,1,1, temporal:0.8 or by-user:0.8")->capture_default_str();
    prepare->add_option("--seed", o.seed, "Seed of the split and the negatives")->capture_default_str()->check(seedNumber());
    prepare->add_option("--negatives", o.negatives, "Fixed sampled negatives per evaluation row (default 99 for loo, else 0)")
        ->check(CLI::Range(0, 10000));
    prepare->add_option("--out", o.out, "The prepared file to write (.rlprep)")->required();
    prepare->add_flag("--json", o.json, "Print one JSON object");

    auto* download = data->add_subcommand(
        "download", "Fetch a public MovieLens archive from GroupLens, verify its MD5 digest and extract it safely");
    download->add_option("name", o.name, "ml-100k, ml-1m, ml-10m, ml-20m, ml-25m or ml-latest-small");
    download->add_option("--to", o.toDir, "Folder to put the dataset folder in");
    download->add_option("--url", o.url, "Fetch from this mirror or local copy (http, https or file URL) instead");
    download->add_option("--md5", o.md5, "Expected MD5 digest, replacing the catalogue's");
    download->add_flag("--force", o.force, "Replace an existing dataset folder");
    download->add_flag("--keep-archive", o.keepArchive, "Keep the .zip next to the extracted folder");
    download->add_flag("--list", o.list, "List the archives and exit");
    download->add_flag("--json", o.json, "Print one JSON object");
    addTextCommands(data, o);
    download->footer("Exit codes: 0 done, 1 download failed (network, HTTP status, checksum, unsafe archive, disk), 2 bad option, "
                     "130 cancelled.");
}

int runData(CLI::App& data, const DataOptions& o)
{
    try {
        if (data.got_subcommand("stats"))
            return runStats(o);
        if (data.got_subcommand("prepare"))
            return runPrepare(o);
        if (data.got_subcommand("download"))
            return runDownload(o);
        if (data.got_subcommand("text"))
            return runText(o);
        if (data.got_subcommand("words"))
            return runWords(o);
        if (data.got_subcommand("cold"))
            return runCold(o);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    return 2;
}

} // namespace reclab::cli
