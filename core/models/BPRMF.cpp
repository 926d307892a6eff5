#include "models/BPRMF.h"

#include <torch/nn/init.h>
#include <torch/types.h>
#include <torch/utils.h>

namespace reclab {

BPRMFImpl::BPRMFImpl(const BPRMFOptions& options) : options_(options)
{
    userFactors_ = register_module("user_factors", torch::nn::Embedding(options.numUsers, options.factors));
    itemFactors_ = register_module("item_factors", torch::nn::Embedding(options.numItems, options.factors));
    // Xavier-normal factors, as RecBole initialises its BPR.
    torch::NoGradGuard noGrad;
    torch::nn::init::xavier_normal_(userFactors_->weight);
    torch::nn::init::xavier_normal_(itemFactors_->weight);
}

torch::Tensor BPRMFImpl::calculateLoss(const Batch& batch)
{
    TORCH_CHECK(batch.negItems.defined(), "BPR needs sampled negative items in the batch");
    const auto p = userFactors_->forward(batch.users);
    const auto qi = itemFactors_->forward(batch.items);
    const auto qj = itemFactors_->forward(batch.negItems);
    const auto margin = (p * qi).sum(1) - (p * qj).sum(1);
    auto loss = -torch::log_sigmoid(margin).mean();
    if (options_.l2 > 0)
        loss = loss + options_.l2 * (p.pow(2).sum(1) + qi.pow(2).sum(1) + qj.pow(2).sum(1)).mean();
    return loss;
}

torch::Tensor BPRMFImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    return (userFactors_->forward(users) * itemFactors_->forward(items)).sum(1);
}

torch::Tensor BPRMFImpl::fullSortPredict(const torch::Tensor& users)
{
    return torch::matmul(userFactors_->forward(users), itemFactors_->weight.t());
}

} // namespace reclab
