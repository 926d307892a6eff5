// The engine itself (Engine.h) over core's LibTorch side. Built into libreclab_engine.so, which
// the workbench loads after its first paint, and linked into the tests, which have it at once.
#include "engine/Engine.h"

#include "dist/DistributedRun.h"
#include "inspect/InspectView.h"
#include "ranking/RankingView.h"
#include "train/Trainer.h"
#include "train/TrainingSession.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/Versions.h"

namespace reclab {

namespace {

class SessionJob final : public TrainingJob {
public:
    SessionJob(TrainingJobSpec spec, TrainingJobCallbacks callbacks)
        : dataset_(spec.dataset), dataSpec_(std::move(spec.dataSpec)), note_(callbacks.note),
          session_(std::move(spec.dataset), std::move(spec.config), std::move(spec.databasePath))
    {
        if (spec.resumeRunId > 0)
            session_.resume(spec.resumeRunId);
        if (spec.parentRunId > 0)
            session_.setLabels({{}, {}, {}, spec.parentRunId});
        session_.setStartCallback(std::move(callbacks.started));
        session_.setBatchCallback(std::move(callbacks.batch));
        session_.setEpochCallback(std::move(callbacks.epoch));
        session_.trainer().setStepCallback(std::move(callbacks.step));
        session_.setNoteCallback(std::move(callbacks.note));
    }

    void requestStop() override { session_.requestStop(); }
    void setPaused(bool paused) override { session_.trainer().setPaused(paused); }
    void requestStep() override { session_.trainer().requestStep(); }
    void setLearningRate(double learningRate) override { session_.trainer().setLearningRate(learningRate); }
    RunOutcome run() override
    {
        const TrainConfig& config = session_.trainer().config();
        if (config.worldSize <= 1)
            return session_.run();
        // A run on several processes of this machine: this one is rank 0 (it records the run and
        // shows it live), the others are reclab-train processes given the same data.
        if (!distributedTrainingBuilt())
            throw ConfigError("processes", "this build cannot train across processes: LibTorch's c10d with Gloo "
                                           "was not found when it was built (on Debian: libgloo-dev)");
        if (dataSpec_.empty())
            throw ConfigError("processes", "the other processes load the data as `reclab-train train --data` does, "
                                           "and these data came from an import with options of their own: open "
                                           "them from a folder or file as they are, or train on one process");
        const World world = localWorld(config.worldSize);
        const std::string program = trainingProgramBeside(executablePath());
        RankHost host(world, config, *dataset_, LocalLaunch{program, {program, "train", "--data", dataSpec_}});
        session_.setRankGroup(host.group(), [&host] { return host.failures(); });
        if (note_)
            note_("Training on " + std::to_string(world.size) + " processes (" + distributedBackends() +
                  " on this machine): this one evaluates and records, the others train their share of each batch");
        RunOutcome outcome;
        try {
            outcome = session_.run();
        } catch (...) {
            host.finish(3.0);
            throw;
        }
        host.finish(outcome.status == RunStatus::Finished ? -1.0 : 3.0);
        return outcome;
    }

private:
    std::shared_ptr<const Dataset> dataset_;
    std::string dataSpec_;
    std::function<void(const std::string&)> note_;
    TrainingSession session_;
};

class TorchEngine final : public Engine {
public:
    std::string torchVersion() const override { return torchVersionText(); }
    std::vector<std::string> devices() const override { return trainingDevices(); }
    void checkConfig(const std::shared_ptr<const Dataset>& dataset, const TrainConfig& config) const override
    {
        Trainer check(dataset, config);
    }
    std::unique_ptr<TrainingJob> newTrainingJob(TrainingJobSpec spec, TrainingJobCallbacks callbacks) const override
    {
        return std::make_unique<SessionJob>(std::move(spec), std::move(callbacks));
    }
    InspectPage* newInspectPage(QWidget* parent) const override { return new InspectView(parent); }
    RankingPage* newRankingPage(QWidget* parent) const override { return new RankingView(parent); }
};

} // namespace

} // namespace reclab

// The one entry point: the workbench resolves it in the loaded library, linked programs call it.
extern "C" reclab::Engine* reclab_engine_instance()
{
    static reclab::TorchEngine engine;
    return &engine;
}
