#include "inspect/ScatterPlot.h"

#include "chart/Palette.h"

#include <QFontMetricsF>
#include <QImage>
#include <QLineF>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace reclab {

namespace {
constexpr double kPickRadius = 6.0;
constexpr double kMargin = 24.0;
} // namespace

ScatterPlot::ScatterPlot(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
    setMinimumSize(320, 240);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setCursor(Qt::CrossCursor);
}

QVector<QRectF> ScatterPlot::placeLabels(const QVector<QPointF>& anchors, const QVector<QSizeF>& sizes,
                                         const QRectF& bounds, const QVector<QRectF>& taken)
{
    QVector<QRectF> placed, out;
    QVector<QRectF> blocked = taken;
    for (int k = 0; k < anchors.size(); ++k) {
        const QPointF a = anchors[k];
        const double w = sizes[k].width(), h = sizes[k].height();
        QRectF chosen;
        // Right, left, above, below and the four corners; then the same twice as far, and further.
        for (double gap = 8; gap <= 8 + 3 * 2.5 * h && chosen.isEmpty(); gap += 2.5 * h) {
            const QRectF candidates[] = {
                {a.x() + gap, a.y() - h / 2, w, h},         {a.x() - gap - w, a.y() - h / 2, w, h},
                {a.x() - w / 2, a.y() - gap - h, w, h},     {a.x() - w / 2, a.y() + gap, w, h},
                {a.x() + gap, a.y() - gap - h, w, h},       {a.x() + gap, a.y() + gap, w, h},
                {a.x() - gap - w, a.y() - gap - h, w, h},   {a.x() - gap - w, a.y() + gap, w, h}};
            for (const QRectF& c : candidates) {
                if (!bounds.contains(c))
                    continue;
                const bool free = std::none_of(blocked.begin(), blocked.end(), [&](const QRectF& b) {
                    return b.intersects(c);
                });
                if (free) {
                    chosen = c;
                    break;
                }
            }
        }
        out.append(chosen);
        if (!chosen.isEmpty())
            blocked.append(chosen);
    }
    return out;
}

QColor ScatterPlot::categoryColour(int category)
{
    return ::reclab::categoryColour(category);
}

void ScatterPlot::setPoints(const QVector<QPointF>& points, const QVector<int>& category,
                            const QStringList& categoryNames, const QStringList& labels)
{
    points_ = points;
    category_ = category;
    categoryNames_ = categoryNames;
    labels_ = labels;
    highlighted_.clear();
    neighbours_.clear();
    selected_ = -1;
    userMoved_ = false;
    fitAll();
}

void ScatterPlot::setPositions(const QVector<QPointF>& points)
{
    if (points.size() != points_.size())
        return;
    points_ = points;
    if (!userMoved_)
        fitAll();
    else
        update();
}

void ScatterPlot::setHighlighted(const QVector<int>& indices)
{
    highlighted_ = indices;
    update();
}

void ScatterPlot::setSelected(int index, const QVector<int>& neighbours)
{
    selected_ = index >= 0 && index < points_.size() ? index : -1;
    neighbours_ = selected_ >= 0 ? neighbours : QVector<int>();
    update();
}

void ScatterPlot::fitAll()
{
    if (points_.isEmpty()) {
        centre_ = {};
        scale_ = 1.0;
        update();
        return;
    }
    double minX = std::numeric_limits<double>::max(), minY = minX, maxX = -minX, maxY = -minX;
    for (const QPointF& p : points_) {
        minX = std::min(minX, p.x());
        maxX = std::max(maxX, p.x());
        minY = std::min(minY, p.y());
        maxY = std::max(maxY, p.y());
    }
    centre_ = {(minX + maxX) / 2, (minY + maxY) / 2};
    const double w = std::max(maxX - minX, 1e-9), h = std::max(maxY - minY, 1e-9);
    scale_ = std::min((width() - 2 * kMargin) / w, (height() - 2 * kMargin) / h);
    if (!(scale_ > 0))
        scale_ = 1.0;
    update();
}

QPointF ScatterPlot::toWidget(const QPointF& d) const
{
    return {width() / 2.0 + (d.x() - centre_.x()) * scale_, height() / 2.0 - (d.y() - centre_.y()) * scale_};
}

QPointF ScatterPlot::toData(const QPointF& w) const
{
    return {centre_.x() + (w.x() - width() / 2.0) / scale_, centre_.y() - (w.y() - height() / 2.0) / scale_};
}

