#include "oracles/NeuMF.h"

#include <ATen/Parallel.h>

#include <torch/nn/functional/linear.h>
#include <torch/nn/modules/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>

namespace reclab {

NeuMFImpl::NeuMFImpl(const NeuMFOptions& options) : options_(options)
{
    TORCH_CHECK(options.mlpLayers.size() >= 2 && options.mlpLayers.front() % 2 == 0,
                "NeuMF needs at least two MLP layer sizes, the first one even");
    torch::NoGradGuard noGrad;
    int64_t fused = 0;
    if (hasGmf()) {
        userGmf_ = register_module("user_gmf", torch::nn::Embedding(options.numUsers, options.gmfFactors));
        itemGmf_ = register_module("item_gmf", torch::nn::Embedding(options.numItems, options.gmfFactors));
        // Small Gaussian embeddings as in the paper's reference implementation.
        userGmf_->weight.normal_(0.0, 0.01);
        itemGmf_->weight.normal_(0.0, 0.01);
        fused += options.gmfFactors;
    }
    if (hasMlp()) {
        const int64_t mlpEmbedding = options.mlpLayers.front() / 2;
        userMlp_ = register_module("user_mlp", torch::nn::Embedding(options.numUsers, mlpEmbedding));
        itemMlp_ = register_module("item_mlp", torch::nn::Embedding(options.numItems, mlpEmbedding));
        userMlp_->weight.normal_(0.0, 0.01);
        itemMlp_->weight.normal_(0.0, 0.01);
        torch::nn::Sequential tower;
        for (size_t k = 0; k + 1 < options.mlpLayers.size(); ++k) {
            tower->push_back(torch::nn::Linear(options.mlpLayers[k], options.mlpLayers[k + 1]));
            tower->push_back(torch::nn::ReLU());
        }
        tower_ = register_module("tower", tower);
        fused += options.mlpLayers.back();
    }
    output_ = register_module("output", torch::nn::Linear(fused, 1));
}

void NeuMFImpl::loadPretrained(const NeuMFImpl& gmf, const NeuMFImpl& mlp, double alpha)
{
    TORCH_CHECK(hasGmf() && hasMlp() && gmf.hasGmf() && !gmf.hasMlp() && mlp.hasMlp() && !mlp.hasGmf(),
                "pre-training loads a GMF and an MLP into a NeuMF");
    torch::NoGradGuard noGrad;
    userGmf_->weight.copy_(gmf.userGmf_->weight);
    itemGmf_->weight.copy_(gmf.itemGmf_->weight);
    userMlp_->weight.copy_(mlp.userMlp_->weight);
    itemMlp_->weight.copy_(mlp.itemMlp_->weight);
    const auto source = mlp.tower_->parameters();
    auto target = tower_->parameters();
    for (size_t k = 0; k < target.size(); ++k)
        target[k].copy_(source[k]);
    const auto a = static_cast<float>(alpha);
    output_->weight.copy_(torch::cat({a * gmf.output_->weight, (1.f - a) * mlp.output_->weight}, 1));
    output_->bias.copy_(a * gmf.output_->bias + (1.f - a) * mlp.output_->bias);
}

torch::Tensor NeuMFImpl::forward(const torch::Tensor& users, const torch::Tensor& items)
{
    std::vector<torch::Tensor> parts;
    if (hasGmf())
        parts.push_back(userGmf_->forward(users) * itemGmf_->forward(items));
    if (hasMlp())
        parts.push_back(tower_->forward(torch::cat({userMlp_->forward(users), itemMlp_->forward(items)}, 1)));
    return output_->forward(parts.size() == 1 ? parts[0] : torch::cat(parts, 1)).squeeze(1);
}

torch::Tensor NeuMFImpl::fullSortPredict(const torch::Tensor& users)
{
    const int64_t numItems = options_.numItems;
    const auto& h = output_->weight; // [1, fused]
    auto scores = output_->bias.expand({users.size(0), numItems}).clone();
    int64_t offset = 0;
    if (hasGmf()) {
        // h . (p_u * q_i) = (p_u * h) . q_i
        const auto hg = h.narrow(1, 0, options_.gmfFactors);
        scores += torch::matmul(userGmf_->forward(users) * hg, itemGmf_->weight.t());
        offset = options_.gmfFactors;
    }
    if (hasMlp()) {
        const auto hm = h.narrow(1, offset, options_.mlpLayers.back()).reshape({-1});
        auto first = tower_[0]->as<torch::nn::Linear>();
        const int64_t half = options_.mlpLayers.front() / 2;
        // W [p_u; q_i] + b = (W_u p_u + b) + W_i q_i
        const auto userPart = torch::nn::functional::linear(userMlp_->forward(users), first->weight.narrow(1, 0, half),
                                                            first->bias);
        const auto itemPart = torch::matmul(itemMlp_->weight, first->weight.narrow(1, half, half).t());
        // Users in slices of about 16k pairs, so the activations stay in cache. Without
        // autograd on the CPU the slices run on LibTorch's intra-op threads (each slice's ops
        // then single-threaded: a 16k x 32 product is too small to split).
        const int64_t slice = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(numItems, 1));
        const int64_t slices = (users.size(0) + slice - 1) / slice;
        auto runSlices = [&](int64_t from, int64_t to) {
            for (int64_t k = from; k < to; ++k) {
                const int64_t start = k * slice;
                const int64_t len = std::min(slice, users.size(0) - start);
                auto x = torch::relu(userPart.narrow(0, start, len).unsqueeze(1) + itemPart.unsqueeze(0));
                x = x.reshape({len * numItems, -1});
                for (size_t layer = 2; layer < tower_->size(); ++layer) {
                    if (auto* linear = tower_[layer]->as<torch::nn::Linear>())
                        x = linear->forward(x);
                    else
                        x = torch::relu(x);
                }
                scores.narrow(0, start, len) += torch::matmul(x, hm).view({len, numItems});
            }
        };
        if (users.device().is_cpu() && !torch::GradMode::is_enabled())
            at::parallel_for(0, slices, 1, [&](int64_t from, int64_t to) {
                const torch::NoGradGuard noGrad; // grad mode is per thread
                runSlices(from, to);
            });
        else
            runSlices(0, slices);
    }
    return scores;
}

torch::Tensor NeuMFImpl::calculateLoss(const Batch& batch)
{
    auto loss = torch::binary_cross_entropy_with_logits(forward(batch.users, batch.items), batch.labels);
    if (options_.l2 > 0) {
        torch::Tensor norms = torch::zeros({}, loss.options());
        for (auto* table : {&userGmf_, &userMlp_})
            if (!table->is_empty())
                norms = norms + (*table)->forward(batch.users).pow(2).sum(1).mean();
        for (auto* table : {&itemGmf_, &itemMlp_})
            if (!table->is_empty())
                norms = norms + (*table)->forward(batch.items).pow(2).sum(1).mean();
        loss = loss + options_.l2 * norms;
    }
    return loss;
}

torch::Tensor NeuMFImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    return forward(users, items);
}

} // namespace reclab
