#include "compiled/BlockKernel.h"

#include "models/Dice.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/types.h>

#include <ATen/Parallel.h>

#include <stdexcept>


namespace reclab {

#define RECLAB_BLOCK_FAMILY(family) void add##family##Kernels(KernelRegistry& registry);
#include "blocks/BlockFamilies.def"
#undef RECLAB_BLOCK_FAMILY

void KernelRegistry::add(const std::string& type, std::unique_ptr<BlockKernel> kernel)
{
    if (!kernels_.emplace(type, std::move(kernel)).second)
        throw std::logic_error("block type '" + type + "' has two kernels");
}

const BlockKernel* KernelRegistry::find(const std::string& type) const
{
    const auto it = kernels_.find(type);
    return it == kernels_.end() ? nullptr : it->second.get();
}

namespace {

void addEveryKernel(KernelRegistry& r)
{
#define RECLAB_BLOCK_FAMILY(family) add##family##Kernels(r);
#include "blocks/BlockFamilies.def"
#undef RECLAB_BLOCK_FAMILY
}

} // namespace

const KernelRegistry& kernelRegistry()
{
    static const KernelRegistry registry = [] {
        KernelRegistry r;
        addEveryKernel(r);
        // A block defined without a LibTorch half is a mistake in the build, found at start-up.
        for (const auto& definition : blockRegistry().all())
            if (!r.find(definition.spec.type))
                throw std::logic_error("block type '" + definition.spec.type + "' has no kernel");
        return r;
    }();
    return registry;
}

// ---- the kernel's defaults --------------------------------------------------------------

void BlockKernel::compile(CompileContext&, GraphStep&) const {}

Granularity BlockKernel::granularity(const GraphStep&, const std::vector<Granularity>& in) const
{
    bool user = false, item = false, pair = in.empty();
    for (const auto g : in) {
        user = user || g == Granularity::User;
        item = item || g == Granularity::Item;
        pair = pair || g == Granularity::Pair;
    }
    return pair || (user && item) ? Granularity::Pair : user ? Granularity::User : Granularity::Item;
}

PairValue BlockKernel::scoreAll(PairPass&, GraphStep&, const Inputs<PairValue>&) const
{
    throw std::logic_error("scoring all items does not apply to sequence blocks");
}

HistoryFlags BlockKernel::planHistory(HistoryPlan& p, const GraphStep&, const Inputs<HistoryFlags>& in) const
{
    HistoryFlags out;
    if (in.empty())
        return out;
    out.sequence = in[0]->sequence;
    for (const HistoryFlags* f : in) {
        p.ok = p.ok && f->sequence == out.sequence;
        out.user = out.user || f->user;
        out.history = out.history || f->history;
    }
    return out;
}

torch::Tensor BlockKernel::behaviourWeights(GraphStep& s, const torch::Tensor&, const torch::Tensor&) const
{
    throw std::logic_error("block '" + s.id + "' does not weigh behaviours");
}

// ---- row-wise blocks ----------------------------------------------------------------------

BatchValue PaddedSequenceKernel::forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const
{
    BatchValue out;
    if (readsWords(s)) {
        out.rows = run(s, in[0]->materialise(), wordLengths(in[0]->ids));
        if (everyEntry(s))
            out.ids = in[0]->ids;
        return out;
    }
    const auto y = run(s, p.padded(in[0]->materialise()), p.lengths);
    out.sequence = everyEntry(s);
    out.rows = out.sequence ? p.packed(y) : y;
    return out;
}

PairValue PaddedSequenceKernel::scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const
{
    if (!readsWords(s))
        return BlockKernel::scoreAll(p, s, in);
    // Texts per user or per item: every item's once (the pass keeps item values for all slices).
    PairValue out{in[0]->g, run(s, in[0]->t, wordLengths(in[0]->ids))};
    if (everyEntry(s))
        out.ids = in[0]->ids;
    return out;
}

HistoryFlags PaddedSequenceKernel::planHistory(HistoryPlan& p, const GraphStep& s, const Inputs<HistoryFlags>& in) const
{
    if (readsWords(s))
        return BlockKernel::planHistory(p, s, in);
    p.ok = p.ok && in[0]->sequence;
    return {everyEntry(s), in[0]->user, true};
}

SharedValue PaddedSequenceKernel::scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const
{
    if (readsWords(s))
        return {run(s, in[0]->t, wordLengths(in[0]->ids)), everyEntry(s) ? in[0]->ids : torch::Tensor()};
    const auto& x = in[0]->t; // [L, d], one user's behaviours
    const auto y = run(s, x.unsqueeze(0), lengthOfOne(x));
    return {everyEntry(s) ? y.squeeze(0) : y.expand({p.n, y.size(1)}), {}};
}

void RowwiseKernel::compile(CompileContext& c, GraphStep& s) const
{
    auto state = std::make_unique<State>();
    state->module = makeModule(s, s.inputTypes.empty() ? 0 : s.inputTypes[0].width);
    // Registered so that train() and eval() reach it (dropout, batch statistics).
    c.model.register_module(s.id, state->module.ptr());
    s.state = std::move(state);
}

BatchValue RowwiseKernel::forward(BatchPass&, GraphStep& s, const Inputs<BatchValue>& in) const
{
    BatchValue out;
    out.sequence = in[0]->sequence;
    out.rows = s.as<State>().module.forward(in[0]->materialise());
    return out;
}

PairValue RowwiseKernel::scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const
{
    const PairValue& x = *in[0];
    return {x.plain() ? x.g : Granularity::Pair, s.as<State>().module.forward(x.plain() ? x.t : p.pairs(x))};
}

SharedValue RowwiseKernel::scoreShared(SharedPass&, GraphStep& s, const Inputs<SharedValue>& in) const
{
    return {s.as<State>().module.forward(in[0]->t), {}};
}

ScriptValue RowwiseKernel::script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const
{
    return p.assign(s, p.layer(in[0]->name, *s.as<State>().module.ptr()));
}

// ---- helpers ------------------------------------------------------------------------------

torch::nn::AnyModule activationModule(const std::string& name, int64_t channels)
{
    if (name == "relu")
        return torch::nn::AnyModule(torch::nn::ReLU());
    if (name == "sigmoid")
        return torch::nn::AnyModule(torch::nn::Sigmoid());
    if (name == "tanh")
        return torch::nn::AnyModule(torch::nn::Tanh());
    if (name == "prelu")
        return torch::nn::AnyModule(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(channels)));
    if (name == "dice")
        return torch::nn::AnyModule(Dice(channels));
    return {};
}

torch::nn::Sequential tower(int64_t in, const nlohmann::json& sizes, const std::string& activation, double dropout,
                            bool firstLinear)
{
    torch::nn::Sequential seq;
    int64_t width = in;
    bool first = true;
    for (const auto& size : sizes) {
        const int64_t units = size.get<int64_t>();
        if (!first || firstLinear)
            seq->push_back(torch::nn::Linear(width, units));
        first = false;
        if (auto act = activationModule(activation, units); !act.is_empty())
            seq->push_back(std::move(act));
        if (dropout > 0)
            seq->push_back(torch::nn::Dropout(dropout));
        width = units;
    }
    return seq;
}

} // namespace reclab
