#include "data/DelimitedLoader.h"

#include "data/DelimitedParts.h"
#include "util/Clock.h"

#include "data/FieldParsers.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TextFile.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace reclab {

namespace {

using namespace delimited;
using Clock = SteadyClock;

// The data lines among the head's first lines, split into fields (the header left out).
std::vector<std::vector<std::string>> headRows(const FileHead& head, const ResolvedFormat& resolved, size_t maxLines)
{
    std::vector<std::vector<std::string>> rows;
    const auto lines = headLines(head.text, maxLines + 1, head.complete);
    for (size_t k = resolved.format.header == 1 ? 1 : 0; k < lines.size(); ++k) {
        std::vector<std::string> fields;
        if (splitQuotedRecord(lines[k], resolved.format.separator, fields))
            rows.push_back(std::move(fields));
    }
    return rows;
}

// Each id column's kind, for the whole column: numeric when most ids of the head's data rows are
// (a stray text value among numbers is then a bad row, not a new id), text otherwise; or as
// asked for.
void decideIdModes(const FileHead& head, const ResolvedFormat& resolved, ParseJob& job)
{
    const IdKinds kinds = resolved.format.ids;
    for (int role = 0; role < 2; ++role)
        job.mode[role] = kinds == IdKinds::Text ? IdMode::Text : IdMode::Numeric;
    if (kinds != IdKinds::Detect)
        return;
    size_t numeric[2] = {0, 0}, text[2] = {0, 0};
    for (const auto& row : headRows(head, resolved, 1000))
        for (int role = 0; role < 2; ++role) {
            const int col = job.fieldIndex[role];
            if (col < 0 || static_cast<size_t>(col) >= row.size())
                continue;
            std::string_view v = row[static_cast<size_t>(col)];
            while (!v.empty() && v.front() == ' ')
                v.remove_prefix(1);
            while (!v.empty() && v.back() == ' ')
                v.remove_suffix(1);
            int32_t small = 0;
            if (!v.empty())
                ++(classifyId(v, small) == IdKind::Text ? text : numeric)[role];
        }
    for (int role = 0; role < 2; ++role)
        if (text[role] >= numeric[role] && text[role] > 0)
            job.mode[role] = IdMode::Text;
}

bool lastLineLooksCut(const InputFile& file, const FileHead& head, const ResolvedFormat& resolved)
{
    const size_t size = file.size();
    if (size == 0)
        return false;
    const size_t tailBytes = std::min<size_t>(size, 1 << 16);
    std::string tail(tailBytes, '\0');
    tail.resize(file.read(tail.data(), tailBytes, size - tailBytes));
    if (tail.empty() || tail.back() == '\n')
        return false;
    const size_t nl = tail.rfind('\n');
    if (nl == std::string::npos && tailBytes < size)
        return false; // a last line longer than 64 KiB is not a cut row
    std::string_view last = std::string_view(tail).substr(nl == std::string::npos ? 0 : nl + 1);
    if (!last.empty() && last.back() == '\r')
        last.remove_suffix(1);
    const auto lines = headLines(head.text, 1001, head.complete);
    size_t shortest = SIZE_MAX, counted = 0;
    for (size_t k = resolved.format.header == 1 ? 1 : 0; k < lines.size(); ++k) {
        if (lines[k].data() + lines[k].size() >= head.text.data() + head.text.size())
            break; // the last line itself, when the head holds the whole file
        shortest = std::min(shortest, lines[k].size());
        ++counted;
    }
    return counted > 0 && last.size() < shortest;
}

} // namespace

