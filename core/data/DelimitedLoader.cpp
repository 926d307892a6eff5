#include "data/DelimitedLoader.h"

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
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace reclab {

const char* columnRoleName(ColumnRole role)
{
    switch (role) {
    case ColumnRole::User: return "user";
    case ColumnRole::Item: return "item";
    case ColumnRole::Rating: return "rating";
    case ColumnRole::Timestamp: return "timestamp";
    case ColumnRole::Ignore: break;
    }
    return "-";
}

std::vector<ColumnRole> parseColumnRoles(const std::string& spec)
{
    std::vector<ColumnRole> roles;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t end = spec.find(',', start);
        if (end == std::string::npos)
            end = spec.size();
        const std::string name = spec.substr(start, end - start);
        if (name == "user")
            roles.push_back(ColumnRole::User);
        else if (name == "item")
            roles.push_back(ColumnRole::Item);
        else if (name == "rating")
            roles.push_back(ColumnRole::Rating);
        else if (name == "timestamp")
            roles.push_back(ColumnRole::Timestamp);
        else if (name == "-" || name == "skip" || name.empty())
            roles.push_back(ColumnRole::Ignore);
        else
            throw ConfigError("columns", "unknown column '" + name +
                                             "'; expected user, item, rating, timestamp or - (ignore)");
        start = end + 1;
    }
    for (ColumnRole r : {ColumnRole::User, ColumnRole::Item, ColumnRole::Rating, ColumnRole::Timestamp})
        if (std::count(roles.begin(), roles.end(), r) > 1)
            throw ConfigError("columns", std::string("'") + columnRoleName(r) + "' is named twice");
    if (std::count(roles.begin(), roles.end(), ColumnRole::User) != 1 ||
        std::count(roles.begin(), roles.end(), ColumnRole::Item) != 1)
        throw ConfigError("columns", "a user and an item column are required, e.g. user,item,rating,timestamp");
    return roles;
}

IdKinds parseIdKinds(const std::string& name)
{
    if (name == "auto")
        return IdKinds::Detect;
    if (name == "numeric")
        return IdKinds::Numeric;
    if (name == "text")
        return IdKinds::Text;
    throw ConfigError("ids", "expected auto, numeric or text, got '" + name + "'");
}

