#include "models/NeuMF.h"

#include <torch/nn/modules/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

namespace reclab {

NeuMFImpl::NeuMFImpl(const NeuMFOptions& options) : options_(options)
{
    TORCH_CHECK(options.mlpLayers.size() >= 2 && options.mlpLayers.front() % 2 == 0,
                "NeuMF needs at least two MLP layer sizes, the first one even");
    const int64_t mlpEmbedding = options.mlpLayers.front() / 2;
    userGmf_ = register_module("user_gmf", torch::nn::Embedding(options.numUsers, options.gmfFactors));
    itemGmf_ = register_module("item_gmf", torch::nn::Embedding(options.numItems, options.gmfFactors));
    userMlp_ = register_module("user_mlp", torch::nn::Embedding(options.numUsers, mlpEmbedding));
    itemMlp_ = register_module("item_mlp", torch::nn::Embedding(options.numItems, mlpEmbedding));
    torch::nn::Sequential tower;
    for (size_t k = 0; k + 1 < options.mlpLayers.size(); ++k) {
        tower->push_back(torch::nn::Linear(options.mlpLayers[k], options.mlpLayers[k + 1]));
        tower->push_back(torch::nn::ReLU());
    }
    tower_ = register_module("tower", tower);
    output_ = register_module("output", torch::nn::Linear(options.gmfFactors + options.mlpLayers.back(), 1));
    // Small Gaussian embeddings as in the paper's reference implementation.
    torch::NoGradGuard noGrad;
    for (auto* table : {&userGmf_, &itemGmf_, &userMlp_, &itemMlp_})
        (*table)->weight.normal_(0.0, 0.01);
}

torch::Tensor NeuMFImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    auto gmf = userGmf_->forward(users) * itemGmf_->forward(items);
    auto mlp = tower_->forward(torch::cat({userMlp_->forward(users), itemMlp_->forward(items)}, 1));
    return output_->forward(torch::cat({gmf, mlp}, 1)).squeeze(1);
}

torch::Tensor NeuMFImpl::calculateLoss(const Batch& batch)
{
    return torch::binary_cross_entropy_with_logits(forward(batch.users, batch.items), batch.labels);
}

torch::Tensor NeuMFImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    return forward(users, items);
}

} // namespace reclab
