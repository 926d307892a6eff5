// Scoring many candidates against one user's behaviour history (recommendations and attention
// maps). A batch of candidates with the history repeated on every row computes each
// behaviour's embeddings and the attention unit's per-behaviour layer once per row and gathers
// and pools through packed indices; here every value is either per candidate [n, w] or per
// behaviour [L, w], a pool is one [n, L] x [L, w] product, and the attention unit meets the
// behaviours and candidates in blocks. DIN's unit reads only the two items' vectors, so its
// weights for a whole catalogue can be tabulated once per model.
#include "compiled/BlockKernel.h"
#include "util/Runtime.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace reclab {

bool HistoryPlan::visit(GraphStep& s, const Inputs<HistoryFlags>& in, HistoryFlags& out)
{
    out = s.kernel->planHistory(*this, s, in);
    return true;
}

bool SharedPass::visit(GraphStep& s, const Inputs<SharedValue>& in, SharedValue& out)
{
    out = s.kernel->scoreShared(*this, s, in);
    return !stopped;
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
                                        torch::Tensor* weights, torch::Tensor* keysOut, torch::Tensor* queryOut,
                                        std::vector<SequenceMap>* maps)
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
    SharedPass pass(data_);
    pass.user = user;
    pass.history = history;
    pass.candidates = candidates;
    pass.n = candidates.size(0);
    pass.length = history.size(0);
    pass.tableStep = shared_.attentionStep;
    pass.table = attentionTable_;
    pass.weights = weights;
    pass.collect = keysOut != nullptr;
    pass.maps = maps;
    walkSteps(steps_, pass);
    if (pass.collect) {
        *keysOut = pass.keys;
        *queryOut = pass.query;
    }
    return pass.result;
}

torch::Tensor GraphModelImpl::scoreHistory(int64_t user, const torch::Tensor& history, const torch::Tensor& candidates,
                                           torch::Tensor* weights)
{
    return runShared(user, history, candidates, weights);
}

std::vector<SequenceMap> GraphModelImpl::sequenceAttention(int64_t user, const torch::Tensor& history)
{
    std::vector<SequenceMap> maps;
    const auto candidate = torch::zeros({1}, torch::TensorOptions().dtype(torch::kLong).device(history.device()));
    runShared(user, history, candidate, nullptr, nullptr, nullptr, &maps);
    for (auto& m : maps)
        m.weights = m.weights.to(torch::kCPU, torch::kFloat).contiguous();
    return maps;
}

torch::Tensor GraphModelImpl::scoreWithHistory(int64_t user, const std::vector<int32_t>& history,
                                               const torch::Tensor& candidates, int historyLength)
{
    if (!sharesHistory() || is_training() || family() == ModelFamily::General)
        return Recommender::scoreWithHistory(user, history, candidates, historyLength);
    prepareAttentionTable(); // once per set of weights: every user's candidates read it
    const std::vector<int32_t> latest(history.end() - std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(history.size()), historyLength),
                                      history.end());
    const auto behaviours =
        torch::tensor(std::vector<int64_t>(latest.begin(), latest.end()), torch::kLong).to(candidates.device());
    return scoreHistory(user, behaviours, candidates);
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
    GraphStep& step = *steps_[static_cast<size_t>(shared_.attentionStep)];
    attentionTable_ = step.kernel->behaviourWeights(step, keys, query).t().contiguous();
    attentionVersions_ = parameterVersions();
    return true;
}

} // namespace reclab
