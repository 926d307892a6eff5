#include "util/OptionLimits.h"

#include "util/Error.h"
#include "util/Words.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace reclab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

const NumberLimit kLimits[] = {
    {"lr", 0.0, 10.0, true, false},
    {"l2", 0.0, kInf},
    {"weight-decay", 0.0, 1.0},
    {"momentum", 0.0, 1.0, false, true},
    {"label-smoothing", 0.0, 1.0, false, true},
    {"shrink", 0.0, kInf},
    {"positive-rating", -kInf, kInf},
    {"validation-fraction", 0.0, 0.9, true, false},
    {"test-fraction", 0.0, 1.0, true, true},
    {"cold-share", 0.0, 0.9, true, false},
    {"pretrain-alpha", 0.0, 1.0},
    {"threshold", 0.0, kInf},
};

} // namespace

const NumberLimit& numberLimit(const std::string& option)
{
    for (const auto& limit : kLimits)
        if (option == limit.option)
            return limit;
    throw std::logic_error("no number limit for option " + option);
}

std::string rangeText(double min, double max, bool minOpen, bool maxOpen)
{
    if (std::isinf(min) && std::isinf(max))
        return "";
    if (std::isinf(max))
        return (minOpen ? "above " : "") + shortNumber(min) + (minOpen ? "" : " or more");
    if (minOpen && maxOpen)
        return "between " + shortNumber(min) + " and " + shortNumber(max);
    if (minOpen)
        return "above " + shortNumber(min) + " and up to " + shortNumber(max);
    return "from " + shortNumber(min) + (maxOpen ? " to below " : " to ") + shortNumber(max);
}

std::string numberProblem(const NumberLimit& l, double value)
{
    std::string range = rangeText(l.min, l.max, l.minOpen, l.maxOpen);
    if (!range.empty())
        range = " " + range;
    if (!std::isfinite(value))
        return "expected a finite number" + range;
    if (value < l.min || value > l.max || (l.minOpen && value == l.min) || (l.maxOpen && value == l.max))
        return "expected a number" + range + ", got " + shortNumber(value);
    return {};
}

void requireNumber(const std::string& option, double value)
{
    if (const std::string problem = numberProblem(numberLimit(option), value); !problem.empty())
        throw ConfigError(option, problem);
}

} // namespace reclab