namespace {

using Clock = std::chrono::steady_clock;

std::string printable(std::string_view s)
{
    return escapedText(s.substr(0, 40)) + (s.size() > 40 ? "..." : "");
}

std::string separatorName(const std::string& sep)
{
    if (sep == "\t")
        return "tab";
    if (sep == " ")
        return "space";
    return "'" + sep + "'";
}

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

// Splits a line into fields without unquoting (for sniffing and quick counts).
size_t countFields(std::string_view line, std::string_view sep)
{
    std::vector<std::string> fields;
    if (!splitQuotedRecord(line, sep, fields))
        return 0;
    return fields.size();
}

std::vector<std::string_view> headLines(std::string_view head, size_t maxLines, bool complete)
{
    std::vector<std::string_view> lines;
    while (!head.empty() && lines.size() < maxLines) {
        const size_t end = head.find('\n');
        if (end == std::string_view::npos && !complete)
            break; // a partial last line of a longer file
        std::string_view line = head.substr(0, end);
        head = end == std::string_view::npos ? std::string_view() : head.substr(end + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            lines.push_back(line);
    }
    return lines;
}

std::string normalisedName(std::string name)
{
    const size_t colon = name.find(':');
    if (colon != std::string::npos)
        name.resize(colon); // RecBole's "user_id:token"
    std::string out;
    for (const char c : name)
        if (c != '"' && c != ' ' && c != '_' && c != '-')
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

ColumnRole roleFromName(const std::string& header)
{
    static const std::pair<const char*, ColumnRole> kNames[] = {
        {"user", ColumnRole::User},          {"userid", ColumnRole::User},
        {"uid", ColumnRole::User},           {"reviewerid", ColumnRole::User},
        {"customerid", ColumnRole::User},    {"visitorid", ColumnRole::User},
        {"item", ColumnRole::Item},          {"itemid", ColumnRole::Item},
        {"movieid", ColumnRole::Item},       {"iid", ColumnRole::Item},
        {"asin", ColumnRole::Item},          {"productid", ColumnRole::Item},
        {"isbn", ColumnRole::Item},          {"bookid", ColumnRole::Item},
        {"rating", ColumnRole::Rating},      {"overall", ColumnRole::Rating},
        {"score", ColumnRole::Rating},       {"stars", ColumnRole::Rating},
        {"label", ColumnRole::Rating},       {"starrating", ColumnRole::Rating},
        {"bookrating", ColumnRole::Rating},  {"timestamp", ColumnRole::Timestamp},
        {"time", ColumnRole::Timestamp},     {"ts", ColumnRole::Timestamp},
        {"unixreviewtime", ColumnRole::Timestamp}, {"date", ColumnRole::Timestamp},
        {"datetime", ColumnRole::Timestamp}, {"createdat", ColumnRole::Timestamp},
    };
    const std::string n = normalisedName(header);
    for (const auto& [name, role] : kNames)
        if (n == name)
            return role;
    return ColumnRole::Ignore;
}

bool isNumber(std::string_view s)
{
    double v = 0;
    return parseNumberField(s, v);
}

void rejectNonText(const std::string& path, std::string_view head)
{
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
        throw DataError(path, 1, "", "the file is gzip-compressed; decompress it first (gunzip), then load the text file");
    if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04") == 0)
        throw DataError(path, 1, "", "the file is a zip archive; extract it and load the folder or file inside");
    const size_t nul = head.find('\0');
    if (nul != std::string_view::npos) {
        const long line = 1 + static_cast<long>(std::count(head.begin(), head.begin() + static_cast<long>(nul), '\n'));
        throw DataError(path, line, "", "binary data (a NUL byte); expected delimited text with one interaction per line");
    }
}

} // namespace

namespace {

enum class QuoteScan { Ok, Unclosed, TextAfter };

// Reads the quoted field whose opening quote is at p (the line ends at e) into out ("" is a
// literal quote); next is where the field ends: at the separator after the closing quote, or e.
QuoteScan scanQuoted(const char* p, const char* e, std::string_view sep, std::string& out, const char*& next)
{
    out.clear();
    const char* k = p + 1;
    while (true) {
        if (k >= e)
            return QuoteScan::Unclosed;
        if (*k == '"') {
            if (k + 1 < e && k[1] == '"') {
                out.push_back('"');
                k += 2;
                continue;
            }
            ++k;
            break;
        }
        out.push_back(*k++);
    }
    next = k;
    if (k < e && !(static_cast<size_t>(e - k) >= sep.size() && std::memcmp(k, sep.data(), sep.size()) == 0))
        return QuoteScan::TextAfter;
    return QuoteScan::Ok;
}

} // namespace

bool splitQuotedRecord(std::string_view line, std::string_view sep, std::vector<std::string>& out)
{
    out.clear();
    const char* const e = line.data() + line.size();
    size_t pos = 0;
    while (true) {
        if (pos < line.size() && line[pos] == '"') {
            std::string field;
            const char* next = nullptr;
            if (scanQuoted(line.data() + pos, e, sep, field, next) != QuoteScan::Ok)
                return false;
            out.push_back(std::move(field));
            if (next >= e)
                return true;
            pos = static_cast<size_t>(next - line.data()) + sep.size();
            continue;
        }
        const size_t end = sep == " " ? line.find_first_of(" \t", pos) : line.find(sep, pos);
        if (end == std::string_view::npos) {
            out.emplace_back(line.substr(pos));
            return true;
        }
        out.emplace_back(line.substr(pos, end - pos));
        pos = end + sep.size();
        if (sep == " ")
            while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
                ++pos;
    }
}

namespace {

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

ResolvedFormat resolveFromHead(const std::string& path, const FileHead& head, const DelimitedFormat& format)
{
    if (head.text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw DataError(path, 0, "", "the file is empty; expected one interaction per line (user, item, rating, timestamp)");
    rejectNonText(path, head.text);
    const auto lines = headLines(head.text, 30, head.complete);
    if (lines.empty())
        throw DataError(path, 1, "", "the first line is longer than 64 KiB; expected delimited text");

    ResolvedFormat r;
    r.format = format;
    DelimitedFormat& f = r.format;
    if (f.separator.empty()) {
        static const char* const kCandidates[] = {"::", "\t", ",", ";", "|", " "};
        size_t bestScore = 0;
        for (const char* sep : kCandidates) {
            const size_t first = countFields(lines[0], sep);
            if (first < 2)
                continue;
            size_t score = 0;
            for (const auto& line : lines)
                score += countFields(line, sep) == first ? 1 : 0;
            if (score > bestScore) {
                bestScore = score;
                f.separator = sep;
            }
        }
        if (f.separator.empty())
            throw DataError(path, 1, "", "no separator found; expected fields separated by ',', tab, '::', ';', '|' or space");
    }
    std::vector<std::string> first;
    if (!splitQuotedRecord(lines[0], f.separator, first))
        throw DataError(path, 1, "", "a quoted field has no closing quote");
    r.fieldCount = first.size();
    if (f.header < 0) {
        bool named = false;
        for (const auto& name : first)
            named = named || roleFromName(name) != ColumnRole::Ignore;
        bool anyNumber = false;
        for (const auto& v : first)
            anyNumber = anyNumber || isNumber(v);
        f.header = named || (!anyNumber && lines.size() > 1) ? 1 : 0;
    }
    if (f.header == 1)
        r.headerNames = first;
    if (f.columns.empty()) {
        if (f.header == 1) {
            f.columns.assign(first.size(), ColumnRole::Ignore);
            for (size_t c = 0; c < first.size(); ++c) {
                const ColumnRole role = roleFromName(first[c]);
                if (role != ColumnRole::Ignore &&
                    std::find(f.columns.begin(), f.columns.end(), role) == f.columns.end())
                    f.columns[c] = role;
            }
            if (std::find(f.columns.begin(), f.columns.end(), ColumnRole::User) == f.columns.end() ||
                std::find(f.columns.begin(), f.columns.end(), ColumnRole::Item) == f.columns.end())
                throw DataError(path, 1, "header",
                                "no user and item columns among the names; expected names such as userId and "
                                "movieId (or item_id, asin), or give the columns explicitly");
        } else {
            f.columns = {ColumnRole::User, ColumnRole::Item};
            if (first.size() >= 4) {
                f.columns.push_back(ColumnRole::Rating);
                f.columns.push_back(ColumnRole::Timestamp);
            } else if (first.size() == 3) {
                // A third column is a timestamp when it looks like Unix seconds, else a rating.
                double v = 0;
                const bool seconds = parseNumberField(first[2], v) && v > 1e8;
                f.columns.push_back(seconds ? ColumnRole::Timestamp : ColumnRole::Rating);
            }
            f.columns.resize(std::max(first.size(), f.columns.size()), ColumnRole::Ignore);
        }
    }
    if (f.columns.size() > r.fieldCount)
        throw DataError(path, 1, "", "the columns name " + std::to_string(f.columns.size()) + " fields but the line has " +
                                         std::to_string(r.fieldCount) + " separated by " + separatorName(f.separator));
    f.columns.resize(r.fieldCount, ColumnRole::Ignore);
    return r;
}

} // namespace

ResolvedFormat resolveDelimitedFormat(const std::string& path, const DelimitedFormat& format)
{
    const InputFile file(path);
    return resolveFromHead(path, FileHead(file), format);
}

namespace {

// Runs the loader itself over the complete lines of the head (an in-memory file), so the
// preview's verdict on each row is the full load's verdict, messages included.
void checkPreviewRows(const std::string& path, const FileHead& head, DelimitedPreview& preview)
{
    std::string_view text = head.text;
    if (!head.complete)
        text = text.substr(0, text.rfind('\n') + 1); // npos + 1 == 0: no complete line
    if (text.empty())
        return;
    const int fd = ::memfd_create("reclab-preview", MFD_CLOEXEC);
    if (fd < 0)
        return;
    const std::string memPath = "/proc/self/fd/" + std::to_string(fd);
    try {
        size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n <= 0)
                throw DataError(path, 0, "", "cannot check the preview rows");
            done += static_cast<size_t>(n);
        }
        DelimitedFormat f = preview.resolved.format;
        f.skipBadRows = true;
        f.threads = 1;
        const Dataset d = loadDelimited(memPath, f);
        preview.checkedRows = d.interactions.size() + d.report.skippedRows;
        preview.badRows = d.report.skippedRows;
        for (std::string problem : d.report.problems) {
            if (problem.compare(0, memPath.size(), memPath) == 0)
                problem.replace(0, memPath.size(), path);
            preview.rowProblems.push_back(std::move(problem));
        }
    } catch (const std::exception& e) {
        std::string problem = e.what();
        if (problem.compare(0, memPath.size(), memPath) == 0)
            problem.replace(0, memPath.size(), path);
        preview.rowProblems.push_back(std::move(problem));
    }
    ::close(fd);
}

} // namespace

DelimitedPreview previewDelimited(const std::string& path, const DelimitedFormat& format, size_t maxRows)
{
    DelimitedPreview preview;
    try {
        const InputFile file(path);
        const FileHead head(file);
        try {
            preview.resolved = resolveFromHead(path, head, format);
        } catch (const DataError& e) {
            // Header names RecLab does not know: still show the rows, so the roles can be chosen.
            if (e.field() != "header" || !format.columns.empty())
                throw;
            DelimitedFormat unassigned = format;
            unassigned.columns.assign(1, ColumnRole::Ignore);
            preview.resolved = resolveFromHead(path, head, unassigned);
            preview.problem = e.what();
        }
        const auto lines = headLines(head.text, maxRows + 1, head.complete);
        for (size_t k = preview.resolved.format.header == 1 ? 1 : 0; k < lines.size() && preview.rows.size() < maxRows; ++k) {
            std::vector<std::string> fields;
            splitQuotedRecord(lines[k], preview.resolved.format.separator, fields);
            preview.rows.push_back(std::move(fields));
        }
        if (preview.problem.empty())
            checkPreviewRows(path, head, preview);
    } catch (const std::exception& e) {
        preview.problem = e.what();
    }
    return preview;
}

namespace {

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

struct Range {
    size_t begin = 0, end = 0;
    long firstLine = 1;   // file line number of the range's first line
    size_t newlines = 0;  // from the counting pass
    size_t firstRow = 0;  // where its rows go in the columns
    size_t rows = 0;      // rows kept
    size_t skipped = 0;
    std::vector<std::string> problems;
    long errorLine = 0;
    std::string errorField, errorProblem;
    StringDictionary dict[2]; // user, item (string-id mode)
};

enum class IdMode { Numeric, Text };

struct ParseJob {
    const std::string* path;
    const InputFile* file;
    const ResolvedFormat* resolved;
    IdMode mode[2];
    InteractionTable* out;
    std::atomic<size_t> firstErrorRange{SIZE_MAX};
    bool scaled = false; // the format has a rating scale (DelimitedFormat::ratingMin..ratingMax)
    int fieldIndex[4] = {-1, -1, -1, -1}; // user, item, rating, timestamp
    int maxField = 0;
};

std::string columnLabel(const ParseJob& job, int role)
{
    static const char* const kRoles[] = {"user", "item", "rating", "timestamp"};
    const int col = job.fieldIndex[role];
    std::string label = kRoles[role];
    label += " (column " + std::to_string(col + 1);
    const auto& names = job.resolved->headerNames;
    if (col < static_cast<int>(names.size()) && !names[static_cast<size_t>(col)].empty())
        label += " '" + names[static_cast<size_t>(col)] + "'";
    return label + ")";
}

struct RowProblem {
    int role = -1; // -1: the row as a whole
    std::string problem;
};

class RangeParser {
public:
    RangeParser(ParseJob& job, Range& range, size_t index) : job_(job), range_(range), index_(index) {}

