// The runs training in the window, each in its own thread: their bookkeeping (label, planned
// epochs, share done, stage, speed) fed by their controllers, the dashboard's live curves, and
// their steering (pause, one step, learning rate, stop). The window picks which run it steers
// and shows; every run keeps training and charting meanwhile.
#pragma once

#include "CoreMetaTypes.h"
#include "runs/TrainConfig.h"
#include "runs/TrainingEvents.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace reclab {

struct Dataset;
class TrainingController;
class TrainingDashboard;

class LiveRuns : public QObject {
    Q_OBJECT
public:
    // One run training in its own thread.
    struct Run {
        TrainingController* controller = nullptr; // also the run's key in the window's list
        qint64 runId = 0;                         // 0 until the store has it
        QString label;
        int plannedEpochs = 1;
        QElapsedTimer clock;
        double done = 0; // share of the run
        QString stage;   // what a progress bar says
        double samplesPerSecond = 0;
        bool paused = false;
        int processes = 1;       // > 1: a run on several processes, which cannot pause or step
        double learningRate = 0; // asked for (applies from the next epoch)
        QStringList notes;       // how the split met the model (users left out), as they came

        QString etaText() const; // "ETA 3 min 5 s" once 1% is done, else empty
    };

    static QString duration(double seconds); // "1 h 5 min", "3 min 5 s", "12 s"

    explicit LiveRuns(TrainingDashboard* dashboard, QObject* parent = nullptr);
    ~LiveRuns() override; // stops every run and joins its thread

    // Starts a run (resumeRunId: a stored run to continue; parentRunId: the run it clones;
    // dataSpec: how the other processes of a run on several load the data).
    Run* launch(std::shared_ptr<const Dataset> dataset, const TrainConfig& config, const QString& databasePath,
                const QString& label, qint64 resumeRunId, qint64 parentRunId, const QString& dataSpec = {});
    Run* find(const QObject* key) const; // by the run's controller
    size_t count() const { return runs_.size(); }

    void stop(Run* run);
    void setPaused(Run* run, bool paused);
    void step(Run* run); // one batch, then paused
    bool setLearningRate(Run* run, double learningRate);
    void shutdownAll(); // every run stops; each stored run ends STOPPED and can be resumed

signals:
    void started(reclab::LiveRuns::Run* run);  // the store has it: runId and label are final
    void progressed(reclab::LiveRuns::Run* run); // share done, stage or speed changed
    void epochEnded(reclab::LiveRuns::Run* run, const reclab::EpochStats& stats);
    void stepped(reclab::LiveRuns::Run* run, const reclab::StepReport& report);
    void noted(reclab::LiveRuns::Run* run, const QString& note); // kept in Run::notes too
    // The run is gone from the list when this arrives (key: its former controller, not to be used).
    void finished(const QObject* key, qint64 runId, const QString& status, const QString& message,
                  const QString& label, double seconds);

private:
    void onBatch(Run* run, const BatchProgress& p);
    void onEpoch(Run* run, const EpochStats& s);
    void onFinished(Run* run, qint64 runId, const QString& status, const QString& message);

    TrainingDashboard* dashboard_;
    std::vector<std::unique_ptr<Run>> runs_;
};

} // namespace reclab
