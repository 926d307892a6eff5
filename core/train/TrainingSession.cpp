#include "train/TrainingSession.h"

#include "compiled/GraphExport.h"
#include "dist/World.h"
#include "runs/StoredRuns.h"
#include "train/Checkpoint.h"
#include "util/Error.h"
#include "util/Files.h"
#include "store/ExperimentStore.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <unistd.h>

namespace reclab {

TrainingSession::TrainingSession(std::shared_ptr<const Dataset> dataset, TrainConfig config,
                                 std::string databasePath)
    : dataset_(dataset), databasePath_(std::move(databasePath)), trainer_(std::move(dataset), std::move(config))
{
}

namespace {

// The folder every run's files go to, made and tried before a run is recorded, so a run is not
// left FAILED for a folder the user can fix first.
void requireWritableArtifacts(const std::string& databasePath)
{
    const std::string dir = databasePath + ".artifacts";
    createFolders(dir);
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw Error(dir + ": cannot be written (" + std::strerror(errno) + "); RecLab keeps the runs' checkpoints there, beside " +
                    databasePath);
}

} // namespace

RunClaim TrainingSession::prepareResume(ExperimentStore& store)
{
    const std::string run = "run " + std::to_string(resumeRunId_);
    store.recoverInterruptedRuns(); // a RUNNING run whose process is gone is INTERRUPTED
    const auto record = store.findRun(resumeRunId_);
    if (!record)
        throw Error(store.path() + " has no " + run);
    if (record->status == RunStatus::Running)
        store.claimRun(resumeRunId_); // throws, naming the live process that has it
    if (record->status != RunStatus::Stopped && record->status != RunStatus::Interrupted)
        throw Error(run + " is " + runStatusName(record->status) + "; only a stopped or interrupted run can be resumed");
    requireSameData(*record, *dataset_, "resume it");
    const std::filesystem::path dir(runArtifactDir(store.path(), resumeRunId_));
    const std::filesystem::path last = dir / "last.pt", best = dir / "best.pt";
    if (!isRegularFile(last.string())) {
        if (store.metrics(resumeRunId_, "loss").empty())
            throw Error(run + " stopped before its first epoch ended: there is nothing to resume; train it again with --clone " +
                        std::to_string(resumeRunId_));
        throw Error(run + " has no checkpoint (" + last.string() + " is missing); it cannot be resumed, only cloned with --clone " +
                    std::to_string(resumeRunId_));
    }
    const CheckpointReader reader(last.string());
    reader.requireIdentity({resumeRunId_, record->datasetFingerprint, record->splitFingerprint});
    const TrainingProgress& progress = reader.progress();
    const TrainConfig& config = trainer_.config();
    if (config.epochs <= progress.epoch)
        throw Error(run + " has done " + std::to_string(progress.epoch) + " of " + std::to_string(config.epochs) +
                    " epochs; give it more epochs to continue");
    trainer_.setResumeFrom(last.string(),
                           progress.bestEpoch > 0 && isRegularFile(best.string()) ? best.string() : std::string());
    RunClaim claim = store.claimRun(resumeRunId_); // atomic: a second resume of the run stops here
    runId_ = resumeRunId_;
    return claim;
}

RunOutcome TrainingSession::run()
{
    ExperimentStore store(databasePath_);
    store.requireIntact(); // nothing is written into a damaged file
    requireWritableArtifacts(store.path());
    const TrainConfig& config = trainer_.config();
    std::optional<RunClaim> claim;
    std::string expectedSplit;
    if (resumeRunId_ > 0) {
        claim = prepareResume(store);
        expectedSplit = store.findRun(resumeRunId_)->splitFingerprint;
    } else {
        if (labels_.parentRunId > 0) {
            // A clone repeats its run's split, so it must see the same data (a continued run
            // brings new data).
            const auto parent = store.findRun(labels_.parentRunId);
            if (!parent)
                throw Error(store.path() + " has no run " + std::to_string(labels_.parentRunId) + " to clone");
            if (!labels_.continued)
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
    bool resumed = false;
    if (claim) {
        // Nothing of the run changes until its checkpoint has been found to fit this model.
        trainer_.setSplitCallback([&](const std::string& split) {
            if (!expectedSplit.empty() && split != expectedSplit)
                throw Error("run " + std::to_string(runId_) + " was split differently (fingerprint " + expectedSplit +
                            ", now " + split + "); load the data it was trained on to resume it");
        });
        trainer_.setResumedCallback([&](const TrainingProgress& progress) {
            store.resumeRun(runId_, config.toJson().dump(), progress.epoch);
            resumed = true;
        });
    } else {
        trainer_.setSplitCallback([&](const std::string& split) { store.setSplitFingerprint(runId_, split); });
    }
    trainer_.setCheckpointDir(runArtifactDir(store.path(), runId_), runId_);
    // The split's notes (users left out) stay with the run, after any notes it already has.
    trainer_.setNoteCallback([&](const std::string& note) {
        const auto run = store.findRun(runId_);
        const std::string before = run ? run->notes : std::string();
        store.setNotes(runId_, before.empty() ? note : before + "\n" + note);
        if (onNote_)
            onNote_(note);
    });
    if (onStart_)
        onStart_(runId_);

    // The loss curve is buffered and written with its epoch, so a killed run keeps every
    // completed epoch and nothing half-written.
    std::vector<MetricPoint> pending;
    trainer_.setBatchCallback([&](const BatchProgress& p) {
        // Pre-training phases keep their own curves ("pretrain_gmf_loss", ...).
        pending.push_back({p.phase.empty() ? std::string("batch_loss") : "pretrain_" + p.phase + "_loss", p.step, p.epoch,
                           p.loss, unixTimeNow()});
        if (!p.phase.empty() && p.epochSeconds > 0) // the training time of a pre-training epoch
            pending.push_back({"pretrain_seconds", p.step, p.epoch, p.epochSeconds, unixTimeNow()});
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
        if (s.worldSize > 1) { // what exchanging gradients cost rank 0
            pending.push_back({"exchange_seconds", s.step, s.epoch, s.exchangeSeconds, now});
            pending.push_back({"exchange_bytes_per_step", s.step, s.epoch, s.exchangeBytesPerStep, now});
            pending.push_back({"dense_bytes_per_step", s.step, s.epoch, s.denseBytesPerStep, now});
        }
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
        if (claim && !resumed) {
            // A refused resume: the run goes back to exactly what it was.
            try {
                store.releaseClaim(*claim);
            } catch (const std::exception&) {
                // the refusal is what matters; the run is recovered as interrupted later
            }
            throw;
        }
        try {
            store.syncArtifacts(runId_);
        } catch (const std::exception&) {
            // the failure to record is the one that matters
        }
        // A broken group is no fault of the run: it is interrupted, and resumes (on as many
        // processes as are there then) from its last checkpoint.
        const bool broken = dynamic_cast<const GroupBroken*>(&e) != nullptr;
        std::string message = e.what();
        if (broken && rankFailures_)
            if (const std::string failed = rankFailures_(); !failed.empty())
                message = failed + "; " + message;
        try {
            store.finishRun(runId_, broken ? RunStatus::Interrupted : RunStatus::Failed, message);
        } catch (const std::exception&) {
            // a full disk may refuse this too; the run is then recovered as interrupted
        }
        if (broken)
            throw GroupBroken(message);
        throw;
    }
}

} // namespace reclab
