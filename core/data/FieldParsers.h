// Parsers for single fields of interaction files, written for the hot loop of the loaders:
// no allocation, no locale, whole-field matches only.
#pragma once

#include <cstdint>
#include <string_view>

namespace reclab {

enum class IdKind {
    Small,   // a non-negative integer below 2^31 without leading zeros: stored as its value
    Text,    // anything else that is a usable id: interned as text
    TooLong, // all digits but beyond 64 bits: rejected
};
IdKind classifyId(std::string_view field, int32_t& value);

// A finite number (ratings may be written "4", "3.5", "4.0e0"); false when the field is not one.
bool parseRatingField(std::string_view field, double& value);
// Whether a parsed number stays finite as the 32-bit float ratings are kept in (1e308 does not).
bool fitsFloat(double value);
// Any finite number, for sniffing.
bool parseNumberField(std::string_view field, double& value);
// Unix seconds (integer or decimal, truncated), or an ISO date "YYYY-MM-DD" with an optional
// time "HH:MM[:SS]" after a space or 'T' and an optional 'Z', read as UTC.
bool parseTimestampField(std::string_view field, int64_t& seconds);
// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);

} // namespace reclab
