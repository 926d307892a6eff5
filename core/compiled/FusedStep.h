// A training step without autograd for the graphs of neural collaborative filtering: user and
// item ids, plain embedding lookups (with or without the batch L2 regulariser), element-wise
// products, sums and dot products, concatenations, linear layers and MLP towers (ReLU, tanh,
// sigmoid or no activation, no dropout), a click output on binary cross-entropy or a rating
// output on squared error. GMF, MLP, NeuMF and biased MF are of that kind.
//
// On a CPU a batch of NeuMF at the paper's sizes is a few dozen small operations; through
// autograd each one is a dispatch, an allocation and a graph node, and that bookkeeping took
// three quarters of a step. Here the plan is made once from the compiled graph, every value
// and gradient lives in buffers kept between steps, the matrix products go to the BLAS and the
// rest are plain loops: the forward pass, the loss, the backward pass in reverse order, and the
// gradients added into the parameters' .grad (the optimizer's flat buffer) exactly where
// autograd would put them. The numbers are autograd's up to float rounding (tests hold the
// two together on ml-100k). RECLAB_AUTOGRAD_STEPS=1 in the environment turns it off, for
// comparisons.
//
// Private to core/compiled.
#pragma once

#include "models/Recommender.h"

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace reclab {

class GraphModelImpl;

class FusedStep {
public:
    // The plan for this model, or nullptr with the reason in *why when a block, the task or the
    // model's settings need autograd.
    static std::unique_ptr<FusedStep> plan(GraphModelImpl& model, double l2, std::string* why = nullptr);
    ~FusedStep();

    // Whether the batch and the parameters allow it: CPU tensors, ids as int64, every
    // parameter with a contiguous float gradient to add into.
    bool accepts(const Batch& batch) const;
    // weight · (loss + penalty) for the batch, with weight times its gradients added into the
    // parameters' gradients. Returns the weighted loss.
    double run(const Batch& batch, double weight);

    struct Node;

private:
    FusedStep() = default;
    void forward(const Batch& batch, int64_t rows);
    void backward(int64_t rows);

    std::vector<Node> nodes_; // dependency order; the last is the output
    std::vector<torch::Tensor> parameters_;
    bool rating_ = false;
    double globalMean_ = 0.0;
    bool addMean_ = false;
    std::vector<float> dz_; // d loss / d output per row, weighted
    double penaltyWeight_ = 1.0;
    std::vector<float> dwT_; // a layer's weight gradient before it is added, transposed
};

} // namespace reclab
