#include "TrainingWorker.h"

#include "train/TrainingSession.h"

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
}

void TrainingWorker::run(std::shared_ptr<const Dataset> dataset, TrainConfig config, QString databasePath)
{
    qint64 runId = 0;
    try {
        TrainingSession session(std::move(dataset), std::move(config), databasePath.toStdString());
        session.setStartCallback([this, &runId](int64_t id) {
            runId = id;
            emit runStarted(id);
        });
        session.setBatchCallback([this](const BatchProgress& p) { emit batchProgress(p); });
        session.setEpochCallback([this](const EpochStats& s) { emit epochFinished(s); });
        {
            std::lock_guard<std::mutex> lock(mutex_);
            session_ = &session;
            if (stopRequested_)
                session.requestStop();
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
