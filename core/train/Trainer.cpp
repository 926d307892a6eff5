#include "train/Trainer.h"
#include "util/Clock.h"

#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"
#include "graph/BlockDefinition.h"
#include "graph/GraphAnalysis.h"
#include "compiled/GraphModule.h"
#include "graph/GraphTemplates.h"
#include "models/ContentModel.h"
#include "models/Popularity.h"
#include "models/Recommender.h"
#include "train/Checkpoint.h"
#include "train/EpochLoop.h"
#include "train/FlatOptimizer.h"
#include "train/TrainingTask.h"
#include "data/Preparation.h"
#include "dist/RankGroup.h"
#include "util/Error.h"
#include "util/Random.h"
#include "util/Runtime.h"

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <map>
#include <utility>
#include <cmath>

namespace reclab {

namespace {

using Clock = SteadyClock;

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

} // namespace

void useThreads(int threads)
{
    if (threads > 0)
        torch::set_num_threads(threads);
    setEvaluationThreads(threads);
}

std::vector<std::string> trainingDevices()
{
    std::vector<std::string> devices{"cpu"};
    if (torch::cuda::is_available())
        for (size_t k = 0; k < torch::cuda::device_count(); ++k)
            devices.push_back("cuda:" + std::to_string(k));
    return devices;
}

Trainer::Trainer(std::shared_ptr<const Dataset> dataset, TrainConfig config)
    : dataset_(std::move(dataset)), config_(std::move(config))
{
    checkConfig(config_);
    if (config_.customGraph())
        graphTask(graphFor(config_)); // throws GraphError on an invalid graph, before any work
    else if (!findModel(config_.model))
        defaultConfigFor(config_.model); // throws the "unknown model" ConfigError
    if (config_.customGraph() || findModel(config_.model)->graph) {
        // Sizes against this dataset: tables that cannot fit in memory are refused here.
        GraphContext sizes = graphContextOf(*dataset_);
        sizes.batchSize = config_.batchSize;
        sizes.historyLength = config_.historyLength;
        const GraphAnalysis analysis = analyseGraph(graphFor(config_), sizes);
        if (!analysis.ok())
            throw ConfigError(config_.customGraph() ? "graph" : "model",
                              graphProblems(analysis, config_.model + " on " + dataset_->name));
    }
    if (const std::string key = config_.validationKey(); !key.empty()) {
        const auto names = taskMetricNames(taskOf(config_), config_.protocol, config_.topK);
        if (std::find(names.begin(), names.end(), key) == names.end()) {
            std::string list;
            for (const auto& name : names)
                list += (list.empty() ? "" : ", ") + name;
            throw ConfigError("validation-metric", "'" + config_.validationMetric + "' is not a metric of this run; expected one of " + list);
        }
    }
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

std::vector<std::string> Trainer::modelNotes(const Recommender& model) const
{
    std::vector<std::string> notes;
    const auto* graph = dynamic_cast<const GraphModelImpl*>(&model);
    if (graph && !graph->data().textNote.empty())
        notes.push_back("Text: " + graph->data().textNote);
    if (const auto* content = dynamic_cast<const ContentModelImpl*>(&model))
        notes.push_back("Text: " + content->note());
    if (config_.protocol == "cold" && !dynamic_cast<const ContentModelImpl*>(&model) &&
        !(graph && graph->analysis().textSources & ItemWordsSource)) {
        // Said plainly: what an ID-only model can do with an item it never saw.
        if (dynamic_cast<const PopularityImpl*>(&model))
            notes.push_back("Popularity counts training interactions, and a cold item has none: it ranks every cold "
                            "item equal, and ties count against the target");
        else
            notes.push_back(config_.model + " reads no item text: the cold items' vectors never trained, so its "
                                            "ranking of them is random by construction");
    }
    return notes;
}

std::unique_ptr<TrainingTask> Trainer::prepare()
{
    configureRuntime(); // also for programs that did not call it in main()
    useThreads(config_.threads);
    if (group_ && config_.threads == 0) // the machine's cores shared by its ranks
        useThreads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / group_->world().localSize));
    torch::manual_seed(config_.seed);
    trainingData_ = dataset_;
    if (config_.duplicates == "latest" && findRepeatedPairs(*dataset_).rows > 0) {
        if (dataset_->presplit)
            throw ConfigError("duplicates", "a prepared dataset keeps its rows; remove repeated pairs when preparing it "
                                            "(data prepare --dedup)");
        FilterConfig dedup;
        dedup.removeDuplicates = true;
        trainingData_ = std::make_shared<const Dataset>(applyFilters(*dataset_, dedup));
    }
    return TrainingTask::create(taskOf(config_), *trainingData_, config_);
}

