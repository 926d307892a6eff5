#include "data/DelimitedParts.h"

#include "data/FieldParsers.h"
#include "data/FieldScan.h"
#include "util/Error.h"
#include "util/TextFile.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace reclab {

using namespace delimited;

namespace {

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
        numericIds_ = job_.mode[0] == IdMode::Numeric && job_.mode[1] == IdMode::Numeric;
        for (int role = 0; role < 4; ++role)
            if (job_.fieldIndex[role] >= 0)
                roleOf_[job_.fieldIndex[role]] = static_cast<int8_t>(role);
        // The ratings "d" and "d.d" decided once: value and whether the checks below accept it.
        for (int k = 0; k < 110; ++k) {
            const double r = k < 100 ? (k / 10) + (k % 10) / 10.0 : k - 100;
            shortRating_[k] = static_cast<float>(r);
            shortRatingOk_[k] = r >= 0 && fitsFloat(r) && (!job_.scaled || onScale(r));
        }
        users_ = job_.out->user.data();
        items_ = job_.out->item.data();
        ratings_ = job_.out->rating.data();
        times_ = job_.out->timestamp.data();

        // Before the data: room for reading fields as whole words (kFrontPad); past it: room for
        // a final newline and for the scanners' reads (kScanPad).
        std::vector<char> buf(kFrontPad + kReadBlock + kScanPad);
        const bool scanned = fastSep_ && job_.resolved->fieldCount <= kMaxScannedFields;
        DelimiterScan scan(fastSep_);
        size_t carry = 0;
        size_t pos = range_.begin;
        long line = range_.firstLine;
        while (true) {
            if (aborted())
                return;
            char* const data = buf.data() + kFrontPad;
            const size_t room = buf.size() - kFrontPad - kScanPad;
            const size_t want = std::min(room - carry, range_.end - pos);
            const size_t got = job_.file->read(data + carry, want, pos);
            pos += got;
            const bool last = pos >= range_.end || got == 0;
            char* end = data + carry + got;
            if (last && end > data && end[-1] != '\n')
                *end++ = '\n'; // the file's last line has no newline
            const char* p = data;
            const auto* lastNl = static_cast<const char*>(memrchr(p, '\n', static_cast<size_t>(end - p)));
            if (lastNl) {
                // Every line up to lastNl ends with a newline: the scanners need no bounds checks.
                if (scanned)
                    scan.restart(p);
                while (p <= lastNl) {
                    const char* next = scanned ? scannedLine(p, scan) : nullptr;
                    if (!next) {
                        next = fastSep_ ? fastLine(p) : nullptr;
                        if (!next) {
                            const char* nl =
                                static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(lastNl - p) + 1));
                            if (!handleLine(p, nl, line))
                                return;
                            next = nl + 1;
                        }
                        if (scanned && next <= lastNl)
                            scan.restart(next);
                    }
                    p = next;
                    ++line;
                }
            }
            if (last)
                return;
            carry = static_cast<size_t>(end - p);
            std::memmove(data, p, carry);
            if (carry >= room)
                buf.resize(kFrontPad + 2 * room + kScanPad); // a line longer than the buffer
        }
    }

