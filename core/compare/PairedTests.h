// Paired significance tests for two runs scored on the same users: the paired t-test and the
// Wilcoxon signed-rank test, with p-values (two-sided) and effect sizes. Conventions follow
// scipy.stats.ttest_rel and scipy.stats.wilcoxon (zero differences dropped, tie-corrected
// normal approximation, exact distribution for up to 50 pairs without ties), which the tests
// check against.
#pragma once

#include "runs/Metrics.h"

#include <cstddef>
#include <vector>

namespace reclab {

struct PairedTestResult {
    size_t pairs = 0;            // users scored by both runs (finite values)
    double meanA = 0, meanB = 0; // means over those users
    double meanDifference = 0;   // mean of a - b
    double ciLow = 0, ciHigh = 0; // 95% confidence interval of the mean difference (t)
    // Paired t-test: t with pairs - 1 degrees of freedom, its p-value and Cohen's d_z (mean
    // difference / standard deviation of the differences). NaN when the differences do not vary.
    double t = 0, tPValue = 0, cohensDz = 0;
    // Wilcoxon signed-rank: W (the smaller of the signed rank sums), z of the normal
    // approximation (NaN when exact), p-value and the matched-pairs rank-biserial correlation
    // (W+ - W-) / (W+ + W-), in [-1, 1], positive when a is larger. NaN when all differences are 0.
    size_t nonZero = 0;
    double w = 0, z = 0, wilcoxonPValue = 0, rankBiserial = 0;
    bool exact = false;
};

// a[i] and b[i] belong to the same user. Throws std::invalid_argument when the lengths differ.
PairedTestResult pairedTests(const std::vector<double>& a, const std::vector<double>& b);

// The values of the users both metrics hold, both finite, in user order.
void pairByUser(const UserMetric& a, const UserMetric& b, std::vector<double>& outA, std::vector<double>& outB);

} // namespace reclab
