// An MLP tower over every user-item pair of a ranking slice (PairPass, GraphFullSort.cpp), run
// block by block on the CPU without autograd: a block is one user's pairs with up to 512
// items, and every layer runs on it while it is in cache. On a CPU with AVX-512 the first
// layer's user and item parts are added a few rows at a time straight into the second layer's
// product (register tiles, bias and ReLU applied before the store); elsewhere they are added
// into the block and each layer is a product through oneDNN (Gemm.h) and a bias pass.
// Private to core/compiled.
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

namespace reclab {

// The tower's output rows [users * items, width]. Its first layer (a linear one, the first
// module of tower) is already applied: given as user [users, w] and item [items, w] parts whose
// sum is its output (the bias in the user part), or as rows [users * items, w] with user and
// item undefined.
torch::Tensor pairTowerRows(const torch::Tensor& user, const torch::Tensor& item, const torch::Tensor& rows,
                            int64_t users, int64_t items, torch::nn::SequentialImpl& tower);

} // namespace reclab
