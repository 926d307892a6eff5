#include "chart/MetricChart.h"

#include "chart/CurveMath.h"

#include <QChart>
#include <QGraphicsLineItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QGraphicsTextItem>
#include <QKeyEvent>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QPen>
#include <QTextStream>
#include <QValueAxis>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace reclab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

QString csvQuoted(QString text)
{
    return QLatin1Char('"') + text.replace(QLatin1Char('"'), QLatin1String("\"\"")) + QLatin1Char('"');
}

QString valueText(double v)
{
    return std::isfinite(v) ? QString::number(v, 'g', 5) : QStringLiteral("n/a");
}

} // namespace

// The view is given its chart when it is made: QChartView(parent) makes a chart of its own, which
// setChart() would release, not delete (LeakSanitizer found one chart leaked per MetricChart).
MetricChart::MetricChart(const QString& title, QWidget* parent) : QChartView(new QChart, parent), x_(new QValueAxis)
{
    QChart* c = chart();
    c->setTitle(title);
    c->legend()->setAlignment(Qt::AlignBottom);
    c->addAxis(x_, Qt::AlignBottom);
    makeYAxis();
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::RectangleRubberBand);
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(360, 160); // two charts, a banner and a table fit a 800-pixel-high window
    connect(x_, &QValueAxis::rangeChanged, this, [this](qreal x0, qreal x1) {
        if (settingRange_)
            return;
        autoRange_ = false; // a rubber band or a scroll moved the view
        settingRange_ = true;
        setXTicks(x0, x1);
        settingRange_ = false;
        redraw();
        emit viewChanged();
    });

    cursor_ = new QGraphicsLineItem;
    cursor_->setPen(QPen(QColor(0, 0, 0, 90), 1, Qt::DotLine));
    cursor_->setZValue(20);
    readoutBox_ = new QGraphicsRectItem;
    readoutBox_->setBrush(QColor(255, 255, 255, 235));
    readoutBox_->setPen(QPen(QColor(0x99, 0x99, 0x99)));
    readoutBox_->setZValue(21);
    readout_ = new QGraphicsTextItem;
    readout_->setZValue(22);
    for (QGraphicsItem* item : {static_cast<QGraphicsItem*>(cursor_), static_cast<QGraphicsItem*>(readoutBox_),
                                static_cast<QGraphicsItem*>(readout_)}) {
        scene()->addItem(item);
        item->hide();
    }
    setXMode(XAxisMode::Step);
}

MetricChart::~MetricChart() = default;

void MetricChart::setKey(const QString& key)
{
    if (key == key_)
        return;
    key_ = key;
    for (auto& d : drawn_)
        d.prepared = {};
    autoRange_ = true;
    refresh();
}

void MetricChart::setRuns(const QVector<const RunCurves*>& runs)
{
    runs_ = runs;
    rebuildSeries();
    refresh();
}

void MetricChart::setSmoothing(double weight)
{
    smoothing_ = std::clamp(weight, 0.0, 0.999);
    refresh();
}

void MetricChart::setXMode(XAxisMode mode)
{
    mode_ = mode;
    x_->setTitleText(mode == XAxisMode::Step ? tr("step") : mode == XAxisMode::Epoch ? tr("epoch") : tr("wall time (s)"));
    autoRange_ = true;
    refresh();
}

void MetricChart::setLogScale(bool on)
{
    if (on == log_)
        return;
    log_ = on;
    makeYAxis();
    autoRange_ = true;
    refresh();
}

void MetricChart::makeYAxis()
{
    if (y_) {
        chart()->removeAxis(y_);
        delete y_;
    }
    if (log_) {
        auto* axis = new QLogValueAxis;
        axis->setBase(10);
        axis->setLabelFormat(QStringLiteral("%g"));
        axis->setMinorTickCount(8);
        connect(axis, &QLogValueAxis::rangeChanged, this, [this] {
            if (!settingRange_)
                autoRange_ = false;
        });
        y_ = axis;
    } else {
        auto* axis = new QValueAxis;
        connect(axis, &QValueAxis::rangeChanged, this, [this] {
            if (!settingRange_)
                autoRange_ = false;
        });
        y_ = axis;
    }
    y_->setTitleText(yTitle());
    chart()->addAxis(y_, Qt::AlignLeft);
    for (auto& d : drawn_) {
        for (QLineSeries* s : {d.raw, d.smooth})
            s->attachAxis(y_);
        for (QLineSeries* s : d.rateMarks)
            s->attachAxis(y_);
    }
}

