// Checks of numeric command-line options, on the text as typed, so that every number is refused
// the same way with a short message: "nan" and "inf" are not numbers here, a value out of range
// names the range in a few characters, and a whole number beyond 64 bits is refused instead of
// being clamped.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>

namespace reclab::cli {

// A finite number in [min, max] (an open end with minOpen / maxOpen).
CLI::Validator numberIn(double min, double max = std::numeric_limits<double>::infinity(), bool minOpen = false,
                        bool maxOpen = false);
// A whole number in [min, max] that fits 64 bits.
CLI::Validator wholeNumberIn(long double min, long double max);
// A seed: a whole number from 0 to 2^64 - 1.
CLI::Validator seedNumber();
// The check of a real-valued option from the one table of limits (util/OptionLimits.h).
CLI::Validator limitOf(const char* option);

} // namespace reclab::cli
