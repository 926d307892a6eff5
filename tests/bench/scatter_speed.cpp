// Benchmark (not a test): the projector's scatter with 50,000 points in 18 colours, 1200 x 800,
// offscreen. Times whole repaints (render into an image) while panning and while zooming:
// medians of 60 frames each, and the hover lookup under the cursor.
// Run: QT_QPA_PLATFORM=offscreen build/tests/reclab-bench-scatter [points]
#include "BenchStats.h"
#include "inspect/ScatterPlot.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QPainter>
#include <QRandomGenerator>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace reclab;
using reclab::bench::median;


int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    const int n = argc > 1 ? std::atoi(argv[1]) : 50000;
    QRandomGenerator rng(7);
    QVector<QPointF> points(n);
    QVector<int> category(n);
    QStringList names, labels;
    for (int c = 0; c < 18; ++c)
        names << QStringLiteral("genre %1").arg(c);
    for (int i = 0; i < n; ++i) {
        const int c = static_cast<int>(rng.bounded(18));
        const double angle = c * 0.35, r = 3 + c * 0.4;
        points[i] = QPointF(r * std::cos(angle) + rng.generateDouble() * 2 - 1, r * std::sin(angle) + rng.generateDouble() * 2 - 1);
        category[i] = c;
        labels << QStringLiteral("item %1").arg(i);
    }
    ScatterPlot plot;
    plot.resize(1200, 800);
    plot.setPoints(points, category, names, labels);
    QImage image(plot.size(), QImage::Format_ARGB32_Premultiplied);
    auto frame = [&] {
        QElapsedTimer t;
        t.start();
        plot.render(&image);
        return t.nsecsElapsed() / 1e6;
    };
    frame();
    std::vector<double> pan, zoom, hover;
    for (int f = 0; f < 60; ++f) {
        plot.panBy(QPointF(f % 2 ? 15 : -15, 7));
        pan.push_back(frame());
    }
    for (int f = 0; f < 60; ++f) {
        plot.zoomBy(f < 30 ? 1.08 : 1 / 1.08, QPointF(600, 400));
        zoom.push_back(frame());
    }
    for (int f = 0; f < 200; ++f) {
        QElapsedTimer t;
        t.start();
        volatile int hit = plot.pointAt(QPoint(static_cast<int>(rng.bounded(1200)), static_cast<int>(rng.bounded(800))));
        (void)hit;
        hover.push_back(t.nsecsElapsed() / 1e6);
    }
    std::printf("scatter of %d points, 1200 x 800: pan frame median %.1f ms (max %.1f), zoom frame median %.1f ms, hover lookup median %.2f ms\n",
                n, median(pan), *std::max_element(pan.begin(), pan.end()), median(zoom), median(hover));
    return 0;
}
