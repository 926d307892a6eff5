// The workbench's LibTorch side behind a torch-free interface: training sessions, the checks
// that need a built model, the devices, the library versions, the Inspect tab and the Ranking tab. The workbench
// starts without LibTorch (its libraries take ~0.4 s to load) and loads the engine library
// (libreclab_engine.so) after its first paint; tests and tools that link the engine's objects
// have it at once (EngineLoader.h).
#pragma once

#include "runs/TrainConfig.h"
#include "runs/TrainingEvents.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

class QWidget;

namespace reclab {

class Dataset;
class InspectPage;
class RankingPage;

// One recorded training run (a core TrainingSession). The controls may be called from any thread
// while run() works in the training thread.
class TrainingJob {
public:
    virtual ~TrainingJob() = default;
    virtual void requestStop() = 0;
    virtual void setPaused(bool paused) = 0;
    virtual void requestStep() = 0;
    // Applies from the next epoch; throws when the rate is not valid.
    virtual void setLearningRate(double learningRate) = 0;
    // Trains to the end (FINISHED, STOPPED or FAILED); throws what the session throws.
    virtual RunOutcome run() = 0;
};

struct TrainingJobSpec {
    std::shared_ptr<const Dataset> dataset;
    TrainConfig config;
    std::string databasePath;
    int64_t resumeRunId = 0; // > 0: continue that stopped run
    int64_t parentRunId = 0; // > 0: a new run cloned from that one
    // What the other processes of a run on several (config.worldSize > 1) load as their data,
    // as `reclab-train train --data` takes it; empty when the data cannot be loaded that way.
    std::string dataSpec;
};

// Called from the training thread.
struct TrainingJobCallbacks {
    std::function<void(int64_t runId)> started;
    std::function<void(const BatchProgress&)> batch;
    std::function<void(const EpochStats&)> epoch;
    std::function<void(const StepReport&)> step;
    std::function<void(const std::string& note)> note; // how the split met the model (Trainer::setNoteCallback)
};

class Engine {
public:
    virtual ~Engine() = default;
    // "LibTorch 1.13.1 (CPU)" and the like, for the About box.
    virtual std::string torchVersion() const = 0;
    // "cpu" and every CUDA device LibTorch sees ("cuda:0", ...).
    virtual std::vector<std::string> devices() const = 0;
    // Builds the model against the data and throws Error saying why when it cannot be trained.
    virtual void checkConfig(const std::shared_ptr<const Dataset>& dataset, const TrainConfig& config) const = 0;
    virtual std::unique_ptr<TrainingJob> newTrainingJob(TrainingJobSpec spec, TrainingJobCallbacks callbacks) const = 0;
    virtual InspectPage* newInspectPage(QWidget* parent) const = 0;
    virtual RankingPage* newRankingPage(QWidget* parent) const = 0;
};

} // namespace reclab
