// The parts of the delimited loader that its files share (private to core/data): the file read
// with pread and its first 64 KiB, format detection from them, the byte ranges parsed in
// parallel with their id dictionaries, and the mapping of raw ids to dense indices.
#pragma once

#include "data/DelimitedLoader.h"
#include "util/Files.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace reclab::delimited {

// ---- the file and format detection (DelimitedFormat.cpp) ---------------------------------

// An open regular file read with pread (a FIFO or device is refused: util/Files.h).
class InputFile : public ReadableFile {
public:
    using ReadableFile::ReadableFile;
    std::string head(size_t n) const
    {
        std::string s(std::min(n, size()), '\0');
        s.resize(read(s.data(), s.size(), 0));
        return s;
    }
};

// The first 64 KiB of a file without its BOM: all that format detection and previews read.
struct FileHead {
    std::string text;
    size_t bom = 0;        // bytes of BOM skipped
    bool complete = false; // the whole file fits
    explicit FileHead(const InputFile& file) : text(file.head(1 << 16))
    {
        if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) {
            text.erase(0, 3);
            bom = 3;
        }
        complete = file.size() <= text.size() + bom;
    }
};

std::string printable(std::string_view s);
std::string separatorName(const std::string& sep);
// Splits a line into fields without unquoting (for sniffing and quick counts).
size_t countFields(std::string_view line, std::string_view sep);
// The non-blank lines among the first maxLines of head (a partial last line left out unless complete).
std::vector<std::string_view> headLines(std::string_view head, size_t maxLines, bool complete);
bool isNumber(std::string_view s);
enum class QuoteScan { Ok, Unclosed, TextAfter };
// Reads the quoted field whose opening quote is at p (the line ends at e) into out ("" is a
// literal quote); next is where the field ends: at the separator after the closing quote, or e.
QuoteScan scanQuoted(const char* p, const char* e, std::string_view sep, std::string& out, const char*& next);
ResolvedFormat resolveFromHead(const std::string& path, const FileHead& head, const DelimitedFormat& format);

// ---- parsing byte ranges (DelimitedParser.cpp, its scanners in FieldScan.h; the ranges, their
// line counts and the id mapping in DelimitedRanges.cpp) --------------------------------------

// Interned string ids of one byte range: the text of each id lives in an arena so the map can
// key on views.
struct StringDictionary {
    std::unordered_map<std::string_view, int32_t> index;
    std::vector<std::string_view> names;
    std::vector<std::unique_ptr<char[]>> blocks;
    size_t used = 0, capacity = 0;

    int32_t intern(std::string_view s)
    {
        const auto it = index.find(s);
        if (it != index.end())
            return it->second;
        if (used + s.size() > capacity) {
            capacity = std::max<size_t>(1 << 16, s.size());
            blocks.emplace_back(new char[capacity]);
            used = 0;
        }
        char* p = blocks.back().get() + used;
        std::memcpy(p, s.data(), s.size());
        used += s.size();
        const std::string_view stored(p, s.size());
        const auto id = static_cast<int32_t>(names.size());
        names.push_back(stored);
        index.emplace(stored, id);
        return id;
    }
};

// Aligned to cache lines: each parsing thread updates its range's counters for every row, and
// a line shared with the next range's fields (read by another thread per row) costs more than
// the parse.
struct alignas(64) Range {
    size_t begin = 0, end = 0;
    long firstLine = 1;    // file line number of the range's first line
    size_t newlines = 0;   // from the counting pass
    size_t firstRow = 0;   // where its rows go in the columns
    size_t rows = 0;       // rows kept
    size_t rowLimit = 0;   // the room in the columns: its lines, counted (or estimated: the last)
    bool overflow = false; // a row found no room: more lines than counted or estimated
    size_t skipped = 0;
    std::vector<std::string> problems;
    long errorLine = 0;
    std::string errorField, errorProblem;
    StringDictionary dict[2]; // user, item (string-id mode)
    // Numeric ids: seen[role][id] = 1 for every id of the range's rows, marked while parsing (an
    // id beyond kSeenLimit leaves the marks to the mapping pass: seenAll false).
    std::vector<uint8_t> seen[2];
    bool seenAll[2] = {true, true};
};
constexpr size_t kSeenLimit = size_t{1} << 24;

enum class IdMode { Numeric, Text };

struct ParseJob {
    const std::string* path;
    const InputFile* file;
    const ResolvedFormat* resolved;
    IdMode mode[2];
    InteractionTable* out;
    std::atomic<size_t> firstErrorRange{SIZE_MAX};
    bool scaled = false;                  // the format has a rating scale (DelimitedFormat::ratingMin..ratingMax)
    int fieldIndex[4] = {-1, -1, -1, -1}; // user, item, rating, timestamp
    int maxField = 0;
};

// Parses one range's rows into the job's columns (the rows, problems and dictionaries land in range).
void parseRange(ParseJob& job, Range& range, size_t index);

// The file's data part cut at line ends into up to `threads` ranges (one below 8 MiB).
std::vector<Range> splitRanges(const InputFile& file, size_t dataStart, int threads);
size_t countNewlines(const InputFile& file, size_t begin, size_t end);
// Range::newlines of the first `counted` ranges, on up to `threads` threads however many they are.
void countNewlines(const InputFile& file, std::vector<Range>& ranges, size_t counted, int threads);
// The newlines of [begin, end) extrapolated from 64 samples of 4 KiB spread over it (counted
// when it is not much larger).
size_t estimateNewlines(const InputFile& file, size_t begin, size_t end);
// The block a range is read in: small enough to stay in a core's cache between the read and the
// scan that follows it.
constexpr size_t kReadBlock = size_t{1} << 20;
// fn on every range, each on its own thread when there are several; the first exception is rethrown.
template <typename T, typename Fn> void forEachRange(std::vector<T>& ranges, Fn&& fn)
{
    if (ranges.size() == 1) {
        fn(ranges[0]);
        return;
    }
    std::vector<std::thread> workers;
    std::exception_ptr failure;
    std::mutex m;
    for (auto& r : ranges)
        workers.emplace_back([&, rp = &r] {
            try {
                fn(*rp);
            } catch (...) {
                std::lock_guard<std::mutex> lock(m);
                if (!failure)
                    failure = std::current_exception();
            }
        });
    for (auto& w : workers)
        w.join();
    if (failure)
        std::rethrow_exception(failure);
}

// Numeric ids: dense indices in ascending id order.
// ranges: their seen marks, when every range has them all, spare a pass over the column.
void mapNumericIds(Column<int32_t>& column, std::vector<std::string>& names, const std::vector<Range>& ranges,
                   int role);
// Text ids: per-range dictionaries merged in file order (first appearance decides the index).
void mapTextIds(std::vector<Range>& ranges, int role, Column<int32_t>& column, std::vector<std::string>& names);

} // namespace reclab::delimited