QRectF ScatterPlot::visibleRect() const
{
    const QPointF a = toData(QPointF(0, height())), b = toData(QPointF(width(), 0));
    return QRectF(a, b).normalized();
}

int ScatterPlot::pointAt(const QPoint& position) const
{
    // A linear scan: 50,000 points take well under a millisecond.
    const QPointF at = toData(position);
    const double radius = kPickRadius / scale_;
    double best = radius * radius;
    int found = -1;
    for (int i = 0; i < points_.size(); ++i) {
        const double dx = points_[i].x() - at.x(), dy = points_[i].y() - at.y();
        const double d = dx * dx + dy * dy;
        if (d <= best) {
            best = d;
            found = i;
        }
    }
    return found;
}

void ScatterPlot::zoomBy(double factor, const QPointF& about)
{
    const QPointF before = toData(about);
    scale_ = std::clamp(scale_ * factor, 1e-6, 1e9);
    const QPointF after = toData(about);
    centre_ += before - after;
    userMoved_ = true;
    update();
}

void ScatterPlot::panBy(const QPointF& pixels)
{
    centre_ -= QPointF(pixels.x() / scale_, -pixels.y() / scale_);
    userMoved_ = true;
    update();
}

void ScatterPlot::setPath(const QVector<QVector<QPair<int, double>>>& anchors, const QStringList& labels)
{
    path_ = anchors;
    pathLabels_ = labels;
    update();
}

QVector<QPointF> ScatterPlot::pathPoints() const
{
    QVector<QPointF> out;
    for (const auto& step : path_) {
        QPointF at;
        double total = 0;
        for (const auto& [i, w] : step)
            if (i >= 0 && i < points_.size()) {
                at += w * points_[i];
                total += w;
            }
        out.append(total > 0 ? at / total : QPointF());
    }
    return out;
}

