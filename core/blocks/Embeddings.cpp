// Embeddings: a learned vector per id (or the mean over a category set), tables shared by
// name, with the batch and mini-batch-aware L2 regularisers of DIN (Zhou et al. 2018).
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include "data/ProfileFields.h"
#include "util/Error.h"
#include <torch/nn/modules/embedding.h>
#include <torch/utils.h>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineEmbeddingsBlocks(BlockRegistry& r)
{
    BlockDefinition d;
    d.spec = {"embedding", "Embedding", "Embeddings",
              "Looks up a learned vector for every id; for a set of ids (categories), the mean of their vectors. "
              "Blocks naming the same table share one set of weights.",
              "e = W[id],  W ∈ ℝ^{V×d};  for a set S: e = (1/|S|) Σ_{j∈S} W[j]",
              {{"ids", "ids", {ValueKind::Ids, ValueKind::Bag}}},
              {out("vectors", ValueKind::Float)},
              {intParam("dim", "Dimension", 16, 1, 65536, "d, the length of each vector"),
               {"table", "Shared table", ParamKind::Name, "", 0, 0, {},
                "Blocks with the same table name share their weights (empty: a table of its own)"},
               realParam("init_std", "Initial std", 0.01, 0, 10, "Weights start as N(0, std²); 0 starts at zero"),
               choiceParam("regularizer", "Regulariser", "none", {"none", "batch", "mini_batch_aware"},
                           "batch: l2 · mean over the batch of ‖e‖²; mini_batch_aware: l2/2 · Σ over the batch's "
                           "distinct ids of ‖W[j]‖²/n_j (Zhou et al. 2018)"),
               realParam("l2_scale", "L2 scale", 1.0, 0, 1000, "Multiplies the run's l2 for this table")}};
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        const ValueType& ids = c.in[0];
        if (ids.kind == ValueKind::Float)
            return c.fail("ids", "expects ids or category sets, got " + ids.text());
        const ValueType out{ValueKind::Float, "", ids.sequence, c.params["dim"].get<int64_t>()};
        const std::string table = c.params["table"].get<std::string>();
        if (const BlockAnalysis* first = table.empty() ? nullptr : c.tableOwner(table)) {
            // Weights are counted at the first block of a shared table.
            for (const char* key : {"dim", "init_std", "regularizer", "l2_scale"})
                if (first->params[key] != c.params[key])
                    return c.fail("", "shares table '" + table + "' with block '" + first->id + "' but its " + key +
                                          " differs");
            if (!first->output || first->params["ids_vocab"] != ids.vocab)
                return c.fail("ids", "shares table '" + table + "' with block '" + first->id +
                                         "', which looks up other ids");
            c.params["ids_vocab"] = ids.vocab;
            return out;
        }
        c.params["ids_vocab"] = ids.vocab;
        c.itemVectors = ids.vocab == "item";
        const int64_t vocab = c.vocabularySize(ids.vocab);
        const int64_t dim = out.width;
        if (vocab > 0) {
            if (double(vocab) * double(dim) > double(1ll << 40))
                return c.fail("", "a " + formatCount(vocab) + " × " + formatCount(dim) + " table is far too large");
            c.parameters = vocab * dim;
        }
        return out;
    };
    r.add(std::move(d));
}

#else // the LibTorch half

