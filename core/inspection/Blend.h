// Blending two stored runs into a run of its own: a CF model and a content model (or any two
// models that score users and items without a history), trained on the same split with a
// validation part. The weight w of w · a + (1 − w) · b is chosen on that validation part, the
// blend is tested once on the test part, and the result is stored like any run (model "blend",
// its params naming the two runs and the weight), so it lists, compares and recommends.
#pragma once

#include "runs/Metrics.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reclab {

struct BlendResult {
    int64_t runId = 0; // the stored blend
    double weight = 0; // of the first run
    std::string validationKey;
    std::vector<std::pair<double, double>> validation; // (weight, validation metric) for each weight tried
    MetricValues test;
};

// Throws Error (ConfigError, StoreError) naming what does not fit: a run that did not finish, other
// data or another split, no validation part, a model that reads a history.
BlendResult blendRuns(const std::string& databasePath, int64_t runA, int64_t runB, const std::vector<double>& weights,
                      const std::string& dataOverride = {});

// The weights tried by default: 0, 0.1, ..., 1.
std::vector<double> defaultBlendWeights();

} // namespace reclab