    void run()
    {
        const std::string& sep = job_.resolved->format.separator;
        fastSep_ = sep.size() == 1 && sep[0] != ' ' && job_.maxField < 16 ? sep[0] : 0;
        for (int role = 0; role < 4; ++role)
            if (job_.fieldIndex[role] >= 0)
                roleOf_[job_.fieldIndex[role]] = static_cast<int8_t>(role);
        users_ = job_.out->user.data();
        items_ = job_.out->item.data();
        ratings_ = job_.out->rating.data();
        times_ = job_.out->timestamp.data();

        std::vector<char> buf((4 << 20) + 1); // +1: room for a final newline
        size_t carry = 0;
        size_t pos = range_.begin;
        long line = range_.firstLine;
        while (true) {
            if (aborted())
                return;
            const size_t want = std::min(buf.size() - 1 - carry, range_.end - pos);
            const size_t got = job_.file->read(buf.data() + carry, want, pos);
            pos += got;
            const bool last = pos >= range_.end || got == 0;
            char* end = buf.data() + carry + got;
            if (last && end > buf.data() && end[-1] != '\n')
                *end++ = '\n'; // the file's last line has no newline
            const char* p = buf.data();
            const auto* lastNl = static_cast<const char*>(memrchr(p, '\n', static_cast<size_t>(end - p)));
            if (lastNl) {
                // Every line up to lastNl ends with a newline: the scanners need no bounds checks.
                while (p <= lastNl) {
                    const char* next = fastSep_ ? fastLine(p, line) : nullptr;
                    if (!next) {
                        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(lastNl - p) + 1));
                        if (!handleLine(p, nl, line))
                            return;
                        next = nl + 1;
                    }
                    p = next;
                    ++line;
                }
            }
            if (last)
                return;
            carry = static_cast<size_t>(end - p);
            std::memmove(buf.data(), p, carry);
            if (carry + 1 >= buf.size())
                buf.resize(buf.size() * 2); // a line longer than the buffer
        }
    }

private:
    // The common case in one pass: a single-character separator, no quotes, small integer ids
    // (or text ids), well-formed numbers. Returns the start of the next line, or nullptr when
    // the line needs the general parser (which also words the error message).
    const char* fastLine(const char* p, long)
    {
        const char sep = fastSep_;
        const char* fb[4] = {};
        const char* fe[4] = {};
        size_t col = 0;
        const size_t fields = job_.resolved->fieldCount;
        const char* q = p;
        while (true) {
            const char* start = q;
            if (*q == '"')
                return nullptr;
            while (*q != sep && *q != '\n')
                ++q;
            if (col < 16) {
                const int role = roleOf_[col];
                if (role >= 0) {
                    fb[role] = start;
                    fe[role] = q;
                }
            }
            ++col;
            if (*q == '\n')
                break;
            ++q;
        }
        const char* next = q + 1;
        if (col != fields)
            return nullptr;
        // A CR before the newline belongs to the line ending.
        for (int role = 0; role < 4; ++role)
            if (fe[role] == q && fe[role] > fb[role] && fe[role][-1] == '\r')
                --fe[role];
        int32_t ids[2];
        for (int role = 0; role < 2; ++role) {
            const char* b = fb[role];
            const char* e = fe[role];
            const auto n = e - b;
            if (n == 0)
                return nullptr;
            if (job_.mode[role] == IdMode::Numeric) {
                if (n > 9 || (n > 1 && *b == '0'))
                    return nullptr;
                int32_t v = 0;
                for (; b < e; ++b) {
                    const unsigned d = static_cast<unsigned>(*b - '0');
                    if (d > 9)
                        return nullptr;
                    v = v * 10 + static_cast<int32_t>(d);
                }
                ids[role] = v;
            } else {
                int32_t small = 0;
                const std::string_view v(b, static_cast<size_t>(n));
                // Surrounding spaces are not part of an id: the general parser trims them.
                if (v.front() == ' ' || v.back() == ' ' || classifyId(v, small) == IdKind::TooLong)
                    return nullptr;
                ids[role] = range_.dict[role].intern(v);
            }
        }
        float rating = 1.f;
        if (fb[2]) {
            double r = 0;
            if (!parseRatingField(std::string_view(fb[2], static_cast<size_t>(fe[2] - fb[2])), r) || !(r >= 0) ||
                !fitsFloat(r) || (job_.scaled && !onScale(r)))
                return nullptr;
            rating = static_cast<float>(r);
        }
        int64_t time = 0;
        if (fb[3]) {
            const char* b = fb[3];
            const char* e = fe[3];
            if (e - b > 0 && e - b <= 18 && *b != '-') {
                for (; b < e; ++b) {
                    const unsigned d = static_cast<unsigned>(*b - '0');
                    if (d > 9)
                        break;
                    time = time * 10 + d;
                }
            }
            if (b != e && !parseTimestampField(std::string_view(fb[3], static_cast<size_t>(fe[3] - fb[3])), time))
                return nullptr;
        }
        const size_t row = range_.firstRow + range_.rows++;
        users_[row] = ids[0];
        items_[row] = ids[1];
        ratings_[row] = rating;
        times_[row] = time;
        return next;
    }

