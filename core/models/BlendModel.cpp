#include "models/BlendModel.h"

#include "util/Error.h"

#include <ATen/CPUGeneratorImpl.h>

#include <torch/types.h>
#include <torch/utils.h>

namespace reclab {

BlendModelImpl::BlendModelImpl(std::shared_ptr<Recommender> a, std::shared_ptr<Recommender> b, double weight,
                               int64_t numUsers, uint64_t seed, bool ratings)
    : a_(std::move(a)), b_(std::move(b)), weight_(weight)
{
    if (a_->numItems() != b_->numItems())
        throw ConfigError("runs", "the two models score different item sets (" + std::to_string(a_->numItems()) + " and " +
                                      std::to_string(b_->numItems()) + " items)");
    // Registered, so that eval() and to(device) reach both.
    register_module("a", a_);
    register_module("b", b_);
    if (ratings) // both on the rating scale already: Scale{0, 1} leaves them as they are
        return;
    torch::NoGradGuard noGrad;
    const auto generator = at::detail::createCPUGenerator(seed);
    const auto users = torch::randint(numUsers, {4096}, generator, torch::kLong);
    const auto items = torch::randint(a_->numItems(), {4096}, generator, torch::kLong);
    auto scaleOf = [&](Recommender& m) {
        const auto s = m.predict(users, items).to(torch::kCPU, torch::kDouble);
        const double spread = s.std().item<double>();
        return Scale{s.mean().item<double>(), spread > 1e-12 ? spread : 1.0};
    };
    sa_ = scaleOf(*a_);
    sb_ = scaleOf(*b_);
}

torch::Tensor BlendModelImpl::mix(const torch::Tensor& a, const torch::Tensor& b) const
{
    return (a - sa_.mean) * (weight_ / sa_.spread) + (b - sb_.mean) * ((1.0 - weight_) / sb_.spread);
}

torch::Tensor BlendModelImpl::calculateLoss(const Batch& batch)
{
    return torch::zeros({}, batch.labels.options());
}

torch::Tensor BlendModelImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    return mix(a_->predict(users, items), b_->predict(users, items));
}

torch::Tensor BlendModelImpl::fullSortPredict(const torch::Tensor& users)
{
    return mix(a_->fullSortPredict(users), b_->fullSortPredict(users));
}

} // namespace reclab
