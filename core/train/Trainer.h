// Runs epochs of a model from the registry on a dataset and reports through callbacks; the
// seam the GUI worker and the CLI both drive. Qt-free and torch-free in its interface.
// Stop is a flag checked between batches, safe to set from any thread.
#pragma once

#include "data/Dataset.h"
#include "train/TrainConfig.h"
#include "train/TrainingEvents.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace reclab {

class Recommender;

// A run's threads: `threads` > 0 sets LibTorch's intra-op threads and RecLab's evaluation
// threads (util/Runtime.h); 0 keeps LibTorch's default and evaluates on one thread per core.
// fit() applies it with the run's configuration; programs timing evaluation alone call it.
void useThreads(int threads);

class Trainer {
public:
    using BatchCallback = std::function<void(const BatchProgress&)>;
    using EpochCallback = std::function<void(const EpochStats&)>;
    using StepCallback = std::function<void(const StepReport&)>;

    // Validates config (ConfigError) but prepares nothing until fit().
    Trainer(std::shared_ptr<const Dataset> dataset, TrainConfig config);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    void setBatchCallback(BatchCallback callback) { onBatch_ = std::move(callback); }
    void setEpochCallback(EpochCallback callback) { onEpoch_ = std::move(callback); }
    void setStepCallback(StepCallback callback) { onStep_ = std::move(callback); }

    // Controls, safe from any thread. Pause and stop take effect between batches; a paused
    // run waits without using the CPU. requestStep() lets a paused run do one batch and report
    // it (StepReport), then pause again. A learning-rate change applies from the next epoch.
    void requestStop();
    bool stopRequested() const { return stop_.load(); }
    void setPaused(bool paused);
    bool isPaused() const;
    void requestStep();
    void setLearningRate(double learningRate); // throws ConfigError unless positive and finite

    // For the training loop: blocks while paused (returns at once when stopped) and says
    // whether the coming batch is a step to report; the learning rate asked for since the
    // last call (0 if none).
    bool waitWhilePaused();
    double takeLearningRate();
    const StepCallback& stepCallback() const { return onStep_; }

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
    StepCallback onStep_;
    std::atomic<bool> stop_{false};
    mutable std::mutex controlMutex_;
    std::condition_variable control_;
    bool paused_ = false;
    int stepsAllowed_ = 0;
    double pendingLearningRate_ = 0.0; // 0: no change asked

    std::shared_ptr<Recommender> model_;
};

} // namespace reclab
