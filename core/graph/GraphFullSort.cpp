// Scoring every item for a set of users through a compiled graph without forming the
// user-item pairs where the graph does not need them: values are per user, per item or per
// pair; a product of a user and an item vector stays unformed until a linear layer reduces it
// (one matrix product per output), and a linear layer over [user part; item part] adds the two
// parts' products. Per-item values are computed once and shared by every slice of users.
#include "graph/GraphSteps.h"
#include "util/Runtime.h"

#include <ATen/Parallel.h>

#include <torch/nn/functional/linear.h>
#include <torch/nn/modules/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <map>

#include <stdexcept>

namespace reclab {

namespace {

struct PairValue {
    PairValue() = default;
    PairValue(Granularity granularity, torch::Tensor values, torch::Tensor indices = {})
        : g(granularity), t(std::move(values)), ids(std::move(indices))
    {
    }
    Granularity g = Granularity::Item;
    torch::Tensor t;   // User [s, w], Item [I, w], Pair [s * I, w]
    torch::Tensor ids; // ids and category sets
    std::vector<PairValue> parts; // a concatenation kept in pieces
    torch::Tensor left, right;    // an unformed product of a user [s, w] and an item [I, w] value

    bool plain() const { return parts.empty() && !left.defined(); }
};

class PairEvaluator {
public:
    PairEvaluator(int64_t users, int64_t items, std::map<std::string, torch::Tensor>& cache, bool filling)
        : s_(users), items_(items), cache_(cache), filling_(filling)
    {
    }

    // The value as a [s * I, w] tensor.
    torch::Tensor pairs(const PairValue& v) const
    {
        if (!v.parts.empty()) {
            std::vector<torch::Tensor> pieces;
            for (const auto& p : v.parts)
                pieces.push_back(pairs(p));
            return torch::cat(pieces, 1);
        }
        if (v.left.defined())
            return (v.left.unsqueeze(1) * v.right.unsqueeze(0)).reshape({s_ * items_, v.left.size(1)});
        if (v.g == Granularity::Pair)
            return v.t;
        const int64_t w = v.t.size(1);
        const auto t = v.g == Granularity::User ? v.t.unsqueeze(1) : v.t.unsqueeze(0);
        return t.expand({s_, items_, w}).reshape({s_ * items_, w});
    }

    // An element-wise op of two plain values, broadcasting users against items.
    template <typename Op> PairValue combine(const PairValue& a, const PairValue& b, Op op) const
    {
        if (a.plain() && b.plain() && a.g == b.g)
            return {a.g, op(a.t, b.t)};
        if (a.plain() && b.plain() && a.g != Granularity::Pair && b.g != Granularity::Pair) {
            const auto& user = a.g == Granularity::User ? a.t : b.t;
            const auto& item = a.g == Granularity::User ? b.t : a.t;
            const auto x = a.g == Granularity::User ? op(user.unsqueeze(1), item.unsqueeze(0))
                                                    : op(item.unsqueeze(0), user.unsqueeze(1));
            return {Granularity::Pair, x.reshape({s_ * items_, x.size(-1)})};
        }
        return {Granularity::Pair, op(pairs(a), pairs(b))};
    }

    // W v + b; key names the item-only results worth keeping across slices.
    PairValue linear(const PairValue& v, const torch::Tensor& weight, const torch::Tensor& bias, const std::string& key)
    {
        if (!v.parts.empty()) {
            // W [a; b] + c = (W_a a + c) + W_b b: the bias joins the first piece while it is
            // still per user or per item, before the pieces meet.
            PairValue sum;
            int64_t offset = 0;
            bool biased = !bias.defined();
            for (size_t k = 0; k < v.parts.size(); ++k) {
                const int64_t w = width(v.parts[k]);
                const bool small = v.parts[k].plain() && v.parts[k].g != Granularity::Pair;
                auto piece = linear(v.parts[k], weight.narrow(1, offset, w), !biased && small ? bias : torch::Tensor(),
                                    key + "/" + std::to_string(k));
                biased = biased || small;
                sum = k == 0 ? piece : combine(sum, piece, [](const auto& x, const auto& y) { return x + y; });
                offset += w;
            }
            return biased ? sum : withBias(sum, bias);
        }
        return withBias(product(v, weight, key), bias);
    }

    // W v without a bias.
    PairValue product(const PairValue& v, const torch::Tensor& weight, const std::string& key)
    {
        if (v.left.defined() && weight.size(0) <= 4) {
            // out_o = sum_j W_oj u_j v_j = (u * W_o) . v: one [s, w] x [w, I] product per output.
            std::vector<torch::Tensor> outs;
            for (int64_t o = 0; o < weight.size(0); ++o)
                outs.push_back(torch::matmul(v.left * weight[o], v.right.t()));
            return {Granularity::Pair, torch::stack(outs, 2).reshape({s_ * items_, weight.size(0)})};
        }
        if (v.g == Granularity::Item && v.plain())
            return {Granularity::Item, cached(key, [&] { return torch::matmul(v.t, weight.t()); })};
        return {Granularity::Pair == v.g || !v.plain() ? Granularity::Pair : v.g,
                torch::matmul(v.plain() ? v.t : pairs(v), weight.t())};
    }