void MetricChart::rebuildSeries()
{
    for (auto& d : drawn_) {
        for (QLineSeries* s : {d.raw, d.smooth})
            delete s;
        qDeleteAll(d.rateMarks);
    }
    drawn_.clear();
    for (const RunCurves* run : std::as_const(runs_)) {
        Drawn d;
        d.raw = new QLineSeries;
        d.smooth = new QLineSeries;
        QColor faint = run->colour;
        faint.setAlpha(70);
        d.raw->setPen(QPen(faint, 1.0));
        d.smooth->setPen(QPen(run->colour, 2.0, run->pen));
        d.smooth->setName(run->label);
        for (QLineSeries* s : {d.raw, d.smooth}) {
            chart()->addSeries(s);
            s->attachAxis(x_);
            s->attachAxis(y_);
        }
        const auto markers = chart()->legend()->markers(d.raw);
        for (QLegendMarker* m : markers)
            m->setVisible(false);
        if (showRates_) {
            for (int k = 0; k < run->learningRateChanges.size(); ++k) {
                auto* mark = new QLineSeries;
                mark->setPen(QPen(run->colour, 1.2, Qt::DashLine));
                chart()->addSeries(mark);
                mark->attachAxis(x_);
                mark->attachAxis(y_);
                for (QLegendMarker* m : chart()->legend()->markers(mark))
                    m->setVisible(false);
                d.rateMarks.append(mark);
            }
        }
        drawn_.insert(run->runId, d);
    }
}

const MetricChart::Prepared& MetricChart::prepare(const RunCurves& run, Drawn& drawn) const
{
    Prepared& p = drawn.prepared;
    const auto it = run.curves.constFind(key_);
    const int count = it == run.curves.cend() ? 0 : static_cast<int>(it->size());
    if (p.count == count && p.mode == mode_ && p.smoothing == smoothing_)
        return p;
    // Live curves only grow: new points extend what is prepared (and the running average);
    // anything else starts over.
    const bool extend = p.mode == mode_ && p.smoothing == smoothing_ && p.count >= 0 && p.count < count;
    if (!extend) {
        p = Prepared{};
        p.mode = mode_;
        p.smoothing = smoothing_;
        p.count = 0;
    }
    for (int k = p.count; k < count; ++k) {
        const CurvePoint& point = (*it)[k];
        if (!std::isfinite(point.value))
            continue; // undefined metrics are not drawn
        p.xs.append(point.x(mode_));
        p.ys.append(point.value);
        // TensorBoard's debiased EMA (smoothEma), one point at a time.
        if (smoothing_ > 0) {
            p.emaLast = p.emaLast * smoothing_ + (1 - smoothing_) * point.value;
            ++p.emaCount;
            p.smooth.append(p.emaLast / (1 - std::pow(smoothing_, p.emaCount)));
        } else {
            p.smooth.append(point.value);
        }
    }
    p.count = count;
    return p;
}

void MetricChart::refresh()
{
    if (y_ && y_->titleText() != yTitle())
        y_->setTitleText(yTitle());
    for (const RunCurves* run : std::as_const(runs_))
        if (drawn_.contains(run->runId) && showRates_ && drawn_[run->runId].rateMarks.size() != run->learningRateChanges.size()) {
            rebuildSeries();
            break;
        }
    for (const RunCurves* run : std::as_const(runs_))
        prepare(*run, drawn_[run->runId]);
    if (autoRange_)
        fitAutomatic();
    redraw();
}

void MetricChart::fitAutomatic()
{
    double x0 = kInf, x1 = -kInf, y0 = kInf, y1 = -kInf;
    for (const auto& d : std::as_const(drawn_)) {
        const Prepared& p = d.prepared;
        if (p.xs.isEmpty())
            continue;
        x0 = std::min(x0, p.xs.front());
        x1 = std::max(x1, p.xs.back());
        for (int k = 0; k < p.ys.size(); ++k) {
            const double v = p.ys[k];
            if (log_ && v <= 0)
                continue;
            y0 = std::min(y0, v);
            y1 = std::max(y1, v);
        }
    }
    if (!(x0 <= x1)) {
        x0 = 0;
        x1 = 1;
    }
    x0 = std::min(0.0, x0);
    if (x1 <= x0)
        x1 = x0 + 1;
    if (!(y0 <= y1)) {
        y0 = log_ ? 0.1 : 0;
        y1 = 1;
    }
    if (log_) {
        y0 /= 1.2;
        y1 *= 1.2;
    } else {
        const double pad = y1 > y0 ? (y1 - y0) * 0.05 : std::max(std::fabs(y1) * 0.05, 0.01);
        y0 -= pad;
        y1 += pad;
    }
    setRanges(x0, x1, y0, y1);
    settingRange_ = true;
    if (!log_)
        static_cast<QValueAxis*>(y_)->applyNiceNumbers();
    settingRange_ = false;
    fitYLabels();
}

