// Runs epochs of a model from the registry on a dataset and reports through callbacks; the
// seam the GUI worker and the CLI both drive. Qt-free and torch-free in its interface.
// Stop is a flag checked between batches, safe to set from any thread.
#pragma once

#include "data/Dataset.h"
#include "train/TrainConfig.h"
#include "train/TrainingEvents.h"

#include <atomic>
#include <functional>
#include <memory>

namespace reclab {

class Recommender;

// RecLab's threads: LibTorch's intra-op pool stays at one thread (small training batches gain
// nothing from it, and evaluation is split by RecLab itself, util/Runtime.h) unless
// OMP_NUM_THREADS asks otherwise; `threads` (0: one per core) is the evaluation threads.
// fit() applies it with the run's configuration; programs timing evaluation alone call it.
void useThreads(int threads);

class Trainer {
public:
    using BatchCallback = std::function<void(const BatchProgress&)>;
    using EpochCallback = std::function<void(const EpochStats&)>;

    // Validates config (ConfigError) but prepares nothing until fit().
    Trainer(std::shared_ptr<const Dataset> dataset, TrainConfig config);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    void setBatchCallback(BatchCallback callback) { onBatch_ = std::move(callback); }
    void setEpochCallback(EpochCallback callback) { onEpoch_ = std::move(callback); }
    void requestStop() { stop_.store(true); }
    bool stopRequested() const { return stop_.load(); }

    const TrainConfig& config() const { return config_; }
    // The model of the last fit() (trained as far as it got); null before.
    std::shared_ptr<Recommender> model() const { return model_; }

    // Splits the data, builds the model and trains it. Returns Finished, Stopped (stop was
    // requested) or Failed (the loss became NaN); throws Error or c10::Error on other failures.
    RunOutcome fit();

private:
    std::shared_ptr<const Dataset> dataset_;
    TrainConfig config_;
    BatchCallback onBatch_;
    EpochCallback onEpoch_;
    std::atomic<bool> stop_{false};
    std::shared_ptr<Recommender> model_;
};

} // namespace reclab
