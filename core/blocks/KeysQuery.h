// The LibTorch half shared by the blocks that read a sequence of keys with one query per row
// (additive attention, the attention decoder): padded keys and their valid entries in the
// forward pass, the one history as keys of a batch of one in shared scoring, where a query of
// the user's alone (the same row for every candidate) is read once. Private to core/blocks.
#pragma once

#include "compiled/BlockKernel.h"

namespace reclab {

class KeysQueryKernel : public BlockKernel {
public:
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        const auto keys = p.padded(in[0]->materialise()); // [rows, L, d]
        const auto valid = torch::arange(keys.size(1), p.lengths.options()).unsqueeze(0) < p.lengths.unsqueeze(1);
        BatchValue out;
        out.rows = attend(s, keys, valid, in[1]->materialise(), nullptr);
        return out;
    }
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep&, const Inputs<HistoryFlags>& in) const override
    {
        p.ok = p.ok && in[0]->sequence && !in[1]->sequence;
        return {false, in[0]->user || in[1]->user, true};
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const auto& keys = in[0]->t; // [L, d]
        auto query = in[1]->t;       // [n, q]
        const bool once = query.size(0) > 1 && query.stride(0) == 0;
        if (once)
            query = query.narrow(0, 0, 1);
        const auto valid = torch::ones({query.size(0), keys.size(0)}, query.options().dtype(torch::kBool));
        torch::Tensor weights;
        const auto y = attend(s, keys.unsqueeze(0), valid, query, p.maps ? &weights : nullptr); // [n or 1, w]
        if (p.maps && weights.defined())
            record(*p.maps, s, weights);
        return {once ? y.expand({p.n, y.size(1)}) : y, {}};
    }

protected:
    // The output [R, w] for keys [R or 1, L, d] whose entries are valid [R, L] and queries
    // [R, q]; the weights into weightsOut when given.
    virtual torch::Tensor attend(GraphStep& s, const torch::Tensor& keys, const torch::Tensor& valid,
                                 const torch::Tensor& query, torch::Tensor* weightsOut) const = 0;
    // Shared scoring for the Attention view: the weights attend gave the one history.
    virtual void record(std::vector<SequenceMap>&, const GraphStep&, const torch::Tensor&) const {}
};

} // namespace reclab
