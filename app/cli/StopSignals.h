// SIGINT and SIGTERM routed to a handler for as long as the guard lives (a long command that
// stops cleanly on Ctrl+C), then back to the default.
#pragma once

#include <csignal>

namespace reclab::cli {

class StopSignals {
public:
    explicit StopSignals(void (*handler)(int))
    {
        std::signal(SIGINT, handler);
        std::signal(SIGTERM, handler);
    }
    ~StopSignals()
    {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
};

} // namespace reclab::cli
