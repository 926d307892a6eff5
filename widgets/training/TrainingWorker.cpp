#include "training/TrainingWorker.h"

#include "engine/Engine.h"
#include "engine/EngineLoader.h"

namespace reclab {

void TrainingWorker::stop()
{
    std::lock_guard<std::mutex> lock(mutex_);
    stopRequested_ = true;
    if (session_)
        session_->requestStop();
}

void TrainingWorker::clearStop()
{
    std::lock_guard<std::mutex> lock(mutex_);
    stopRequested_ = false;
    pauseRequested_ = false;
}

void TrainingWorker::setPaused(bool paused)
{
    std::lock_guard<std::mutex> lock(mutex_);
    pauseRequested_ = paused;
    if (session_)
        session_->setPaused(paused);
}

void TrainingWorker::requestStep()
{
    std::lock_guard<std::mutex> lock(mutex_);
    pauseRequested_ = true;
    if (session_)
        session_->requestStep();
}

bool TrainingWorker::setLearningRate(double learningRate)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!session_)
        return false;
    try {
        session_->setLearningRate(learningRate);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

void TrainingWorker::run(std::shared_ptr<const Dataset> dataset, TrainConfig config, QString databasePath,
                         qint64 resumeRunId, qint64 parentRunId, QString dataSpec)
{
    qint64 runId = 0;
    try {
        TrainingJobCallbacks callbacks;
        callbacks.started = [this, &runId](int64_t id) {
            runId = id;
            emit runStarted(id);
        };
        callbacks.batch = [this](const BatchProgress& p) { emit batchProgress(p); };
        callbacks.epoch = [this](const EpochStats& s) { emit epochFinished(s); };
        callbacks.step = [this](const StepReport& r) { emit stepReported(r); };
        callbacks.note = [this](const std::string& note) { emit noted(QString::fromStdString(note)); };
        const std::unique_ptr<TrainingJob> job = engine().newTrainingJob(
            {std::move(dataset), std::move(config), databasePath.toStdString(), resumeRunId, parentRunId, dataSpec.toStdString()},
            std::move(callbacks));
        TrainingJob& session = *job;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            session_ = &session;
            if (stopRequested_)
                session.requestStop();
            if (pauseRequested_)
                session.setPaused(true);
        }
        RunOutcome outcome;
        try {
            outcome = session.run();
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            session_ = nullptr;
            throw;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            session_ = nullptr;
        }
        emit runFinished(runId, QString::fromUtf8(runStatusName(outcome.status)),
                         QString::fromStdString(outcome.message));
    } catch (const std::exception& e) {
        emit runFinished(runId, QString::fromUtf8(runStatusName(RunStatus::Failed)), QString::fromUtf8(e.what()));
    }
}

} // namespace reclab
