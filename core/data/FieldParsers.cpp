#include "data/FieldParsers.h"

#include <fast_float/fast_float.h>

#include <cmath>
#include <limits>

namespace reclab {

namespace {
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool parseDigits(const char*& p, const char* e, size_t count, unsigned& out)
{
    out = 0;
    for (size_t k = 0; k < count; ++k, ++p) {
        if (p >= e || !isDigit(*p))
            return false;
        out = out * 10 + static_cast<unsigned>(*p - '0');
    }
    return true;
}
} // namespace

IdKind classifyId(std::string_view field, int32_t& value)
{
    const size_t n = field.size();
    uint64_t v = 0;
    bool overflow = false;
    for (const char c : field) {
        if (!isDigit(c))
            return IdKind::Text;
        const auto d = static_cast<uint64_t>(c - '0');
        if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (overflow)
        return IdKind::TooLong;
    if (n > 1 && field[0] == '0')
        return IdKind::Text; // "007" must stay distinct from "7"
    if (v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
        return IdKind::Text;
    value = static_cast<int32_t>(v);
    return IdKind::Small;
}

bool parseNumberField(std::string_view field, double& value)
{
    if (field.empty())
        return false;
    const char* b = field.data();
    const char* e = b + field.size();
    if (*b == '+')
        ++b;
    const auto result = fast_float::from_chars(b, e, value);
    return result.ec == std::errc() && result.ptr == e && std::isfinite(value);
}

bool fitsFloat(double value)
{
    return std::isfinite(value) && std::fabs(value) <= static_cast<double>(std::numeric_limits<float>::max());
}

bool parseRatingField(std::string_view f, double& value)
{
    // The common MovieLens forms "4" and "3.5" without the general parser.
    if (f.size() == 1 && isDigit(f[0])) {
        value = f[0] - '0';
        return true;
    }
    if (f.size() == 3 && isDigit(f[0]) && f[1] == '.' && isDigit(f[2])) {
        value = (f[0] - '0') + (f[2] - '0') / 10.0;
        return true;
    }
    return parseNumberField(f, value);
}

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parseTimestampField(std::string_view f, int64_t& seconds)
{
    if (f.empty())
        return false;
    const char* p = f.data();
    const char* e = p + f.size();
    // Integer seconds, the common case.
    {
        const char* q = p;
        const bool negative = *q == '-';
        if (negative)
            ++q;
        if (q < e) {
            int64_t v = 0;
            const char* k = q;
            while (k < e && isDigit(*k) && k - q < 18)
                v = v * 10 + (*k++ - '0');
            if (k == e) {
                seconds = negative ? -v : v;
                return true;
            }
        }
    }
    // A date: YYYY-MM-DD[ HH:MM[:SS]][Z]
    if (f.size() >= 10 && f[4] == '-' && f[7] == '-') {
        const char* q = p;
        unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
        if (!parseDigits(q, e, 4, y) || *q++ != '-' || !parseDigits(q, e, 2, mo) || *q++ != '-' || !parseDigits(q, e, 2, d))
            return false;
        static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap ? 1u : 0u))
            return false; // 2020-02-31 is no date, not March 2
        if (q < e && (*q == ' ' || *q == 'T')) {
            ++q;
            if (!parseDigits(q, e, 2, h) || q >= e || *q++ != ':' || !parseDigits(q, e, 2, mi))
                return false;
            if (q < e && *q == ':') {
                ++q;
                if (!parseDigits(q, e, 2, s))
                    return false;
                if (q < e && *q == '.') // fractional seconds are dropped
                    for (++q; q < e && isDigit(*q); ++q) {
                    }
            }
            if (h > 23 || mi > 59 || s > 60)
                return false;
        }
        if (q < e && *q == 'Z')
            ++q;
        if (q != e)
            return false;
        seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        return true;
    }
    // Decimal seconds (RecBole writes timestamp:float).
    double v = 0;
    if (parseNumberField(f, v) && std::fabs(v) < 9e18) {
        seconds = static_cast<int64_t>(v);
        return true;
    }
    return false;
}

} // namespace reclab
