#include "OptionChecks.h"

#include "util/OptionLimits.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace reclab::cli {

namespace {

std::string shortNumber(long double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6Lg", v);
    return buf;
}

bool wholeNumber(const std::string& text, bool& negative, unsigned long long& magnitude)
{
    size_t k = 0;
    negative = false;
    if (k < text.size() && (text[k] == '+' || text[k] == '-'))
        negative = text[k++] == '-';
    if (k == text.size())
        return false;
    for (size_t j = k; j < text.size(); ++j)
        if (text[j] < '0' || text[j] > '9')
            return false;
    errno = 0;
    magnitude = std::strtoull(text.c_str() + k, nullptr, 10);
    return errno != ERANGE;
}

} // namespace

CLI::Validator numberIn(double min, double max, bool minOpen, bool maxOpen)
{
    const std::string range = rangeText(min, max, minOpen, maxOpen);
    const std::string spaced = range.empty() ? "" : " " + range;
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            char* end = nullptr;
            errno = 0;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || errno == ERANGE)
                return "expected a finite number" + spaced + ", got '" + text.substr(0, 40) + "'";
            if (v < min || v > max || (minOpen && v == min) || (maxOpen && v == max))
                return "expected a number" + spaced + ", got " + text.substr(0, 40);
            return {};
        },
        range.empty() ? "NUMBER" : "NUMBER " + range);
}

CLI::Validator wholeNumberIn(long double min, long double max)
{
    const std::string range = "from " + shortNumber(min) + " to " + shortNumber(max);
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            bool negative = false;
            unsigned long long magnitude = 0;
            if (!wholeNumber(text, negative, magnitude))
                return "expected a whole number " + range + ", got '" + text.substr(0, 40) + "'";
            const long double v = negative ? -static_cast<long double>(magnitude) : static_cast<long double>(magnitude);
            if (v < min || v > max)
                return "expected a whole number " + range + ", got " + text.substr(0, 40);
            return {};
        },
        "INT " + range);
}

CLI::Validator seedNumber()
{
    return CLI::Validator(
        [](std::string& text) -> std::string {
            bool negative = false;
            unsigned long long magnitude = 0;
            if (!wholeNumber(text, negative, magnitude) || (negative && magnitude != 0))
                return "expected a whole number from 0 to 18446744073709551615, got '" + text.substr(0, 40) + "'";
            return {};
        },
        "SEED 0 to 2^64-1");
}

CLI::Validator limitOf(const char* option)
{
    const NumberLimit& l = numberLimit(option);
    return numberIn(l.min, l.max, l.minOpen, l.maxOpen);
}

} // namespace reclab::cli