std::shared_ptr<Recommender> Trainer::buildModel(const TrainingTask& task, const torch::Device& device, bool restoring)
{
    ModelShape shape = task.shape();
    shape.restoring = restoring;
    std::shared_ptr<Recommender> model = config_.customGraph() ? compileGraph(graphFor(config_), shape, config_)
                                                               : createModel(*findModel(config_.model), shape, config_);
    model->to(device);
    model_ = model;
    return model;
}

MetricValues Trainer::evaluateCheckpoint(const std::string& checkpoint)
{
    const torch::Device device = resolveDevice(config_.device);
    const auto task = prepare();
    std::shared_ptr<Recommender> model = buildModel(*task, device, true);
    CheckpointReader(checkpoint).restoreModel(*model);
    return task->evaluate(*model, device);
}

std::shared_ptr<Recommender> Trainer::loadModel(const std::string& checkpoint)
{
    const torch::Device device = resolveDevice(config_.device);
    const auto task = prepare();
    std::shared_ptr<Recommender> model = buildModel(*task, device, !checkpoint.empty());
    if (!checkpoint.empty())
        CheckpointReader(checkpoint).restoreModel(*model);
    model->eval();
    return model;
}

RunOutcome Trainer::fit()
{
    torch::Device device = resolveDevice(config_.device);
    if (group_ && device.is_cuda()) // one GPU per process of a machine
        device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(group_->world().localRank %
                                                                           static_cast<int>(torch::cuda::device_count())));
    const auto task = prepare();
    if (onSplit_)
        onSplit_(task->splitFingerprint());
    if (onNote_)
        for (const auto& note : task->notes())
            onNote_(note);
    const auto buildStart = Clock::now();
    std::shared_ptr<Recommender> model = buildModel(*task, device);
    if (startWeights_)
        startWeights_(*model);
    if (group_ && group_->rank() > 0) // rank 0's weights come next; dropout differs between ranks
        torch::manual_seed(config_.seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(group_->rank()));
    const double buildSeconds = secondsSince(buildStart); // counting models do all their work here
    if (onNote_)
        for (const auto& note : modelNotes(*model))
            onNote_(note);

    RunOutcome outcome;
    const auto runStart = Clock::now();
    if (!model->trainable()) {
        if (group_ && group_->rank() > 0)
            return {}; // a counting model: rank 0 counts and evaluates, nothing to share
        const auto t0 = Clock::now();
        EpochStats stats;
        stats.epoch = 1;
        stats.trainSeconds = buildSeconds;
        stats.metrics = task->evaluate(*model, device, &outcome.userMetrics);
        stats.evalSeconds = secondsSince(t0);
        if (onEpoch_)
            onEpoch_(stats);
        outcome.epochsCompleted = 1;
        outcome.finalMetrics = stats.metrics;
        return outcome;
    }

    Random rng(config_.seed ^ 0x9E3779B97F4A7C15ull);
    const CheckpointIdentity identity{checkpointRunId_, dataset_->fingerprint(), task->splitFingerprint()};
    const EpochLoop loop{*this, *task, model->inputType(), device, rng, runStart, checkpointDir_, identity};
    OptimizerOptions optimizerOptions = optimizerOptionsOf(config_);
    optimizerOptions.parameterFree = model->sampled();
    if (group_ && model->sampled())
        throw ConfigError("processes", "a model fitted by sampling (bpmf) runs in one process");
    // What rank 0 does, every rank does: pre-train the parts, then fine-tune them with SGD.
    bool fineTuning = config_.pretrain && !startWeights_;
    bool pretraining = fineTuning && resumeFrom_.empty();
    if (group_) {
        if (group_->rank() == 0)
            group_->publish("fit/start", nlohmann::json{{"fine_tuning", fineTuning}, {"pretraining", pretraining}}.dump());
        const auto start = nlohmann::json::parse(group_->fetch("fit/start"));
        fineTuning = start.at("fine_tuning").get<bool>();
        pretraining = start.at("pretraining").get<bool>();
    }
    if (fineTuning) {
        // He et al. 2017, section 3.4.1: the fine-tuning of pre-trained parts uses plain SGD.
        optimizerOptions.kind = OptimizerKind::SGD;
        optimizerOptions.momentum = 0.0;
    }

    TrainingProgress progress;
    ModelSnapshot best;
    std::unique_ptr<FlatOptimizer> optimizer;
    if (!resumeFrom_.empty()) {
        // Weights first (reading replaces the parameters' storage), then the optimizer over them.
        CheckpointReader last(resumeFrom_);
        last.requireIdentity(identity);
        if (!resumeBest_.empty()) {
            CheckpointReader bestReader(resumeBest_);
            bestReader.requireIdentity(identity);
            bestReader.restoreModel(*model);
            best.take(*model);
        }
        last.restoreModel(*model);
        optimizer = std::make_unique<FlatOptimizer>(model->parameters(), optimizerOptions);
        last.restoreOptimizer(*optimizer);
        progress = last.progress();
        if (!rng.restore(progress.rng))
            throw Error("the checkpoint " + resumeFrom_ + " holds no sampler state");
        if (onResumed_)
            onResumed_(progress);
    } else {
        if (pretraining) {
            RunOutcome pretrained = pretrainParts(*model, *task, loop, progress.step);
            if (pretrained.status != RunStatus::Finished)
                return pretrained;
        }
        optimizer = std::make_unique<FlatOptimizer>(model->parameters(), optimizerOptions);
    }
    if (group_)
        shareStart(*optimizer, progress, rng);
    return loop.run(*model, *optimizer, progress, best);
}

