#include "compare/RankTests.h"

#include <boost/math/distributions/chi_squared.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace reclab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Studentized range q at 0.05 divided by sqrt(2), for 2..10 groups (Demšar 2006, Table 5a).
constexpr double kNemenyiQ05[] = {1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164};

} // namespace

std::vector<double> holmAdjusted(const std::vector<double>& p)
{
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
    std::vector<double> out(p.size());
    double running = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        running = std::max(running, std::min(1.0, static_cast<double>(p.size() - i) * p[order[i]]));
        out[order[i]] = running;
    }
    return out;
}

RankTestResult friedmanTest(const std::vector<std::vector<double>>& values, bool lowerIsBetter)
{
    const size_t k = values.size();
    if (k < 3 || k > 10)
        throw std::invalid_argument("the Friedman test here compares 3 to 10 runs");
    for (const auto& v : values)
        if (v.size() != values.front().size())
            throw std::invalid_argument("runs scored different numbers of users");
    RankTestResult r;
    r.meanRanks.assign(k, 0.0);
    double tieSum = 0;
    std::vector<size_t> order(k);
    std::vector<double> rank(k);
    for (size_t u = 0; u < values.front().size(); ++u) {
        bool finite = true;
        for (size_t j = 0; j < k; ++j)
            finite = finite && std::isfinite(values[j][u]);
        if (!finite)
            continue;
        ++r.users;
        // Rank 1 for the best value, ties averaged.
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return lowerIsBetter ? values[a][u] < values[b][u] : values[a][u] > values[b][u];
        });
        for (size_t i = 0; i < k;) {
            size_t e = i;
            while (e + 1 < k && values[order[e + 1]][u] == values[order[i]][u])
                ++e;
            const double t = static_cast<double>(e - i + 1);
            tieSum += t * t * t - t;
            for (size_t m = i; m <= e; ++m)
                rank[order[m]] = (static_cast<double>(i + e) / 2.0) + 1.0;
            i = e + 1;
        }
        for (size_t j = 0; j < k; ++j)
            r.meanRanks[j] += rank[j];
    }
    const double n = static_cast<double>(r.users), kk = static_cast<double>(k);
    double sumSquares = 0;
    for (const double s : r.meanRanks)
        sumSquares += s * s;
    for (double& s : r.meanRanks)
        s = r.users ? s / n : kNaN;
    const double correction = 1.0 - tieSum / (n * kk * (kk * kk - 1.0));
    if (r.users == 0 || !(correction > 0)) {
        r.chiSquare = r.pValue = kNaN;
    } else {
        r.chiSquare = (12.0 / (n * kk * (kk + 1.0)) * sumSquares - 3.0 * n * (kk + 1.0)) / correction;
        r.pValue = boost::math::cdf(boost::math::complement(boost::math::chi_squared(kk - 1.0), std::max(0.0, r.chiSquare)));
    }
    const double se = std::sqrt(kk * (kk + 1.0) / (6.0 * n));
    r.criticalDifference = r.users ? kNemenyiQ05[k - 2] * se : kNaN;
    std::vector<double> p;
    for (size_t a = 0; a < k; ++a)
        for (size_t b = a + 1; b < k; ++b) {
            RankTestResult::Pair pair;
            pair.a = a;
            pair.b = b;
            pair.z = r.users ? (r.meanRanks[a] - r.meanRanks[b]) / se : kNaN;
            pair.p = std::isfinite(pair.z) ? std::erfc(std::abs(pair.z) / std::sqrt(2.0)) : kNaN;
            r.pairs.push_back(pair);
            p.push_back(std::isfinite(pair.p) ? pair.p : 1.0);
        }
    const std::vector<double> holm = holmAdjusted(p);
    for (size_t i = 0; i < r.pairs.size(); ++i)
        r.pairs[i].holmP = std::isfinite(r.pairs[i].p) ? holm[i] : kNaN;
    return r;
}

std::vector<std::vector<double>> alignByUser(const std::vector<const UserMetric*>& metrics)
{
    std::vector<std::map<int32_t, double>> byUser(metrics.size());
    for (size_t m = 0; m < metrics.size(); ++m)
        for (size_t i = 0; i < metrics[m]->users.size(); ++i)
            if (std::isfinite(metrics[m]->values[i]))
                byUser[m][metrics[m]->users[i]] = metrics[m]->values[i];
    std::vector<std::vector<double>> out(metrics.size());
    if (metrics.empty())
        return out;
    for (const auto& [user, value] : byUser.front()) {
        bool everywhere = true;
        for (size_t m = 1; m < metrics.size() && everywhere; ++m)
            everywhere = byUser[m].count(user) > 0;
        if (!everywhere)
            continue;
        for (size_t m = 0; m < metrics.size(); ++m)
            out[m].push_back(byUser[m].at(user));
    }
    return out;
}

} // namespace reclab