Dataset loadDelimited(const std::string& path, const DelimitedFormat& format)
{
    const auto started = Clock::now();
    const InputFile file(path);
    const FileHead head(file);
    const ResolvedFormat resolved = resolveFromHead(path, head, format);

    // Where the data starts: after a BOM and the header line.
    size_t dataStart = head.bom;
    long headerLines = 0;
    if (resolved.format.header == 1) {
        // The header is the first non-blank line.
        size_t pos = 0;
        while (true) {
            const size_t nl = head.text.find('\n', pos);
            const std::string_view line =
                std::string_view(head.text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
            ++headerLines;
            pos = nl == std::string::npos ? head.text.size() : nl + 1;
            if (line.find_first_not_of(" \t\r") != std::string_view::npos || nl == std::string::npos)
                break;
        }
        dataStart = std::min(head.bom + pos, file.size());
    }

    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const int threads = format.threads > 0 ? format.threads : static_cast<int>(std::min(hw, 8u));
    std::vector<Range> ranges = splitRanges(file, dataStart, threads);
    const bool trace = std::getenv("RECLAB_LOAD_TRACE") != nullptr;
    auto phase = [&, last = started](const char* what) mutable {
        if (trace) {
            const auto now = Clock::now();
            std::fprintf(stderr, "load %-10s %.3f s\n", what, std::chrono::duration<double>(now - last).count());
            last = now;
        }
    };
    phase("resolve");

    ParseJob job;
    job.path = &path;
    job.file = &file;
    job.resolved = &resolved;
    for (size_t c = 0; c < resolved.format.columns.size(); ++c) {
        const ColumnRole role = resolved.format.columns[c];
        if (role != ColumnRole::Ignore) {
            job.fieldIndex[static_cast<int>(role) - 1] = static_cast<int>(c);
            job.maxField = std::max(job.maxField, static_cast<int>(c));
        }
    }
    decideIdModes(head, resolved, job);
    job.scaled = resolved.format.ratingMax >= resolved.format.ratingMin;

    // Where each range's rows go: after the lines of the ranges before it. Those are counted (on
    // every thread); the last range's room is estimated from samples with some slack, which
    // spares reading half the file once more, and in the rare file whose last range outgrows
    // the estimate the parse starts over with it counted too.
    Dataset ds;
    InteractionTable& table = ds.interactions;
    long line = 0; // of the file's last line
    bool estimated = ranges.size() > 1;
    while (true) {
        countNewlines(file, ranges, ranges.size() - (estimated ? 1 : 0), threads);
        if (estimated) {
            Range& last = ranges.back();
            size_t guess = estimateNewlines(file, last.begin, last.end);
            // RECLAB_LOAD_ESTIMATE_SCALE scales the guess: tests take the path where it falls short.
            if (const char* scale = std::getenv("RECLAB_LOAD_ESTIMATE_SCALE"))
                guess = static_cast<size_t>(static_cast<double>(guess) * std::atof(scale));
            last.newlines = guess + guess / 16 + (guess > 0 ? 4096 : 0);
        }
        phase("count");
        size_t capacity = 0;
        line = 1 + headerLines;
        for (auto& r : ranges) {
            r.firstRow = capacity;
            r.firstLine = line;
            // Ranges are cut after newlines: only the last can end in a line without one. (A
            // slack row in every range would leave a gap that the later ranges' rows move down
            // to close.)
            r.rowLimit = r.newlines + (&r == &ranges.back() ? 1 : 0);
            capacity += r.rowLimit;
            line += static_cast<long>(r.newlines);
        }
        table.user.resize(capacity);
        table.item.resize(capacity);
        table.rating.resize(capacity);
        table.timestamp.resize(capacity);
        job.out = &table;
        job.firstErrorRange.store(SIZE_MAX);
        forEachRange(ranges, [&](Range& r) {
            const auto mine = static_cast<size_t>(&r - ranges.data());
            parseRange(job, r, mine);
            if (r.errorLine > 0 || r.overflow) {
                size_t current = job.firstErrorRange.load();
                while (mine < current && !job.firstErrorRange.compare_exchange_weak(current, mine)) {
                }
            }
        });
        phase("parse");
        const auto stopped =
            std::find_if(ranges.begin(), ranges.end(), [](const Range& r) { return r.errorLine > 0 || r.overflow; });
        if (stopped == ranges.end() || !stopped->overflow)
            break;
        if (!estimated || &*stopped != &ranges.back())
            throw DataError(path, 0, "",
                            "the file changed while it was read: it has more lines than when they were counted");
        estimated = false;
        ranges = splitRanges(file, dataStart, threads);
        ds = Dataset();
    }

    // A last line without a line ending that is shorter than the file's first lines: the file
    // may have been cut mid-row.
    const bool truncated = lastLineLooksCut(file, head, resolved);
    if (truncated && estimated) { // the last line's number, from the estimate's true count
        Range& last = ranges.back();
        line = last.firstLine + static_cast<long>(countNewlines(file, last.begin, last.end));
    }
    const std::string cutNote = "; the last line has no line ending: the file may be truncated";
    for (const auto& r : ranges)
        if (r.errorLine > 0)
            throw DataError(path, r.errorLine, r.errorField,
                            r.errorProblem + (truncated && r.errorLine == line ? cutNote : std::string()));
    if (truncated)
        ds.report.warnings.push_back(DataError(path, line, "",
                                               "the last line has no line ending and is shorter than the "
                                               "file's first lines; the file may be truncated")
                                         .what());

    // Close the gaps left by blank lines, skipped rows and the counting slack.
    size_t rows = 0;
    for (auto& r : ranges) {
        if (r.firstRow != rows) {
            std::memmove(&table.user[rows], &table.user[r.firstRow], r.rows * sizeof(int32_t));
            std::memmove(&table.item[rows], &table.item[r.firstRow], r.rows * sizeof(int32_t));
            std::memmove(&table.rating[rows], &table.rating[r.firstRow], r.rows * sizeof(float));
            std::memmove(&table.timestamp[rows], &table.timestamp[r.firstRow], r.rows * sizeof(int64_t));
            r.firstRow = rows;
        }
        rows += r.rows;
        ds.report.skippedRows += r.skipped;
        for (auto& p : r.problems)
            if (ds.report.problems.size() < 5)
                ds.report.problems.push_back(std::move(p));
    }
    table.user.resize(rows);
    table.item.resize(rows);
    table.rating.resize(rows);
    table.timestamp.resize(rows);
    if (rows == 0) {
        if (ds.report.skippedRows > 0)
            throw DataError(path, 0, "",
                            "no valid rows: all " + std::to_string(ds.report.skippedRows) +
                                " were malformed; the first: " + ds.report.problems.front());
        throw DataError(path, 0, "",
                        resolved.format.header == 1 ? "the file has a header line but no data rows"
                                                    : "the file holds no interactions");
    }

    std::thread userMap([&] {
        if (job.mode[0] == IdMode::Numeric)
            mapNumericIds(table.user, ds.userIds, ranges, 0);
        else
            mapTextIds(ranges, 0, table.user, ds.userIds);
    });
    if (job.mode[1] == IdMode::Numeric)
        mapNumericIds(table.item, ds.itemIds, ranges, 1);
    else
        mapTextIds(ranges, 1, table.item, ds.itemIds);
    userMap.join();
    phase("ids");

    ds.name = path;
    const size_t slash = ds.name.find_last_of('/');
    if (slash != std::string::npos)
        ds.name = ds.name.substr(slash + 1);
    ds.source = path;
    ds.report.format = "delimited";
    ds.report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return ds;
}

} // namespace reclab
