#include "train/TrainingSession.h"

#include "graph/GraphExport.h"
#include "train/Checkpoint.h"
#include "util/Error.h"
#include "store/ExperimentStore.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace reclab {

TrainingSession::TrainingSession(std::shared_ptr<const Dataset> dataset, TrainConfig config,
                                 std::string databasePath)
    : dataset_(dataset), databasePath_(std::move(databasePath)), trainer_(std::move(dataset), std::move(config))
{
}

TrainConfig TrainingSession::storedConfig(const std::string& databasePath, int64_t runId)
{
    ExperimentStore store(databasePath);
    const auto record = store.findRun(runId);
    if (!record)
        throw Error(databasePath + " has no run " + std::to_string(runId));
    try {
        return TrainConfig::fromJson(nlohmann::json::parse(record->paramsJson));
    } catch (const nlohmann::json::exception& e) {
        throw Error("run " + std::to_string(runId) + " of " + databasePath + " has unreadable params: " + e.what());
    }
}

void TrainingSession::requireSameData(const RunRecord& run, const Dataset& data, const std::string& purpose)
{
    if (run.datasetFingerprint != data.fingerprint())
        throw Error("run " + std::to_string(run.id) + " was trained on other data (" + run.dataset + ", " +
                    run.datasetSource + "); load that dataset to " + purpose);
}

void TrainingSession::prepareResume(ExperimentStore& store)
{
    const std::string run = "run " + std::to_string(resumeRunId_);
    const auto record = store.findRun(resumeRunId_);
    if (!record)
        throw Error(store.path() + " has no " + run);
    if (record->status != RunStatus::Stopped && record->status != RunStatus::Interrupted)
        throw Error(run + " is " + runStatusName(record->status) + "; only a stopped or interrupted run can be resumed");
    requireSameData(*record, *dataset_, "resume it");
    const std::filesystem::path dir(runArtifactDir(store.path(), resumeRunId_));
    const std::filesystem::path last = dir / "last.pt", best = dir / "best.pt";
    if (!std::filesystem::exists(last))
        throw Error(run + " has no checkpoint (" + last.string() + "): it stopped before its first epoch ended");
    const TrainingProgress progress = CheckpointReader(last.string()).progress();
    const TrainConfig& config = trainer_.config();
    if (config.epochs <= progress.epoch)
        throw Error(run + " has done " + std::to_string(progress.epoch) + " of " + std::to_string(config.epochs) +
                    " epochs; give it more epochs to continue");
    trainer_.setResumeFrom(last.string(),
                           progress.bestEpoch > 0 && std::filesystem::exists(best) ? best.string() : std::string());
    store.reopenRun(resumeRunId_, config.toJson().dump(), progress.epoch);
    runId_ = resumeRunId_;
}

RunOutcome TrainingSession::run()
{
    ExperimentStore store(databasePath_);
    const TrainConfig& config = trainer_.config();
    if (resumeRunId_ > 0) {
        prepareResume(store);
    } else {
        if (labels_.parentRunId > 0) {
            // A clone repeats its run's split, so it must see the same data.
            const auto parent = store.findRun(labels_.parentRunId);
            if (!parent)
                throw Error(store.path() + " has no run " + std::to_string(labels_.parentRunId) + " to clone");
            requireSameData(*parent, *dataset_, "clone it");
            if (labels_.experiment.empty()) // filed beside the run it repeats
                labels_.experiment = parent->experiment;
        }
        RunRecord record;
        record.model = config.model;
        record.dataset = dataset_->name;
        record.datasetSource = dataset_->source;
        record.datasetFingerprint = dataset_->fingerprint();
        record.paramsJson = config.toJson().dump();
        record.seed = static_cast<int64_t>(config.seed);
        if (!labels_.experiment.empty())
            record.experimentId = store.experimentId(labels_.experiment);
        record.name = labels_.name;
        record.tags = labels_.tags;
        record.parentRunId = labels_.parentRunId;
        runId_ = store.beginRun(record);
    }
    trainer_.setSplitCallback([&](const std::string& split) { store.setSplitFingerprint(runId_, split); });
    trainer_.setCheckpointDir(runArtifactDir(store.path(), runId_));
    if (onStart_)
        onStart_(runId_);

    // The loss curve is buffered and written with its epoch, so a killed run keeps every
    // completed epoch and nothing half-written.
    std::vector<MetricPoint> pending;
    trainer_.setBatchCallback([&](const BatchProgress& p) {
        // Pre-training phases keep their own curves ("pretrain_gmf_loss", ...).
        pending.push_back({p.phase.empty() ? std::string("batch_loss") : "pretrain_" + p.phase + "_loss", p.step, p.epoch,
                           p.loss, unixTimeNow()});
        if (onBatch_)
            onBatch_(p);
    });
    trainer_.setEpochCallback([&](const EpochStats& s) {
        const double now = unixTimeNow();
        pending.push_back({"loss", s.step, s.epoch, s.loss, now});
        pending.push_back({"train_seconds", s.step, s.epoch, s.trainSeconds, now});
        pending.push_back({"eval_seconds", s.step, s.epoch, s.evalSeconds, now});
        pending.push_back({"samples_per_second", s.step, s.epoch, s.samplesPerSecond, now});
        if (s.learningRate > 0)
            pending.push_back({"learning_rate", s.step, s.epoch, s.learningRate, now});
        for (const auto& m : s.metrics)
            pending.push_back({m.name, s.step, s.epoch, m.value, now});
        store.recordMetrics(runId_, pending);
        pending.clear();
        if (s.epoch > 1) // this epoch's checkpoint is written after this call; the last one is whole
            store.syncArtifacts(runId_);
        if (onEpoch_)
            onEpoch_(s);
    });

    try {
        const RunOutcome outcome = trainer_.fit();
        if (outcome.testedAtBest) {
            const double now = unixTimeNow();
            std::vector<MetricPoint> test;
            for (const auto& m : outcome.finalMetrics)
                test.push_back({m.name, outcome.bestStep, outcome.bestEpoch, m.value, now});
            test.push_back({"best_epoch", outcome.bestStep, outcome.bestEpoch, static_cast<double>(outcome.bestEpoch), now});
            store.recordMetrics(runId_, test);
        }
        if (!outcome.userMetrics.empty())
            store.recordUserMetrics(runId_, outcome.userMetrics);
        // A graph's weights stay beside the database, for export and inspection.
        if (auto* graph = dynamic_cast<GraphModelImpl*>(trainer_.model().get());
            graph && outcome.epochsCompleted > 0 && outcome.status != RunStatus::Failed) {
            graph->to(torch::kCPU);
            saveTrainedGraph(*graph, runArtifactDir(store.path(), runId_));
        }
        store.syncArtifacts(runId_);
        store.finishRun(runId_, outcome.status, outcome.message);
        return outcome;
    } catch (const std::exception& e) {
        try {
            store.syncArtifacts(runId_);
        } catch (const std::exception&) {
            // the failure to record is the one that matters
        }
        store.finishRun(runId_, RunStatus::Failed, e.what());
        throw;
    }
}

} // namespace reclab