void MetricChart::fitYLabels()
{
    // As many decimals as the tick spacing needs: a run of one epoch spans a few thousandths,
    // where a fixed format would print the same label at every tick (or cut them).
    if (log_)
        return;
    auto* axis = static_cast<QValueAxis*>(y_);
    const double spacing = (axis->max() - axis->min()) / std::max(1, axis->tickCount() - 1);
    const int decimals = spacing > 0 ? std::clamp(static_cast<int>(std::ceil(-std::log10(spacing) - 1e-9)), 0, 6) : 2;
    axis->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
}

void MetricChart::setXTicks(double x0, double x1)
{
    // Ticks on round values (1, 2 or 5 times a power of ten: 2000, 4000 rather than 2093, 4186)
    // without stretching the axis past the data; set before a range, so a wide range never
    // meets a narrow range's interval (hundreds of thousands of tick items).
    // About one tick per 75 pixels of plot, at most 6, so a narrow chart's labels are not elided.
    const double width = chart()->plotArea().width();
    const double ticks = width > 0 ? std::clamp(width / 75.0, 2.0, 6.0) : 6.0;
    const double rough = std::max((x1 - x0) / ticks, 1e-9);
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    const double f = rough / power;
    const double step = f < 1.5 ? power : f < 3.5 ? 2 * power : f < 7.5 ? 5 * power : 10 * power;
    x_->setTickType(QValueAxis::TicksDynamic);
    x_->setTickAnchor(0);
    x_->setTickInterval(step);
    // Labels as precise as the ticks are apart (epochs 0.5 apart, never "0 0 1 1").
    const int decimals = step >= 1 ? 0 : std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
    x_->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
}

void MetricChart::setRanges(double x0, double x1, double y0, double y1)
{
    settingRange_ = true;
    setXTicks(x0, x1);
    x_->setRange(x0, x1);
    if (log_)
        static_cast<QLogValueAxis*>(y_)->setRange(std::max(y0, 1e-12), std::max(y1, 2e-12));
    else
        static_cast<QValueAxis*>(y_)->setRange(y0, y1);
    settingRange_ = false;
    fitYLabels();
}

QRectF MetricChart::view() const
{
    const double y0 = log_ ? static_cast<QLogValueAxis*>(y_)->min() : static_cast<QValueAxis*>(y_)->min();
    const double y1 = log_ ? static_cast<QLogValueAxis*>(y_)->max() : static_cast<QValueAxis*>(y_)->max();
    return QRectF(QPointF(x_->min(), y0), QPointF(x_->max(), y1));
}

void MetricChart::redraw()
{
    // A min/max pair per two pixels: the drawn line keeps every peak a pixel column can show, and
    // Qt Charts (which strokes each series' outline for hover tests) has half the points to lay out.
    const int buckets = std::max(50, static_cast<int>(chart()->plotArea().width()) / 2);
    const QRectF v = view();
    for (const RunCurves* run : std::as_const(runs_)) {
        Drawn& d = drawn_[run->runId];
        const Prepared& p = d.prepared;
        QVector<double> ys = p.ys, smooth = p.smooth;
        if (log_) {
            // A log axis cannot show zero or negative values: they are left out.
            for (auto* vs : {&ys, &smooth})
                for (double& y : *vs)
                    if (y <= 0)
                        y = std::numeric_limits<double>::quiet_NaN();
        }
        const bool smoothing = smoothing_ > 0;
        d.raw->setVisible(smoothing);
        if (smoothing)
            d.raw->replace(decimateForView(p.xs, ys, v.left(), v.right(), buckets));
        d.smooth->replace(decimateForView(p.xs, smooth, v.left(), v.right(), buckets));
        d.smooth->setPointsVisible(p.xs.size() <= 60);
        for (int k = 0; k < d.rateMarks.size() && k < run->learningRateChanges.size(); ++k) {
            const double x = run->learningRateChanges[k].x(mode_);
            d.rateMarks[k]->replace({QPointF(x, v.top()), QPointF(x, v.bottom())});
        }
    }
}

void MetricChart::resetView()
{
    autoRange_ = true;
    refresh();
    emit viewChanged();
}

void MetricChart::zoomTo(const QRectF& values)
{
    const QRectF r = values.normalized();
    if (r.width() <= 0 || r.height() <= 0)
        return;
    autoRange_ = false;
    setRanges(r.left(), r.right(), r.top(), r.bottom());
    redraw();
    emit viewChanged();
}

