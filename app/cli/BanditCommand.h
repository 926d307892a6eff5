// `reclab-cli bandit`: ranking policies (random, popularity, ε-greedy, UCB1, Bayes-UCB, Thompson
// sampling, EXP3, LinUCB, the REINFORCE re-ranker and a base run's own ranking) run side by side
// on the replay of a dataset's log or on a simulator built from a stored run (rl/BanditRun.h).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct BanditCliOptions {
    std::string data, env = "replay", policies, db;
    int64_t baseRun = 0, steps = 0, every = 0;
    int slate = 5, arms = 100, candidates = 50;
    double like = 4, epsilon = 0.1, alpha = 1.0, learningRate = 0.01, temperature = 1.0, fatigue = 0.9, tasteShift = 1.0;
    uint64_t seed = 42;
    bool json = false;
};

void addBanditCommand(CLI::App& app, BanditCliOptions& options);
// Exit codes: 0 done, 1 the data or run cannot be read, 2 an option or combination refused.
int runBanditCommand(const BanditCliOptions& options);

} // namespace reclab::cli