namespace {

class EmbeddingKernel : public BlockKernel {
    struct State : StepState {
        torch::nn::Embedding table{nullptr};
        std::string name;
        bool bag = false; // category sets: the mean of their rows (through the genre mix)
        std::string regularizer;
        double l2Scale = 1.0;
        // The table's rows as this block reads them (sets: one mixed row per item).
        torch::Tensor rows(const GraphData& d) const { return bag ? d.genreMix.matmul(table->weight) : table->weight; }
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        const auto& p = s.params;
        auto state = std::make_unique<State>();
        const auto vocab = p["ids_vocab"].get<std::string>();
        state->bag = vocab == "category";
        state->name = p["table"].get<std::string>().empty() ? s.id : p["table"].get<std::string>();
        state->regularizer = p["regularizer"].get<std::string>();
        state->l2Scale = p["l2_scale"].get<double>();
        if (state->regularizer == "mini_batch_aware" && vocab != "item")
            throw GraphError(c.graphName, "nodes." + s.id, "mini-batch aware regularisation applies to item tables");
        auto& shared = c.shared[state->name];
        if (!shared) {
            torch::NoGradGuard noGrad;
            const auto field = vocab.rfind("field.", 0) == 0 ? profileFieldNamed(vocab.substr(6)) : std::nullopt;
            const int64_t rows = vocab == "user"   ? c.data.numUsers
                                 : vocab == "item" ? c.data.numItems
                                 : field           ? c.data.fieldSizes[static_cast<size_t>(*field)]
                                                   : c.data.numGenres;
            auto table = c.model.register_module(state->name, torch::nn::Embedding(rows, p["dim"].get<int64_t>()));
            const double std = p["init_std"].get<double>();
            if (std > 0)
                table->weight.normal_(0.0, std);
            else
                table->weight.zero_();
            shared = table;
        }
        state->table = torch::nn::Embedding(std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(shared));
        s.state = std::move(state);
    }

    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        const State& st = s.as<State>();
        const BatchValue& ids = *in[0];
        BatchValue out;
        out.sequence = ids.sequence;
        out.index = ids.ids;
        out.weightTable = !st.bag;
        out.table = st.rows(p.data);
        if (p.penalty && st.regularizer == "batch")
            *p.penalty = *p.penalty + (p.l2 * st.l2Scale / static_cast<double>(p.rows)) * out.materialise().pow(2).sum();
        else if (p.penalty && st.regularizer == "mini_batch_aware")
            awarePenalty(p, st, ids.ids);
        return out;
    }

    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        return {in[0]->g, s.as<State>().rows(p.data).index_select(0, in[0]->ids)};
    }

    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const State& st = s.as<State>();
        return {st.bag ? p.data.genreMix.index_select(0, in[0]->ids).matmul(st.table->weight)
                       : torch::embedding(st.table->weight, in[0]->ids),
                {}};
    }

    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const State& st = s.as<State>();
        const std::string table = st.bag ? "torch.matmul(" + p.self(p.data.genreMix) + ", " + p.self(st.table->weight) + ")"
                                         : p.self(st.table->weight);
        return p.assign(s, table + ".index_select(0, " + in[0]->name + ")");
    }

private:
    // l2 / 2 * sum over the batch's distinct items of ||w_j||^2 / n_j (Zhou et al. 2018, 4.3),
    // once per table at the end of the pass; histories' padding index hits the zero count of
    // the padding slot.
    static void awarePenalty(BatchPass& p, const State& st, const torch::Tensor& ids)
    {
        auto& gathered = p.gathered[st.name];
        gathered.push_back(ids);
        if (p.atEnd.count(st.name))
            return;
        p.atEnd[st.name] = [&p, &st, &gathered] {
            auto inBatch = torch::zeros({p.data.numItems + 1}, p.data.inverseCounts.options());
            if (p.batch.items.defined())
                inBatch.index_fill_(0, p.batch.items, 1.f);
            for (const auto& list : gathered)
                inBatch.index_fill_(0, list, 1.f);
            if (p.batch.history.defined())
                inBatch.index_fill_(0, p.batch.history.reshape({-1}), 1.f);
            const auto weight = (inBatch * p.data.inverseCounts).narrow(0, 0, p.data.numItems);
            *p.penalty = *p.penalty + 0.5 * p.l2 * st.l2Scale * (weight * st.table->weight.pow(2).sum(1)).sum();
        };
    }
};

} // namespace

void addEmbeddingsKernels(KernelRegistry& r) { r.add("embedding", std::make_unique<EmbeddingKernel>()); }

#endif

} // namespace reclab