    bool aborted() const { return job_.firstErrorRange.load(std::memory_order_relaxed) < index_; }

    bool onScale(double r) const
    {
        const DelimitedFormat& f = job_.resolved->format;
        if (r < f.ratingMin || r > f.ratingMax)
            return false;
        if (f.ratingStep <= 0)
            return true;
        const double steps = (r - f.ratingMin) / f.ratingStep;
        return std::fabs(steps - std::round(steps)) < 1e-9;
    }

    // Returns false to stop the range (a strict-mode error, or ids that need text mode).
    bool handleLine(const char* b, const char* e, long line)
    {
        if (e > b && e[-1] == '\r')
            --e;
        const char* q = b;
        while (q < e && (*q == ' ' || *q == '\t'))
            ++q;
        if (q == e)
            return true; // blank line
        RowProblem problem;
        if (parseRow(b, e, problem))
            return true;
        const std::string field = problem.role >= 0 ? columnLabel(job_, problem.role) : std::string();
        if (job_.resolved->format.skipBadRows) {
            if (range_.problems.size() < 5)
                range_.problems.push_back(DataError(*job_.path, line, field, problem.problem).what());
            ++range_.skipped;
            return true;
        }
        range_.errorLine = line;
        range_.errorField = field;
        range_.errorProblem = problem.problem;
        return false;
    }