void MetricChart::panBy(double dxFraction, double dyFraction)
{
    const QRectF plot = chart()->plotArea();
    chart()->scroll(dxFraction * plot.width(), dyFraction * plot.height()); // x's rangeChanged redraws
}

QString MetricChart::yTitle() const
{
    // The per-batch loss is what the chart's title says; a short axis title is never cut.
    return key_ == QLatin1String("batch_loss") ? tr("loss") : key_;
}

QString MetricChart::xText(double x) const
{
    if (mode_ == XAxisMode::Step)
        return tr("step %1").arg(QLocale().toString(static_cast<qlonglong>(std::llround(x))));
    if (mode_ == XAxisMode::Epoch)
        return tr("epoch %1").arg(x, 0, 'f', 2);
    const int s = static_cast<int>(std::lround(x));
    return tr("%1:%2 elapsed").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString MetricChart::readoutAt(double x) const
{
    QString html = QStringLiteral("<b>%1</b>").arg(xText(x).toHtmlEscaped());
    for (const RunCurves* run : runs_) {
        const auto it = drawn_.constFind(run->runId);
        if (it == drawn_.cend())
            continue;
        const Prepared& p = it->prepared;
        const int k = nearestIndex(p.xs, x);
        if (k < 0)
            continue;
        html += QStringLiteral("<br><span style='color:%1'>&#9679;</span> %2: %3")
                    .arg(run->colour.name(), run->label.toHtmlEscaped(), valueText(p.smooth[k]));
        if (smoothing_ > 0)
            html += QStringLiteral(" <span style='color:#777'>(raw %1 at %2)</span>")
                        .arg(valueText(p.ys[k]), xText(p.xs[k]).toHtmlEscaped());
    }
    return html;
}

void MetricChart::showReadout(const QPoint& pos)
{
    const QPointF inChart = chart()->mapFromScene(mapToScene(pos));
    const QRectF plot = chart()->plotArea();
    if (!plot.contains(inChart) || runs_.isEmpty()) {
        cursor_->hide();
        readout_->hide();
        readoutBox_->hide();
        return;
    }
    const double x = x_->min() + (inChart.x() - plot.left()) / plot.width() * (x_->max() - x_->min());
    readout_->setHtml(readoutAt(x));
    const QPointF top = chart()->mapToScene(QPointF(inChart.x(), plot.top()));
    const QPointF bottom = chart()->mapToScene(QPointF(inChart.x(), plot.bottom()));
    cursor_->setLine(QLineF(top, bottom));
    // The box sits beside the cursor, on the side with room.
    const QRectF text = readout_->boundingRect();
    const QPointF scenePos = mapToScene(pos);
    double left = scenePos.x() + 14;
    if (left + text.width() > chart()->mapToScene(plot.topRight()).x())
        left = scenePos.x() - 14 - text.width();
    readout_->setPos(left, top.y() + 4);
    readoutBox_->setRect(QRectF(readout_->pos(), text.size()));
    for (QGraphicsItem* item : {static_cast<QGraphicsItem*>(cursor_), static_cast<QGraphicsItem*>(readoutBox_),
                                static_cast<QGraphicsItem*>(readout_)})
        item->show();
}

void MetricChart::writeCsv(QTextStream& out) const
{
    for (const RunCurves* run : runs_) {
        const auto it = run->curves.constFind(key_);
        if (it == run->curves.cend())
            continue;
        QVector<double> values;
        values.reserve(it->size());
        for (const CurvePoint& p : *it)
            values.append(p.value);
        const QVector<double> smooth = smoothEma(values, smoothing_);
        for (int k = 0; k < it->size(); ++k) {
            const CurvePoint& p = (*it)[k];
            out << run->runId << ',' << csvQuoted(run->label) << ',' << csvQuoted(key_) << ','
                << QString::number(p.step, 'g', 15) << ',' << QString::number(p.epoch, 'g', 10) << ','
                << QString::number(p.seconds, 'f', 3) << ',' << QString::number(p.value, 'g', 10) << ','
                << QString::number(smooth[k], 'g', 10) << '\n';
        }
    }
}

int MetricChart::drawnPoints(qint64 runId) const
{
    const auto it = drawn_.constFind(runId);
    return it == drawn_.cend() ? 0 : static_cast<int>(it->smooth->count());
}

int MetricChart::rawPoints(qint64 runId) const
{
    const auto it = drawn_.constFind(runId);
    return it == drawn_.cend() ? 0 : static_cast<int>(it->prepared.xs.size());
}

} // namespace reclab
