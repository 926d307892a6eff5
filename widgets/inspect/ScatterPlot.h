// The embedding projector's 2-D scatter: every point coloured by its category, a legend, hover
// tooltips, highlighted points (search matches), a selected point with lines to its
// neighbours, and a path (a user's states after each behaviour, each at the weighted mean of
// the points it anchors to, so it follows the map as it moves). Drag pans, the wheel zooms about the cursor, a double click fits all points.
// Points are drawn in one pass per category, so 50,000 of them repaint in a few milliseconds.
#pragma once

#include <QColor>
#include <QPair>
#include <QPointF>
#include <QRectF>
#include <QStringList>
#include <QVector>
#include <QWidget>

namespace reclab {

class ScatterPlot : public QWidget {
    Q_OBJECT
public:
    explicit ScatterPlot(QWidget* parent = nullptr);

    // New points; category[i] indexes categoryNames (-1: none); labels are the hover texts.
    void setPoints(const QVector<QPointF>& points, const QVector<int>& category, const QStringList& categoryNames,
                   const QStringList& labels);
    // Moves the points (same count), e.g. as t-SNE converges; the view follows unless the user
    // has panned or zoomed.
    void setPositions(const QVector<QPointF>& points);
    void setHighlighted(const QVector<int>& indices);
    void setSelected(int index, const QVector<int>& neighbours = {});
    void fitAll();
    // A path of steps, each anchored to points with weights (its position their weighted mean),
    // numbered from 1 with a label each (hover); empty: none.
    void setPath(const QVector<QVector<QPair<int, double>>>& anchors, const QStringList& labels);
    QVector<QPointF> pathPoints() const; // in data coordinates

    int pointCount() const { return static_cast<int>(points_.size()); }
    const QVector<QPointF>& points() const { return points_; }
    int selected() const { return selected_; }
    const QVector<int>& highlighted() const { return highlighted_; }
    QRectF visibleRect() const; // in data coordinates
    // The point under a widget position (within a few pixels), or -1.
    int pointAt(const QPoint& position) const;
    QPointF toWidget(const QPointF& data) const;
    void zoomBy(double factor, const QPointF& about);
    void panBy(const QPointF& pixels);
    static QColor categoryColour(int category);
    // Where the labels of the selected point and its neighbours go: for each anchor (in priority
    // order) a box of its size beside it that overlaps no box placed before and stays inside
    // bounds (tried on eight sides, then further out); an empty box when none is free (that label
    // is left to the hover tooltip).
    static QVector<QRectF> placeLabels(const QVector<QPointF>& anchors, const QVector<QSizeF>& sizes,
                                       const QRectF& bounds, const QVector<QRectF>& taken = {});
    // The label boxes of the last paint (selected point first, then its neighbours in order).
    const QVector<QRectF>& labelBoxes() const { return labelBoxes_; }

signals:
    void pointClicked(int index);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    QPointF toData(const QPointF& widget) const;
    QVector<QRectF> labelBoxes_;

    QVector<QPointF> points_;
    QVector<int> category_;
    QStringList categoryNames_, labels_;
    QVector<int> highlighted_, neighbours_;
    QVector<QVector<QPair<int, double>>> path_;
    QStringList pathLabels_;
    void paintPath(QPainter& p) const;
    int selected_ = -1;
    QPointF centre_;     // data coordinates at the widget's centre
    double scale_ = 1.0; // pixels per data unit
    bool userMoved_ = false;
    QPoint pressAt_, lastDrag_;
    bool dragging_ = false;
};

} // namespace reclab
