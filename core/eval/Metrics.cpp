#include "eval/Metrics.h"

#include <cmath>
#include <stdexcept>

namespace reclab {

double metricOr(const MetricValues& values, const std::string& name, double fallback)
{
    for (const auto& m : values)
        if (m.name == name)
            return m.value;
    return fallback;
}

double hitRateAtK(const std::vector<int64_t>& ranks, int k)
{
    if (ranks.empty())
        return 0.0;
    size_t hits = 0;
    for (const int64_t r : ranks)
        hits += r < k ? 1 : 0;
    return static_cast<double>(hits) / static_cast<double>(ranks.size());
}

double ndcgAtK(const std::vector<int64_t>& ranks, int k)
{
    if (ranks.empty())
        return 0.0;
    double sum = 0.0;
    for (const int64_t r : ranks)
        if (r < k)
            sum += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    return sum / static_cast<double>(ranks.size());
}

namespace {
void checkSizes(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        throw std::invalid_argument("predictions and truth differ in length");
}
} // namespace

double rootMeanSquaredError(const std::vector<float>& predicted, const std::vector<float>& truth)
{
    checkSizes(predicted, truth);
    if (truth.empty())
        return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < truth.size(); ++i) {
        const double d = static_cast<double>(predicted[i]) - truth[i];
        sum += d * d;
    }
    return std::sqrt(sum / static_cast<double>(truth.size()));
}

double meanAbsoluteError(const std::vector<float>& predicted, const std::vector<float>& truth)
{
    checkSizes(predicted, truth);
    if (truth.empty())
        return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < truth.size(); ++i)
        sum += std::fabs(static_cast<double>(predicted[i]) - truth[i]);
    return sum / static_cast<double>(truth.size());
}

} // namespace reclab