    bool parseRow(const char* b, const char* e, RowProblem& problem)
    {
        const std::string& sep = job_.resolved->format.separator;
        std::string_view fields[4];
        const bool spaceSep = sep == " ";
        int col = 0;
        const char* p = b;
        while (true) {
            const char* fb = p;
            const char* fe;
            const char* next = nullptr;
            if (p < e && *p == '"') {
                std::string& text = quoted_[col & 3];
                switch (scanQuoted(p, e, sep, text, next)) {
                case QuoteScan::Unclosed:
                    problem.problem = "a quoted field in column " + std::to_string(col + 1) + " has no closing quote";
                    return false;
                case QuoteScan::TextAfter:
                    problem.problem = "text after the closing quote in column " + std::to_string(col + 1);
                    return false;
                case QuoteScan::Ok: break;
                }
                fb = text.data();
                fe = text.data() + text.size();
            } else {
                if (sep.size() == 1 && !spaceSep) {
                    fe = static_cast<const char*>(std::memchr(p, sep[0], static_cast<size_t>(e - p)));
                    if (!fe)
                        fe = e;
                } else if (spaceSep) {
                    fe = p;
                    while (fe < e && *fe != ' ' && *fe != '\t')
                        ++fe;
                } else {
                    fe = std::search(p, e, sep.begin(), sep.end());
                }
                next = fe;
            }
            if (col <= job_.maxField) {
                for (int role = 0; role < 4; ++role)
                    if (job_.fieldIndex[role] == col)
                        fields[role] = trimmed(fb, fe);
            }
            ++col;
            if (next >= e)
                break;
            p = next + sep.size();
            if (spaceSep)
                while (p < e && (*p == ' ' || *p == '\t'))
                    ++p;
        }
        if (static_cast<size_t>(col) != job_.resolved->fieldCount) {
            problem.problem = "expected " + std::to_string(job_.resolved->fieldCount) + " fields separated by " +
                              separatorName(sep) + " (" + layout() + "), found " + std::to_string(col);
            return false;
        }
        int32_t ids[2];
        for (int role = 0; role < 2; ++role) {
            const std::string_view v = fields[role];
            if (v.empty()) {
                problem = {role, "the id is empty; expected a user or item id"};
                return false;
            }
            int32_t small = 0;
            const IdKind kind = classifyId(v, small);
            if (kind == IdKind::TooLong) {
                problem = {role, "the id '" + printable(v) + "' does not fit in 64 bits; expected an integer id below 2^63 "
                                 "or a text id"};
                return false;
            }
            if (job_.mode[role] == IdMode::Numeric) {
                if (kind != IdKind::Small) {
                    problem = {role, "'" + printable(v) + "' is not a numeric id like the ids of the column's first rows "
                                     "(whole numbers without leading zeros); if the column holds text ids, load it with text ids "
                                     "(--ids text)"};
                    return false;
                }
                ids[role] = small;
            } else {
                ids[role] = range_.dict[role].intern(v);
            }
        }
        float rating = 1.f;
        if (job_.fieldIndex[2] >= 0) {
            const std::string_view v = fields[2];
            double r = 0;
            if (!parseRatingField(v, r)) {
                problem = {2, "expected a number such as 4 or 3.5, found '" + printable(v) + "'"};
                return false;
            }
            if (!(r >= 0)) {
                problem = {2, "expected a rating of 0 or more, found '" + printable(v) + "'"};
                return false;
            }
            if (!fitsFloat(r)) {
                problem = {2, "the rating '" + printable(v) + "' is too large to be a rating"};
                return false;
            }
            if (job_.scaled && !onScale(r)) {
                const DelimitedFormat& f = job_.resolved->format;
                char scale[96];
                std::snprintf(scale, sizeof scale, "%g to %g in steps of %g", f.ratingMin, f.ratingMax, f.ratingStep);
                problem = {2, "'" + printable(v) + "' is off the " + f.scaleName + " rating scale (" + scale + ")"};
                return false;
            }
            rating = static_cast<float>(r);
        }
        int64_t time = 0;
        if (job_.fieldIndex[3] >= 0) {
            const std::string_view v = fields[3];
            if (!parseTimestampField(v, time)) {
                problem = {3, "expected Unix seconds or a date such as 2015-03-01 12:00:00, found '" + printable(v) + "'"};
                return false;
            }
        }
        const size_t row = range_.firstRow + range_.rows++;
        job_.out->user[row] = ids[0];
        job_.out->item[row] = ids[1];
        job_.out->rating[row] = rating;
        job_.out->timestamp[row] = time;
        return true;
    }

