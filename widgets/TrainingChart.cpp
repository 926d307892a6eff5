#include "TrainingChart.h"

#include <QChart>
#include <QLineSeries>
#include <QPen>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace reclab {

namespace {

// Min/max decimation: each bucket keeps its lowest and highest point, so spikes survive.
QVector<QPointF> decimate(const QVector<QPointF>& points, int maxPoints)
{
    if (points.size() <= maxPoints)
        return points;
    QVector<QPointF> out;
    const int buckets = maxPoints / 2;
    const double per = static_cast<double>(points.size()) / buckets;
    out.reserve(maxPoints);
    for (int b = 0; b < buckets; ++b) {
        const int first = static_cast<int>(b * per);
        const int last = std::min(static_cast<int>((b + 1) * per), static_cast<int>(points.size()));
        int lo = first, hi = first;
        for (int k = first; k < last; ++k) {
            if (points[k].y() < points[lo].y())
                lo = k;
            if (points[k].y() > points[hi].y())
                hi = k;
        }
        out.append(points[std::min(lo, hi)]);
        if (lo != hi)
            out.append(points[std::max(lo, hi)]);
    }
    return out;
}

void fitAxis(QValueAxis* axis, double lo, double hi, bool fromZero)
{
    if (!(lo <= hi))
        return;
    if (fromZero)
        lo = std::min(0.0, lo);
    const double pad = hi > lo ? (hi - lo) * 0.05 : std::max(std::fabs(hi) * 0.05, 0.01);
    axis->setRange(fromZero && lo >= 0 ? lo : lo - pad, hi + pad);
    axis->applyNiceNumbers(); // ticks on round values: 0.1, 0.2 rather than 0.17, 0.35
}

const QColor kMetricColours[] = {QColor(0xd6, 0x27, 0x28), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                                 QColor(0xff, 0x7f, 0x0e)};

} // namespace

TrainingChart::TrainingChart(QWidget* parent)
    : QChartView(parent), loss_(new QLineSeries), xAxis_(new QValueAxis), lossAxis_(new QValueAxis),
      metricAxis_(new QValueAxis)
{
    auto* c = new QChart;
    c->setTitle(tr("Training"));
    c->legend()->setAlignment(Qt::AlignBottom);
    xAxis_->setTitleText(tr("epoch"));
    lossAxis_->setTitleText(tr("training loss"));
    metricAxis_->setTitleText(tr("held-out metric"));
    c->addAxis(xAxis_, Qt::AlignBottom);
    c->addAxis(lossAxis_, Qt::AlignLeft);
    c->addAxis(metricAxis_, Qt::AlignRight);
    loss_->setName(tr("training loss"));
    loss_->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 1.5));
    c->addSeries(loss_);
    loss_->attachAxis(xAxis_);
    loss_->attachAxis(lossAxis_);
    setChart(c);
    setRenderHint(QPainter::Antialiasing);
    setMinimumSize(480, 320);
    flushTimer_.setInterval(40); // 25 Hz
    connect(&flushTimer_, &QTimer::timeout, this, &TrainingChart::flush);
    flushTimer_.start();
    beginRun(tr("Training"), {}, 1);
}

void TrainingChart::beginRun(const QString& title, const QStringList& metricNames, int epochs)
{
    chart()->setTitle(title);
    epochs_ = std::max(1, epochs);
    lossPoints_.clear();
    lossLow_ = lossHigh_ = 0.0;
    loss_->clear();
    for (auto* s : std::as_const(metricSeries_)) {
        chart()->removeSeries(s);
        delete s;
    }
    metricSeries_.clear();
    metricPoints_.clear();
    for (const auto& mark : std::as_const(lrMarks_)) {
        chart()->removeSeries(mark.second);
        delete mark.second;
    }
    lrMarks_.clear();
    int colour = 0;
    for (const QString& name : metricNames) {
        auto* s = new QLineSeries;
        s->setName(name);
        s->setPointsVisible(true);
        s->setPen(QPen(kMetricColours[colour++ % 4], 2.0));
        chart()->addSeries(s);
        s->attachAxis(xAxis_);
        s->attachAxis(metricAxis_);
        metricSeries_.insert(name, s);
        metricPoints_.insert(name, {});
    }
    xAxis_->setRange(0, epochs_);
    xAxis_->setTickType(QValueAxis::TicksDynamic);
    xAxis_->setTickAnchor(0);
    xAxis_->setTickInterval(epochs_ <= 10 ? 1.0 : std::ceil(epochs_ / 10.0));
    xAxis_->setLabelFormat(QStringLiteral("%.0f"));
    lossAxis_->setRange(0, 1);
    metricAxis_->setRange(0, 1);
    dirty_ = false;
}

