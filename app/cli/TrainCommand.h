// `reclab-cli train`: options, and running one recorded training with JSON or text output.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

namespace reclab::cli {

struct TrainOptions {
    std::string data = "sample";
    std::string model = "neumf";
    std::string graph; // a graph file instead of a model
    // The training options given, by option name ("batch" -> "512"): the fields of
    // runs/TrainFields.h that are flags of `train`.
    std::map<std::string, std::string> fields;
    bool pretrain = false;   // --pretrain (neumf's default anyway)
    bool noPretrain = false; // --no-pretrain
    bool dedup = false;          // --dedup
    bool keepDuplicates = false; // --keep-duplicates
    long long resume = 0;        // a stopped run to continue
    long long clone = 0;         // a run whose configuration (seed, graph, split) a new run repeats
    long long continueRun = 0;   // a finished run whose weights a new run on new data starts from
    std::string experiment, name;
    std::vector<std::string> tags;
    std::string db;
    bool json = false;
};

void addTrainCommand(CLI::App& app, TrainOptions& options);
// Exit codes: 0 finished, 1 the training failed, 2 bad options or data, 130 stopped by a signal.
int runTrain(const TrainOptions& options);

} // namespace reclab::cli
