// One recorded training run: a Trainer whose progress is written to the ExperimentStore as it
// happens (run row first, every epoch's metrics and the loss curve in one transaction per
// epoch, final status last). The CLI and the GUI worker both run trainings through this.
#pragma once

#include "train/Trainer.h"

#include <functional>
#include <memory>
#include <string>

namespace reclab {

class TrainingSession {
public:
    using StartCallback = std::function<void(int64_t runId)>;

    TrainingSession(std::shared_ptr<const Dataset> dataset, TrainConfig config, std::string databasePath);

    void setStartCallback(StartCallback callback) { onStart_ = std::move(callback); }
    void setBatchCallback(Trainer::BatchCallback callback) { onBatch_ = std::move(callback); }
    void setEpochCallback(Trainer::EpochCallback callback) { onEpoch_ = std::move(callback); }
    void requestStop() { trainer_.requestStop(); }
    // Pause, step and learning-rate changes go to the trainer (thread-safe).
    Trainer& trainer() { return trainer_; }

    // Runs the training to its end; the stored run is FINISHED, STOPPED or FAILED. Errors after
    // the run row exists are recorded as FAILED with their message and then rethrown.
    RunOutcome run();
    int64_t runId() const { return runId_; }

private:
    std::shared_ptr<const Dataset> dataset_;
    std::string databasePath_;
    Trainer trainer_;
    StartCallback onStart_;
    Trainer::BatchCallback onBatch_;
    Trainer::EpochCallback onEpoch_;
    int64_t runId_ = 0;
};

} // namespace reclab
