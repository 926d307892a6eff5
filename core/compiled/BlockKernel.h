// How a block kind runs, the LibTorch half of its definition (core/blocks/*.cpp): it compiles
// a block into modules, then takes part in the compiled graph's one walk over its steps in
// each of four passes, through one hook per pass:
//   forward    training and batch prediction: sequences packed to their real behaviours,
//              embedding lookups kept lazy (table, index) until something needs the rows;
//   scoreAll   every item for a slice of users (fullSortPredict): values per user, per item
//              or per pair, pairs formed only where the graph needs them;
//   scoreShared  many candidates against one user's history: values per candidate or per
//              behaviour, each behaviour's value computed once;
//   script     the TorchScript source of the evaluation forward (sequences padded and masked).
// Private to core/graph and core/blocks.
#pragma once

#include "util/Runtime.h"
#include "util/SerialIntraOp.h"

#include "graph/BlockDefinition.h"
#include "compiled/GraphModule.h"

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace reclab {

// Where a value varies when every item is scored for a slice of users.
enum class Granularity { User, Item, Pair };

class BlockKernel;

// What a kernel keeps for one compiled block (modules, settings read from its parameters).
struct StepState {
    virtual ~StepState() = default;
};

struct GraphModelImpl::Step {
    size_t index = 0; // position in the walk (dependency order)
    std::string id;
    std::string type;
    const BlockKernel* kernel = nullptr;
    nlohmann::json params;                // resolved by the analysis
    std::vector<size_t> inputs;           // the steps feeding each input port, in port order
    std::vector<ValueType> inputTypes;    // their types
    std::optional<ValueType> output;      // empty for the output block
    Granularity granularity = Granularity::Pair;
    std::unique_ptr<StepState> state;

    template <class T> T& as() const { return static_cast<T&>(*state); }
};
using GraphStep = GraphModelImpl::Step;

template <class V> using Inputs = std::vector<V*>;

// ---- compiling -------------------------------------------------------------------------

struct CompileContext {
    GraphModelImpl& model;
    const GraphData& data;
    std::string graphName;
    // Modules several blocks share (embedding tables), by name.
    std::map<std::string, std::shared_ptr<torch::nn::Module>> shared;
};

// ---- forward: training and batch prediction --------------------------------------------

struct BatchValue {
    torch::Tensor rows;         // [n, w]
    torch::Tensor table, index; // lazily: rows = table[index]
    bool weightTable = false;   // table is an embedding's weight: gathered as nn::Embedding does
    torch::Tensor ids;          // ids and category sets: [n] (sets: the items whose sets)
    bool sequence = false;      // packed: one row per real behaviour

    const torch::Tensor& materialise();
};

struct BatchPass {
    using Value = BatchValue;
    explicit BatchPass(const Batch& b, const GraphData& d) : batch(b), data(d) {}
    const Batch& batch;
    const GraphData& data;
    bool training = false;
    int64_t rows = 0;
    torch::Tensor flat, rowOf, behaviours, lengths; // the packed sequence
    torch::Tensor* penalty = nullptr;               // regularisers add here (when set)
    double l2 = 0;
    torch::Tensor* behaviourWeights = nullptr;      // [rows, L] of a weighing block (evaluation)
    bool fused = true;                              // blocks may train through fused kernels
    torch::Tensor result;
    torch::Tensor targets; // next-item training: the target of each row of result
    // Work a block leaves for the end of the pass (e.g. a penalty over all of a table's ids),
    // run in key order; tensors it gathers meanwhile, by key.
    std::map<std::string, std::function<void()>> atEnd;
    std::map<std::string, std::vector<torch::Tensor>> gathered;

    // The rows of v, repeated along the sequence when v is per row and the other side is packed.
    torch::Tensor rowsFor(BatchValue& v, bool sequence) const;
    // A packed sequence's rows [real behaviours, d] as right-padded sequences [rows, L, d]
    // (zeros after each row's length), and back.
    torch::Tensor padded(const torch::Tensor& packed) const;
    torch::Tensor packed(const torch::Tensor& padded) const;
    bool visit(GraphStep& s, const Inputs<BatchValue>& in, BatchValue& out);
};

// ---- scoreAll: every item for a slice of users -----------------------------------------

struct PairValue {
    PairValue() = default;
    PairValue(Granularity granularity, torch::Tensor values, torch::Tensor indices = {})
        : g(granularity), t(std::move(values)), ids(std::move(indices))
    {
    }
    Granularity g = Granularity::Item;
    torch::Tensor t;              // User [s, w], Item [I, w], Pair [s * I, w]
    torch::Tensor ids;            // ids and category sets
    std::vector<PairValue> parts; // a concatenation kept in pieces
    torch::Tensor left, right;    // an unformed product of a user [s, w] and an item [I, w] value

    bool plain() const { return parts.empty() && !left.defined(); }
};

class PairPass {
public:
    using Value = PairValue;
    PairPass(const GraphData& data, const torch::Tensor& users, const torch::Tensor& allItems,
             std::map<std::string, torch::Tensor>& cache, bool filling);

    const GraphData& data;
    const torch::Tensor& sliceUsers;
    const torch::Tensor& allItems;
    torch::Tensor scores;

    int64_t users() const { return s_; }
    int64_t items() const { return items_; }
    // The value as a [s * I, w] tensor.
    torch::Tensor pairs(const PairValue& v) const;
    // An element-wise op of two plain values, broadcasting users against items.
    PairValue combine(const PairValue& a, const PairValue& b, const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& op) const;
    // W v + b; key names the item-only results worth keeping across slices.
    PairValue linear(const PairValue& v, const torch::Tensor& weight, const torch::Tensor& bias, const std::string& key);
    PairValue product(const PairValue& v, const torch::Tensor& weight, const std::string& key);
    PairValue withBias(PairValue v, const torch::Tensor& bias) const;
    // An MLP tower (a linear layer first) over v's pairs on the CPU without autograd, in blocks
    // of rows that stay in cache (PairTower.h); undefined where that does not apply.
    torch::Tensor pairTower(const PairValue& v, torch::nn::SequentialImpl& tower, const std::string& key);
    static int64_t width(const PairValue& v);
    torch::Tensor cached(const std::string& key, const std::function<torch::Tensor()>& compute);
    bool visit(GraphStep& s, const Inputs<PairValue>& in, PairValue& out);

private:
    bool splitLinear(const PairValue& v, const torch::Tensor& weight, const torch::Tensor& bias, const std::string& key,
                     torch::Tensor& user, torch::Tensor& item);
    int64_t s_, items_;
    std::map<std::string, torch::Tensor>& cache_;
    bool filling_;
};

// ---- scoreShared: candidates against one user's history ----------------------------------

struct SharedValue {
    torch::Tensor t;   // [n, w] per candidate, [L, w] per behaviour
    torch::Tensor ids; // ids and category sets
};

// Planning, at compile time: does each value run along the behaviours, does it depend on the
// user or on the history as a whole (a pool)?
struct HistoryFlags {
    bool sequence = false, user = false, history = false;
};
struct HistoryPlan {
    using Value = HistoryFlags;
    bool ok = false;          // the pass can evaluate the graph
    int weighing = 0;         // blocks weighing behaviours
    int64_t tableStep = -1;   // a weighing block that reads only the two items (its weights can be tabulated)
    bool visit(GraphStep& s, const Inputs<HistoryFlags>& in, HistoryFlags& out);
};

struct SharedPass {
    using Value = SharedValue;
    explicit SharedPass(const GraphData& d) : data(d) {}
    const GraphData& data;
    int64_t user = 0;
    torch::Tensor history, candidates;
    int64_t n = 0, length = 0;
    int64_t tableStep = -1;
    torch::Tensor table;              // [behaviour item, candidate item] weights of the table step
    torch::Tensor* weights = nullptr; // [n, L] weights of the weighing block
    // Collecting the table step's inputs instead of scoring (keys [L, w], query [n, w]).
    bool collect = false;
    bool stopped = false;
    torch::Tensor keys, query;
    std::vector<SequenceMap>* maps = nullptr; // blocks attending within the sequence record here
    torch::Tensor result;
    bool visit(GraphStep& s, const Inputs<SharedValue>& in, SharedValue& out);
};

// ---- script: TorchScript source -----------------------------------------------------------

struct ScriptValue {
    std::string name;
    bool sequence = false;
    std::string words = {}; // words and word vectors: the expression of their word ids [batch, T] (0: padding)
};

// A sequence as a block that reads it whole sees it in TorchScript: right-padded x [n, L, d] and
// the names of n, L, the lengths [n] and the device (a behaviour history, or texts' words).
struct PaddedScript {
    std::string x, batch, width, lengths, device;
};

class ScriptPass {
public:
    using Value = ScriptValue;
    ScriptPass(GraphModelImpl& model);
    GraphModelImpl& model;
    const GraphData& data;

    // The TorchScript name of a parameter or buffer of the model.
    std::string self(const torch::Tensor& t) const;
    void line(const std::string& text) { code_ << "    " << text << '\n'; }
    // The step's own variable, and "v = expr" for it.
    static std::string var(const GraphStep& s) { return "v" + std::to_string(s.index); }
    ScriptValue assign(const GraphStep& s, const std::string& expr);
    // x as a row per behaviour when needed (x per row, the other side a sequence).
    static std::string rows(const ScriptValue& x, bool sequence);
    std::string linear(const std::string& x, torch::nn::LinearImpl& l) const;
    // One layer of a tower, an activation or a normalisation, applied to x (evaluation: dropout is identity).
    std::string layer(const std::string& x, torch::nn::Module& m) const;
    // The input of step s as padded sequences (a word input's lengths get a line of their own).
    PaddedScript padded(const GraphStep& s, const ScriptValue& in);
    bool visit(GraphStep& s, const Inputs<ScriptValue>& in, ScriptValue& out);
    std::string code() const { return code_.str(); }

private:
    std::map<const void*, std::string> names_;
    std::ostringstream code_;
};

// ---- the kernel -------------------------------------------------------------------------

class BlockKernel {
public:
    virtual ~BlockKernel() = default;
    // Builds the block's modules (registered on c.model under the block's id) and state.
    virtual void compile(CompileContext& c, GraphStep& s) const;
    // Default: per user or per item when all inputs are, else per pair.
    virtual Granularity granularity(const GraphStep& s, const std::vector<Granularity>& in) const;
    virtual BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const = 0;
    // Default: the block does not take part in all-item scoring (throws std::logic_error).
    virtual PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const;
    // Default: behaviours meet only behaviours; a candidate or user value meets them only in a pool.
    virtual HistoryFlags planHistory(HistoryPlan& p, const GraphStep& s, const Inputs<HistoryFlags>& in) const;
    virtual SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const = 0;
    virtual ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const = 0;
    // Blocks weighing behaviours: the weights [n, L] of behaviours keys [L, w] for candidates query [n, w].
    virtual torch::Tensor behaviourWeights(GraphStep& s, const torch::Tensor& keys, const torch::Tensor& query) const;
    // Whether the block's training forward and backward spread over RecLab's own threads
    // (evaluationThreads()), so that LibTorch's ops around it should run on one.
    virtual bool spreadsTraining(const GraphStep&) const { return false; }
};

// A block that maps each row (or behaviour) to a row through one module (activations,
// normalisations, dropout): every pass applies the module row by row.
class RowwiseKernel : public BlockKernel {
public:
    struct State : StepState {
        torch::nn::AnyModule module;
    };
    void compile(CompileContext& c, GraphStep& s) const override;
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override;
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override;
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override;
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override;

protected:
    // The module for a step with an input of this width.
    virtual torch::nn::AnyModule makeModule(const GraphStep& s, int64_t width) const = 0;
};

// A block that reads a whole sequence at once (a recurrent network, a convolution): every pass
// gives it right-padded sequences x [rows, L, d] and their lengths, and it returns a state per
// entry [rows, L, w] (everyEntry) or one per row [rows, w]. Shared scoring runs the one history
// as a batch of one. Texts' word vectors (already padded, per item or per user) take the same
// path in every pass, all-item scoring included; a state per word stays word vectors.
class PaddedSequenceKernel : public BlockKernel {
public:
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override;
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override;
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep& s, const Inputs<HistoryFlags>& in) const override;
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override;

protected:
    virtual bool everyEntry(const GraphStep& s) const = 0;
    virtual torch::Tensor run(const GraphStep& s, const torch::Tensor& x, const torch::Tensor& lengths) const = 0;
};

