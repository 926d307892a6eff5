#include "inspection/Attention.h"

#include "compiled/GraphModule.h"
#include "models/Recommender.h"
#include "util/Error.h"

namespace reclab {

namespace {

void checkUser(const Dataset& data, int32_t user)
{
    if (user < 0 || user >= data.numUsers())
        throw Error(data.name + " has no user index " + std::to_string(user));
}

} // namespace

SequenceAttentionMaps sequenceAttention(Recommender& model, const InteractionIndex& index, int32_t user, int historyLength)
{
    auto* graph = dynamic_cast<GraphModelImpl*>(&model);
    const char* none = "this model has no attention over behaviours (DIN's attention unit, SASRec's self-attention "
                       "layers and a seq2seq model's attention decoder have)";
    if (!graph || !graph->analysis().usesHistory || !graph->sharesHistory())
        throw Error(none);
    const Dataset& data = index.data();
    checkUser(data, user);
    SequenceAttentionMaps out;
    out.history = userHistory(index, user, historyLength);
    if (out.history.empty())
        throw Error("user " + data.userIds[static_cast<size_t>(user)] + " has no behaviours to attend to");
    torch::NoGradGuard noGrad;
    model.eval();
    const auto device = model.parameters().front().device();
    const auto behaviours = torch::tensor(std::vector<int64_t>(out.history.begin(), out.history.end()), torch::kLong);
    out.maps = graph->sequenceAttention(user, behaviours.to(device));
    if (out.maps.empty())
        throw Error(none);
    return out;
}

AttentionMap attentionMap(Recommender& model, const InteractionIndex& index, int32_t user,
                          const std::vector<int32_t>& candidates, int historyLength)
{
    auto* graph = dynamic_cast<GraphModelImpl*>(&model);
    if (!graph || model.family() != ModelFamily::Sequential)
        throw Error("this model has no attention over behaviours (only DIN-like graphs with a din_attention block do)");
    const Dataset& data = index.data();
    checkUser(data, user);
    if (candidates.empty())
        throw Error("no candidate items to attend from");
    for (const int32_t item : candidates)
        if (item < 0 || item >= data.numItems())
            throw Error(data.name + " has no item index " + std::to_string(item));
    AttentionMap map;
    map.history = userHistory(index, user, historyLength);
    map.candidates = candidates;
    if (map.history.empty())
        throw Error("user " + data.userIds[static_cast<size_t>(user)] + " has no behaviours to attend to");
    torch::NoGradGuard noGrad;
    model.eval();
    const auto device = model.parameters().front().device();
    const auto n = static_cast<int64_t>(candidates.size());
    const auto length = static_cast<int64_t>(map.history.size());
    const auto items = torch::tensor(std::vector<int64_t>(candidates.begin(), candidates.end()), torch::kLong).to(device);
    torch::Tensor scores;
    if (graph->sharesHistory()) {
        const auto behaviours = torch::tensor(std::vector<int64_t>(map.history.begin(), map.history.end()), torch::kLong);
        scores = graph->scoreHistory(user, behaviours.to(device), items, &map.weights);
    } else {
        scores = model.predictBatch(behaviourBatch(user, map.history, items, data.numItems(), historyLength, device));
        map.weights = graph->lastAttention().narrow(1, 0, length);
    }
    scores = scores.to(torch::kCPU, torch::kDouble);
    map.weights = map.weights.to(torch::kCPU, torch::kFloat).contiguous();
    const torch::Tensor sums = map.weights.sum(1, true);
    map.shares = map.weights / torch::where(sums.abs() > 1e-12, sums, torch::ones_like(sums));
    for (int64_t k = 0; k < n; ++k)
        map.scores.push_back(scores[k].item<double>());
    return map;
}

} // namespace reclab
