#include "train/EpochLoop.h"
#include "util/Clock.h"

#include "dist/GradientSync.h"
#include "dist/RankGroup.h"
#include "models/Recommender.h"
#include "train/EmbeddingSnapshots.h"
#include "train/FlatOptimizer.h"
#include "train/TrainingTask.h"
#include "util/Random.h"
#include "util/SerialIntraOp.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace reclab {

namespace {

using Clock = SteadyClock;

// The L2 norm of the gradients of each block: parameters grouped by the first part of their
// name (a graph's block or table id, a hand-written model's module).
std::vector<std::pair<std::string, double>> gradientNorms(Recommender& model)
{
    std::vector<std::pair<std::string, double>> norms;
    std::map<std::string, double> squares;
    for (const auto& p : model.named_parameters()) {
        if (!p.value().grad().defined())
            continue;
        const std::string block = p.key().substr(0, p.key().find('.'));
        const double n = p.value().grad().norm().item<double>();
        if (!squares.count(block))
            norms.emplace_back(block, 0.0);
        squares[block] += n * n;
    }
    for (auto& [block, norm] : norms)
        norm = std::sqrt(squares[block]);
    return norms;
}

std::string fixed4(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", value);
    return text;
}

} // namespace

bool EpochLoop::trainEpoch(Recommender& model, FlatOptimizer& optimizer, int epoch, const std::string& phase,
                           int64_t& step, EpochStats& stats, RunOutcome& outcome) const
{
    const TrainConfig& config = trainer.config();
    const Trainer::BatchCallback& onBatch = trainer.batchCallback();
    RankGroup* group = trainer.rankGroup();
    const auto epochStart = std::chrono::steady_clock::now();
    if (model.sampled()) { // one sweep of the sampler: no batches, no optimizer
        const bool stepping = trainer.waitWhilePaused(); // a pause holds between sweeps, a step runs one
        if (trainer.stopRequested()) {
            outcome.status = RunStatus::Stopped;
            outcome.message = "stopped during epoch " + std::to_string(epoch);
            return false;
        }
        stats.loss = model.sampleEpoch();
        const ModelShape shape = task.shape();
        stats.samples = shape.train ? static_cast<int64_t>(shape.train->size()) : 0;
        ++step;
        if (!std::isfinite(stats.loss)) {
            outcome.status = RunStatus::Failed;
            outcome.message = "the sampler's training error became non-finite in epoch " + std::to_string(epoch);
            return false;
        }
        if (stepping && trainer.stepCallback())
            trainer.stepCallback()({epoch, 1, step, stats.loss, {}}); // no gradients to show
        if (onBatch)
            onBatch({epoch, 1, 1, stats.loss, step, secondsSince(runStart), phase, secondsSince(epochStart)});
        return true;
    }
    // Across processes every rank draws the same epoch and keeps its share of each batch (or,
    // from a sampler that cannot, every row).
    const EpochData data = task.sampleEpoch(rng, input, group ? EpochShard{config.batchSize, group->rank(), group->size()} : EpochShard{});
    // The whole epoch goes to the device once; batches are views of it there.
    const auto onDevice = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : torch::Tensor(); };
    const auto users = onDevice(data.users);
    const auto items = onDevice(data.items);
    const auto labels = onDevice(data.labels);
    const auto negItems = onDevice(data.negItems);
    const auto history = onDevice(data.history);
    const auto historyLength = onDevice(data.historyLength);
    const auto targets = onDevice(data.targets);
    const auto negativeTargets = onDevice(data.negativeTargets);
    const bool sharded = data.epochRows > 0; // this rank's rows only
    const int64_t n = sharded ? data.epochRows : users.size(0);
    const int64_t batch = config.batchSize;
    const int64_t batches = (n + batch - 1) / batch;
    const bool scheduled = config.lrSchedule != "constant"; // else the rate stays as set (or set live)

    // Across processes each rank trains on its slice of every batch, its loss weighed by the
    // slice's share of what the batch's loss averages over (rows, or next-item targets).
    std::optional<GradientSync> sync;
    std::vector<int64_t> weightBefore; // cumulative per row (every row here: not sharded)
    if (group) {
        sync.emplace(*group, optimizer, config.gradientExchange != "dense");
        group->resetTally();
    }
    if (group && !sharded) {
        const torch::Tensor perRow = data.targets.defined() ? (data.targets >= 0).flatten(1).sum(1).to(torch::kInt64)
                                                            : torch::ones({n}, torch::kInt64);
        const torch::Tensor cumulative = perRow.cumsum(0).contiguous();
        weightBefore.assign(static_cast<size_t>(n) + 1, 0);
        std::copy(cumulative.data_ptr<int64_t>(), cumulative.data_ptr<int64_t>() + n, weightBefore.begin() + 1);
    }

    std::optional<SerialIntraOp> serial; // LibTorch's ops on this thread only (Recommender::spreadsTraining)
    if (model.spreadsTraining())
        serial.emplace();
    auto windowLoss = torch::zeros({}, torch::TensorOptions().device(device));
    double epochLossSum = 0.0;
    int64_t window = 0;
    int64_t localRows = 0; // sharded: where the next batch's share starts
    for (int64_t b = 0; b < batches; ++b) {
        const bool stepping = !group && trainer.waitWhilePaused();
        if (!group && trainer.stopRequested()) {
            outcome.status = RunStatus::Stopped;
            outcome.message = "stopped during epoch " + std::to_string(epoch);
            return false;
        }
        int64_t start = b * batch;
        int64_t len = std::min(batch, n - start);
        double share = 1.0;
        if (group) {
            const int64_t from = start + len * group->rank() / group->size();
            const int64_t to = start + len * (group->rank() + 1) / group->size();
            if (sharded) { // this rank's rows of each batch follow one another here
                share = len > 0 ? static_cast<double>(to - from) / static_cast<double>(len) : 0.0;
                start = localRows;
                localRows += to - from;
            } else {
                const int64_t whole = weightBefore[start + len] - weightBefore[start];
                share = whole > 0 ? static_cast<double>(weightBefore[to] - weightBefore[from]) / static_cast<double>(whole) : 0.0;
                start = from;
            }
            len = to - from;
        }
        const auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, start, len) : torch::Tensor(); };
        Batch mb{rows(users),   rows(items),         rows(labels),  rows(negItems),
                 rows(history), rows(historyLength), rows(targets), rows(negativeTargets)};
        if (scheduled) {
            const double done = (static_cast<double>(epoch - 1) + static_cast<double>(b) / static_cast<double>(batches)) /
                                static_cast<double>(config.epochs);
            optimizer.setLearningRate(scheduledLearningRate(config.lrSchedule, optimizer.peakLearningRate(), done));
        }
        optimizer.zeroGrad();
        if (group) {
            torch::Tensor weighted = torch::zeros({}, torch::TensorOptions().device(device));
            if (len > 0 && share > 0)
                weighted = model.trainingStep(mb, share);
            const GradientSync::Result shared = sync->exchange(weighted, trainer.stopRequested());
            if (shared.stop) { // every rank stops at this same step
                outcome.status = RunStatus::Stopped;
                outcome.message = "stopped during epoch " + std::to_string(epoch);
                return false;
            }
            optimizer.step();
            windowLoss += shared.loss;
        } else {
            auto loss = model.trainingStep(mb);
            if (stepping && trainer.stepCallback()) {
                // Gradients as this batch left them, before the update.
                StepReport r{epoch, b + 1, step + 1, loss.item<double>(), gradientNorms(model)};
                optimizer.step();
                trainer.stepCallback()(r);
            } else {
                optimizer.step();
            }
            windowLoss += loss;
        }
        ++window;
        ++step;
        if (window == config.reportEveryBatches || b + 1 == batches) {
            const double mean = windowLoss.item<double>() / static_cast<double>(window);
            if (!std::isfinite(mean)) {
                outcome.status = RunStatus::Failed;
                outcome.message = "the training loss became " + std::string(std::isnan(mean) ? "NaN" : "infinite") +
                                  " in epoch " + std::to_string(epoch) + " (try a lower learning rate)";
                return false;
            }
            epochLossSum += mean * static_cast<double>(window);
            if (onBatch)
                onBatch({epoch, b + 1, batches, mean, step, secondsSince(runStart), phase,
                         b + 1 == batches ? secondsSince(epochStart) : 0.0});
            windowLoss.zero_();
            window = 0;
        }
    }
    // Next-item windows: every position with a target is a training sample.
    stats.samples = data.targets.defined() ? (data.targets >= 0).sum().item<int64_t>() : n;
    stats.loss = batches > 0 ? epochLossSum / static_cast<double>(batches) : 0.0;
    if (group) {
        stats.worldSize = group->size();
        stats.exchangeSeconds = group->tally().seconds;
        stats.exchangeBytesPerStep = batches > 0 ? group->tally().bytesSent / static_cast<double>(batches) : 0.0;
        stats.denseBytesPerStep = sync->denseBytesPerStep();
    }
    return true;
}

