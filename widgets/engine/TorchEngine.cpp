// The engine itself (Engine.h) over core's LibTorch side. Built into libreclab_engine.so, which
// the workbench loads after its first paint, and linked into the tests, which have it at once.
#include "engine/Engine.h"

#include "inspect/InspectView.h"
#include "ranking/RankingView.h"
#include "train/Trainer.h"
#include "train/TrainingSession.h"
#include "util/Versions.h"

namespace reclab {

namespace {

class SessionJob final : public TrainingJob {
public:
    SessionJob(TrainingJobSpec spec, TrainingJobCallbacks callbacks)
        : session_(std::move(spec.dataset), std::move(spec.config), std::move(spec.databasePath))
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
    RunOutcome run() override { return session_.run(); }

private:
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
