#include "train/Trainer.h"

#include "models/ModelRegistry.h"
#include "models/Recommender.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "util/Random.h"

#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
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

} // namespace

Trainer::Trainer(std::shared_ptr<const Dataset> dataset, TrainConfig config)
    : dataset_(std::move(dataset)), config_(std::move(config))
{
    config_.validate();
    if (!findModel(config_.model))
        defaultConfigFor(config_.model); // throws the "unknown model" ConfigError
}

Trainer::~Trainer() = default;

RunOutcome Trainer::fit()
{
    const ModelInfo& info = *findModel(config_.model);
    const torch::Device device = resolveDevice(config_.device);
    if (config_.threads > 0)
        torch::set_num_threads(config_.threads);
    torch::manual_seed(config_.seed);

    const auto task = TrainingTask::create(info.task, *dataset_, config_);
    const auto buildStart = Clock::now();
    std::shared_ptr<Recommender> model = info.create(task->shape(), config_);
    const double buildSeconds = secondsSince(buildStart); // counting models do all their work here
    model->to(device);

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

    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(config_.learningRate));
    Random rng(config_.seed ^ 0x9E3779B97F4A7C15ull);
    int64_t step = 0;
    model->train();

    for (int epoch = 1; epoch <= config_.epochs; ++epoch) {
        if (stopRequested()) {
            outcome.status = RunStatus::Stopped;
            outcome.message = "stopped before epoch " + std::to_string(epoch);
            return outcome;
        }
        const auto epochStart = Clock::now();
        const EpochData data = task->sampleEpoch(rng, info.inputType);
        const auto users = data.users.to(device);
        const auto items = data.items.to(device);
        const auto labels = data.labels.to(device);
        const auto negItems = data.negItems.defined() ? data.negItems.to(device) : torch::Tensor();
        const int64_t n = users.size(0);
        const int64_t batch = config_.batchSize;
        const int64_t batches = (n + batch - 1) / batch;

        auto windowLoss = torch::zeros({}, torch::TensorOptions().device(device));
        double epochLossSum = 0.0;
        int64_t window = 0;
        for (int64_t b = 0; b < batches; ++b) {
            if (stopRequested()) {
                outcome.status = RunStatus::Stopped;
                outcome.message = "stopped during epoch " + std::to_string(epoch);
                return outcome;
            }
            const int64_t start = b * batch;
            const int64_t len = std::min(batch, n - start);
            Batch mb{users.narrow(0, start, len), items.narrow(0, start, len), labels.narrow(0, start, len),
                     negItems.defined() ? negItems.narrow(0, start, len) : torch::Tensor()};
            optimizer.zero_grad();
            auto loss = model->calculateLoss(mb);
            loss.backward();
            optimizer.step();
            windowLoss += loss.detach();
            ++window;
            ++step;
            if (window == config_.reportEveryBatches || b + 1 == batches) {
                const double mean = windowLoss.item<double>() / static_cast<double>(window);
                if (!std::isfinite(mean)) {
                    outcome.status = RunStatus::Failed;
                    outcome.message = "the training loss became " + std::string(std::isnan(mean) ? "NaN" : "infinite") +
                                      " in epoch " + std::to_string(epoch) + " (try a lower learning rate)";
                    return outcome;
                }
                epochLossSum += mean * static_cast<double>(window);
                if (onBatch_)
                    onBatch_({epoch, b + 1, batches, mean, step, secondsSince(runStart)});
                windowLoss.zero_();
                window = 0;
            }
        }

        EpochStats stats;
        stats.epoch = epoch;
        stats.step = step;
        stats.samples = n;
        stats.trainSeconds = secondsSince(epochStart);
        stats.samplesPerSecond = stats.trainSeconds > 0 ? static_cast<double>(n) / stats.trainSeconds : 0.0;
        stats.loss = epochLossSum / static_cast<double>(batches);
        const auto evalStart = Clock::now();
        stats.metrics = task->evaluate(*model, device);
        stats.evalSeconds = secondsSince(evalStart);
        outcome.epochsCompleted = epoch;
        outcome.finalMetrics = stats.metrics;
        if (onEpoch_)
            onEpoch_(stats);
    }
    return outcome;
}

} // namespace reclab
