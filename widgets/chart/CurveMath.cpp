#include "CurveMath.h"

#include <algorithm>
#include <cmath>

namespace reclab {

QVector<double> smoothEma(const QVector<double>& values, double weight)
{
    if (weight <= 0)
        return values;
    QVector<double> out(values.size());
    double last = 0;
    int n = 0;
    for (int k = 0; k < values.size(); ++k) {
        const double v = values[k];
        if (!std::isfinite(v)) {
            out[k] = v;
            continue;
        }
        last = last * weight + (1 - weight) * v;
        ++n;
        out[k] = last / (1 - std::pow(weight, n));
    }
    return out;
}

QVector<QPointF> decimateForView(const QVector<double>& xs, const QVector<double>& ys, double xMin, double xMax,
                                 int buckets)
{
    QVector<QPointF> out;
    if (xs.isEmpty())
        return out;
    // The visible slice, widened by one point on each side.
    int first = static_cast<int>(std::lower_bound(xs.begin(), xs.end(), xMin) - xs.begin());
    int last = static_cast<int>(std::upper_bound(xs.begin(), xs.end(), xMax) - xs.begin());
    first = std::max(0, first - 1);
    last = std::min(static_cast<int>(xs.size()), last + 1);
    const int count = last - first;
    if (count <= 0)
        return out;
    buckets = std::max(1, buckets);
    if (count <= 2 * buckets) {
        out.reserve(count);
        for (int k = first; k < last; ++k)
            out.append(QPointF(xs[k], ys[k]));
        return out;
    }
    out.reserve(2 * buckets + 2);
    const double width = (xMax - xMin) / buckets;
    int k = first;
    while (k < last) {
        // One bucket: the points whose x falls in the same column as xs[k].
        const double column = width > 0 ? std::floor((xs[k] - xMin) / width) : 0;
        const double end = xMin + (column + 1) * width;
        int lo = k, hi = k, j = k;
        for (; j < last && (xs[j] < end || width <= 0); ++j) {
            if (ys[j] < ys[lo])
                lo = j;
            if (ys[j] > ys[hi])
                hi = j;
        }
        if (j == k)
            j = k + 1; // guards against an x that does not advance the bucket
        out.append(QPointF(xs[std::min(lo, hi)], ys[std::min(lo, hi)]));
        if (lo != hi)
            out.append(QPointF(xs[std::max(lo, hi)], ys[std::max(lo, hi)]));
        k = j;
    }
    return out;
}

int nearestIndex(const QVector<double>& xs, double x)
{
    if (xs.isEmpty())
        return -1;
    const int i = static_cast<int>(std::lower_bound(xs.begin(), xs.end(), x) - xs.begin());
    if (i <= 0)
        return 0;
    if (i >= xs.size())
        return static_cast<int>(xs.size()) - 1;
    return x - xs[i - 1] <= xs[i] - x ? i - 1 : i;
}

} // namespace reclab
