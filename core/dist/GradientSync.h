// Data-parallel gradients: after each rank's backward pass over its share of the global batch,
// every rank ends up with the same gradient, the sum of the ranks' gradients (each rank weighs
// its loss by its share of the batch, so the sum is the whole batch's mean), and the flat
// optimizer then steps identically everywhere.
//
// Dense parameters (layers, small tables) go in one all-reduce. Embedding tables (two-dimensional
// parameters with many more rows than columns) go as rows: a step touches only the rows of its
// batch's users and items, so each rank sends just the rows whose gradient is not zero, with
// their indices, in one all-gather, and every rank adds them up in rank order. The counts of
// rows ride along in the dense all-reduce, so each step costs two collectives; a table whose
// rows would cost more than its dense sum (a softmax over every item touches all rows) is
// summed densely that step instead, decided the same way on every rank from the shared counts.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace reclab {

class FlatOptimizer;
class RankGroup;

class GradientSync {
public:
    // rowExchange false: every parameter, tables included, in one dense all-reduce.
    GradientSync(RankGroup& group, FlatOptimizer& optimizer, bool rowExchange);

    struct Result {
        double loss = 0;   // the global batch's loss: the ranks' weighted losses summed
        bool stop = false; // some rank asked to stop: every rank stops after this step
    };
    // weightedLoss: this rank's loss times its share of the batch (a 0-d tensor on the
    // parameters' device; zero when its share is empty); stopVote: this rank's wish to stop.
    Result exchange(const torch::Tensor& weightedLoss, bool stopVote);

    int tables() const { return static_cast<int>(tables_.size()); }
    // What one dense all-reduce of the whole gradient would send per step and rank (the ring).
    double denseBytesPerStep() const;
    // The rows of tables that went by all-gather, and those summed densely, since construction.
    int64_t rowsSent() const { return rowsSent_; }

private:
    struct Table {
        int64_t offset, rows, dim;
    };
    RankGroup& group_;
    FlatOptimizer& optimizer_;
    std::vector<Table> tables_;                      // sent as rows
    std::vector<std::pair<int64_t, int64_t>> dense_; // (offset, length) in the flat gradient
    int64_t denseNumel_ = 0;
    int64_t rowsSent_ = 0;
};

// Every rank's weights must be bit for bit rank 0's after each epoch (the same sums, in the same
// order, on the same start): checked by a checksum gathered from every rank; throws Error naming
// the rank that drifted.
void requireSameWeights(RankGroup& group, const FlatOptimizer& optimizer, int epoch);

} // namespace reclab
