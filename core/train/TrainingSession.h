// One recorded training run: a Trainer whose progress is written to the ExperimentStore as it
// happens (run row first, every epoch's metrics and the loss curve in one transaction per
// epoch, final status last). The CLI and the GUI worker both run trainings through this.
#pragma once

#include "train/Trainer.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

class ExperimentStore;
struct RunClaim;
struct RunRecord;

// How a new run is filed: its experiment (created when new; empty: "Default"), name, tags and
// the run it was cloned from (whose data it must be given: run() throws Error otherwise; a clone
// goes to its parent's experiment unless given one).
struct RunLabels {
    std::string experiment;
    std::string name;
    std::vector<std::string> tags;
    int64_t parentRunId = 0;
    bool continued = false; // the parent's weights continued on new data (which may differ from its own)
};

class TrainingSession {
public:
    using StartCallback = std::function<void(int64_t runId)>;

    TrainingSession(std::shared_ptr<const Dataset> dataset, TrainConfig config, std::string databasePath);

    void setStartCallback(StartCallback callback) { onStart_ = std::move(callback); }
    void setLabels(RunLabels labels) { labels_ = std::move(labels); }
    void setBatchCallback(Trainer::BatchCallback callback) { onBatch_ = std::move(callback); }
    void setEpochCallback(Trainer::EpochCallback callback) { onEpoch_ = std::move(callback); }
    // Each note of the split (Trainer::setNoteCallback), after it is added to the run's notes.
    void setNoteCallback(Trainer::NoteCallback callback) { onNote_ = std::move(callback); }
    void requestStop() { trainer_.requestStop(); }
    // Pause, step and learning-rate changes go to the trainer (thread-safe).
    Trainer& trainer() { return trainer_; }

    // A run on several processes (dist/DistributedRun.h): trains as rank 0 of group. When the
    // group breaks (a rank ended or stopped answering) the run is INTERRUPTED, so it can be
    // resumed, and its message starts with what failures() says of the ranks that ended.
    void setRankGroup(std::shared_ptr<RankGroup> group, std::function<std::string()> failures = {})
    {
        trainer_.setRankGroup(std::move(group));
        rankFailures_ = std::move(failures);
    }

    // Makes run() continue the stored run runId from its last checkpoint instead of starting a
    // new one. The session's config should be the run's (storedTrainConfig), epochs may be raised.
    void resume(int64_t runId) { resumeRunId_ = runId; }

    // Runs the training to its end; the stored run is FINISHED, STOPPED or FAILED. Errors after
    // the run row exists are recorded as FAILED with their message and then rethrown. A damaged
    // database or an artifact folder that cannot be written is refused before a run is made. A
    // run that cannot be resumed (not stopped, resumed by another process, other data, no
    // checkpoint or one of another run, model, data or split, no epochs left) throws Error and
    // is left exactly as it was. Every epoch writes last.pt (and with validation best.pt) into
    // the run's artifact folder; with validation the test metrics of the best epoch are
    // recorded once, at its step, after training.
    RunOutcome run();
    int64_t runId() const { return runId_; }

private:
    // Checks that the run to resume can continue (reading only), then claims it in the store.
    RunClaim prepareResume(ExperimentStore& store);

    std::shared_ptr<const Dataset> dataset_;
    std::string databasePath_;
    Trainer trainer_;
    StartCallback onStart_;
    Trainer::BatchCallback onBatch_;
    Trainer::EpochCallback onEpoch_;
    Trainer::NoteCallback onNote_;
    RunLabels labels_;
    std::function<std::string()> rankFailures_;
    int64_t runId_ = 0;
    int64_t resumeRunId_ = 0;
};

} // namespace reclab
