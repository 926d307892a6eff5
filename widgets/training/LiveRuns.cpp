#include "training/LiveRuns.h"

#include "zoo/ModelRegistry.h"
#include "training/TrainingController.h"
#include "training/TrainingDashboard.h"

#include <algorithm>

namespace reclab {

QString LiveRuns::duration(double seconds)
{
    const int s = static_cast<int>(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
    if (s >= 60)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QStringLiteral("%1 s").arg(s);
}

QString LiveRuns::Run::etaText() const
{
    const double elapsed = clock.elapsed() / 1000.0;
    return done > 0.01 ? tr("ETA %1").arg(duration(elapsed * (1.0 - done) / done)) : QString();
}

LiveRuns::LiveRuns(TrainingDashboard* dashboard, QObject* parent) : QObject(parent), dashboard_(dashboard) {}

LiveRuns::~LiveRuns() { shutdownAll(); }

LiveRuns::Run* LiveRuns::launch(std::shared_ptr<const Dataset> dataset, const TrainConfig& config,
                                const QString& databasePath, const QString& label, qint64 resumeRunId,
                                qint64 parentRunId, const QString& dataSpec)
{
    auto owned = std::make_unique<Run>();
    Run* run = owned.get();
    run->controller = new TrainingController(this);
    // A run on several processes says so wherever its label shows (run list, legends, status).
    run->label = config.worldSize > 1 ? tr("%1 on %2 processes").arg(label).arg(config.worldSize) : label;
    // Counting models finish in one pass; asked of the registry, not of a graph analysis (the GUI
    // thread, and nothing here may throw).
    const ModelInfo* info = config.customGraph() ? nullptr : findModel(config.model);
    run->plannedEpochs = !info || info->trainable ? config.epochs : 1;
    run->stage = tr("preparing…");
    run->learningRate = config.learningRate;
    run->processes = config.worldSize;
    run->clock.start();
    TrainingController* c = run->controller;
    connect(c, &TrainingController::runStarted, this, [this, run, resumeRunId](qint64 id) {
        run->runId = id;
        run->label = QStringLiteral("#%1 %2").arg(id).arg(run->label);
        if (resumeRunId > 0)
            dashboard_->continueRun(id, run->label); // the stored curve grows with the resumed epochs
        else
            dashboard_->addLiveRun(id, run->label);
        emit started(run);
    });
    connect(c, &TrainingController::batchProgress, this, [this, run](const BatchProgress& p) { onBatch(run, p); });
    connect(c, &TrainingController::epochFinished, this, [this, run](const EpochStats& s) { onEpoch(run, s); });
    connect(c, &TrainingController::stepReported, this, [this, run](const StepReport& r) {
        run->stage = tr("paused after step %1").arg(r.step);
        emit stepped(run, r);
    });
    connect(c, &TrainingController::noted, this, [this, run](const QString& note) {
        run->notes << note;
        emit noted(run, note);
    });
    connect(c, &TrainingController::runFinished, this,
            [this, run](qint64 id, const QString& status, const QString& message) { onFinished(run, id, status, message); });
    runs_.push_back(std::move(owned));
    c->start(std::move(dataset), config, databasePath, resumeRunId, parentRunId, dataSpec);
    return run;
}

LiveRuns::Run* LiveRuns::find(const QObject* key) const
{
    for (const auto& run : runs_)
        if (run->controller == key)
            return run.get();
    return nullptr;
}

void LiveRuns::stop(Run* run)
{
    run->controller->stop();
    run->stage = tr("stopping…");
    emit progressed(run);
}

void LiveRuns::setPaused(Run* run, bool paused)
{
    run->paused = paused;
    run->controller->setPaused(paused);
    run->stage = paused ? tr("paused") : tr("resuming…");
    emit progressed(run);
}

void LiveRuns::step(Run* run)
{
    run->paused = true;
    run->controller->requestStep();
}

bool LiveRuns::setLearningRate(Run* run, double learningRate)
{
    if (learningRate == run->learningRate || !run->controller->setLearningRate(learningRate))
        return false;
    run->learningRate = learningRate;
    return true;
}

void LiveRuns::shutdownAll()
{
    for (auto& run : runs_)
        run->controller->shutdown();
}

void LiveRuns::onBatch(Run* run, const BatchProgress& p)
{
    run->done = ((p.epoch - 1) + static_cast<double>(p.batch) / std::max<int64_t>(1, p.batchesPerEpoch)) /
                run->plannedEpochs;
    dashboard_->addBatch(run->runId, p); // pre-training phases are charted as their own segments
    if (!p.phase.empty()) {
        // NeuMF's parts are being pre-trained: progress within that phase.
        run->stage = tr("pre-training %1: epoch %2/%3")
                         .arg(QString::fromStdString(p.phase).toUpper())
                         .arg(p.epoch)
                         .arg(run->plannedEpochs);
    } else {
        if (!run->paused)
            run->stage = tr("epoch %1/%2").arg(p.epoch).arg(run->plannedEpochs);
    }
    emit progressed(run);
}

void LiveRuns::onEpoch(Run* run, const EpochStats& s)
{
    dashboard_->addEpoch(run->runId, s);
    run->done = static_cast<double>(s.epoch) / run->plannedEpochs;
    if (s.samplesPerSecond > 0)
        run->samplesPerSecond = s.samplesPerSecond;
    emit epochEnded(run, s);
}

void LiveRuns::onFinished(Run* run, qint64 runId, const QString& status, const QString& message)
{
    dashboard_->finishRun(runId);
    const QString label = run->label;
    const double took = run->clock.elapsed() / 1000.0;
    TrainingController* controller = run->controller;
    runs_.erase(std::find_if(runs_.begin(), runs_.end(), [run](const auto& r) { return r.get() == run; }));
    controller->shutdown();
    controller->deleteLater();
    emit finished(controller, runId, status, message, label, took);
}

} // namespace reclab