    static std::string_view trimmed(const char* b, const char* e)
    {
        while (b < e && *b == ' ')
            ++b;
        while (e > b && e[-1] == ' ')
            --e;
        return std::string_view(b, static_cast<size_t>(e - b));
    }

    std::string layout() const
    {
        std::string s;
        for (const ColumnRole r : job_.resolved->format.columns) {
            if (!s.empty())
                s += ", ";
            s += columnRoleName(r);
        }
        return s;
    }

    ParseJob& job_;
    Range& range_;
    size_t index_; // of range_ in the file: an error in an earlier range stops this one
    std::string quoted_[4];
    char fastSep_ = 0;
    int8_t roleOf_[16] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    int32_t* users_ = nullptr;
    int32_t* items_ = nullptr;
    float* ratings_ = nullptr;
    int64_t* times_ = nullptr;
};

std::vector<Range> splitRanges(const InputFile& file, size_t dataStart, int threads)
{
    const size_t size = file.size();
    std::vector<size_t> cuts{dataStart};
    const size_t bytes = size - dataStart;
    const int n = bytes < (size_t{8} << 20) ? 1 : threads;
    for (int k = 1; k < n; ++k) {
        size_t pos = dataStart + bytes / static_cast<size_t>(n) * static_cast<size_t>(k);
        char buf[4096];
        while (pos < size) {
            const size_t got = file.read(buf, sizeof buf, pos);
            const void* nl = std::memchr(buf, '\n', got);
            if (nl) {
                pos += static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1;
                break;
            }
            pos += got;
        }
        if (pos > cuts.back() && pos < size)
            cuts.push_back(pos);
    }
    cuts.push_back(size);
    std::vector<Range> ranges(cuts.size() - 1);
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        ranges[k].begin = cuts[k];
        ranges[k].end = cuts[k + 1];
    }
    return ranges;
}

