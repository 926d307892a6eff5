// The Training tab: the live and stored runs shown, overlaid in two charts (the training loss
// every few batches above, a chosen evaluation metric per epoch below), with the controls
// TensorBoard users expect: EMA smoothing with the raw curve behind, x by step, epoch or wall
// time, log scale, zoom/pan/reset, hover read-out, and export of what is shown (PNG, SVG,
// CSV). Points from training threads are buffered and drawn at most 25 times a second.
#pragma once

#include "CoreMetaTypes.h"
#include "chart/RunCurves.h"

#include <QTimer>
#include <QWidget>

#include <map>
#include <set>

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QToolButton;

namespace reclab {

class MetricChart;

class TrainingDashboard : public QWidget {
    Q_OBJECT
public:
    explicit TrainingDashboard(QWidget* parent = nullptr);

    // A run that is starting: its curves fill as its events arrive.
    void addLiveRun(qint64 runId, const QString& label);
    void finishRun(qint64 runId);
    // A shown run continues training (resumed): its curves stay and grow with the new epochs.
    void continueRun(qint64 runId, const QString& label);
    // A stored run's curves from the experiment database; false (with error) when it cannot be read.
    bool addStoredRun(const QString& databasePath, qint64 runId, QString* error = nullptr);
    // The same, read in a worker thread (a long run holds hundreds of thousands of points): the
    // run appears when read (storedRunShown) unless it was added meanwhile, or storedRunFailed.
    void showStoredRun(const QString& databasePath, qint64 runId);
    bool isLoading(qint64 runId) const { return loading_.count(runId) > 0; }
    void removeRun(qint64 runId);
    // Drops every run that is no longer training.
    void clearFinished();
    bool hasRun(qint64 runId) const { return runs_.count(runId) > 0; }
    QList<qint64> runIds() const;
    const RunCurves* run(qint64 runId) const;
    int pointCount(qint64 runId, const QString& key) const;

    MetricChart* lossChart() const { return loss_; }
    MetricChart* metricChart() const { return metric_; }
    QComboBox* metricCombo() const { return metricCombo_; }
    QSlider* smoothingSlider() const { return smoothing_; }
    QComboBox* xAxisCombo() const { return xAxis_; }
    QCheckBox* logScaleCheck() const { return logScale_; }

    // The two charts beside each other (the Compare tab, where a table shares the height)
    // instead of one above the other.
    void setChartsSideBySide(bool on);

    // Exports what is shown: both charts as one picture, or every point of every run shown.
    bool exportPng(const QString& path, QString* error = nullptr);
    bool exportSvg(const QString& path, QString* error = nullptr);
    bool exportCsv(const QString& path, QString* error = nullptr) const;
    // Asks for a file and exports to it: "png", "svg" or "csv".
    void exportAs(const QString& suffix);

public slots:
    void addBatch(qint64 runId, const reclab::BatchProgress& progress);
    void addEpoch(qint64 runId, const reclab::EpochStats& stats);
    // Draws what arrived since the last tick (the timer calls it; tests may too).
    void flush();

signals:
    void runsChanged();
    void storedRunShown(qint64 runId);
    void storedRunFailed(qint64 runId, const QString& error);

private:
    // Reads a stored run (any thread); throws std::exception when it cannot.
    static RunCurves readStoredRun(const QString& databasePath, qint64 runId);
    void showRuns();
    void fillMetricKeys();
    void applyMetricKey();
    QWidget* chartsArea() const { return charts_; }

    std::map<qint64, RunCurves> runs_;
    std::set<qint64> loading_;
    QHash<qint64, double> lastLearningRate_;
    MetricChart* loss_;
    MetricChart* metric_;
    QWidget* charts_;
    QComboBox* metricCombo_;
    QSlider* smoothing_;
    QLabel* smoothingLabel_;
    QComboBox* xAxis_;
    QCheckBox* logScale_;
    QToolButton* export_;
    QTimer flushTimer_;
    bool dirty_ = false;
    bool keysDirty_ = false;
    QString userMetric_; // the metric the user picked; empty: the first one every shown run has
};

} // namespace reclab
