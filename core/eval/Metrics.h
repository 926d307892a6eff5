// Evaluation metrics as plain functions over ranks and predictions (no torch, no Qt), so they
// can be checked against hand-computed cases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

struct MetricValue {
    std::string name; // e.g. "hr@10", "ndcg@10", "rmse"
    double value = 0.0;
};
using MetricValues = std::vector<MetricValue>;

// Lookup by name; returns fallback when absent.
double metricOr(const MetricValues& values, const std::string& name, double fallback);

// Ranks are 0-based positions of the held-out item among its candidates (0 = top).
double hitRateAtK(const std::vector<int64_t>& ranks, int k);
double ndcgAtK(const std::vector<int64_t>& ranks, int k); // one relevant item: 1/log2(rank+2)

double rootMeanSquaredError(const std::vector<float>& predicted, const std::vector<float>& truth);
double meanAbsoluteError(const std::vector<float>& predicted, const std::vector<float>& truth);

} // namespace reclab
