// Three or more runs scored on the same users: the Friedman test (Demšar 2006) on each user's
// ranking of the runs, with the tie correction scipy.stats.friedmanchisquare applies, and a
// post-hoc comparison of every pair of runs — z of the mean-rank difference with Holm-adjusted
// p-values — plus the Nemenyi critical difference at 0.05.
#pragma once

#include "runs/Metrics.h"

#include <cstddef>
#include <vector>

namespace reclab {

struct RankTestResult {
    size_t users = 0;               // users every run scored (finite values)
    std::vector<double> meanRanks;  // per run; 1 = the best of the runs for every user
    double chiSquare = 0, pValue = 0; // NaN when every user ties every run
    double criticalDifference = 0;  // Nemenyi at 0.05: mean ranks further apart differ
    struct Pair {
        size_t a = 0, b = 0;        // run indices, a < b
        double z = 0, p = 0, holmP = 0; // holmP: p adjusted for all pairs (Holm)
    };
    std::vector<Pair> pairs;
};

// values[run][user], all runs over the same users in the same order (non-finite values drop the
// user); lowerIsBetter orders ranks for errors. Throws std::invalid_argument with fewer than
// three runs, more than ten, or lengths that differ.
RankTestResult friedmanTest(const std::vector<std::vector<double>>& values, bool lowerIsBetter);

// Holm's step-down adjustment of p-values, in their order.
std::vector<double> holmAdjusted(const std::vector<double>& p);

// The users every metric holds, finite, in user order: [metric][user].
std::vector<std::vector<double>> alignByUser(const std::vector<const UserMetric*>& metrics);

} // namespace reclab