private:
    static constexpr size_t kMaxScannedFields = 16;

    // The common case, split by the delimiter scan: a single-character separator, the file's
    // number of fields, no quotes. Returns the start of the next line, or nullptr when the line
    // needs a slower parser (the scan must then restart after the line).
    const char* scannedLine(const char* p, DelimiterScan& scan)
    {
        const char sep = fastSep_;
        const size_t fields = job_.resolved->fieldCount;
        const char* ends[kMaxScannedFields];
        for (size_t f = 0; f + 1 < fields; ++f) {
            ends[f] = scan.next();
            if (*ends[f] != sep)
                return nullptr;
        }
        const char* nl = scan.next();
        ends[fields - 1] = nl;
        if (*nl == '\r') { // a CR before the newline belongs to the line ending
            nl = scan.next();
            if (nl != ends[fields - 1] + 1)
                return nullptr;
        }
        if (*nl != '\n')
            return nullptr;
        const char* fb[4] = {};
        const char* fe[4] = {};
        for (int role = 0; role < 4; ++role) {
            const int col = job_.fieldIndex[role];
            if (col >= 0) {
                fb[role] = col == 0 ? p : ends[col - 1] + 1;
                fe[role] = ends[col];
            }
        }
        return takeRow(fb, fe) ? nl + 1 : nullptr;
    }

    // The same split a byte at a time, for lines the scan leaves (more fields, or quotes that
    // turn out to be part of no field).
    const char* fastLine(const char* p)
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
        if (col != fields)
            return nullptr;
        // A CR before the newline belongs to the line ending.
        for (int role = 0; role < 4; ++role)
            if (fe[role] == q && fe[role] > fb[role] && fe[role][-1] == '\r')
                --fe[role];
        return takeRow(fb, fe) ? q + 1 : nullptr;
    }

    // Stores the row whose fields (by role; absent roles null) are well-formed small numbers or
    // text ids; false when one needs the general parser (which also words the error message).
    bool takeRow(const char* const* fb, const char* const* fe)
    {
        int32_t ids[2];
#if RECLAB_WORD_DIGITS
        const auto nu = static_cast<size_t>(fe[0] - fb[0]), ni = static_cast<size_t>(fe[1] - fb[1]);
        if (numericIds_ && nu - 1 < 8 && ni - 1 < 8) { // both ids at once
            uint64_t u = 0, i = 0;
            if ((nu > 1 && *fb[0] == '0') || (ni > 1 && *fb[1] == '0') || !twoFields(fe[0], nu, fe[1], ni, u, i))
                return false;
            ids[0] = static_cast<int32_t>(u);
            ids[1] = static_cast<int32_t>(i);
        } else
#endif
        for (int role = 0; role < 2; ++role) {
            const char* b = fb[role];
            const auto n = static_cast<size_t>(fe[role] - b);
            if (n == 0)
                return false;
            if (job_.mode[role] == IdMode::Numeric) {
                uint64_t v = 0;
                if (n > 9 || (n > 1 && *b == '0') || !fieldDigits(b, n, v))
                    return false;
                ids[role] = static_cast<int32_t>(v);
            } else {
                int32_t small = 0;
                const std::string_view v(b, n);
                // Surrounding spaces are not part of an id: the general parser trims them.
                if (v.front() == ' ' || v.back() == ' ' || classifyId(v, small) == IdKind::TooLong)
                    return false;
                ids[role] = range_.dict[role].intern(v);
            }
        }
        float rating = 1.f;
        const auto shortForm = [](const char* b, const char* e) -> int {
            const auto digit = [](char c) { return static_cast<unsigned>(c - '0') <= 9; };
            if (e - b == 3 && digit(b[0]) && b[1] == '.' && digit(b[2]))
                return (b[0] - '0') * 10 + (b[2] - '0');
            return e - b == 1 && digit(b[0]) ? 100 + (b[0] - '0') : -1;
        };
        if (const int k = fb[2] ? shortForm(fb[2], fe[2]) : -1; k >= 0) {
            if (!shortRatingOk_[k])
                return false;
            rating = shortRating_[k];
        } else if (fb[2]) {
            double r = 0;
            if (!parseRatingField(std::string_view(fb[2], static_cast<size_t>(fe[2] - fb[2])), r) || !(r >= 0) ||
                !fitsFloat(r) || (job_.scaled && !onScale(r)))
                return false;
            rating = static_cast<float>(r);
        }
        int64_t time = 0;
        if (fb[3]) {
            const auto n = static_cast<size_t>(fe[3] - fb[3]);
            uint64_t v = 0;
#if RECLAB_WORD_DIGITS
            const bool digits = n >= 1 && n <= 16 && sixteenDigits(fe[3], n, v);
#else
            const bool digits = n >= 1 && n <= 16 && fieldDigits(fb[3], n, v);
#endif
            if (digits)
                time = static_cast<int64_t>(v);
            else if (!parseTimestampField(std::string_view(fb[3], n), time))
                return false;
        }
        if (range_.rows == range_.rowLimit)
            return false; // no room left: the general parser stops the range
        const size_t row = range_.firstRow + range_.rows++;
        users_[row] = ids[0];
        items_[row] = ids[1];
        mark(ids);
        ratings_[row] = rating;
        times_[row] = time;
        return true;
    }

    // Numeric ids seen, for the mapping (Range::seen).
    void mark(const int32_t* ids)
    {
        for (int role = 0; role < 2; ++role) {
            if (job_.mode[role] != IdMode::Numeric || !range_.seenAll[role])
                continue;
            auto& seen = range_.seen[role];
            const auto id = static_cast<size_t>(ids[role]);
            if (id >= seen.size()) {
                if (id >= kSeenLimit) {
                    range_.seenAll[role] = false;
                    continue;
                }
                seen.resize(std::min(kSeenLimit, std::max(id + 1, 2 * seen.size())));
            }
            seen[id] = 1;
        }
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
        if (range_.overflow)
            return false; // no room left: the loader decides (Range::overflow)
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
        if (range_.rows == range_.rowLimit) {
            range_.overflow = true;
            return false;
        }
        const size_t row = range_.firstRow + range_.rows++;
        job_.out->user[row] = ids[0];
        job_.out->item[row] = ids[1];
        mark(ids);
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
    bool numericIds_ = false; // user and item ids both numeric
    float shortRating_[110] = {};
    bool shortRatingOk_[110] = {};
    int8_t roleOf_[16] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    int32_t* users_ = nullptr;
    int32_t* items_ = nullptr;
    float* ratings_ = nullptr;
    int64_t* times_ = nullptr;
};

} // namespace

namespace delimited {

void parseRange(ParseJob& job, Range& range, size_t index)
{
    RangeParser(job, range, index).run();
}

} // namespace delimited

} // namespace reclab
