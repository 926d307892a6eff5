// Time helpers written once: elapsed seconds on the steady clock, and wall-clock stamps for
// the records (ISO 8601 UTC text, Unix seconds).
#pragma once

#include <chrono>
#include <string>

namespace reclab {

using SteadyClock = std::chrono::steady_clock;

inline double secondsSince(SteadyClock::time_point start)
{
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// "2026-12-04T15:04:37.123Z"; without milliseconds "2026-12-04T15:04:37Z".
std::string isoTimestampNow(bool milliseconds = true);
// Seconds since the Unix epoch, with the clock's fraction.
double unixTimeNow();

} // namespace reclab
