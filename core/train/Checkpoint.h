// A training run saved between epochs: the model's parameters and buffers, the optimizer's
// state and the loop's own progress (epoch, step, sampler state, early stopping's book), so a
// stopped run continues exactly where it stopped. TrainingSession keeps `last.pt` and, with a
// validation metric, `best.pt` in the run's artifact folder beside the database.
#pragma once

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>

#include <memory>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace reclab {

class FlatOptimizer;

struct TrainingProgress {
    int epoch = 0; // epochs completed
    int64_t step = 0;
    std::string rng; // the epoch sampler's Random::state()
    // Early stopping: the best validation value so far and where it was reached.
    int bestEpoch = 0; // 0: none yet
    int64_t bestStep = 0;
    double bestValue = std::numeric_limits<double>::quiet_NaN();
    int epochsWithoutImprovement = 0;
};

// Whose checkpoint it is: a resume refuses one of another run, other data or another split,
// even when its shapes would fit. Version 1 checkpoints carry none (all empty).
struct CheckpointIdentity {
    int64_t runId = 0;
    std::string datasetFingerprint;
    std::string splitFingerprint;
};

// Writes to a temporary file first and renames it over path, so a checkpoint on disk is always
// whole. Throws IoError naming the file when it cannot be written ("disk full: <path>"); no
// partial file is left.
void writeCheckpoint(const std::string& path, const torch::nn::Module& model, const FlatOptimizer& optimizer,
                     const TrainingProgress& progress, const CheckpointIdentity& identity);

// Copies a written checkpoint (last.pt to best.pt) the same whole-or-nothing way.
void copyCheckpoint(const std::string& from, const std::string& to);

// Reads a checkpoint in two steps: the model first, then (once an optimizer has been built over
// the restored parameters: reading replaces their storage) the optimizer.
class CheckpointReader {
public:
    // Throws DataError naming the file when it is not a RecLab checkpoint.
    explicit CheckpointReader(const std::string& path);
    const TrainingProgress& progress() const { return progress_; }
    const CheckpointIdentity& identity() const { return identity_; }
    // Throws Error naming what differs when the checkpoint belongs to another run, other data or
    // another split (a version 1 checkpoint, which names none, passes).
    void requireIdentity(const CheckpointIdentity& expected) const;
    // Throws Error when the checkpoint was written for another model shape.
    void restoreModel(torch::nn::Module& model);
    void restoreOptimizer(FlatOptimizer& optimizer);

private:
    std::string path_;
    torch::serialize::InputArchive archive_;
    std::shared_ptr<const void> file_; // what the archive reads from
    TrainingProgress progress_;
    CheckpointIdentity identity_;
};

// A copy of a module's parameters and buffers (on their device), to return to later: the best
// epoch's weights while training goes on. restore() copies in place, so optimizers that view the
// parameters stay valid.
class ModelSnapshot {
public:
    void take(const torch::nn::Module& model);
    void restore(torch::nn::Module& model) const;
    bool empty() const { return tensors_.empty(); }

private:
    std::vector<torch::Tensor> tensors_;
};

} // namespace reclab
