#include "train/FlatOptimizer.h"

#include "runs/TrainConfig.h"
#include "util/Error.h"
#include "util/VectorClones.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace reclab {

namespace {

// Elements per task of the CPU loop: below this a step stays on one thread.
constexpr int64_t kGrain = 1 << 15;

// The loops are compiled for AVX2 as well as the baseline (util/VectorClones.h), and this file
// is built with -fno-math-errno so sqrt vectorises.
#define RECLAB_VECTOR_CLONES RECLAB_CLONES_FOR("avx2")

struct AdamStep {
    float b1, b2, c1, c2, stepSize, bc2Sqrt, eps, wd;
};

RECLAB_VECTOR_CLONES
void adamRange(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
               AdamStep a)
{
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + a.wd * p[i];
        const float mi = m[i] * a.b1 + gi * a.c1;
        const float vi = v[i] * a.b2 + gi * gi * a.c2;
        m[i] = mi;
        v[i] = vi;
        p[i] -= a.stepSize * (mi / (std::sqrt(vi) / a.bc2Sqrt + a.eps));
    }
}

RECLAB_VECTOR_CLONES
void sgdRange(float* __restrict p, const float* __restrict g, float* __restrict buf, int64_t n, float rate, float wd,
              float mu, bool first)
{
    if (!buf) {
        for (int64_t i = 0; i < n; ++i)
            p[i] -= rate * (g[i] + wd * p[i]);
        return;
    }
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        // torch.optim: the first step's buffer is the gradient itself.
        const float b = first ? gi : buf[i] * mu + gi;
        buf[i] = b;
        p[i] -= rate * b;
    }
}

RECLAB_VECTOR_CLONES
void adagradRange(float* __restrict p, const float* __restrict g, float* __restrict sum, int64_t n, float rate,
                  float wd, float eps)
{
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        const float s = sum[i] + gi * gi;
        sum[i] = s;
        p[i] -= rate * (gi / (std::sqrt(s) + eps));
    }
}

} // namespace

OptimizerOptions optimizerOptionsOf(const TrainConfig& config)
{
    OptimizerOptions o;
    o.kind = optimizerKindFromName(config.optimizer);
    o.learningRate = config.learningRate;
    o.weightDecay = config.weightDecay;
    o.momentum = config.momentum;
    return o;
}

OptimizerKind optimizerKindFromName(const std::string& name)
{
    if (name == "adam")
        return OptimizerKind::Adam;
    if (name == "sgd")
        return OptimizerKind::SGD;
    if (name == "adagrad")
        return OptimizerKind::Adagrad;
    throw ConfigError("optimizer", "expected adam, sgd or adagrad, got '" + name + "'");
}

double scheduledLearningRate(const std::string& schedule, double peak, double progress)
{
    if (schedule == "constant")
        return peak;
    if (schedule == "cosine")
        return peak * 0.5 * (1.0 + std::cos(M_PI * std::clamp(progress, 0.0, 1.0)));
    throw ConfigError("lr-schedule", "expected constant or cosine, got '" + schedule + "'");
}

const char* optimizerKindName(OptimizerKind kind)
{
    switch (kind) {
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::SGD: return "sgd";
    case OptimizerKind::Adagrad: return "adagrad";
    }
    return "?";
}

FlatOptimizer::FlatOptimizer(const std::vector<torch::Tensor>& parameters, OptimizerOptions options)
    : options_(options)
{
    for (const auto& p : parameters)
        if (p.requires_grad())
            params_.push_back(p);
    if (params_.empty() && !options.parameterFree)
        throw Error("the model has no trainable parameters");
    const torch::Device device = params_.empty() ? torch::Device(torch::kCPU) : params_.front().device();
    for (const auto& p : params_) {
        if (p.scalar_type() != torch::kFloat32)
            throw Error("the optimizer needs float32 parameters");
        if (p.device() != device)
            throw Error("the model's parameters are on more than one device");
        numel_ += p.numel();
    }
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    flat_ = torch::empty({numel_}, opts);
    grad_ = torch::zeros({numel_}, opts);
    torch::NoGradGuard noGrad;
    int64_t offset = 0;
    for (auto& p : params_) {
        const int64_t n = p.numel();
        flat_.narrow(0, offset, n).copy_(p.detach().reshape({-1}));
        // The parameter stays the same autograd leaf; its storage becomes a slice of flat_.
        p.set_data(flat_.narrow(0, offset, n).view(p.sizes()));
        // A defined gradient is accumulated into in place by autograd (no grad mode during
        // backward), so gradients land in grad_.
        p.mutable_grad() = grad_.narrow(0, offset, n).view(p.sizes());
        offset += n;
    }
    switch (options_.kind) {
    case OptimizerKind::Adam:
        state1_ = torch::zeros({numel_}, opts);
        state2_ = torch::zeros({numel_}, opts);
        break;
    case OptimizerKind::SGD:
        if (options_.momentum != 0.0)
            state1_ = torch::zeros({numel_}, opts);
        break;
    case OptimizerKind::Adagrad: state1_ = torch::full({numel_}, options_.initialAccumulator, opts); break;
    }
}

std::vector<torch::Tensor> FlatOptimizer::stateTensors() const
{
    std::vector<torch::Tensor> tensors{flat_};
    for (const auto* state : {&state1_, &state2_})
        if (state->defined())
            tensors.push_back(*state);
    return tensors;
}