RunOutcome EpochLoop::pretrain(Recommender& model, FlatOptimizer& optimizer, const std::string& phase,
                               int64_t& step) const
{
    RunOutcome outcome;
    model.train();
    for (int epoch = 1; epoch <= trainer.config().epochs; ++epoch) {
        if (trainer.stopRequested()) {
            outcome.status = RunStatus::Stopped;
            outcome.message = "stopped before epoch " + std::to_string(epoch);
            return outcome;
        }
        EpochStats unused;
        if (!trainEpoch(model, optimizer, epoch, phase, step, unused, outcome))
            return outcome;
    }
    return outcome;
}

void EpochLoop::snapshotEmbeddings(Recommender& model, int epoch, bool force) const
{
    const ModelShape shape = task.shape();
    try {
        const auto tables = embeddingTables(model, shape.numUsers, shape.numItems);
        int64_t bytes = 0;
        for (const auto& t : tables)
            bytes += t.weights.numel() * static_cast<int64_t>(sizeof(float));
        if (tables.empty() || !(force || shouldSnapshot(epoch, trainer.config().epochs, bytes)))
            return;
        writeEmbeddingSnapshot(checkpointDir, epoch, tables);
        lastSnapshot = epoch;
    } catch (const std::exception&) {
        // A full disk costs the map of this epoch, not the run (its checkpoint write reports it).
    }
}

