// `reclab-cli replay`: the data's last days replayed one by one, a model updated after each day
// against one retrained from scratch (train/Replay.h).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct ReplayCliOptions {
    std::string model = "gmf", data = "sample", device = "cpu";
    int days = 14, updateEpochs = 2, epochs = 0, threads = 0, negatives = 100;
    double earlierRows = 4;
    uint64_t seed = 42;
    bool noRetrain = false, json = false;
};

void addReplayCommand(CLI::App& app, ReplayCliOptions& options);
// Exit codes: 0 done, 1 the data cannot be read, 2 a model or option the replay refuses.
int runReplay(const ReplayCliOptions& options);

} // namespace reclab::cli
