#include "util/Clock.h"

#include <cstdio>
#include <ctime>

namespace reclab {

std::string isoTimestampNow(bool milliseconds)
{
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    if (milliseconds)
        std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
    else
        std::snprintf(out, sizeof out, "%sZ", buf);
    return out;
}

double unixTimeNow()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace reclab
