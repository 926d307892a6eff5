#include "models/SVDpp.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace reclab {

SVDppImpl::SVDppImpl(const InteractionTable& train, const SVDppOptions& options) : options_(options)
{
    const int64_t U = options.numUsers, I = options.numItems, k = options.factors;
    if (options_.implicitL2 < 0)
        options_.implicitL2 = options_.l2;
    rated_ = UserItemIndex(train, static_cast<int32_t>(U)); // N(u): each user's distinct training items

    torch::NoGradGuard noGrad;
    userFactors_ = register_module("user_factors", torch::nn::Embedding(U, k));
    itemFactors_ = register_module("item_factors", torch::nn::Embedding(I, k));
    implicit_ = register_module("implicit_factors", torch::nn::Embedding(I, k));
    userBias_ = register_module("user_bias", torch::nn::Embedding(U, 1));
    itemBias_ = register_module("item_bias", torch::nn::Embedding(I, 1));
    userFactors_->weight.normal_(0.0, 0.01);
    itemFactors_->weight.normal_(0.0, 0.01);
    implicit_->weight.normal_(0.0, 0.01);
    userBias_->weight.zero_();
    itemBias_->weight.zero_();
}

torch::Tensor SVDppImpl::userVectors(const torch::Tensor& users, torch::Tensor* implicitPenalty)
{
    // Each distinct user once: a batch of ratings repeats its users.
    const auto [distinct, inverse] = torch::_unique(users, false, true);
    const auto cpu = distinct.to(torch::kCPU);
    const auto* u = cpu.data_ptr<int64_t>();
    const int64_t n = cpu.size(0);
    std::vector<int64_t> offsets(static_cast<size_t>(n)), items;
    std::vector<float> scale, share;
    for (int64_t r = 0; r < n; ++r) {
        offsets[static_cast<size_t>(r)] = static_cast<int64_t>(items.size());
        const int32_t* from = rated_.begin(static_cast<int32_t>(u[r]));
        const int32_t* to = rated_.end(static_cast<int32_t>(u[r]));
        const auto c = static_cast<size_t>(to - from);
        items.insert(items.end(), from, to);
        scale.insert(scale.end(), c, 1.f / std::sqrt(static_cast<float>(c)));
        share.insert(share.end(), c, 1.f / static_cast<float>(c));
    }
    const auto device = userFactors_->weight.device();
    const auto long64 = torch::TensorOptions().dtype(torch::kLong);
    const auto flat = torch::tensor(items, long64).to(device);
    const auto bagOffsets = torch::tensor(offsets, long64).to(device);
    const auto& y = implicit_->weight;
    // |N(u)|^−½ Σ_{j∈N(u)} y_j for each distinct user
    const auto sum = std::get<0>(torch::embedding_bag(y, flat, bagOffsets, false, 0, false,
                                                      torch::tensor(scale).to(device)));
    if (implicitPenalty) // the mean over N(u) of ‖y_j‖², per distinct user
        *implicitPenalty = std::get<0>(torch::embedding_bag(y.pow(2).sum(1, true), flat, bagOffsets, false, 0, false,
                                                             torch::tensor(share).to(device)))
                               .squeeze(1)
                               .index_select(0, inverse);
    return userFactors_(users) + sum.index_select(0, inverse);
}

torch::Tensor SVDppImpl::calculateLoss(const Batch& batch)
{
    torch::Tensor implicitPenalty;
    const auto pu = userVectors(batch.users, options_.implicitL2 > 0 ? &implicitPenalty : nullptr);
    const auto p = userFactors_(batch.users), q = itemFactors_(batch.items);
    const auto bu = userBias_(batch.users).squeeze(1), bi = itemBias_(batch.items).squeeze(1);
    const auto prediction = options_.globalMean + bu + bi + (pu * q).sum(1);
    auto loss = (prediction - batch.labels).pow(2).mean();
    if (options_.l2 > 0)
        loss = loss + options_.l2 * (p.pow(2).sum(1) + q.pow(2).sum(1) + 0.1 * (bu.pow(2) + bi.pow(2))).mean();
    if (implicitPenalty.defined())
        loss = loss + options_.implicitL2 * implicitPenalty.mean();
    return loss;
}

torch::Tensor SVDppImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    return options_.globalMean + userBias_(users).squeeze(1) + itemBias_(items).squeeze(1) +
           (userVectors(users) * itemFactors_(items)).sum(1);
}

torch::Tensor SVDppImpl::fullSortPredict(const torch::Tensor& users)
{
    return options_.globalMean + userBias_(users) + itemBias_->weight.t() +
           userVectors(users).matmul(itemFactors_->weight.t());
}

} // namespace reclab
