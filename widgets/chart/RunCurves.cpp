#include "chart/RunCurves.h"

#include <QObject>

#include <algorithm>
#include <cmath>

namespace reclab {

RunCurves& phaseOf(RunCurves& run, const QString& phase)
{
    for (RunCurves& p : run.phases)
        if (p.phase == phase)
            return p;
    RunCurves p;
    // Negative ids never meet a run's (they key the phase's series in the loss chart).
    p.runId = -(run.runId * 16 + static_cast<qint64>(run.phases.size()) + 1);
    p.phase = phase;
    p.label = QObject::tr("%1 pre-training %2").arg(run.label, phase);
    p.colour = run.colour;
    p.pen = run.phases.empty() ? Qt::DashLine : Qt::DotLine; // the phases told apart
    run.phases.push_back(std::move(p));
    return run.phases.back();
}

void placePhases(RunCurves& run)
{
    if (run.phasesPlaced || run.phases.empty())
        return;
    run.phasesPlaced = true;
    // Each phase counts epochs from 0; lay them end to end, then end the last at 0.
    double offset = 0;
    for (RunCurves& p : run.phases) {
        QVector<CurvePoint>& points = p.curves[QStringLiteral("batch_loss")];
        double last = 0;
        for (CurvePoint& c : points) {
            last = std::max(last, c.epoch);
            c.epoch += offset;
        }
        offset += std::ceil(last);
    }
    for (RunCurves& p : run.phases)
        for (CurvePoint& c : p.curves[QStringLiteral("batch_loss")])
            c.epoch -= offset;
}

} // namespace reclab
