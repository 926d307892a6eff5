#include "train/TrainingSession.h"

#include "graph/GraphExport.h"
#include "store/ExperimentStore.h"

#include <nlohmann/json.hpp>

namespace reclab {

TrainingSession::TrainingSession(std::shared_ptr<const Dataset> dataset, TrainConfig config,
                                 std::string databasePath)
    : dataset_(dataset), databasePath_(std::move(databasePath)), trainer_(std::move(dataset), std::move(config))
{
}

RunOutcome TrainingSession::run()
{
    ExperimentStore store(databasePath_);
    const TrainConfig& config = trainer_.config();
    RunRecord record;
    record.model = config.model;
    record.dataset = dataset_->name;
    record.datasetSource = dataset_->source;
    record.datasetFingerprint = dataset_->fingerprint();
    record.paramsJson = config.toJson().dump();
    record.seed = static_cast<int64_t>(config.seed);
    runId_ = store.beginRun(record);
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
        for (const auto& m : s.metrics)
            pending.push_back({m.name, s.step, s.epoch, m.value, now});
        store.recordMetrics(runId_, pending);
        pending.clear();
        if (onEpoch_)
            onEpoch_(s);
    });

    try {
        const RunOutcome outcome = trainer_.fit();
        // A graph's weights stay beside the database, for export and inspection.
        if (auto* graph = dynamic_cast<GraphModelImpl*>(trainer_.model().get());
            graph && outcome.epochsCompleted > 0 && outcome.status != RunStatus::Failed) {
            graph->to(torch::kCPU);
            saveTrainedGraph(*graph, runArtifactDir(store.path(), runId_));
        }
        store.finishRun(runId_, outcome.status, outcome.message);
        return outcome;
    } catch (const std::exception& e) {
        store.finishRun(runId_, RunStatus::Failed, e.what());
        throw;
    }
}

} // namespace reclab
