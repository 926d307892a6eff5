#include "data/DelimitedParts.h"

#include "data/FieldParsers.h"
#include "util/Error.h"
#include "util/TextFile.h"
#include "util/VectorClones.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// Fields read as vectors of digits (SSE2 and 64-bit moves out of vector registers).
#if defined(__SSE2__) && defined(__x86_64__)
#define RECLAB_WORD_DIGITS 1
#else
#define RECLAB_WORD_DIGITS 0
#endif

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

// ---- the scanners of the common case ---------------------------------------------------

// Bytes past a buffer's last newline that the scanners may read: a 64-byte block starting at
// the newline, or 16 bytes of digits starting before it.
constexpr size_t kScanPad = 64;

// Where the separators, newlines, quotes and CRs of a buffer are, 64 bytes at a time: a bit per
// byte, taken lowest first. A line's fields end at the positions it yields, so splitting a line
// costs a few bit operations per field instead of a compare and a branch per byte.
class DelimiterScan {
public:
    explicit DelimiterScan(char sep) : sep_(sep) {}
    // Scans on from p (the last line before the buffer's end must end with a newline, and
    // kScanPad bytes after it must be readable).
    void restart(const char* p)
    {
        block_ = p;
        bits_ = maskOf(p);
    }
    const char* next()
    {
        while (bits_ == 0) {
            block_ += 64;
            bits_ = maskOf(block_);
        }
        const char* d = block_ + __builtin_ctzll(bits_);
        bits_ &= bits_ - 1;
        return d;
    }

private:
    uint64_t maskOf(const char* p) const
    {
        uint64_t m = 0;
#if defined(__SSE2__)
        const __m128i sep = _mm_set1_epi8(sep_), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"'),
                      cr = _mm_set1_epi8('\r');
        for (int k = 0; k < 4; ++k) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
            const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sep), _mm_cmpeq_epi8(x, nl)),
                                             _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, cr)));
            m |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(hit))} << (16 * k);
        }
#else
        for (int k = 0; k < 64; ++k) {
            const char c = p[k];
            m |= uint64_t{c == sep_ || c == '\n' || c == '"' || c == '\r'} << k;
        }
#endif
        return m;
    }

    char sep_;
    const char* block_ = nullptr;
    uint64_t bits_ = 0;
};

// The value of the n decimal digits at p (1 <= n <= 16; 16 bytes at p must be readable), read
// eight bytes at a time; false when one of them is not a digit.
bool fieldDigits(const char* p, size_t n, uint64_t& value)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // n <= 8 digits of a little-endian word moved to its top bytes: the first digit's place
    // value is 10^(n-1), the bytes below are zero digits. Three multiplies pair the digits up.
    const auto eight = [](const char* q, size_t k, uint64_t& v) {
        uint64_t w;
        std::memcpy(&w, q, 8);
        w <<= 8 * (8 - k);
        const uint64_t used = ~uint64_t{0} << (8 * (8 - k));
        const bool digits = ((((w & 0xF0F0F0F0F0F0F0F0) ^ 0x3030303030303030) & used) |
                             (((w & 0x0F0F0F0F0F0F0F0F) + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0)) == 0;
        w &= 0x0F0F0F0F0F0F0F0F;
        w = (w * 2561) >> 8;
        w = ((w & 0x00FF00FF00FF00FF) * 6553601) >> 16;
        v = ((w & 0x0000FFFF0000FFFF) * 42949672960001) >> 32;
        return digits;
    };
    if (n <= 8)
        return eight(p, n, value);
    uint64_t high = 0, low = 0;
    const bool digits = eight(p, n - 8, high) & eight(p + n - 8, 8, low);
    value = high * 100000000 + low;
    return digits;
#else
    value = 0;
    for (size_t k = 0; k < n; ++k) {
        const unsigned d = static_cast<unsigned>(p[k] - '0');
        if (d > 9)
            return false;
        value = value * 10 + d;
    }
    return true;
#endif
}