void ScatterPlot::paintPath(QPainter& p) const
{
    if (path_.isEmpty())
        return;
    QVector<QPointF> at;
    for (const QPointF& d : pathPoints())
        at.append(toWidget(d));
    // Older steps fainter; the latest the strongest, with an arrow into it.
    for (int k = 1; k < at.size(); ++k) {
        const int alpha = 80 + 175 * k / std::max(1, static_cast<int>(at.size()) - 1);
        p.setPen(QPen(QColor(20, 20, 20, alpha), 2.0));
        p.drawLine(at[k - 1], at[k]);
    }
    p.setFont(font());
    const QFontMetricsF fm(font());
    for (int k = 0; k < at.size(); ++k) {
        const bool last = k + 1 == at.size();
        p.setPen(QPen(Qt::black, 1.2));
        p.setBrush(last ? QColor(230, 60, 40) : QColor(255, 255, 255));
        const double r = last ? 9.0 : 7.5;
        p.drawEllipse(at[k], r, r);
        p.setPen(last ? Qt::white : Qt::black);
        const QString n = QString::number(k + 1);
        p.drawText(QRectF(at[k].x() - r, at[k].y() - r, 2 * r, 2 * r), Qt::AlignCenter, n);
        if (last && k < pathLabels_.size()) { // the latest step says what was just watched
            const QString text = fm.elidedText(pathLabels_[k], Qt::ElideRight, 300);
            const QRectF box(at[k] + QPointF(12, -fm.height() / 2), QSizeF(fm.horizontalAdvance(text) + 6, fm.height()));
            p.setPen(Qt::NoPen);
            p.setBrush(QColor(255, 255, 255, 215));
            p.drawRect(box);
            p.setPen(Qt::black);
            p.drawText(box.adjusted(3, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, text);
        }
    }
}

void ScatterPlot::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    if (points_.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("No points: pick a run with embedding snapshots"));
        return;
    }
    // The points are written straight into an image (a small disc each, opaque, in the
    // category's colour, faded towards the background when something is highlighted) and the
    // image drawn once: 50,000 points take a few milliseconds, where QPainter's wide pens take 30.
    const qreal dpr = devicePixelRatioF();
    QImage layer((size() * dpr), QImage::Format_RGB32);
    layer.fill(palette().base().color());
    const bool dimmed = !highlighted_.isEmpty() || selected_ >= 0;
    const int categories = static_cast<int>(categoryNames_.size());
    std::vector<QRgb> colours(static_cast<size_t>(categories) + 1);
    const QColor background = palette().base().color();
    for (int c = -1; c < categories; ++c) {
        QColor colour = categoryColour(c);
        if (dimmed)
            colour = QColor::fromRgbF(0.3f * colour.redF() + 0.7f * background.redF(), 0.3f * colour.greenF() + 0.7f * background.greenF(),
                                      0.3f * colour.blueF() + 0.7f * background.blueF());
        colours[static_cast<size_t>(c + 1)] = colour.rgb();
    }
    const double size = std::clamp(7.0 - std::log10(std::max(1, static_cast<int>(points_.size()))), 3.0, 6.0) * dpr;
    const int radius = std::max(1, static_cast<int>(std::lround(size / 2)));
    std::vector<std::pair<int, int>> disc; // offsets inside the disc
    for (int dy = -radius; dy <= radius; ++dy)
        for (int dx = -radius; dx <= radius; ++dx)
            if (dx * dx + dy * dy <= radius * radius + radius / 2)
                disc.emplace_back(dx, dy);
    const int w = layer.width(), h = layer.height();
    const auto stride = static_cast<size_t>(layer.bytesPerLine() / 4);
    auto* pixels = reinterpret_cast<QRgb*>(layer.bits());
    const double cx = width() / 2.0, cy = height() / 2.0;
    for (int i = 0; i < points_.size(); ++i) {
        const int x = static_cast<int>(std::lround((cx + (points_[i].x() - centre_.x()) * scale_) * dpr));
        const int y = static_cast<int>(std::lround((cy - (points_[i].y() - centre_.y()) * scale_) * dpr));
        if (x < -radius || y < -radius || x >= w + radius || y >= h + radius)
            continue;
        const int c = i < category_.size() ? category_[i] : -1;
        const QRgb colour = colours[static_cast<size_t>(c >= 0 && c < categories ? c + 1 : 0)];
        const bool inside = x >= radius && y >= radius && x < w - radius && y < h - radius;
        for (const auto& [dx, dy] : disc) {
            const int px = x + dx, py = y + dy;
            if (inside || (px >= 0 && py >= 0 && px < w && py < h))
                pixels[static_cast<size_t>(py) * stride + static_cast<size_t>(px)] = colour;
        }
    }
    layer.setDevicePixelRatio(dpr);
    p.drawImage(QPointF(0, 0), layer);
    p.setRenderHint(QPainter::Antialiasing);
    if (selected_ >= 0) {
        const QPointF s = toWidget(points_[selected_]);
        p.setPen(QPen(QColor(40, 40, 40, 150), 1));
        for (const int n : neighbours_)
            if (n >= 0 && n < points_.size())
                p.drawLine(s, toWidget(points_[n]));
    }
    p.setPen(QPen(Qt::black, 1.5));
    for (const int i : highlighted_)
        if (i >= 0 && i < points_.size()) {
            p.setBrush(categoryColour(i < category_.size() ? category_[i] : -1));
            p.drawEllipse(toWidget(points_[i]), 4.5, 4.5);
        }
    for (const int n : neighbours_)
        if (n >= 0 && n < points_.size()) {
            p.setBrush(categoryColour(n < category_.size() ? category_[n] : -1));
            p.drawEllipse(toWidget(points_[n]), 4.0, 4.0);
        }
    if (selected_ >= 0) {
        p.setBrush(Qt::yellow);
        p.setPen(QPen(Qt::black, 2));
        p.drawEllipse(toWidget(points_[selected_]), 6.5, 6.5);
    }
    paintPath(p);
    // Labels: the selected point's (bold) first, then its neighbours', each where it overlaps
    // no other label and no marked point.
    labelBoxes_.clear();
    if (selected_ >= 0) {
        QFont bold = font();
        bold.setBold(true);
        QVector<int> labelled{selected_};
        for (const int n : neighbours_)
            if (n >= 0 && n < points_.size())
                labelled.append(n);
        QVector<QPointF> anchors;
        QVector<QSizeF> sizes;
        QVector<QString> texts;
        QVector<QRectF> dots;
        for (int k = 0; k < labelled.size(); ++k) {
            const int i = labelled[k];
            const QFontMetricsF fm(k == 0 ? bold : font());
            const QString text = i < labels_.size() ? fm.elidedText(labels_[i], Qt::ElideRight, k == 0 ? 320 : 220) : QString();
            anchors.append(toWidget(points_[i]));
            sizes.append(QSizeF(fm.horizontalAdvance(text) + 4, fm.height()));
            texts.append(text);
            const double r = k == 0 ? 7 : 5;
            dots.append(QRectF(anchors.back() - QPointF(r, r), QSizeF(2 * r, 2 * r)));
        }
        labelBoxes_ = placeLabels(anchors, sizes, QRectF(rect()), dots);
        for (int k = 0; k < labelBoxes_.size(); ++k) {
            const QRectF& box = labelBoxes_[k];
            if (box.isEmpty() || texts[k].isEmpty())
                continue;
            p.setFont(k == 0 ? bold : font());
            // A label moved off its point keeps a thin line to it.
            const QPointF nearest(std::clamp(anchors[k].x(), box.left(), box.right()),
                                  std::clamp(anchors[k].y(), box.top(), box.bottom()));
            if (QLineF(nearest, anchors[k]).length() > 12) {
                p.setPen(QPen(QColor(60, 60, 60, 140), 0.8));
                p.drawLine(nearest, anchors[k]);
            }
            p.setPen(Qt::NoPen);
            p.setBrush(QColor(255, 255, 255, 200));
            p.drawRect(box);
            p.setPen(Qt::black);
            p.drawText(box.adjusted(2, 0, -2, 0), Qt::AlignLeft | Qt::AlignVCenter, texts[k]);
        }
        p.setFont(font());
    }
    // Legend, top right.
    if (!categoryNames_.isEmpty()) {
        const int shown = std::min(static_cast<int>(categoryNames_.size()), 20);
        const QFontMetrics fm(font());
        int w = 0;
        for (int c = 0; c < shown; ++c)
            w = std::max(w, fm.horizontalAdvance(categoryNames_[c]));
        const int line = fm.height();
        const QRect box(width() - w - 34, 6, w + 28, line * shown + 8 + (shown < categoryNames_.size() ? line : 0));
        p.setPen(palette().color(QPalette::Mid));
        p.setBrush(QColor(255, 255, 255, 220));
        p.drawRect(box);
        for (int c = 0; c < shown; ++c) {
            p.setPen(Qt::NoPen);
            p.setBrush(categoryColour(c));
            p.drawEllipse(QPointF(box.left() + 10, box.top() + 4 + line * c + line / 2.0), 4, 4);
            p.setPen(palette().color(QPalette::Text));
            p.drawText(QPoint(box.left() + 20, box.top() + 4 + line * c + fm.ascent()), categoryNames_[c]);
        }
        if (shown < categoryNames_.size())
            p.drawText(QPoint(box.left() + 20, box.top() + 4 + line * shown + fm.ascent()),
                       tr("… %1 more").arg(categoryNames_.size() - shown));
    }
}

