// The object that lives in the training thread: it runs one TrainingJob (the engine's core
// TrainingSession) per request and reports through signals (queued to the GUI thread). stop() may be called from
// any thread; it sets the flag the trainer checks between batches.
#pragma once

#include "CoreMetaTypes.h"
#include "data/Dataset.h"
#include "runs/TrainConfig.h"

#include <QObject>
#include <QString>

#include <memory>
#include <mutex>

namespace reclab {

class TrainingJob;

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    TrainingWorker() = default;

    // Thread-safe. clearStop() is called before each new run is queued, so a stop aimed at an
    // earlier run never cancels the next one.
    void stop();
    void clearStop();
    // Thread-safe; a pause asked for before the run starts applies from its first batch.
    void setPaused(bool paused);
    void requestStep();
    // Applies from the next epoch; false (and nothing changes) when the rate is not valid.
    bool setLearningRate(double learningRate);

public slots:
    // resumeRunId > 0 continues that stopped run of the database (config is its stored one);
    // parentRunId > 0 records the new run as a clone of that one (in its experiment).
    // dataSpec: how the other processes of a run on several load the data (TrainingJobSpec).
    void run(std::shared_ptr<const reclab::Dataset> dataset, reclab::TrainConfig config, QString databasePath,
             qint64 resumeRunId, qint64 parentRunId, QString dataSpec);

signals:
    void runStarted(qint64 runId);
    void batchProgress(const reclab::BatchProgress& progress);
    void epochFinished(const reclab::EpochStats& stats);
    void stepReported(const reclab::StepReport& report);
    void noted(const QString& note); // TrainingJobCallbacks::note
    // status is a RunStatus name (FINISHED, STOPPED, FAILED); message says why when not finished.
    void runFinished(qint64 runId, const QString& status, const QString& message);

private:
    std::mutex mutex_;
    TrainingJob* session_ = nullptr; // the running session, guarded by mutex_
    bool stopRequested_ = false;
    bool pauseRequested_ = false;
};

} // namespace reclab

Q_DECLARE_METATYPE(std::shared_ptr<const reclab::Dataset>)
