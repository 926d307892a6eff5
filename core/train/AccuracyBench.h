// The accuracy benchmark: every requested model trained on one dataset with several seeds,
// each on its usual protocol (ranking models: leave-one-out with 99 sampled negatives, or full
// ranking; rating models: MovieLens-100K's five folds when the data is ml-100k, else the
// random holdout; click-through models: the DIN protocol), reported as mean and standard deviation per metric, with the time per
// training epoch and per evaluation.
#pragma once

#include "data/Dataset.h"
#include "runs/Metrics.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

struct BenchOptions {
    std::vector<std::string> models; // empty: every registered model
    int seeds = 3;
    uint64_t firstSeed = 42;         // seeds firstSeed, firstSeed + 1, ...
    std::string rankingProtocol = "loo";
    int epochs = 0;                  // 0: each model's default
    int threads = 0;                 // evaluation threads (TrainConfig::threads)
    std::function<void(const std::string&)> progress; // one line per finished run
};

struct BenchRow {
    std::string model, displayName, protocol;
    std::vector<std::string> metricOrder;                 // as the model reports them
    std::map<std::string, std::vector<double>> metrics;   // one value per seed
    std::vector<double> trainSecondsPerEpoch, evalSeconds; // one value per seed
};

// Throws ConfigError for an unknown model name.
std::vector<BenchRow> runAccuracyBench(const std::shared_ptr<const Dataset>& dataset, const BenchOptions& options);

// Sample mean and standard deviation (n - 1; 0 for one value).
std::pair<double, double> meanAndStd(const std::vector<double>& values);

// A Markdown table: one row per model, "mean ± std" per metric, "n/a" where a metric does not
// apply to the model.
std::string benchMarkdown(const std::vector<BenchRow>& rows);
nlohmann::json benchJson(const std::vector<BenchRow>& rows);

} // namespace reclab