void ScatterPlot::mousePressEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton) {
        pressAt_ = lastDrag_ = event->position().toPoint();
        dragging_ = false;
    }
}

void ScatterPlot::mouseMoveEvent(QMouseEvent* event)
{
    const QPoint at = event->position().toPoint();
    if (event->buttons() & Qt::LeftButton) {
        if (dragging_ || (at - pressAt_).manhattanLength() > 3) {
            dragging_ = true;
            setCursor(Qt::ClosedHandCursor);
            panBy(at - lastDrag_);
            lastDrag_ = at;
        }
        return;
    }
    const QVector<QPointF> steps = pathPoints();
    for (int k = static_cast<int>(steps.size()) - 1; k >= 0; --k)
        if (QLineF(toWidget(steps[k]), at).length() <= 9 && k < pathLabels_.size()) {
            QToolTip::showText(event->globalPosition().toPoint(), tr("Step %1: %2").arg(k + 1).arg(pathLabels_[k]), this);
            return;
        }
    const int hit = pointAt(at);
    if (hit >= 0 && hit < labels_.size()) {
        const int c = hit < category_.size() ? category_[hit] : -1;
        QToolTip::showText(event->globalPosition().toPoint(),
                           labels_[hit] + (c >= 0 && c < categoryNames_.size() ? QStringLiteral("\n") + categoryNames_[c] : QString()),
                           this);
    } else {
        QToolTip::hideText();
    }
}

void ScatterPlot::mouseReleaseEvent(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton)
        return;
    setCursor(Qt::CrossCursor);
    if (!dragging_)
        emit pointClicked(pointAt(event->position().toPoint()));
    dragging_ = false;
}

void ScatterPlot::mouseDoubleClickEvent(QMouseEvent*)
{
    userMoved_ = false;
    fitAll();
}

void ScatterPlot::wheelEvent(QWheelEvent* event)
{
    zoomBy(std::pow(1.0015, event->angleDelta().y()), event->position());
}

void ScatterPlot::resizeEvent(QResizeEvent*)
{
    if (!userMoved_)
        fitAll();
}

} // namespace reclab
