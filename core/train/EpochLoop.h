// The training loop of one model, internal to Trainer: epochs of batches under the trainer's
// controls (pause, step, stop, learning rate) with loss reports; for the run itself, evaluation
// after every epoch, early stopping on a validation metric, the best epoch's weights and
// checkpoints after every epoch.
#pragma once

#include "runs/ModelTraits.h"
#include "train/Checkpoint.h"
#include "train/Trainer.h"

#include <torch/types.h>

#include <chrono>
#include <string>

namespace reclab {

class FlatOptimizer;
class Random;
class Recommender;
class TrainingTask;

struct EpochLoop {
    Trainer& trainer;
    const TrainingTask& task;
    InputType input;
    torch::Device device;
    Random& rng;
    std::chrono::steady_clock::time_point runStart;
    std::string checkpointDir; // where last.pt, best.pt and embedding snapshots go; empty: nowhere
    CheckpointIdentity identity; // written into every checkpoint
    mutable int lastSnapshot = 0; // the epoch of the latest embedding snapshot

    // A pre-training phase ("gmf", "mlp"): its batches are reported tagged with the phase, and
    // it is not evaluated.
    RunOutcome pretrain(Recommender& model, FlatOptimizer& optimizer, const std::string& phase, int64_t& step) const;
    // The run itself, from progress.epoch + 1 to the configured epochs. With a validation metric
    // the best epoch's weights end up in best (and the model, evaluated on the test part).
    RunOutcome run(Recommender& model, FlatOptimizer& optimizer, TrainingProgress& progress, ModelSnapshot& best) const;

private:
    // Saves the model's user and item tables as the epoch's snapshot (thinned for large
    // tables unless forced); failures to write are not fatal to the run.
    void snapshotEmbeddings(Recommender& model, int epoch, bool force = false) const;

    // One epoch of batches; false (with outcome saying why) when stopped or the loss is not finite.
    bool trainEpoch(Recommender& model, FlatOptimizer& optimizer, int epoch, const std::string& phase, int64_t& step,
                    EpochStats& stats, RunOutcome& outcome) const;
};

} // namespace reclab