void Trainer::shareStart(FlatOptimizer& optimizer, TrainingProgress& progress, Random& rng)
{
    torch::NoGradGuard noGrad;
    if (group_->rank() == 0)
        group_->publish("fit/progress", nlohmann::json{{"epoch", progress.epoch},
                                                       {"step", progress.step},
                                                       {"rng", rng.state()},
                                                       {"optimizer_steps", optimizer.steps()},
                                                       {"learning_rate", optimizer.learningRate()},
                                                       {"peak_learning_rate", optimizer.peakLearningRate()}}
                                            .dump());
    for (auto& tensor : optimizer.stateTensors())
        group_->broadcast(tensor);
    if (group_->rank() == 0)
        return;
    const auto start = nlohmann::json::parse(group_->fetch("fit/progress"));
    progress.epoch = start.at("epoch").get<int>();
    progress.step = start.at("step").get<int64_t>();
    if (!rng.restore(start.at("rng").get<std::string>()))
        throw Error("rank 0 sent a sampler state this rank cannot read");
    progress.rng = rng.state();
    optimizer.setSteps(start.at("optimizer_steps").get<int64_t>());
    optimizer.setLearningRate(start.at("learning_rate").get<double>());
    optimizer.setPeakLearningRate(start.at("peak_learning_rate").get<double>());
}

RunOutcome Trainer::pretrainParts(Recommender& model, const TrainingTask& task, const EpochLoop& loop, int64_t& step)
{
    // He et al. 2017, section 3.4.1: GMF and MLP trained first (with the chosen optimizer,
    // Adam by default), NeuMF starts from their weights with the output layer
    // h = [alpha h_gmf, (1 - alpha) h_mlp].
    auto* graph = dynamic_cast<GraphModelImpl*>(&model);
    if (!graph || !graph->graph().pretrain)
        throw ConfigError("pretrain", "pre-training needs a graph that names its parts (as neumf does)");
    const OptimizerOptions partOptions = optimizerOptionsOf(config_);
    const ModelShape shape = task.shape();
    const torch::Device device = loop.device;
    std::vector<std::shared_ptr<GraphModelImpl>> parts;
    for (const auto& name : graph->graph().pretrain->from) {
        // The part's template with the sizes of the whole graph's variables of equal names.
        GraphSpec partGraph = graphTemplate(name);
        for (const auto& [key, value] : graph->graph().variables.items())
            if (partGraph.variables.contains(key))
                partGraph.variables[key] = value;
        // Compiled as the whole graph is, so a part that reads text gets it (the hybrid's halves).
        auto part = std::dynamic_pointer_cast<GraphModelImpl>(compileGraph(partGraph, shape, config_));
        part->to(device);
        FlatOptimizer partOptimizer(part->parameters(), partOptions);
        if (group_) { // every rank starts the part from rank 0's weights
            torch::NoGradGuard noGrad;
            for (auto& tensor : partOptimizer.stateTensors())
                group_->broadcast(tensor);
        }
        RunOutcome partOutcome = loop.pretrain(*part, partOptimizer, name, step);
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
    return {};
}

} // namespace reclab
