// The charts' mouse and keyboard: drag to zoom, right-drag, arrows and the wheel to pan and
// zoom, double-click or Home to reset, the hover read-out.
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

void MetricChart::mousePressEvent(QMouseEvent* event)
{
    if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
        panning_ = true;
        panFrom_ = event->pos();
        setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    QChartView::mousePressEvent(event);
}

void MetricChart::mouseMoveEvent(QMouseEvent* event)
{
    if (panning_) {
        const QPoint d = event->pos() - panFrom_;
        panFrom_ = event->pos();
        chart()->scroll(-d.x(), d.y());
        event->accept();
        return;
    }
    if (event->buttons() == Qt::NoButton)
        showReadout(event->pos());
    QChartView::mouseMoveEvent(event);
}

void MetricChart::mouseReleaseEvent(QMouseEvent* event)
{
    if (panning_) {
        panning_ = false;
        unsetCursor();
        event->accept();
        return;
    }
    QChartView::mouseReleaseEvent(event);
}

void MetricChart::mouseDoubleClickEvent(QMouseEvent* event)
{
    resetView();
    event->accept();
}

void MetricChart::wheelEvent(QWheelEvent* event)
{
    const QPointF inChart = chart()->mapFromScene(mapToScene(event->position().toPoint()));
    const QRectF plot = chart()->plotArea();
    if (!plot.contains(inChart) || event->angleDelta().y() == 0) {
        event->ignore();
        return;
    }
    // Zoom about the point under the cursor; y in log space on a log axis.
    const double factor = std::pow(0.85, event->angleDelta().y() / 120.0);
    const QRectF v = view();
    const double fx = (inChart.x() - plot.left()) / plot.width();
    const double fy = (plot.bottom() - inChart.y()) / plot.height();
    const double cx = v.left() + fx * v.width();
    auto scaled = [factor](double lo, double hi, double c) { return std::pair{c - (c - lo) * factor, c + (hi - c) * factor}; };
    const auto [x0, x1] = scaled(v.left(), v.right(), cx);
    double y0, y1;
    if (log_) {
        const double l0 = std::log10(v.top()), l1 = std::log10(v.bottom());
        const auto [a, b] = scaled(l0, l1, l0 + fy * (l1 - l0));
        y0 = std::pow(10.0, a);
        y1 = std::pow(10.0, b);
    } else {
        std::tie(y0, y1) = scaled(v.top(), v.bottom(), v.top() + fy * v.height());
    }
    zoomTo(QRectF(QPointF(x0, y0), QPointF(x1, y1)));
    event->accept();
}

void MetricChart::keyPressEvent(QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Left: panBy(-0.1, 0); break;
    case Qt::Key_Right: panBy(0.1, 0); break;
    case Qt::Key_Up: panBy(0, 0.1); break;
    case Qt::Key_Down: panBy(0, -0.1); break;
    case Qt::Key_Plus:
    case Qt::Key_Equal: chart()->zoom(1.25); break;
    case Qt::Key_Minus: chart()->zoom(0.8); break;
    case Qt::Key_Home:
    case Qt::Key_0: resetView(); break;
    default: QChartView::keyPressEvent(event); return;
    }
    event->accept();
}

void MetricChart::leaveEvent(QEvent* event)
{
    cursor_->hide();
    readout_->hide();
    readoutBox_->hide();
    QChartView::leaveEvent(event);
}

void MetricChart::resizeEvent(QResizeEvent* event)
{
    QChartView::resizeEvent(event);
    redraw(); // the decimation follows the plot's width
}

} // namespace reclab