    PairValue withBias(PairValue v, const torch::Tensor& bias) const
    {
        if (!bias.defined())
            return v;
        if (!v.plain())
            v = {Granularity::Pair, pairs(v)};
        v.t = v.t + bias;
        return v;
    }

    static int64_t width(const PairValue& v)
    {
        if (!v.parts.empty()) {
            int64_t w = 0;
            for (const auto& p : v.parts)
                w += width(p);
            return w;
        }
        return v.left.defined() ? v.left.size(1) : v.t.size(1);
    }

    torch::Tensor cached(const std::string& key, const std::function<torch::Tensor()>& compute)
    {
        if (!filling_) {
            const auto it = cache_.find(key);
            if (it != cache_.end())
                return it->second;
        }
        auto t = compute();
        if (filling_)
            cache_[key] = t;
        return t;
    }

    int64_t users() const { return s_; }
    int64_t items() const { return items_; }

private:
    int64_t s_, items_;
    std::map<std::string, torch::Tensor>& cache_;
    bool filling_;
};

} // namespace

torch::Tensor GraphModelImpl::fullSortPredict(const torch::Tensor& users)
{
    if (analysis_.usesHistory)
        throw std::logic_error("this graph scores a behaviour history with a candidate; use predictBatch");
    const int64_t numItems = data_.numItems;
    const auto options = torch::TensorOptions().device(users.device());
    const auto allItems = torch::arange(numItems, options.dtype(torch::kLong));
    std::map<std::string, torch::Tensor> cache; // item-only values, filled by the first pass

    auto evaluate = [&](const torch::Tensor& sliceUsers, bool filling) {
        PairEvaluator e(sliceUsers.size(0), numItems, cache, filling);
        std::vector<PairValue> values(steps_.size());
        torch::Tensor scores;
        for (size_t k = 0; k < steps_.size(); ++k) {
            Step& s = *steps_[k];
            const std::string key = std::to_string(k);
            PairValue& out = values[k];
            auto in = [&](size_t port) -> PairValue& { return values[s.inputs[port]]; };
            // Item-only blocks: computed in the first pass, reused by every slice.
            if (!filling && s.granularity == Granularity::Item && s.op != BlockOp::ItemId &&
                s.op != BlockOp::ItemCategory && cache.count(key)) {
                out = {Granularity::Item, cache.at(key)};
                continue;
            }
            switch (s.op) {
            case BlockOp::UserId: out = {Granularity::User, {}, sliceUsers}; break;
            case BlockOp::ItemId:
            case BlockOp::ItemCategory: out = {Granularity::Item, {}, allItems}; break;
            case BlockOp::Dense: {
                std::vector<torch::Tensor> columns;
                for (const int c : s.features) {
                    PairValue col = c < 2 ? PairValue{Granularity::User, data_.userFeatures.select(1, c)
                                                                             .index_select(0, sliceUsers)
                                                                             .unsqueeze(1)}
                                          : PairValue{Granularity::Item, data_.itemFeatures};
                    columns.push_back(s.granularity == Granularity::Pair ? e.pairs(col) : col.t);
                }
                out = {s.granularity, torch::cat(columns, 1)};
                break;
            }
            case BlockOp::Embedding: {
                const auto& weight = tables_.at(s.table)->weight;
                const auto table = s.bag ? data_.genreMix.matmul(weight) : weight;
                out = {in(0).g, table.index_select(0, in(0).ids)};
                break;
            }
            case BlockOp::Linear:
                out = e.linear(in(0), s.linear->weight, s.linear->bias, key);
                break;
            case BlockOp::Mlp: {
                // The first layer through linear() (it may meet a concatenation of user and item
                // parts), the rest on its result.
                PairValue x = in(0);
                bool first = true;
                for (auto& layer : *s.sequential) {
                    if (first) {
                        auto* linear = layer.ptr()->as<torch::nn::Linear>();
                        x = e.linear(x, linear->weight, linear->bias, key);
                        first = false;
                        continue;
                    }
                    if (!x.plain())
                        x = {Granularity::Pair, e.pairs(x)};
                    // Pair activations are this pass's own: ReLU in place saves a pass over them.
                    if (x.g == Granularity::Pair && layer.ptr()->as<torch::nn::ReLU>())
                        x.t.relu_();
                    else
                        x.t = layer.forward(x.t);
                }
                out = x;
                break;
            }
            case BlockOp::Unary: {
                const PairValue& x = in(0);
                out = {x.plain() ? x.g : Granularity::Pair, s.unary.forward(x.plain() ? x.t : e.pairs(x))};
                break;
            }
            case BlockOp::Product:
                if (in(0).plain() && in(1).plain() && in(0).g != in(1).g && in(0).g != Granularity::Pair &&
                    in(1).g != Granularity::Pair) {
                    const bool userFirst = in(0).g == Granularity::User;
                    out.g = Granularity::Pair;
                    out.left = userFirst ? in(0).t : in(1).t;
                    out.right = userFirst ? in(1).t : in(0).t;
                } else {
                    out = e.combine(in(0), in(1), [](const auto& a, const auto& b) { return a * b; });
                }
                break;
            case BlockOp::Add: out = e.combine(in(0), in(1), [](const auto& a, const auto& b) { return a + b; }); break;
            case BlockOp::Dot:
                if (in(0).plain() && in(1).plain() && in(0).g != in(1).g && in(0).g != Granularity::Pair &&
                    in(1).g != Granularity::Pair) {
                    const bool userFirst = in(0).g == Granularity::User;
                    const auto& u = userFirst ? in(0).t : in(1).t;
                    const auto& i = userFirst ? in(1).t : in(0).t;
                    out = {Granularity::Pair, torch::matmul(u, i.t()).reshape({e.users() * numItems, 1})};
                } else {
                    out = e.combine(in(0), in(1), [](const auto& a, const auto& b) { return (a * b).sum(-1, true); });
                }
                break;
            case BlockOp::Concat: {
                bool same = true;
                for (const size_t i : s.inputs)
                    same = same && values[i].plain() && values[i].g == in(0).g;
                if (same) {
                    std::vector<torch::Tensor> pieces;
                    for (const size_t i : s.inputs)
                        pieces.push_back(values[i].t);
                    out = {in(0).g, torch::cat(pieces, 1)};
                } else {
                    out.g = Granularity::Pair;
                    for (const size_t i : s.inputs) {
                        const auto& v = values[i];
                        if (!v.parts.empty())
                            out.parts.insert(out.parts.end(), v.parts.begin(), v.parts.end());
                        else
                            out.parts.push_back(v);
                    }
                }
                break;
            }
            case BlockOp::ClickOutput:
            case BlockOp::RatingOutput:
                scores = e.pairs(in(0)).view({e.users(), numItems});
                if (s.addGlobalMean)
                    scores = scores + data_.globalMean;
                break;
            default:
                throw std::logic_error("scoring all items does not apply to sequence blocks");
            }
            if (filling && s.granularity == Granularity::Item && out.plain() && out.t.defined())
                cache[key] = out.t;
        }
        return scores;
    };

    evaluate(users.narrow(0, 0, 0), true); // item-only values, once
    auto scores = torch::empty({users.size(0), numItems}, options.dtype(torch::kFloat));
    // Users in slices whose widest activation holds about 2M floats (32k pairs of a 64-wide
    // layer), so it stays in cache: a fixed pair count made a 256-wide tower's slices 33 MB, and
    // two threads streaming those were three times slower than one. Without autograd on the CPU
    // the slices run on the evaluation threads (util/Runtime.h says why not LibTorch's intra-op
    // pool).
    int64_t widest = 1;
    for (const auto& b : analysis_.blocks) {
        if (b.output)
            widest = std::max(widest, b.output->width);
        if (b.type == "mlp" && b.params.contains("layers") && b.params["layers"].is_array())
            for (const auto& width : b.params["layers"])
                if (width.is_number_integer())
                    widest = std::max(widest, width.get<int64_t>());
    }
    const int64_t pairsPerSlice = std::max<int64_t>(1, (int64_t(1) << 21) / widest);
    const int64_t slice = std::max<int64_t>(1, pairsPerSlice / std::max<int64_t>(numItems, 1));
    const int64_t slices = (users.size(0) + slice - 1) / slice;
    auto runSlices = [&](int64_t from, int64_t to) {
        for (int64_t k = from; k < to; ++k) {
            const int64_t start = k * slice;
            const int64_t len = std::min(slice, users.size(0) - start);
            scores.narrow(0, start, len).copy_(evaluate(users.narrow(0, start, len), false));
        }
    };
    if (users.device().is_cpu() && !torch::GradMode::is_enabled())
        parallelRanges(slices, evaluationThreads(), [&](int64_t from, int64_t to) {
            const torch::NoGradGuard noGrad;        // grad mode is per thread
            const SerialIntraOp serial;             // each slice's ops on its own thread
            runSlices(from, to);
        });
    else
        runSlices(0, slices);
    return scores;
}

} // namespace reclab