#if RECLAB_WORD_DIGITS
// Bytes a field's digits may be read from before it: a field is read as the 16 (or 8) bytes that
// end where it ends, the bytes before it masked off.
constexpr size_t kFrontPad = 16;

// 16 zero bytes, then 16 0xFF: the 16 (8) bytes from kTail + n (kTail + 8 + n) keep the last n
// bytes of a 16-byte (8-byte) load.
alignas(16) constexpr uint8_t kTail[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                           0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                           0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// The two 8-digit groups of x's halves (each half's digits end at its last byte; the bytes keep
// does not keep count as leading zeros): group 0 is the lower half. False when a kept byte is not
// a digit. A few vector operations instead of a multiply chain per group.
inline bool digitGroups(__m128i x, __m128i keep, uint64_t& first, uint64_t& second)
{
    const __m128i t = _mm_and_si128(_mm_sub_epi8(x, _mm_set1_epi8('0')), keep);
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_subs_epu8(t, _mm_set1_epi8(9)), _mm_setzero_si128())) != 0xFFFF)
        return false;
    // Digit pairs (the first byte of a pair is the higher digit), then fours, then eights.
    const __m128i pairs = _mm_add_epi16(_mm_mullo_epi16(_mm_and_si128(t, _mm_set1_epi16(0xFF)), _mm_set1_epi16(10)),
                                        _mm_srli_epi16(t, 8));
    const __m128i fours = _mm_madd_epi16(pairs, _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100));
    const __m128i eights = _mm_add_epi64(_mm_mul_epu32(fours, _mm_set1_epi32(10000)), _mm_srli_epi64(fours, 32));
    first = static_cast<uint64_t>(_mm_cvtsi128_si64(eights));
    second = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(eights, eights)));
    return true;
}

// Two fields of 1..8 digits ending at ea and eb, read at once (8 bytes before each readable).
inline bool twoFields(const char* ea, size_t na, const char* eb, size_t nb, uint64_t& a, uint64_t& b)
{
    const __m128i x = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ea - 8)),
                                         _mm_loadl_epi64(reinterpret_cast<const __m128i*>(eb - 8)));
    const __m128i keep = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(kTail + 8 + na)),
                                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kTail + 8 + nb)));
    return digitGroups(x, keep, a, b);
}

// A field of 1..16 digits ending at e (16 bytes before it readable).
inline bool sixteenDigits(const char* e, size_t n, uint64_t& value)
{
    uint64_t high = 0, low = 0;
    const bool digits = digitGroups(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e - 16)),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTail + n)), high, low);
    value = high * 100000000 + low;
    return digits;
}
#else
constexpr size_t kFrontPad = 0;
#endif

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

namespace {

// Newlines in [p, p + n): bytes compared 32 at a time into byte counters, emptied before they
// can overflow (GCC vectorises the inner loop; an AVX2 copy where the CPU has it).
RECLAB_CLONES_FOR("avx2") size_t newlinesIn(const char* p, size_t n)
{
    size_t total = 0;
    while (n > 0) {
        const size_t m = std::min<size_t>(n, 255 * 32);
        uint8_t lanes[32] = {};
        size_t i = 0;
        for (; i + 32 <= m; i += 32)
            for (int k = 0; k < 32; ++k)
                lanes[k] = static_cast<uint8_t>(lanes[k] + (p[i + static_cast<size_t>(k)] == '\n'));
        for (const uint8_t c : lanes)
            total += c;
        for (; i < m; ++i)
            total += p[i] == '\n';
        p += m;
        n -= m;
    }
    return total;
}

} // namespace

