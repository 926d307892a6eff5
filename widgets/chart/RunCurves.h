// What the training charts draw: per run, every curve point with all three x coordinates
// (step, fractional epoch, seconds since the run started), so switching the x axis needs no
// new data. Full resolution is kept here; the charts decimate for display.
#pragma once

#include "chart/Palette.h"

#include <QColor>
#include <QHash>
#include <QString>
#include <QVector>

#include <vector>

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
    // Pre-training phases (NeuMF's GMF and MLP parts): drawn as their own dashed segments of
    // the loss chart before the run's own curve. Each holds its losses under "batch_loss" at
    // the steps and seconds recorded (they come first) and at epochs counted back from 0.
    std::vector<RunCurves> phases;
    QString phase;                   // a phase's name ("gmf"); empty for a run
    Qt::PenStyle pen = Qt::SolidLine;
    bool phasesPlaced = false;       // the phases' epochs are counted back from 0 (placePhases)
};

// A phase of run, made (its id, label, colour and pen from the run) when it is not there yet.
RunCurves& phaseOf(RunCurves& run, const QString& phase);
// Moves the phases' epochs (each counted from 0 within its phase) before the run's: the first
// phase's start at minus the phases' epochs in all, the last one's end at 0.
void placePhases(RunCurves& run);


} // namespace reclab
