#include "train/Trainer.h"

#include "models/ModelRegistry.h"
#include "graph/GraphModule.h"
#include "graph/GraphTemplates.h"
#include "models/Recommender.h"
#include "train/FlatOptimizer.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "util/Random.h"
#include "util/Runtime.h"

#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <utility>
#include <cmath>

namespace reclab {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

torch::Device resolveDevice(const std::string& name)
{
    if (name == "cpu")
        return torch::kCPU;
    if (!torch::cuda::is_available())
        throw ConfigError("device", "'" + name + "' requested but this LibTorch build sees no CUDA GPU");
    torch::Device device(name);
    if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
        throw ConfigError("device", "'" + name + "' does not exist (" +
                                        std::to_string(torch::cuda::device_count()) + " GPU(s) visible)");
    return device;
}

// Trains model for epochs; with report, evaluates after each epoch and sends the events
// (a pre-training phase runs without them).
struct EpochLoop {
    Trainer& trainer;
    const Trainer::BatchCallback& onBatch;
    const Trainer::EpochCallback& onEpoch;
    const TrainingTask& task;
    InputType input;
    torch::Device device;
    Random& rng;
    int64_t& step;
    Clock::time_point runStart;

    // An empty phase is the run itself: evaluated after each epoch, with every event. A
    // pre-training phase ("gmf", "mlp") reports its batches, tagged, and is not evaluated.
    RunOutcome run(Recommender& model, FlatOptimizer& optimizer, int epochs, const std::string& phase) const;
};

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

RunOutcome EpochLoop::run(Recommender& model, FlatOptimizer& optimizer, int epochs,
                          const std::string& phase) const
{
    const bool report = phase.empty();
    const TrainConfig& config = trainer.config();
    RunOutcome outcome;
    model.train();
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        if (const double lr = report ? trainer.takeLearningRate() : 0.0; lr > 0)
            optimizer.setLearningRate(lr);
        if (trainer.stopRequested()) {
            outcome.status = RunStatus::Stopped;
            outcome.message = "stopped before epoch " + std::to_string(epoch);
            return outcome;
        }
        const auto epochStart = Clock::now();
        const EpochData data = task.sampleEpoch(rng, input);
        const auto users = data.users.to(device);
        const auto items = data.items.to(device);
        const auto labels = data.labels.to(device);
        const auto onDevice = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : torch::Tensor(); };
        const auto negItems = onDevice(data.negItems);
        const auto history = onDevice(data.history);
        const auto historyLength = onDevice(data.historyLength);
        const int64_t n = users.size(0);
        const int64_t batch = config.batchSize;
        const int64_t batches = (n + batch - 1) / batch;

        auto windowLoss = torch::zeros({}, torch::TensorOptions().device(device));
        double epochLossSum = 0.0;
        int64_t window = 0;
        for (int64_t b = 0; b < batches; ++b) {
            const bool stepping = trainer.waitWhilePaused();
            if (trainer.stopRequested()) {
                outcome.status = RunStatus::Stopped;
                outcome.message = "stopped during epoch " + std::to_string(epoch);
                return outcome;
            }
            const int64_t start = b * batch;
            const int64_t len = std::min(batch, n - start);
            const auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, start, len) : torch::Tensor(); };
            Batch mb{rows(users), rows(items), rows(labels), rows(negItems), rows(history), rows(historyLength)};
            optimizer.zeroGrad();
            auto loss = model.calculateLoss(mb);
            loss.backward();
            if (stepping && trainer.stepCallback()) {
                // Gradients as this batch left them, before the update.
                StepReport r{epoch, b + 1, step + 1, loss.item<double>(), gradientNorms(model)};
                optimizer.step();
                trainer.stepCallback()(r);
            } else {
                optimizer.step();
            }
            windowLoss += loss.detach();
            ++window;
            ++step;
            if (window == config.reportEveryBatches || b + 1 == batches) {
                const double mean = windowLoss.item<double>() / static_cast<double>(window);
                if (!std::isfinite(mean)) {
                    outcome.status = RunStatus::Failed;
                    outcome.message = "the training loss became " + std::string(std::isnan(mean) ? "NaN" : "infinite") +
                                      " in epoch " + std::to_string(epoch) + " (try a lower learning rate)";
                    return outcome;
                }
                epochLossSum += mean * static_cast<double>(window);
                if (onBatch)
                    onBatch({epoch, b + 1, batches, mean, step, secondsSince(runStart), phase});
                windowLoss.zero_();
                window = 0;
            }
        }
        if (!report)
            continue; // a pre-training phase: no evaluation

        EpochStats stats;
        stats.epoch = epoch;
        stats.learningRate = optimizer.learningRate();
        stats.step = step;
        stats.samples = n;
        stats.trainSeconds = secondsSince(epochStart);
        stats.samplesPerSecond = stats.trainSeconds > 0 ? static_cast<double>(n) / stats.trainSeconds : 0.0;
        stats.loss = epochLossSum / static_cast<double>(batches);
        const auto evalStart = Clock::now();
        stats.metrics = task.evaluate(model, device);
        stats.evalSeconds = secondsSince(evalStart);
        outcome.epochsCompleted = epoch;
        outcome.finalMetrics = stats.metrics;
        if (onEpoch)
            onEpoch(stats);
    }
    return outcome;
}

} // namespace

void useThreads(int threads)
{
    if (threads > 0)
        torch::set_num_threads(threads);
    setEvaluationThreads(threads);
}

Trainer::Trainer(std::shared_ptr<const Dataset> dataset, TrainConfig config)
    : dataset_(std::move(dataset)), config_(std::move(config))
{
    config_.validate();
    if (config_.model == "graph")
        graphTask(graphFor(config_)); // throws GraphError on an invalid graph, before any work
    else if (!findModel(config_.model))
        defaultConfigFor(config_.model); // throws the "unknown model" ConfigError
}