void countNewlines(const InputFile& file, std::vector<Range>& ranges, size_t counted, int threads)
{
    // The counted ranges cut into `threads` equal pieces and at their own bounds, so that a
    // single counted range still takes every thread.
    struct Piece {
        size_t begin, end, range, count = 0;
    };
    std::vector<Piece> pieces;
    if (counted == 0)
        return;
    const size_t begin = ranges.front().begin, end = ranges[counted - 1].end;
    const size_t step =
        std::max<size_t>(1, (end - begin + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads));
    for (size_t r = 0; r < counted; ++r)
        for (size_t b = ranges[r].begin; b < ranges[r].end;) {
            const size_t cut = std::min(ranges[r].end, begin + ((b - begin) / step + 1) * step);
            pieces.push_back({b, cut, r});
            b = cut;
        }
    std::vector<int> workers(std::min(pieces.size(), static_cast<size_t>(std::max(1, threads))));
    std::atomic<size_t> nextPiece{0};
    forEachRange(workers, [&](int) {
        for (size_t k; (k = nextPiece.fetch_add(1)) < pieces.size();)
            pieces[k].count = countNewlines(file, pieces[k].begin, pieces[k].end);
    });
    for (size_t r = 0; r < counted; ++r)
        ranges[r].newlines = 0;
    for (const auto& piece : pieces)
        ranges[piece.range].newlines += piece.count;
}

size_t estimateNewlines(const InputFile& file, size_t begin, size_t end)
{
    constexpr size_t kSamples = 64, kSample = 4096;
    const size_t bytes = end - begin;
    if (bytes <= kSamples * kSample)
        return countNewlines(file, begin, end);
    char buf[kSample];
    size_t newlines = 0, sampled = 0;
    for (size_t k = 0; k < kSamples; ++k) {
        const size_t at = begin + (bytes - kSample) / (kSamples - 1) * k;
        const size_t got = file.read(buf, kSample, at);
        newlines += newlinesIn(buf, got);
        sampled += got;
    }
    return sampled == 0 ? 0
                        : static_cast<size_t>(static_cast<double>(newlines) / static_cast<double>(sampled) *
                                              static_cast<double>(bytes));
}

size_t countNewlines(const InputFile& file, size_t begin, size_t end)
{
    std::vector<char> buf(kReadBlock); // read in blocks that stay in a core's cache
    size_t count = 0;
    for (size_t pos = begin; pos < end;) {
        const size_t got = file.read(buf.data(), std::min(buf.size(), end - pos), pos);
        if (got == 0)
            break;
        count += newlinesIn(buf.data(), got);
        pos += got;
    }
    return count;
}

// Numeric ids: dense indices in ascending id order, by a direct table when the ids are compact
// (from the ranges' marks when they have them all) and a hash map otherwise.
void mapNumericIds(Column<int32_t>& column, std::vector<std::string>& names, const std::vector<Range>& ranges, int role)
{
    if (column.empty())
        return;
    bool marked = true;
    size_t span = 0;
    for (const auto& r : ranges) {
        marked = marked && r.seenAll[role];
        span = std::max(span, r.seen[role].size());
    }
    std::vector<int32_t> index;
    const auto compact = [&](size_t ids) { return ids <= std::max<size_t>(column.size() * 4, size_t{1} << 22); };
    if (marked && compact(span)) {
        index.assign(span, -1);
        for (const auto& r : ranges)
            for (size_t id = 0; id < r.seen[role].size(); ++id)
                if (r.seen[role][id])
                    index[id] = 0;
    } else {
        span = static_cast<size_t>(*std::max_element(column.begin(), column.end())) + 1;
        if (compact(span)) {
            index.assign(span, -1);
            for (const int32_t id : column)
                index[static_cast<size_t>(id)] = 0;
        }
    }
    if (!index.empty()) {
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
    std::unordered_map<int32_t, int32_t> map;
    for (const int32_t id : column)
        map.emplace(id, 0);
    std::vector<int32_t> ids;
    ids.reserve(map.size());
    for (const auto& kv : map)
        ids.push_back(kv.first);
    std::sort(ids.begin(), ids.end());
    for (size_t k = 0; k < ids.size(); ++k) {
        map[ids[k]] = static_cast<int32_t>(k);
        names.push_back(std::to_string(ids[k]));
    }
    for (int32_t& v : column)
        v = map[v];
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

} // namespace delimited

} // namespace reclab