RunOutcome EpochLoop::run(Recommender& model, FlatOptimizer& optimizer, TrainingProgress& progress,
                          ModelSnapshot& best) const
{
    const TrainConfig& config = trainer.config();
    const std::string key = config.validationKey();
    const bool validating = !key.empty();
    const std::string valKey = "val_" + key;
    const bool lower = lowerIsBetter(key);
    const std::filesystem::path dir(checkpointDir);

    RunOutcome outcome;
    outcome.epochsCompleted = progress.epoch;
    model.train();
    RankGroup* group = trainer.rankGroup();
    double sharedRate = 0; // across processes: a rate set live on rank 0, applied by every rank
    for (int epoch = progress.epoch + 1; epoch <= config.epochs; ++epoch) {
        if (const double lr = group ? std::exchange(sharedRate, 0.0) : trainer.takeLearningRate(); lr > 0) {
            optimizer.setLearningRate(lr); // with a schedule, the new peak it scales
            optimizer.setPeakLearningRate(lr);
        }
        if (!group && trainer.stopRequested()) { // across processes a stop is voted on at the next step
            outcome.status = RunStatus::Stopped;
            outcome.message = "stopped before epoch " + std::to_string(epoch);
            return outcome;
        }
        const auto epochStart = Clock::now();
        EpochStats stats;
        if (!trainEpoch(model, optimizer, epoch, "", progress.step, stats, outcome))
            return outcome;
        if (group) {
            requireSameWeights(*group, optimizer, epoch);
            if (group->rank() > 0) { // rank 0 evaluates and records; the others wait for its word
                progress.epoch = epoch;
                progress.rng = rng.state();
                outcome.epochsCompleted = epoch;
                if (epoch == config.epochs)
                    break;
                const auto word = nlohmann::json::parse(group->fetchWhileRankZeroLives("epoch/" + std::to_string(epoch)));
                sharedRate = word.at("learning_rate").get<double>();
                const std::string next = word.at("next").get<std::string>();
                if (next == "stop") {
                    outcome.status = RunStatus::Stopped;
                    outcome.message = "stopped before epoch " + std::to_string(epoch + 1);
                    return outcome;
                }
                if (next == "end")
                    break;
                continue;
            }
        }
        std::optional<RankGroup::Pulse> pulse; // rank 0 is seen alive while the others wait
        if (group)
            pulse.emplace(*group);
        stats.epoch = epoch;
        stats.learningRate = optimizer.learningRate();
        stats.step = progress.step;
        stats.trainSeconds = secondsSince(epochStart);
        stats.samplesPerSecond = stats.trainSeconds > 0 ? static_cast<double>(stats.samples) / stats.trainSeconds : 0.0;

        const auto evalStart = Clock::now();
        bool improved = false;
        if (validating) {
            for (const auto& m : task.evaluateValidation(model, device))
                stats.metrics.push_back({"val_" + m.name, m.value});
            const double value = metricOr(stats.metrics, valKey, std::numeric_limits<double>::quiet_NaN());
            improved = std::isfinite(value) &&
                       (progress.bestEpoch == 0 || (lower ? value < progress.bestValue : value > progress.bestValue));
            if (improved) {
                progress.bestEpoch = epoch;
                progress.bestStep = progress.step;
                progress.bestValue = value;
                progress.epochsWithoutImprovement = 0;
                best.take(model);
            } else {
                ++progress.epochsWithoutImprovement;
            }
        } else {
            stats.metrics = task.evaluate(model, device, &outcome.userMetrics);
        }
        stats.evalSeconds = secondsSince(evalStart);
        stats.elapsedSeconds = secondsSince(runStart);
        progress.epoch = epoch;
        progress.rng = rng.state();
        outcome.epochsCompleted = epoch;
        outcome.finalMetrics = stats.metrics;
        // The epoch is reported (and stored) before its checkpoint is written: a run killed in
        // between resumes from the previous epoch, whose later records are dropped on resume.
        if (trainer.epochCallback())
            trainer.epochCallback()(stats);
        if (!checkpointDir.empty()) {
            snapshotEmbeddings(model, epoch);
            writeCheckpoint((dir / "last.pt").string(), model, optimizer, progress, identity);
            if (improved) // the same bytes: copied, not serialised again
                copyCheckpoint((dir / "last.pt").string(), (dir / "best.pt").string());
        }
        const bool early = validating && config.patience > 0 && progress.epochsWithoutImprovement >= config.patience;
        if (group) {
            const std::string next = early ? "end" : trainer.stopRequested() ? "stop" : "go";
            sharedRate = trainer.takeLearningRate();
            group->publish("epoch/" + std::to_string(epoch),
                           nlohmann::json{{"next", next}, {"learning_rate", sharedRate}}.dump());
            if (next == "stop" && epoch < config.epochs) {
                outcome.status = RunStatus::Stopped;
                outcome.message = "stopped before epoch " + std::to_string(epoch + 1);
                return outcome;
            }
        }
        if (early) {
            outcome.message = "stopped early after epoch " + std::to_string(epoch) + ": " + valKey +
                              " did not improve for " + std::to_string(config.patience) + " epoch(s); best " +
                              fixed4(progress.bestValue) + " at epoch " + std::to_string(progress.bestEpoch);
            break;
        }
    }
    // The last epoch's map, when thinning skipped it (a run stopped early or stopped by hand).
    if (!checkpointDir.empty() && outcome.epochsCompleted > 0 && lastSnapshot != outcome.epochsCompleted &&
        outcome.status != RunStatus::Failed)
        snapshotEmbeddings(model, outcome.epochsCompleted, true);
    if (validating && progress.bestEpoch > 0 && !best.empty()) {
        // The test part, once, with the weights of the best validation epoch.
        best.restore(model);
        outcome.finalMetrics = task.evaluate(model, device, &outcome.userMetrics);
        outcome.bestEpoch = progress.bestEpoch;
        outcome.bestStep = progress.bestStep;
        outcome.testedAtBest = true;
    }
    return outcome;
}

} // namespace reclab
