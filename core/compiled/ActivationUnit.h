// DIN's local activation unit trained as one autograd node on the CPU (private to core/compiled).
//
// The unit scores every (behaviour, candidate) pair of a batch, some 11 k rows of ml-100k's
// DIN protocol per batch of 256, with a 32 → 80 → 40 → 1 network under Dice. Through autograd
// that was three matrix products and a dozen element-wise, gather and index-add kernels over
// [rows, 80] temporaries forward and as many backward, one after another on one core: the
// products alone were a third of the epoch and a second core did not shorten it. Here the
// rows are split at sample boundaries into one part per thread (RecLab's own, see
// Recommender::spreadsTraining), and each part runs blocks of 256 rows through every layer:
// the matrix products through oneDNN's sgemm on that thread (Gemm.h), the rest fused loops.
// Dice's batch statistics couple all rows, so the pass runs in phases: each layer's moments
// (forward) and its gradient sums (backward) are added over the parts between phases.
// Gradients reaching tables (the behaviour rows and their tabulated first-layer part) go to
// per-part dense partials, added in part order. The forward keeps each layer's values before
// and after the activation (and Dice's sigmoid) for the backward.
#pragma once

#include <torch/types.h>

#include <vector>

namespace reclab {

enum class UnitActivation { Dice, PReLU };

// One hidden layer of the unit. The first layer's linear map is factored into keyPart, perRow
// and cross below, so layers[0].weight and .bias are unused.
struct UnitLayer {
    torch::Tensor weight, bias; // [out, in], [out]
    UnitActivation activation = UnitActivation::Dice;
    torch::Tensor alpha;                   // Dice's alpha or PReLU's slopes, [out]
    torch::Tensor runningMean, runningVar; // Dice: updated in place with the batch's moments
};

// The unit's first layer on [h, t, h − t, h ⊙ t] is keyPart[index] + perRow[sample] +
// (h ⊙ t) crossᵀ, where h = table[index] is a behaviour and t = query[sample] its candidate.
struct UnitInputs {
    torch::Tensor keyPart; // [I, u]: (W1 + W3) h for every row of the table
    torch::Tensor table;   // [I, w]
    torch::Tensor index;   // [R] int64: the behaviours' rows of the table
    torch::Tensor rowOf;   // [R] int64: each behaviour's sample, non-decreasing
    torch::Tensor perRow;  // [B, u]: (W2 − W3) t + b
    torch::Tensor query;   // [B, w]
    torch::Tensor cross;   // [u, w]: W4
    std::vector<UnitLayer> layers;
    torch::Tensor outWeight, outBias; // [1, last], [1]
};

// Whether the fused pass applies: CPU float tensors, at least two behaviours (Dice's batch
// statistics) and the layers' shapes in order.
bool fusedUnitApplies(const UnitInputs& in);

// pooled[b] = Σ over b's behaviours r of unit(h_r, t_b) · h_r, with the unit's weights from
// the batch (Dice in training mode), differentiable in every tensor of `in` but index and rowOf.
// `threads` parts run at once (1: all on the calling thread).
torch::Tensor fusedActivationUnit(const UnitInputs& in, int threads);

} // namespace reclab