int TrainingChart::metricPointCount(const QString& metric) const
{
    return static_cast<int>(metricPoints_.value(metric).size());
}

int TrainingChart::drawnLossPoints() const { return static_cast<int>(loss_->count()); }

int TrainingChart::drawnMetricPoints(const QString& metric) const
{
    const auto* s = metricSeries_.value(metric, nullptr);
    return s ? static_cast<int>(s->count()) : 0;
}

void TrainingChart::addBatch(const BatchProgress& p)
{
    const double x = (p.epoch - 1) + static_cast<double>(p.batch) / std::max<int64_t>(1, p.batchesPerEpoch);
    if (lossPoints_.isEmpty())
        lossLow_ = lossHigh_ = p.loss;
    lossLow_ = std::min(lossLow_, p.loss);
    lossHigh_ = std::max(lossHigh_, p.loss);
    lossPoints_.append(QPointF(x, p.loss));
    dirty_ = true;
}

void TrainingChart::addEpoch(const EpochStats& s)
{
    for (const auto& m : s.metrics) {
        const QString name = QString::fromStdString(m.name);
        if (metricPoints_.contains(name) && std::isfinite(m.value)) // undefined (NaN) values are not drawn
            metricPoints_[name].append(QPointF(s.epoch, m.value));
    }
    dirty_ = true;
}

void TrainingChart::markLearningRate(double x, double learningRate)
{
    auto* s = new QLineSeries;
    s->setName(tr("lr %1").arg(learningRate, 0, 'g', 4));
    QPen pen(QColor(0x55, 0x55, 0x55), 1.2, Qt::DashLine);
    s->setPen(pen);
    chart()->addSeries(s);
    s->attachAxis(xAxis_);
    s->attachAxis(lossAxis_);
    lrMarks_.append({x, s});
    dirty_ = true;
}

void TrainingChart::flush()
{
    if (!dirty_)
        return;
    dirty_ = false;
    loss_->replace(decimate(lossPoints_, kMaxDrawnPoints));
    if (!lossPoints_.isEmpty())
        fitAxis(lossAxis_, lossLow_, lossHigh_, true);
    for (const auto& mark : std::as_const(lrMarks_))
        mark.second->replace({QPointF(mark.first, lossAxis_->min()), QPointF(mark.first, lossAxis_->max())});
    double mlo = std::numeric_limits<double>::infinity(), mhi = -mlo;
    for (auto it = metricPoints_.cbegin(); it != metricPoints_.cend(); ++it) {
        metricSeries_.value(it.key())->replace(it.value());
        for (const auto& p : it.value()) {
            mlo = std::min(mlo, p.y());
            mhi = std::max(mhi, p.y());
        }
    }
    fitAxis(metricAxis_, mlo, mhi, true);
    // The axis grows with the run (a quarter ahead of the data), up to the planned epochs, so a
    // long run's first epochs are not squeezed against the left edge.
    double dataX = lossPoints_.isEmpty() ? 0.0 : lossPoints_.back().x();
    for (const auto& points : std::as_const(metricPoints_))
        if (!points.isEmpty())
            dataX = std::max(dataX, points.back().x());
    const double xMax = std::max(std::min<double>(epochs_, std::max(1.0, std::ceil(dataX * 1.25))), dataX);
    xAxis_->setRange(0, xMax);
    xAxis_->setTickInterval(xMax <= 10 ? 1.0 : std::ceil(xMax / 10.0));
}

} // namespace reclab
