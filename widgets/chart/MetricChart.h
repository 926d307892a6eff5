// One chart of the training dashboard: a single curve key ("batch_loss", "val_ndcg@10") for
// every run shown, each run in its stable colour with the EMA-smoothed curve drawn over the
// raw one (faint). x by step, epoch or wall time; linear or log y. Left-drag zooms to a
// rectangle, the wheel zooms around the cursor, right- or middle-drag and the arrow keys pan,
// a double click or Home resets to the automatic range. Hovering shows a read-out of every
// run at the nearest point. Curves are decimated to the visible range and the plot's width on
// each refresh, so 100k points per run stay fluid; RunCurves keeps every point.
#pragma once

#include "chart/RunCurves.h"

#include <QChartView>
#include <QHash>
#include <QPointer>
#include <QVector>

class QAbstractAxis;
class QGraphicsLineItem;
class QGraphicsRectItem;
class QGraphicsTextItem;
class QLineSeries;
class QTextStream;
class QValueAxis;

namespace reclab {

class MetricChart : public QChartView {
    Q_OBJECT
public:
    explicit MetricChart(const QString& title, QWidget* parent = nullptr);
    ~MetricChart() override;

    void setKey(const QString& key);
    const QString& key() const { return key_; }
    // The runs to draw, in drawing order; pointers stay valid until the next setRuns.
    void setRuns(const QVector<const RunCurves*>& runs);
    void setSmoothing(double weight); // [0, 1)
    void setXMode(XAxisMode mode);
    void setLogScale(bool on);
    bool logScale() const { return log_; }
    void setShowLearningRates(bool on) { showRates_ = on; }

    // Redraws after the runs' data grew (cheap when nothing changed for a run).
    void refresh();
    // Back to the automatic range that follows the data.
    void resetView();
    bool isAutoRange() const { return autoRange_; }
    // A view in data coordinates (what a rubber band or the wheel produce), and a pan by a
    // fraction of the plot's size.
    void zoomTo(const QRectF& values);
    void panBy(double dxFraction, double dyFraction);
    QRectF view() const; // the axes' ranges: x from left to right, y from bottom to top

    // The hover read-out at x: per run, the nearest point's smoothed and raw values (HTML).
    QString readoutAt(double x) const;
    // Shows the read-out as hovering at widget position pos does.
    void showReadout(const QPoint& pos);

    // Every point of every run shown: run id, run, key, step, epoch, seconds, value, smoothed.
    void writeCsv(QTextStream& out) const;
    int drawnPoints(qint64 runId) const;
    int rawPoints(qint64 runId) const;

signals:
    void viewChanged();

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    // A run's curve prepared for drawing: x in the current mode, raw and smoothed values.
    struct Prepared {
        int count = -1;
        XAxisMode mode = XAxisMode::Step;
        double smoothing = -1;
        QVector<double> xs, ys, smooth;
        double emaLast = 0; // the running average behind smooth
        int emaCount = 0;
    };
    struct Drawn {
        QLineSeries* raw = nullptr;
        QLineSeries* smooth = nullptr;
        QVector<QLineSeries*> rateMarks;
        Prepared prepared;
    };

    const Prepared& prepare(const RunCurves& run, Drawn& drawn) const;
    void rebuildSeries();
    void makeYAxis();
    void fitAutomatic();
    void redraw();
    void setRanges(double x0, double x1, double y0, double y1);
    void setXTicks(double x0, double x1);
    QString xText(double x) const;
    QString yTitle() const;
    void fitYLabels();

    QString key_;
    QVector<const RunCurves*> runs_;
    QHash<qint64, Drawn> drawn_;
    QValueAxis* x_;
    QAbstractAxis* y_ = nullptr;
    XAxisMode mode_ = XAxisMode::Step;
    double smoothing_ = 0.6;
    bool log_ = false;
    bool showRates_ = false;
    bool autoRange_ = true;
    bool settingRange_ = false;
    bool panning_ = false;
    QPoint panFrom_;
    QGraphicsLineItem* cursor_ = nullptr;
    QGraphicsRectItem* readoutBox_ = nullptr;
    QGraphicsTextItem* readout_ = nullptr;
};

} // namespace reclab