class KernelRegistry {
public:
    void add(const std::string& type, std::unique_ptr<BlockKernel> kernel);
    const BlockKernel* find(const std::string& type) const;

private:
    std::map<std::string, std::unique_ptr<BlockKernel>> kernels_;
};

// Every block family's kernels (core/blocks/BlockFamilies.def), registered once.
const KernelRegistry& kernelRegistry();

// The one walk: each step in dependency order, its inputs' values to the pass's hook for it.
// A pass may stop the walk early (visit returns false).
template <class Pass>
std::vector<typename Pass::Value> walkSteps(const std::vector<std::shared_ptr<GraphStep>>& steps, Pass& pass)
{
    std::vector<typename Pass::Value> values(steps.size());
    Inputs<typename Pass::Value> in;
    for (const auto& step : steps) {
        in.clear();
        for (const size_t i : step->inputs)
            in.push_back(&values[i]);
        if (!pass.visit(*step, in, values[step->index]))
            break;
    }
    return values;
}

// ---- helpers for kernels ------------------------------------------------------------------

// Whether step s reads texts' word vectors (not a behaviour sequence).
inline bool readsWords(const GraphStep& s)
{
    return !s.inputTypes.empty() && s.inputTypes[0].kind == ValueKind::WordVectors;
}
// The number of real words of each text, word ids [n, T] (0: padding): [n].
inline torch::Tensor wordLengths(const torch::Tensor& words) { return (words > 0).sum(1); }

// One user's behaviours [L, w] seen as a batch of one: its length, [1], on x's device.
inline torch::Tensor lengthOfOne(const torch::Tensor& x)
{
    return torch::full({1}, x.size(0), x.options().dtype(torch::kLong));
}

// A layer for an activation name ("none": empty).
torch::nn::AnyModule activationModule(const std::string& name, int64_t channels);
// Linear + activation (+ dropout) per size; without the first Linear when firstLinear is false.
torch::nn::Sequential tower(int64_t in, const nlohmann::json& sizes, const std::string& activation, double dropout,
                            bool firstLinear = true);

} // namespace reclab
