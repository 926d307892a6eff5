// Runs epochs of a model from the registry on a dataset and reports through callbacks; the
// seam the GUI worker and the CLI both drive. Qt-free and torch-free in its interface.
// Stop is a flag checked between batches, safe to set from any thread.
#pragma once

#include "data/Dataset.h"
#include "runs/TrainConfig.h"
#include "runs/TrainingEvents.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace c10 {
struct Device;
}

namespace reclab {

class Random;
struct TrainingProgress;
class Recommender;
class TrainingTask;
struct EpochLoop;
class RankGroup;
class FlatOptimizer;

// A run's threads: `threads` > 0 sets LibTorch's intra-op threads and RecLab's evaluation
// threads (util/Runtime.h); 0 keeps LibTorch's default and evaluates on one thread per core.
// fit() applies it with the run's configuration; programs timing evaluation alone call it.
void useThreads(int threads);

// The devices a run can train on: "cpu", then "cuda:0", "cuda:1", ... for each GPU LibTorch sees.
std::vector<std::string> trainingDevices();

class Trainer {
public:
    using BatchCallback = std::function<void(const BatchProgress&)>;
    using EpochCallback = std::function<void(const EpochStats&)>;
    using StepCallback = std::function<void(const StepReport&)>;
    using SplitCallback = std::function<void(const std::string& splitFingerprint)>;

    // Validates config (ConfigError) but prepares nothing until fit().
    Trainer(std::shared_ptr<const Dataset> dataset, TrainConfig config);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    void setBatchCallback(BatchCallback callback) { onBatch_ = std::move(callback); }
    void setEpochCallback(EpochCallback callback) { onEpoch_ = std::move(callback); }
    void setStepCallback(StepCallback callback) { onStep_ = std::move(callback); }
    // Called once fit() has split the data, before the model is built (TrainingTask::splitFingerprint).
    void setSplitCallback(SplitCallback callback) { onSplit_ = std::move(callback); }
    // Called after the split with each of its notes (TrainingTask::notes), e.g. users left out.
    using NoteCallback = std::function<void(const std::string& note)>;
    void setNoteCallback(NoteCallback callback) { onNote_ = std::move(callback); }
    const BatchCallback& batchCallback() const { return onBatch_; }
    const EpochCallback& epochCallback() const { return onEpoch_; }

    // Where fit() writes last.pt after every epoch (and best.pt at every validation best);
    // empty (the default): no checkpoints. runId is written into them (CheckpointIdentity).
    void setCheckpointDir(std::string dir, int64_t runId = 0)
    {
        checkpointDir_ = std::move(dir);
        checkpointRunId_ = runId;
    }
    // Called by fit() when a resume has restored its checkpoint, before the first epoch: the
    // checkpoint fits, so what the caller keeps of the run can be changed now.
    using ResumedCallback = std::function<void(const TrainingProgress&)>;
    void setResumedCallback(ResumedCallback callback) { onResumed_ = std::move(callback); }
    // fit() continues from this checkpoint (a last.pt of the same configuration and data)
    // instead of starting afresh: pre-training is skipped, epochs run from the one after it.
    // bestCheckpoint, when the run validates and has a best epoch, is that epoch's best.pt.
    void setResumeFrom(std::string checkpoint, std::string bestCheckpoint = {})
    {
        resumeFrom_ = std::move(checkpoint);
        resumeBest_ = std::move(bestCheckpoint);
    }

    // Called by fit() on the model it built, before any training (and instead of pre-training):
    // a run continued from another starts from its weights (Replay.h continueFrom).
    using StartCallback = std::function<void(Recommender&)>;
    void setStartWeights(StartCallback start) { startWeights_ = std::move(start); }

    // Train as one rank of a distributed run (dist/RankGroup.h), before fit(). Every rank builds
    // the same model from the same seed and samples the same epochs; each trains on its share of
    // every batch, gradients are exchanged each step, and rank 0's weights, optimizer state and
    // progress (a resumed checkpoint's) are every rank's at the start. Only rank 0 evaluates,
    // reports epochs and writes checkpoints; the others wait for its word between epochs. Pause
    // and step do not apply (the others would wait on the paused rank); stop does, on any rank.
    void setRankGroup(std::shared_ptr<RankGroup> group) { group_ = std::move(group); }
    RankGroup* rankGroup() const { return group_.get(); }

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

    // Splits the data, builds the model and trains it. Returns Finished (also when stopped
    // early), Stopped (stop was requested) or Failed (the loss became NaN); throws Error or
    // c10::Error on other failures.
    RunOutcome fit();

    // The test metrics of this configuration's model with the weights of a checkpoint (a run's
    // best.pt or last.pt): what the run had at that epoch. Throws Error for a checkpoint of
    // another model.
    MetricValues evaluateCheckpoint(const std::string& checkpoint);
    // This configuration's model with the weights of a checkpoint, in eval mode on the
    // configured device, for recommending and inspecting. A counting model (no checkpoint:
    // checkpoint empty) is rebuilt from the data. Throws Error for a checkpoint of another model.
    std::shared_ptr<Recommender> loadModel(const std::string& checkpoint);

private:
    std::unique_ptr<TrainingTask> prepare(); // runtime, threads, seed; the task with its split
    // What the person training should know about the model built: the text it read, and under
    // the cold protocol what an ID-only model can do with items it never saw.
    std::vector<std::string> modelNotes(const Recommender& model) const;
    // restoring: the weights come from a checkpoint next (word vectors are not read or trained).
    std::shared_ptr<Recommender> buildModel(const TrainingTask& task, const c10::Device& device, bool restoring = false);
    // NeuMF-style pre-training of the graph's parts, loaded into model.
    RunOutcome pretrainParts(Recommender& model, const TrainingTask& task, const EpochLoop& loop, int64_t& step);
    // A distributed run: rank 0's starting state (weights, moments, progress, sampler) made every rank's.
    void shareStart(FlatOptimizer& optimizer, TrainingProgress& progress, Random& rng);

    std::shared_ptr<const Dataset> dataset_;
    std::shared_ptr<const Dataset> trainingData_; // dataset_, or its rows without repeated pairs
    TrainConfig config_;
    BatchCallback onBatch_;
    EpochCallback onEpoch_;
    StepCallback onStep_;
    SplitCallback onSplit_;
    NoteCallback onNote_;
    std::atomic<bool> stop_{false};
    mutable std::mutex controlMutex_;
    std::condition_variable control_;
    bool paused_ = false;
    int stepsAllowed_ = 0;
    double pendingLearningRate_ = 0.0; // 0: no change asked
    std::string checkpointDir_;
    int64_t checkpointRunId_ = 0;
    std::string resumeFrom_, resumeBest_;
    ResumedCallback onResumed_;
    StartCallback startWeights_;
    std::shared_ptr<RankGroup> group_;

    std::shared_ptr<Recommender> model_;
};

} // namespace reclab
