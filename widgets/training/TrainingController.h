// One run's training thread: owns it and its worker (a parentless QObject moved to a QThread), forwards
// the worker's signals, and shuts down cleanly: stop the run, quit the thread, wait for it.
#pragma once

#include "training/TrainingWorker.h"

#include <QObject>
#include <QThread>

namespace reclab {

class TrainingController : public QObject {
    Q_OBJECT
public:
    explicit TrainingController(QObject* parent = nullptr);
    ~TrainingController() override;

    bool isRunning() const { return running_; }
    // Queues a run in the worker thread (resumeRunId > 0: continues that stopped run;
    // parentRunId > 0: a new run cloned from that one); ignored while one is running.
    // dataSpec: how the other processes of a run on several load the data (TrainingJobSpec).
    bool start(std::shared_ptr<const Dataset> dataset, const TrainConfig& config, const QString& databasePath,
               qint64 resumeRunId = 0, qint64 parentRunId = 0, const QString& dataSpec = {});
    void stop();
    // Pause, Step (one batch, then paused; its report comes as stepReported) and a learning
    // rate for the coming epochs, for the running run.
    void setPaused(bool paused);
    void requestStep();
    bool setLearningRate(double learningRate);
    // Stops any run and joins the thread; called on window close and destruction.
    void shutdown();

signals:
    void runStarted(qint64 runId);
    void batchProgress(const reclab::BatchProgress& progress);
    void epochFinished(const reclab::EpochStats& stats);
    void stepReported(const reclab::StepReport& report);
    void noted(const QString& note);
    void runFinished(qint64 runId, const QString& status, const QString& message);
    void requestRun(std::shared_ptr<const reclab::Dataset> dataset, reclab::TrainConfig config, QString databasePath,
                    qint64 resumeRunId, qint64 parentRunId, QString dataSpec);

private:
    QThread thread_;
    TrainingWorker* worker_; // lives in thread_, deleted when it finishes
    bool running_ = false;
};

} // namespace reclab
