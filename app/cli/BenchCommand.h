// `reclab-cli bench accuracy`: the models side by side on one dataset, several seeds, mean ±
// std per metric, as a Markdown table (or JSON). `reclab-cli bench ranking`: the time of one
// full-ranking evaluation of every test user (scores of all items, seen items excluded,
// ranks and top-K metrics), median of several. `reclab-cli bench speed`: NeuMF's training
// throughput (samples/s) on a device at several batch sizes, timed over a fixed span of each
// run's steady state, for datasets too large to time whole epochs of at every size.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace reclab::cli {

struct BenchCliOptions {
    std::string data;
    int seeds = 3;
    std::vector<std::string> models;
    int epochs = 0;
    std::string protocol = "loo";
    int threads = 0;
    bool json = false;
    std::string out;
    // bench ranking
    std::string model = "neumf";
    int repeat = 10;
    bool defaults = false; // the model's default sizes instead of the NCF paper's
    // bench speed
    std::string device = "cpu";
    std::vector<int> batches{256};
    double seconds = 20.0;
    int negatives = 4;
    int processes = 1;               // ranks on this machine (dist/)
    std::string exchange = "rows";   // how embedding gradients travel between them
};

void addBenchCommand(CLI::App& app, BenchCliOptions& options);
// Exit codes: 0 done, 1 a run failed, 2 bad options or data.
int runBench(const BenchCliOptions& options);
int runRankingBench(const BenchCliOptions& options);
int runSpeedBench(const BenchCliOptions& options);

} // namespace reclab::cli
