// What the training charts draw: per run, every curve point with all three x coordinates
// (step, fractional epoch, seconds since the run started), so switching the x axis needs no
// new data. Full resolution is kept here; the charts decimate for display.
#pragma once

#include <QColor>
#include <QHash>
#include <QString>
#include <QVector>

namespace reclab {

enum class XAxisMode { Step, Epoch, WallTime };

struct CurvePoint {
    double step = 0;
    double epoch = 0;   // fractional within an epoch for batch points
    double seconds = 0; // since the run started
    double value = 0;
    double x(XAxisMode mode) const { return mode == XAxisMode::Step ? step : mode == XAxisMode::Epoch ? epoch : seconds; }
};

struct RunCurves {
    qint64 runId = 0;
    QString label;
    QColor colour;
    bool live = false;
    QHash<QString, QVector<CurvePoint>> curves; // "batch_loss", "val_ndcg@10", "hr@10", ...
    QVector<CurvePoint> learningRateChanges;    // where a new rate took effect; value: the rate
};

// A run's colour, the same for a run id in every chart and session (a fixed palette by id).
QColor runColour(qint64 runId);

} // namespace reclab