size_t countNewlines(const InputFile& file, size_t begin, size_t end)
{
    std::vector<char> buf(4 << 20);
    size_t count = 0;
    for (size_t pos = begin; pos < end;) {
        const size_t got = file.read(buf.data(), std::min(buf.size(), end - pos), pos);
        if (got == 0)
            break;
        count += static_cast<size_t>(std::count(buf.data(), buf.data() + got, '\n'));
        pos += got;
    }
    return count;
}

template <typename Fn> void forEachRange(std::vector<Range>& ranges, Fn&& fn)
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

// Numeric ids: dense indices in ascending id order, by a direct table when the ids are compact
// and a hash map otherwise.
void mapNumericIds(Column<int32_t>& column, std::vector<std::string>& names)
{
    if (column.empty())
        return;
    const int32_t maxId = *std::max_element(column.begin(), column.end());
    const size_t span = static_cast<size_t>(maxId) + 1;
    if (span <= std::max<size_t>(column.size() * 4, size_t{1} << 22)) {
        std::vector<int32_t> index(span, -1);
        for (const int32_t id : column)
            index[static_cast<size_t>(id)] = 0;
        int32_t next = 0;
        for (size_t id = 0; id < span; ++id)
            if (index[id] == 0) {
                index[id] = next++;
                names.push_back(std::to_string(id));
            }
        for (int32_t& v : column)
            v = index[static_cast<size_t>(v)];
        return;
    }
    std::unordered_map<int32_t, int32_t> index;
    for (const int32_t id : column)
        index.emplace(id, 0);
    std::vector<int32_t> ids;
    ids.reserve(index.size());
    for (const auto& kv : index)
        ids.push_back(kv.first);
    std::sort(ids.begin(), ids.end());
    for (size_t k = 0; k < ids.size(); ++k) {
        index[ids[k]] = static_cast<int32_t>(k);
        names.push_back(std::to_string(ids[k]));
    }
    for (int32_t& v : column)
        v = index[v];
}

