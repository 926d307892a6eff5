// Live chart of a training run: the training loss every few batches (left axis) and the
// held-out metrics after each epoch (right axis), against fractional epochs. Points from the
// worker are buffered and pushed to the series with one replace() per 25 Hz tick; long
// curves are decimated for display while the buffers keep every point.
#pragma once

#include "CoreMetaTypes.h"

#include <QChartView>
#include <QHash>
#include <QStringList>
#include <QTimer>
#include <QVector>

class QLineSeries;
class QValueAxis;

namespace reclab {

class TrainingChart : public QChartView {
    Q_OBJECT
public:
    explicit TrainingChart(QWidget* parent = nullptr);

    // Clears the chart for a new run whose epochs report metricNames.
    void beginRun(const QString& title, const QStringList& metricNames, int epochs);
    int lossPointCount() const { return static_cast<int>(lossPoints_.size()); }
    int metricPointCount(const QString& metric) const;
    // Points currently drawn (after the last flush), for tests.
    int drawnLossPoints() const;
    int drawnMetricPoints(const QString& metric) const;
    int learningRateMarkCount() const { return static_cast<int>(lrMarks_.size()); }

public slots:
    void addBatch(const reclab::BatchProgress& progress);
    void addEpoch(const reclab::EpochStats& stats);
    // A dashed vertical line where the learning rate changed (x in epochs), named with the rate.
    void markLearningRate(double x, double learningRate);
    void flush();

private:
    static constexpr int kMaxDrawnPoints = 4000;

    QLineSeries* loss_;
    QHash<QString, QLineSeries*> metricSeries_;
    QValueAxis* xAxis_;
    QValueAxis* lossAxis_;
    QValueAxis* metricAxis_;
    QVector<QPointF> lossPoints_;
    double lossLow_ = 0.0, lossHigh_ = 0.0; // running range, so a tick never rescans the curve
    QHash<QString, QVector<QPointF>> metricPoints_;
    QVector<QPair<double, QLineSeries*>> lrMarks_;
    QTimer flushTimer_;
    bool dirty_ = false;
    int epochs_ = 1;
};

} // namespace reclab
