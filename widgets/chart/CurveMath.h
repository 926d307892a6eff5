// The numerical side of the training charts, free of any drawing: TensorBoard-style smoothing
// and view-aware decimation.
#pragma once

#include <QPointF>
#include <QVector>

namespace reclab {

// Exponential moving average with TensorBoard's debiasing: s_t = w s_{t-1} + (1 - w) v_t,
// shown as s_t / (1 - w^t), so the start is not pulled towards zero. weight in [0, 1); 0
// returns the points unchanged. Non-finite values are passed through without entering the
// average.
QVector<double> smoothEma(const QVector<double>& values, double weight);

// The points of a curve sorted by x that fall in [xMin, xMax] (plus one on each side, so lines
// reach the edges), reduced to at most about 2 * buckets points: each x bucket keeps its
// lowest and highest point in order, so spikes survive any zoom level.
QVector<QPointF> decimateForView(const QVector<double>& xs, const QVector<double>& ys, double xMin, double xMax,
                                 int buckets);

// Index of the x nearest to x in a sorted vector; -1 when empty.
int nearestIndex(const QVector<double>& xs, double x);

} // namespace reclab
