#include "compare/PairedTests.h"

#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace reclab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double twoSidedNormal(double z) { return std::erfc(std::abs(z) / std::sqrt(2.0)); }

// P(W+ <= w) for n untied, non-zero differences: the count of subsets of {1..n} whose sum is
// at most w, over 2^n.
double exactSignedRankCdf(size_t n, double w)
{
    const size_t maxSum = n * (n + 1) / 2;
    std::vector<double> count(maxSum + 1, 0.0);
    count[0] = 1.0;
    for (size_t k = 1; k <= n; ++k)
        for (size_t s = maxSum; s >= k; --s)
            count[s] += count[s - k];
    const auto limit = static_cast<size_t>(std::floor(w + 1e-9));
    double below = 0.0;
    for (size_t s = 0; s <= std::min(limit, maxSum); ++s)
        below += count[s];
    return below / std::ldexp(1.0, static_cast<int>(n));
}

void tTest(const std::vector<double>& d, PairedTestResult& r)
{
    const double n = static_cast<double>(d.size());
    double ss = 0;
    for (const double x : d)
        ss += (x - r.meanDifference) * (x - r.meanDifference);
    const double sd = d.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
    if (!(sd > 0)) {
        r.t = r.tPValue = r.cohensDz = kNaN;
        r.ciLow = r.ciHigh = r.meanDifference;
        return;
    }
    const double se = sd / std::sqrt(n);
    const boost::math::students_t dist(n - 1);
    r.t = r.meanDifference / se;
    r.tPValue = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(dist, std::abs(r.t))));
    r.cohensDz = r.meanDifference / sd;
    const double q = boost::math::quantile(boost::math::complement(dist, 0.025));
    r.ciLow = r.meanDifference - q * se;
    r.ciHigh = r.meanDifference + q * se;
}

void wilcoxon(const std::vector<double>& d, PairedTestResult& r)
{
    std::vector<double> nonZero;
    for (const double x : d)
        if (x != 0.0)
            nonZero.push_back(x);
    const size_t n = nonZero.size();
    r.nonZero = n;
    if (n == 0) {
        r.w = r.z = r.wilcoxonPValue = r.rankBiserial = kNaN;
        return;
    }
    // Average ranks of |d|, and the tie groups' sizes for the variance correction.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::abs(nonZero[a]) < std::abs(nonZero[b]); });
    double plus = 0, minus = 0, tieTerm = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && std::abs(nonZero[order[j]]) == std::abs(nonZero[order[i]]))
            ++j;
        const double rank = (static_cast<double>(i) + static_cast<double>(j) + 1.0) / 2.0;
        for (size_t k = i; k < j; ++k)
            (nonZero[order[k]] > 0 ? plus : minus) += rank;
        const double t = static_cast<double>(j - i);
        tieTerm += t * (t * t - 1.0);
        i = j;
    }
    const double m = static_cast<double>(n);
    r.w = std::min(plus, minus);
    r.rankBiserial = (plus - minus) / (plus + minus);
    const bool zeros = n != d.size();
    if (n <= 50 && !zeros && tieTerm == 0.0) {
        r.exact = true;
        r.z = kNaN;
        r.wilcoxonPValue = std::min(1.0, 2.0 * exactSignedRankCdf(n, r.w));
        return;
    }
    const double mean = m * (m + 1.0) / 4.0;
    const double variance = (m * (m + 1.0) * (2.0 * m + 1.0) - 0.5 * tieTerm) / 24.0;
    r.z = variance > 0 ? (r.w - mean) / std::sqrt(variance) : kNaN;
    r.wilcoxonPValue = variance > 0 ? twoSidedNormal(r.z) : kNaN;
}

} // namespace

PairedTestResult pairedTests(const std::vector<double>& a, const std::vector<double>& b)
{
    if (a.size() != b.size())
        throw std::invalid_argument("paired samples differ in length");
    PairedTestResult r;
    r.pairs = a.size();
    if (a.empty()) {
        r.meanA = r.meanB = r.meanDifference = r.ciLow = r.ciHigh = kNaN;
        r.t = r.tPValue = r.cohensDz = r.w = r.z = r.wilcoxonPValue = r.rankBiserial = kNaN;
        return r;
    }
    std::vector<double> d(a.size());
    for (size_t i = 0; i < a.size(); ++i)
        d[i] = a[i] - b[i];
    const double n = static_cast<double>(a.size());
    r.meanA = std::accumulate(a.begin(), a.end(), 0.0) / n;
    r.meanB = std::accumulate(b.begin(), b.end(), 0.0) / n;
    r.meanDifference = std::accumulate(d.begin(), d.end(), 0.0) / n;
    tTest(d, r);
    wilcoxon(d, r);
    return r;
}

void pairByUser(const UserMetric& a, const UserMetric& b, std::vector<double>& outA, std::vector<double>& outB)
{
    outA.clear();
    outB.clear();
    size_t i = 0, j = 0;
    while (i < a.users.size() && j < b.users.size()) {
        if (a.users[i] < b.users[j]) {
            ++i;
        } else if (b.users[j] < a.users[i]) {
            ++j;
        } else {
            if (std::isfinite(a.values[i]) && std::isfinite(b.values[j])) {
                outA.push_back(a.values[i]);
                outB.push_back(b.values[j]);
            }
            ++i;
            ++j;
        }
    }
}

} // namespace reclab
