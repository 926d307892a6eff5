// Scoring every item for a set of users through a compiled graph without forming the
// user-item pairs where the graph does not need them: values are per user, per item or per
// pair; a product of a user and an item vector stays unformed until a linear layer reduces it
// (one matrix product per output), and a linear layer over [user part; item part] adds the two
// parts' products. Per-item values are computed once and shared by every slice of users.
#include "compiled/BlockKernel.h"
#include "compiled/Gemm.h"
#include "compiled/PairTower.h"
#include "util/Runtime.h"

#include <ATen/Parallel.h>

#include <torch/nn/functional/linear.h>
#include <torch/nn/modules/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <atomic>
#include <map>

#include <stdexcept>

namespace reclab {

namespace {

// Float32 on the CPU without autograd: what the hand-written paths below take.
bool direct(const torch::Tensor& t)
{
    return t.device().is_cpu() && t.scalar_type() == torch::kFloat && !torch::GradMode::is_enabled();
}

// x · Wᵀ + b. Pair activations are most of a ranking's arithmetic; on the CPU without autograd
// they go through oneDNN's sgemm (Gemm.h), about twice OpenBLAS's rate at these shapes on
// AVX-512 machines, with the bias as the product's starting value.
torch::Tensor affine(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b)
{
    const int64_t m = x.size(0), n = w.size(0), k = w.size(1);
    const int64_t lda = m > 1 ? x.stride(0) : k, ldb = n > 1 ? w.stride(0) : k;
    if (!direct(x) || !direct(w) || x.dim() != 2 || x.stride(1) != 1 || w.stride(1) != 1 || lda < k || ldb < k ||
        (b.defined() && !b.is_contiguous()))
        return b.defined() ? torch::addmm(b, x, w.t()) : torch::matmul(x, w.t());
    auto out = b.defined() ? b.expand({m, n}).contiguous() : torch::empty({m, n}, x.options());
    gemmOneDnn(false, true, m, n, k, x.data_ptr<float>(), lda, w.data_ptr<float>(), ldb, b.defined() ? 1.f : 0.f,
               out.data_ptr<float>(), n);
    return out;
}

} // namespace

PairPass::PairPass(const GraphData& d, const torch::Tensor& users, const torch::Tensor& items,
                   std::map<std::string, torch::Tensor>& cache, bool filling)
    : data(d), sliceUsers(users), allItems(items), s_(users.size(0)), items_(items.size(0)), cache_(cache),
      filling_(filling)
{
}

torch::Tensor PairPass::pairs(const PairValue& v) const
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

PairValue PairPass::combine(const PairValue& a, const PairValue& b,
                            const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& op) const
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

PairValue PairPass::linear(const PairValue& v, const torch::Tensor& weight, const torch::Tensor& bias,
                           const std::string& key)
{
    if (!v.parts.empty()) {
        // W [a; b] + c = (W_a a + c) + W_b b: the bias joins the first piece while it is still
        // per user or per item, before the pieces meet.
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
    if (v.g == Granularity::Pair && v.plain())
        return {Granularity::Pair, affine(v.t, weight, bias)};
    return withBias(product(v, weight, key), bias);
}

PairValue PairPass::product(const PairValue& v, const torch::Tensor& weight, const std::string& key)
{
    if (v.left.defined() && weight.size(0) <= 4) {
        // out_o = sum_j W_oj u_j v_j = (u * W_o) . v: one [s, w] x [w, I] product per output.
        std::vector<torch::Tensor> outs;
        for (int64_t o = 0; o < weight.size(0); ++o)
            outs.push_back(affine(v.left * weight[o], v.right, {}));
        return {Granularity::Pair, torch::stack(outs, 2).reshape({s_ * items_, weight.size(0)})};
    }
    if (v.g == Granularity::Item && v.plain())
        return {Granularity::Item, cached(key, [&] { return torch::matmul(v.t, weight.t()); })};
    if (v.g == Granularity::User && v.plain())
        return {Granularity::User, torch::matmul(v.t, weight.t())};
    return {Granularity::Pair, affine(v.plain() ? v.t : pairs(v), weight, {})};
}

bool PairPass::splitLinear(const PairValue& v, const torch::Tensor& weight, const torch::Tensor& bias,
                           const std::string& key, torch::Tensor& user, torch::Tensor& item)
{
    if (v.parts.empty())
        return false;
    for (const auto& part : v.parts)
        if (!part.plain() || part.g == Granularity::Pair)
            return false;
    int64_t offset = 0;
    for (size_t k = 0; k < v.parts.size(); ++k) {
        const int64_t w = width(v.parts[k]);
        auto piece = product(v.parts[k], weight.narrow(1, offset, w), key + "/" + std::to_string(k)).t;
        auto& side = v.parts[k].g == Granularity::User ? user : item;
        side = side.defined() ? side + piece : piece;
        offset += w;
    }
    const auto zeros = [&](int64_t rows) { return torch::zeros({rows, weight.size(0)}, weight.options()); };
    user = user.defined() ? user : zeros(s_);
    item = item.defined() ? item : zeros(items_);
    if (bias.defined())
        user = user + bias;
    user = user.contiguous();
    item = item.contiguous();
    return true;
}

torch::Tensor PairPass::pairTower(const PairValue& v, torch::nn::SequentialImpl& tower, const std::string& key)
{
    auto* first = tower.size() > 0 ? tower.ptr(0)->as<torch::nn::Linear>() : nullptr;
    if (!first || !direct(first->weight) || (v.plain() && v.g != Granularity::Pair))
        return {};
    // Rows enter either as the first layer's user and item parts, added per row, or as the
    // first layer's output over pairs already formed.
    torch::Tensor user, item, rows;
    if (!splitLinear(v, first->weight, first->bias, key, user, item)) {
        const auto x = linear(v, first->weight, first->bias, key);
        if (!x.plain() || x.g != Granularity::Pair)
            return {};
        rows = x.t.contiguous();
    }
    return pairTowerRows(user, item, rows, s_, items_, tower);
}

PairValue PairPass::withBias(PairValue v, const torch::Tensor& bias) const
{
    if (!bias.defined())
        return v;
    if (!v.plain())
        v = {Granularity::Pair, pairs(v)};
    v.t = v.t + bias;
    return v;
}

int64_t PairPass::width(const PairValue& v)
{
    if (!v.parts.empty()) {
        int64_t w = 0;
        for (const auto& p : v.parts)
            w += width(p);
        return w;
    }
    return v.left.defined() ? v.left.size(1) : v.t.size(1);
}

torch::Tensor PairPass::cached(const std::string& key, const std::function<torch::Tensor()>& compute)
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

bool PairPass::visit(GraphStep& s, const Inputs<PairValue>& in, PairValue& out)
{
    // Item-only values: computed in the first pass, reused by every slice.
    const std::string key = std::to_string(s.index);
    if (s.granularity == Granularity::Item) {
        if (const auto it = cache_.find(key); !filling_ && it != cache_.end()) {
            const auto words = cache_.find(key + "/words");
            out = {Granularity::Item, it->second, words == cache_.end() ? torch::Tensor() : words->second};
            return true;
        }
    }
    out = s.kernel->scoreAll(*this, s, in);
    if (filling_ && s.granularity == Granularity::Item && out.plain() && out.t.defined()) {
        cache_[key] = out.t;
        if (s.output && s.output->kind == ValueKind::WordVectors) // their word ids mask them downstream
            cache_[key + "/words"] = out.ids;
    }
    return true;
}

torch::Tensor GraphModelImpl::fullSortPredict(const torch::Tensor& users)
{
    if (analysis_.usesHistory)
        throw std::logic_error("this graph scores a behaviour history with a candidate; use predictBatch");
    const int64_t numItems = data_.numItems;
    const auto options = torch::TensorOptions().device(users.device());
    const auto allItems = torch::arange(numItems, options.dtype(torch::kLong));
    std::map<std::string, torch::Tensor> cache; // item-only values, filled by the first pass

    auto evaluate = [&](const torch::Tensor& sliceUsers, bool filling) {
        PairPass pass(data_, sliceUsers, allItems, cache, filling);
        walkSteps(steps_, pass);
        return pass.scores;
    };

    evaluate(users.narrow(0, 0, 0), true); // item-only values, once
    auto scores = torch::empty({users.size(0), numItems}, options.dtype(torch::kFloat));
    // Users in slices whose widest activation holds about 2M floats (32k pairs of a 64-wide
    // layer), so it stays in cache: a fixed pair count made a 256-wide tower's slices 33 MB, and
    // two threads streaming those were three times slower than one. Without autograd on the CPU
    // the slices run on the evaluation threads (util/Runtime.h says why not LibTorch's intra-op
    // pool).
    const int64_t widest = std::max<int64_t>(1, analysis_.widest);
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
    if (users.device().is_cpu() && !torch::GradMode::is_enabled()) {
        // Each thread takes the next slice as it finishes one: a core slowed by other work
        // (the desktop, a training run) then takes fewer, rather than holding back the rest.
        std::atomic<int64_t> next{0};
        const int threads = static_cast<int>(std::min<int64_t>(evaluationThreads(), slices));
        parallelRanges(threads, threads, [&](int64_t, int64_t) {
            const torch::NoGradGuard noGrad; // grad mode is per thread
            const SerialIntraOp serial;      // each slice's ops on its own thread
            for (int64_t k = next++; k < slices; k = next++)
                runSlices(k, k + 1);
        });
    } else {
        runSlices(0, slices);
    }
    return scores;
}

} // namespace reclab