void FlatOptimizer::zeroGrad()
{
    grad_.zero_();
}

void FlatOptimizer::step()
{
    ++steps_;
    torch::NoGradGuard noGrad;
    if (flat_.is_cpu())
        stepCpu();
    else
        stepTensors();
}

// One pass over the buffer with torch.optim's formulas, in float like them.
void FlatOptimizer::stepCpu()
{
    float* p = flat_.data_ptr<float>();
    const float* g = grad_.data_ptr<float>();
    float* s1 = state1_.defined() ? state1_.data_ptr<float>() : nullptr;
    float* s2 = state2_.defined() ? state2_.data_ptr<float>() : nullptr;
    const auto wd = static_cast<float>(options_.weightDecay);
    const double lr = options_.learningRate;
    switch (options_.kind) {
    case OptimizerKind::Adam: {
        const double bc1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
        const double bc2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
        const AdamStep a{static_cast<float>(options_.beta1),       static_cast<float>(options_.beta2),
                         static_cast<float>(1.0 - options_.beta1), static_cast<float>(1.0 - options_.beta2),
                         static_cast<float>(lr / bc1),             static_cast<float>(std::sqrt(bc2)),
                         static_cast<float>(options_.adamEps),     wd};
        at::parallel_for(0, numel_, kGrain, [&](int64_t begin, int64_t end) {
            adamRange(p + begin, g + begin, s1 + begin, s2 + begin, end - begin, a);
        });
        break;
    }
    case OptimizerKind::SGD: {
        const auto rate = static_cast<float>(lr);
        const auto mu = static_cast<float>(options_.momentum);
        at::parallel_for(0, numel_, kGrain, [&](int64_t begin, int64_t end) {
            sgdRange(p + begin, g + begin, s1 ? s1 + begin : nullptr, end - begin, rate, wd, mu, steps_ == 1);
        });
        break;
    }
    case OptimizerKind::Adagrad: {
        const auto rate = static_cast<float>(lr);
        const auto eps = static_cast<float>(options_.adagradEps);
        at::parallel_for(0, numel_, kGrain, [&](int64_t begin, int64_t end) {
            adagradRange(p + begin, g + begin, s1 + begin, end - begin, rate, wd, eps);
        });
        break;
    }
    }
}

// The same rules as whole-buffer tensor operations (GPUs).
void FlatOptimizer::stepTensors()
{
    const double lr = options_.learningRate;
    torch::Tensor g = options_.weightDecay != 0.0 ? grad_.add(flat_, options_.weightDecay) : grad_;
    switch (options_.kind) {
    case OptimizerKind::Adam: {
        const double bc1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
        const double bc2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
        state1_.mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
        state2_.mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
        const torch::Tensor denom = (state2_.sqrt() / std::sqrt(bc2)).add_(options_.adamEps);
        flat_.addcdiv_(state1_, denom, -lr / bc1);
        break;
    }
    case OptimizerKind::SGD:
        if (state1_.defined()) {
            if (steps_ == 1)
                state1_.copy_(g);
            else
                state1_.mul_(options_.momentum).add_(g);
            g = state1_;
        }
        flat_.add_(g, -lr);
        break;
    case OptimizerKind::Adagrad:
        state1_.addcmul_(g, g, 1.0);
        flat_.addcdiv_(g, state1_.sqrt().add_(options_.adagradEps), -lr);
        break;
    }
}

void FlatOptimizer::save(torch::serialize::OutputArchive& archive) const
{
    archive.write("optimizer.kind", c10::IValue(static_cast<int64_t>(options_.kind)));
    archive.write("optimizer.steps", c10::IValue(steps_));
    archive.write("optimizer.learning_rate", c10::IValue(options_.learningRate));
    archive.write("optimizer.peak_learning_rate", c10::IValue(peakLearningRate_));
    archive.write("optimizer.numel", c10::IValue(numel_));
    if (state1_.defined())
        archive.write("optimizer.state1", state1_, /*is_buffer=*/true);
    if (state2_.defined())
        archive.write("optimizer.state2", state2_, /*is_buffer=*/true);
}

void FlatOptimizer::load(torch::serialize::InputArchive& archive)
{
    c10::IValue kind, steps, lr, numel;
    archive.read("optimizer.kind", kind);
    archive.read("optimizer.steps", steps);
    archive.read("optimizer.learning_rate", lr);
    archive.read("optimizer.numel", numel);
    if (kind.toInt() != static_cast<int64_t>(options_.kind))
        throw Error(std::string("the checkpoint's optimizer is not ") + optimizerKindName(options_.kind));
    if (numel.toInt() != numel_)
        throw Error("the checkpoint's optimizer holds " + std::to_string(numel.toInt()) + " numbers, this model " +
                    std::to_string(numel_));
    torch::NoGradGuard noGrad;
    for (auto [key, state] : {std::pair<const char*, torch::Tensor*>{"optimizer.state1", &state1_},
                              std::pair<const char*, torch::Tensor*>{"optimizer.state2", &state2_}}) {
        if (!state->defined())
            continue;
        torch::Tensor saved;
        archive.read(key, saved, /*is_buffer=*/true);
        state->copy_(saved);
    }
    steps_ = steps.toInt();
    options_.learningRate = lr.toDouble();
    c10::IValue peak; // absent from checkpoints written before schedules could be set live
    if (archive.try_read("optimizer.peak_learning_rate", peak))
        peakLearningRate_ = peak.toDouble();
}

} // namespace reclab
