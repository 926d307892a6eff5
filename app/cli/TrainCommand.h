// `reclab-cli train`: options, and running one recorded training with JSON or text output.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace reclab::cli {

struct TrainOptions {
    std::string data = "sample";
    std::string model = "neumf";
    std::string graph; // a graph file instead of a model
    int epochs = 0; // 0: the model's default
    int batch = 0;
    double lr = 0;
    uint64_t seed = 42;
    bool seedGiven = false; // --seed was given
    int threads = 0;
    int negatives = 0;
    int factors = 0;
    double l2 = -1; // <0: the model's default
    std::string optimizer; // empty: adam
    double weightDecay = 0;
    double momentum = 0;
    std::string device = "cpu";
    std::string protocol;
    int fold = 0;
    bool pretrain = false;   // --pretrain (neumf's default anyway)
    bool noPretrain = false; // --no-pretrain
    std::vector<int64_t> mlpLayers;
    std::string similarity;
    int neighbours = 0;
    double shrink = -1;
    std::vector<int64_t> attentionLayers;
    std::string activation;
    int history = 0;
    double positiveRating = -1e300; // unset: the default, 4
    std::string validationMetric; // empty: no early stopping
    int patience = -1;            // <0: the default, 3
    double validationFraction = 0; // 0: the default, 0.1
    bool dedup = false;            // --dedup
    bool keepDuplicates = false;   // --keep-duplicates
    long long resume = 0;         // a stopped run to continue
    long long clone = 0;          // a run whose configuration (seed, graph, split) a new run repeats
    std::string experiment, name;
    std::vector<std::string> tags;
    std::string db;
    bool json = false;
};

void addTrainCommand(CLI::App& app, TrainOptions& options);
// Exit codes: 0 finished, 1 the training failed, 2 bad options or data, 130 stopped by a signal.
int runTrain(const TrainOptions& options);

} // namespace reclab::cli
