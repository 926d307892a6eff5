// Scoring many candidates against one user's behaviour history (recommendations and attention
// maps). A batch of candidates with the history repeated on every row computes each
// behaviour's embeddings and the attention unit's per-behaviour layer once per row and gathers
// and pools through packed indices; here every value is either per candidate [n, w] or per
// behaviour [L, w], a pool is one [n, L] x [L, w] product, and the attention unit meets the
// behaviours and candidates in blocks. DIN's unit reads only the two items' vectors, so its
// weights for a whole catalogue can be tabulated once per model.
#include "graph/GraphSteps.h"
#include "util/Runtime.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <optional>
#include <stdexcept>

namespace reclab {

void GraphModelImpl::planSharedHistory()
{
    // Per step: does the value run along the behaviours, and does it depend on the user or on
    // the history as a whole (a pool)?
    struct Flags {
        bool sequence = false, user = false, history = false;
    };
    std::vector<Flags> flags(steps_.size());
    bool ok = analysis_.usesHistory;
    int attentions = 0;
    int64_t tableStep = -1;
    for (size_t k = 0; k < steps_.size(); ++k) {
        const Step& s = *steps_[k];
        Flags& out = flags[k];
        auto in = [&](size_t port) -> const Flags& { return flags[s.inputs[port]]; };
        switch (s.op) {
        case BlockOp::UserId: out.user = true; break;
        case BlockOp::ItemId:
        case BlockOp::ItemCategory: break;
        case BlockOp::History:
        case BlockOp::HistoryCategory: out.sequence = true; break;
        case BlockOp::Dense:
            for (const int c : s.features)
                out.user = out.user || c < 2;
            break;
        case BlockOp::Embedding:
        case BlockOp::Linear:
        case BlockOp::Mlp:
        case BlockOp::Unary: out = in(0); break;
        case BlockOp::Product:
        case BlockOp::Add:
        case BlockOp::Dot:
        case BlockOp::Concat:
            // Behaviours meet only behaviours; a candidate value is pooled with them, not mixed in.
            out.sequence = in(0).sequence;
            for (const size_t i : s.inputs) {
                ok = ok && flags[i].sequence == out.sequence;
                out.user = out.user || flags[i].user;
                out.history = out.history || flags[i].history;
            }
            break;
        case BlockOp::SumPool:
        case BlockOp::MeanPool:
            ok = ok && in(0).sequence;
            out = {false, in(0).user, true};
            break;
        case BlockOp::Attention:
            ok = ok && in(0).sequence && !in(1).sequence;
            out = {false, in(0).user || in(1).user, true};
            ++attentions;
            if (!in(0).user && !in(1).user && !in(1).history)
                tableStep = static_cast<int64_t>(k);
            break;
        case BlockOp::ClickOutput:
        case BlockOp::RatingOutput: ok = ok && !in(0).sequence; break;
        }
    }
    shared_.supported = ok;
    shared_.attentionStep = ok && attentions == 1 ? tableStep : -1;
}

torch::Tensor GraphModelImpl::unitWeights(Step& unit, const torch::Tensor& keys, const torch::Tensor& query)
{
    // W [h, t, h - t, h * t] + b = (W1 + W3) h + (W2 - W3) t + W4 (h * t) + b, as in run().
    const auto chunks = unit.linear->weight.chunk(4, 1);
    const auto keyPart = keys.matmul((chunks[0] + chunks[2]).t());                            // [L, u]
    const auto rowPart = torch::addmm(unit.linear->bias, query, (chunks[1] - chunks[2]).t()); // [n, u]
    const auto cross = chunks[3].t().contiguous();                                            // [w, u]
    const int64_t n = query.size(0), length = keys.size(0), width = keys.size(1), units = keyPart.size(1);
    auto out = torch::empty({n, length}, keys.options());
    if (n == 0 || length == 0)
        return out;
    // About 8,192 (candidate, behaviour) rows per block: the unit's widest step stays in cache.
    const int64_t block = std::max<int64_t>(1, 8192 / length);
    const int64_t blocks = (n + block - 1) / block;
    auto runBlocks = [&](int64_t from, int64_t to) {
        for (int64_t b = from; b < to; ++b) {
            const int64_t start = b * block, len = std::min(block, n - start);
            const auto pairs = (query.narrow(0, start, len).unsqueeze(1) * keys.unsqueeze(0)).view({len * length, width});
            auto first = pairs.matmul(cross).view({len, length, units});
            first.add_(keyPart.unsqueeze(0)).add_(rowPart.narrow(0, start, len).unsqueeze(1));
            out.narrow(0, start, len).copy_(unit.sequential->forward(first.view({len * length, units})).view({len, length}));
        }
    };
    if (keys.device().is_cpu() && !torch::GradMode::is_enabled() && blocks > 1)
        parallelRanges(blocks, evaluationThreads(), [&](int64_t from, int64_t to) {
            const torch::NoGradGuard noGrad; // grad mode is per thread
            const SerialIntraOp serial;
            runBlocks(from, to);
        });
    else
        runBlocks(0, blocks);
    return out;
}

std::vector<int64_t> GraphModelImpl::parameterVersions() const
{
    // A parameter changed in place (an optimiser step, a checkpoint loaded) has a new version;
    // one replaced (moved to another device) has new storage.
    std::vector<int64_t> v;
    for (const auto& t : parameters()) {
        v.push_back(t._version());
        v.push_back(reinterpret_cast<int64_t>(t.data_ptr()));
    }
    for (const auto& t : buffers()) {
        v.push_back(t._version());
        v.push_back(reinterpret_cast<int64_t>(t.data_ptr()));
    }
    return v;
}

bool GraphModelImpl::hasAttentionTable() const
{
    return attentionTable_.defined() && attentionVersions_ == parameterVersions();
}

torch::Tensor GraphModelImpl::runShared(int64_t user, const torch::Tensor& history, const torch::Tensor& candidates,
                                        torch::Tensor* weights, torch::Tensor* keysOut, torch::Tensor* queryOut)
{
    if (!shared_.supported)
        throw std::logic_error("this graph mixes behaviours with candidate or user values before pooling them; "
                               "score it with predictBatch");
    if (is_training())
        throw std::logic_error("scoring against a history evaluates the model: call eval() first");
    torch::NoGradGuard noGrad;
    // LibTorch's OpenMP threads left spinning by a parallel op would take a core from the
    // unit's blocks on RecLab's threads (on two cores: 36 ms a user instead of 19): on the CPU
    // every op here runs on the calling thread, and the blocks on the evaluation threads.
    std::optional<SerialIntraOp> serial;
    if (candidates.device().is_cpu())
        serial.emplace();
    if (attentionTable_.defined() && !hasAttentionTable()) {
        attentionTable_ = torch::Tensor(); // stale: the weights changed since it was computed
        attentionVersions_.clear();
    }
    const int64_t n = candidates.size(0), length = history.size(0);
    struct Shared {
        torch::Tensor t;   // [n, w] per candidate, [L, w] per behaviour
        torch::Tensor ids; // ids and category sets
    };
    std::vector<Shared> values(steps_.size());
    torch::Tensor result;
    for (size_t k = 0; k < steps_.size(); ++k) {
        Step& s = *steps_[k];
        Shared& out = values[k];
        auto in = [&](size_t port) -> Shared& { return values[s.inputs[port]]; };
        switch (s.op) {
        case BlockOp::UserId: out.ids = torch::full({n}, user, candidates.options()); break;
        case BlockOp::ItemId:
        case BlockOp::ItemCategory: out.ids = candidates; break;
        case BlockOp::History:
        case BlockOp::HistoryCategory: out.ids = history; break;
        case BlockOp::Dense: {
            std::vector<torch::Tensor> columns;
            for (const int c : s.features)
                columns.push_back(c < 2 ? data_.userFeatures.select(1, c).narrow(0, user, 1).expand({n})
                                        : data_.itemFeatures.select(1, 0).index_select(0, candidates));
            out.t = torch::stack(columns, 1);
            break;
        }
        case BlockOp::Embedding: {
            const auto& weight = tables_.at(s.table)->weight;
            out.t = s.bag ? data_.genreMix.index_select(0, in(0).ids).matmul(weight) : torch::embedding(weight, in(0).ids);
            break;
        }
        case BlockOp::Linear: out.t = s.linear->forward(in(0).t); break;
        case BlockOp::Mlp: out.t = s.sequential->forward(in(0).t); break;
        case BlockOp::Unary: out.t = s.unary.forward(in(0).t); break;
        case BlockOp::Product: out.t = in(0).t * in(1).t; break;
        case BlockOp::Add: out.t = in(0).t + in(1).t; break;
        case BlockOp::Dot: out.t = (in(0).t * in(1).t).sum(1, true); break;
        case BlockOp::Concat: {
            std::vector<torch::Tensor> parts;
            for (const size_t i : s.inputs)
                parts.push_back(values[i].t);
            out.t = torch::cat(parts, 1);
            break;
        }
        case BlockOp::SumPool:
        case BlockOp::MeanPool: {
            const auto& r = in(0).t;
            auto pooled = r.sum(0, true);
            if (s.op == BlockOp::MeanPool)
                pooled = pooled / static_cast<double>(std::max<int64_t>(length, 1));
            out.t = pooled.expand({n, r.size(1)});
            break;
        }
        case BlockOp::Attention: {
            const auto& keys = in(0).t;  // [L, w]
            const auto& query = in(1).t; // [n, w]
            const bool tabled = static_cast<int64_t>(k) == shared_.attentionStep;
            if (keysOut && tabled) {
                *keysOut = keys;
                *queryOut = query;
                return {};
            }
            const auto w = tabled && attentionTable_.defined()
                               ? attentionTable_.index_select(0, history).index_select(1, candidates).t()
                               : unitWeights(s, keys, query);
            out.t = w.matmul(keys);
            if (weights)
                *weights = w;
            break;
        }
        case BlockOp::ClickOutput: result = in(0).t.squeeze(1); break;
        case BlockOp::RatingOutput:
            result = in(0).t.squeeze(1);
            if (s.addGlobalMean)
                result = result + data_.globalMean;
            break;
        }
    }
    return result;
}

torch::Tensor GraphModelImpl::scoreHistory(int64_t user, const torch::Tensor& history, const torch::Tensor& candidates,
                                           torch::Tensor* weights)
{
    return runShared(user, history, candidates, weights);
}

bool GraphModelImpl::prepareAttentionTable(int64_t maxItems)
{
    if (shared_.attentionStep < 0 || data_.numItems == 0 || data_.numItems > maxItems)
        return false;
    if (hasAttentionTable())
        return true;
    torch::NoGradGuard noGrad;
    // The unit's inputs for every item as a behaviour and as a candidate, then every pair.
    const auto all = torch::arange(data_.numItems, torch::TensorOptions().dtype(torch::kLong).device(parameters().front().device()));
    torch::Tensor keys, query;
    runShared(0, all, all, nullptr, &keys, &query);
    attentionTable_ = unitWeights(*steps_[static_cast<size_t>(shared_.attentionStep)], keys, query).t().contiguous();
    attentionVersions_ = parameterVersions();
    return true;
}

} // namespace reclab