Trainer::~Trainer() = default;

void Trainer::requestStop()
{
    stop_.store(true);
    const std::lock_guard<std::mutex> lock(controlMutex_);
    control_.notify_all();
}

void Trainer::setPaused(bool paused)
{
    const std::lock_guard<std::mutex> lock(controlMutex_);
    paused_ = paused;
    if (!paused)
        stepsAllowed_ = 0;
    control_.notify_all();
}

bool Trainer::isPaused() const
{
    const std::lock_guard<std::mutex> lock(controlMutex_);
    return paused_;
}

void Trainer::requestStep()
{
    const std::lock_guard<std::mutex> lock(controlMutex_);
    paused_ = true;
    ++stepsAllowed_;
    control_.notify_all();
}

void Trainer::setLearningRate(double learningRate)
{
    if (!std::isfinite(learningRate) || learningRate <= 0 || learningRate > 10)
        throw ConfigError("lr", "expected a positive number up to 10");
    const std::lock_guard<std::mutex> lock(controlMutex_);
    pendingLearningRate_ = learningRate;
}

bool Trainer::waitWhilePaused()
{
    std::unique_lock<std::mutex> lock(controlMutex_);
    control_.wait(lock, [this] { return !paused_ || stepsAllowed_ > 0 || stop_.load(); });
    if (paused_ && stepsAllowed_ > 0 && !stop_.load()) {
        --stepsAllowed_;
        return true;
    }
    return false;
}

double Trainer::takeLearningRate()
{
    const std::lock_guard<std::mutex> lock(controlMutex_);
    return std::exchange(pendingLearningRate_, 0.0);
}

RunOutcome Trainer::fit()
{
    const bool isGraph = config_.model == "graph";
    const ModelInfo* info = isGraph ? nullptr : findModel(config_.model);
    const torch::Device device = resolveDevice(config_.device);
    configureRuntime(); // also for programs that did not call it in main()
    useThreads(config_.threads);
    torch::manual_seed(config_.seed);

    const auto task = TrainingTask::create(taskOf(config_), *dataset_, config_);
    const auto buildStart = Clock::now();
    std::shared_ptr<Recommender> model =
        isGraph ? compileGraph(graphFor(config_), task->shape(), config_) : info->create(task->shape(), config_);
    const double buildSeconds = secondsSince(buildStart); // counting models do all their work here
    model->to(device);
    model_ = model;

    RunOutcome outcome;
    const auto runStart = Clock::now();
    if (!model->trainable()) {
        const auto t0 = Clock::now();
        EpochStats stats;
        stats.epoch = 1;
        stats.trainSeconds = buildSeconds;
        stats.metrics = task->evaluate(*model, device);
        stats.evalSeconds = secondsSince(t0);
        if (onEpoch_)
            onEpoch_(stats);
        outcome.epochsCompleted = 1;
        outcome.finalMetrics = stats.metrics;
        return outcome;
    }

    Random rng(config_.seed ^ 0x9E3779B97F4A7C15ull);
    int64_t step = 0;
    const EpochLoop loop{*this, onBatch_, onEpoch_, *task, model->inputType(), device, rng, step, runStart};
    OptimizerOptions optimizerOptions;
    optimizerOptions.kind = optimizerKindFromName(config_.optimizer);
    optimizerOptions.learningRate = config_.learningRate;
    optimizerOptions.weightDecay = config_.weightDecay;
    optimizerOptions.momentum = config_.momentum;
    std::unique_ptr<FlatOptimizer> optimizer;
    if (config_.pretrain) {
        // He et al. 2017, section 3.4.1: GMF and MLP trained first (with the chosen optimizer,
        // Adam by default), NeuMF starts from their weights with the output layer
        // h = [alpha h_gmf, (1 - alpha) h_mlp], then continues with plain SGD.
        auto* graph = dynamic_cast<GraphModelImpl*>(model.get());
        if (!graph || !graph->graph().pretrain)
            throw ConfigError("pretrain", "pre-training needs a graph that names its parts (as neumf does)");
        const ModelShape shape = task->shape();
        std::vector<std::shared_ptr<GraphModelImpl>> parts;
        for (const auto& name : graph->graph().pretrain->from) {
            // The part's template with the sizes of the whole graph's variables of equal names.
            GraphSpec partGraph = graphTemplate(name);
            for (const auto& [key, value] : graph->graph().variables.items())
                if (partGraph.variables.contains(key))
                    partGraph.variables[key] = value;
            auto part = std::make_shared<GraphModelImpl>(partGraph, GraphData::from(shape), config_.l2);
            part->to(device);
            FlatOptimizer partOptimizer(part->parameters(), optimizerOptions);
            RunOutcome partOutcome = loop.run(*part, partOptimizer, config_.epochs, name);
            if (partOutcome.status != RunStatus::Finished) {
                partOutcome.message = "pre-training " + name + ": " + partOutcome.message;
                return partOutcome;
            }
            parts.push_back(part);
        }
        std::vector<const GraphModelImpl*> trained;
        for (const auto& part : parts)
            trained.push_back(part.get());
        graph->loadPretrained(trained, config_.pretrainAlpha);
        OptimizerOptions fineTune = optimizerOptions;
        fineTune.kind = OptimizerKind::SGD;
        fineTune.momentum = 0.0;
        optimizer = std::make_unique<FlatOptimizer>(model->parameters(), fineTune);
    } else {
        optimizer = std::make_unique<FlatOptimizer>(model->parameters(), optimizerOptions);
    }
    return loop.run(*model, *optimizer, config_.epochs, "");
}

} // namespace reclab