// Text ids: per-range dictionaries merged in file order (first appearance decides the index).
void mapTextIds(std::vector<Range>& ranges, int role, Column<int32_t>& column, std::vector<std::string>& names)
{
    std::unordered_map<std::string_view, int32_t> global;
    for (auto& r : ranges) {
        const auto& local = r.dict[role].names;
        std::vector<int32_t> translate(local.size());
        for (size_t k = 0; k < local.size(); ++k) {
            const auto [it, added] = global.emplace(local[k], static_cast<int32_t>(names.size()));
            if (added)
                names.emplace_back(local[k]);
            translate[k] = it->second;
        }
        for (size_t row = r.firstRow; row < r.firstRow + r.rows; ++row)
            column[row] = translate[static_cast<size_t>(column[row])];
    }
}

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
            const std::string_view line = std::string_view(head.text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
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
    forEachRange(ranges, [&](Range& r) { r.newlines = countNewlines(file, r.begin, r.end); });
    phase("count");
    size_t capacity = 0;
    long line = 1 + headerLines;
    for (auto& r : ranges) {
        r.firstRow = capacity;
        r.firstLine = line;
        capacity += r.newlines + 1;
        line += static_cast<long>(r.newlines);
    }

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

    Dataset ds;
    InteractionTable& table = ds.interactions;
    table.user.resize(capacity);
    table.item.resize(capacity);
    table.rating.resize(capacity);
    table.timestamp.resize(capacity);
    job.out = &table;
    decideIdModes(head, resolved, job);
    job.scaled = resolved.format.ratingMax >= resolved.format.ratingMin;
    forEachRange(ranges, [&](Range& r) {
        const auto mine = static_cast<size_t>(&r - ranges.data());
        RangeParser(job, r, mine).run();
        if (r.errorLine > 0) {
            size_t current = job.firstErrorRange.load();
            while (mine < current && !job.firstErrorRange.compare_exchange_weak(current, mine)) {
            }
        }
    });
    phase("parse");
    // A last line without a line ending that is shorter than the file's first lines: the file
    // may have been cut mid-row.
    const bool truncated = lastLineLooksCut(file, head, resolved);
    const std::string cutNote = "; the last line has no line ending: the file may be truncated";
    for (const auto& r : ranges)
        if (r.errorLine > 0)
            throw DataError(path, r.errorLine, r.errorField,
                            r.errorProblem + (truncated && r.errorLine == line ? cutNote : std::string()));
    if (truncated)
        ds.report.warnings.push_back(DataError(path, line, "", "the last line has no line ending and is shorter than the "
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
            throw DataError(path, 0, "", "no valid rows: all " + std::to_string(ds.report.skippedRows) +
                                             " were malformed; the first: " + ds.report.problems.front());
        throw DataError(path, 0, "", resolved.format.header == 1 ? "the file has a header line but no data rows"
                                                                   : "the file holds no interactions");
    }

    std::thread userMap([&] {
        if (job.mode[0] == IdMode::Numeric)
            mapNumericIds(table.user, ds.userIds);
        else
            mapTextIds(ranges, 0, table.user, ds.userIds);
    });
    if (job.mode[1] == IdMode::Numeric)
        mapNumericIds(table.item, ds.itemIds);
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
