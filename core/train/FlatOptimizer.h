// The trainer's optimizer: Adam, SGD (with momentum) or Adagrad with L2 weight decay, with the
// update rules of torch.optim, over all of a model's parameters at once.
//
// A recommender's step is small (a batch of 256 touches a few thousand numbers) while the
// model has a dozen parameter tensors; torch::optim updates them one by one, about seven tensor
// operations each, and on a CPU that bookkeeping cost more than the maths. Here the parameters
// and their gradients are views into one flat buffer each (the model keeps its parameters; only
// their storage moves), autograd accumulates gradients straight into the flat gradient, and
// a step is one pass over the buffer: on the CPU a single fused loop, on a GPU a handful of
// whole-buffer operations.
//
// The flat buffers live on the device the parameters are on: move the model first, then build
// the optimizer. The state (moments, step count) is saved and restored for checkpoints.
#pragma once

#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace reclab {

struct TrainConfig;

enum class OptimizerKind { Adam, SGD, Adagrad };

// "adam", "sgd" or "adagrad"; throws ConfigError naming the option otherwise.
OptimizerKind optimizerKindFromName(const std::string& name);
const char* optimizerKindName(OptimizerKind kind);

struct OptimizerOptions {
    OptimizerKind kind = OptimizerKind::Adam;
    double learningRate = 1e-3;
    double weightDecay = 0.0; // L2: weightDecay * p added to the gradient (torch.optim's weight_decay)
    double beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
    double momentum = 0.0; // SGD
    double adagradEps = 1e-10, initialAccumulator = 0.0;
    bool parameterFree = false; // a model fitted without gradients (a sampler): no parameters is fine
};

// The optimizer a run's configuration asks for.
OptimizerOptions optimizerOptionsOf(const TrainConfig& config);

// The learning rate of a schedule ("constant" or "cosine", TrainConfig::lrSchedule) with the
// given peak, at progress ∈ [0, 1] of the run.
double scheduledLearningRate(const std::string& schedule, double peak, double progress);

class FlatOptimizer {
public:
    // Parameters that do not require gradients are left alone. All others must share one
    // device and be float32.
    FlatOptimizer(const std::vector<torch::Tensor>& parameters, OptimizerOptions options);

    void zeroGrad();
    void step();

    double learningRate() const { return options_.learningRate; }
    void setLearningRate(double lr) { options_.learningRate = lr; }
    // The rate a schedule scales (scheduledLearningRate's peak): the configured one until a rate
    // is set live; saved with the state, so a resumed run anneals from the same peak.
    double peakLearningRate() const { return peakLearningRate_; }
    void setPeakLearningRate(double lr) { peakLearningRate_ = lr; }
    const OptimizerOptions& options() const { return options_; }
    int64_t steps() const { return steps_; }
    // The flat gradient (for gradient norms; valid between backward and the next zeroGrad).
    const torch::Tensor& flatGradient() const { return grad_; }
    int64_t numel() const { return numel_; }
    // The trainable parameters in the flat buffer's order (views into it).
    const std::vector<torch::Tensor>& parameters() const { return params_; }
    // The flat parameters and the optimizer's moments (those it has): what rank 0 shares with
    // the other ranks of a distributed run. Writing into them changes the optimizer's state.
    std::vector<torch::Tensor> stateTensors() const;
    void setSteps(int64_t steps) { steps_ = steps; }

    void save(torch::serialize::OutputArchive& archive) const;
    // Throws Error when the archive was saved for a different model size or optimizer.
    void load(torch::serialize::InputArchive& archive);

private:
    void stepCpu();
    void stepTensors();

    OptimizerOptions options_;
    double peakLearningRate_ = options_.learningRate;
    std::vector<torch::Tensor> params_;
    torch::Tensor flat_, grad_;
    torch::Tensor state1_, state2_; // Adam: first and second moments; SGD: momentum; Adagrad: sum
    int64_t numel_ = 0;
    int64_t steps_ = 0;
};

} // namespace reclab
