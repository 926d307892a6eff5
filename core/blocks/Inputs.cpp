// Inputs: the ids of a row (user, candidate item), its behaviour sequence, the items'
// categories, and numeric side features. They read the batch and fix where each value varies
// (per user, per item, per pair) for all-item scoring.
#include "blocks/BlockHalves.h"
#include "data/ProfileFields.h"


namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

const std::vector<std::string>& denseFeatureNames()
{
    static const std::vector<std::string> names = {"user_age", "user_gender", "item_year"};
    return names;
}

BlockDefinition input(const char* type, const char* name, const char* summary, const char* formula, ValueKind kind,
                      const char* vocab, bool sequence)
{
    BlockDefinition d;
    d.spec = {type, name, "Inputs", summary, formula, {}, {out(name, kind)}, {}};
    d.traits.readsHistory = sequence;
    const std::string vocabulary = vocab;
    d.shape = [kind, vocabulary, sequence](ShapeContext& c) -> std::optional<ValueType> {
        if (kind == ValueKind::Bag && c.sizes.numItems > 0 && c.sizes.numGenres == 0)
            return c.fail("", "the dataset has no item categories");
        return ValueType{kind, vocabulary, sequence, 0};
    };
    return d;
}

// A categorical profile field of the row's user or candidate item, as codes an Embedding looks up.
BlockDefinition profileInput(bool user)
{
    BlockDefinition d;
    const char* type = user ? "user_profile" : "item_field";
    d.spec = {type,
              user ? "User profile field" : "Item field",
              "Inputs",
              user ? "A categorical field of the row's user, as a code per value (0 = unknown): gender, age group "
                     "(under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+), occupation, or postal region (the first "
                     "digit of the postal code). Put an Embedding after it."
                   : "A categorical field of the candidate item, as a code per value (0 = unknown): its release year "
                     "or decade. Put an Embedding after it (categories: the Item category block).",
              user ? "f(u) ∈ {0 … V_f−1}, shape B" : "f(i) ∈ {0 … V_f−1}, shape B",
              {},
              {out("codes", ValueKind::Ids)},
              {}};
    std::vector<std::string> names;
    for (int k = user ? 0 : kUserProfileFields; k < (user ? kUserProfileFields : kProfileFieldCount); ++k)
        names.emplace_back(profileFieldName(static_cast<ProfileField>(k)));
    d.spec.params.push_back(choiceParam("field", "Field", names.front().c_str(), names, "Which field"));
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        const std::string name = c.params["field"].get<std::string>();
        const auto field = profileFieldNamed(name);
        if (!field)
            return c.fail("", "no field '" + name + "'");
        if (c.sizes.fieldSizes[static_cast<size_t>(*field)] == 1)
            return c.fail("", "the dataset has none of " + profileFieldNoun(*field));
        return ValueType{ValueKind::Ids, "field." + name, false, 0};
    };
    return d;
}

} // namespace

void defineInputsBlocks(BlockRegistry& r)
{
    r.add(profileInput(true));
    r.add(profileInput(false));
    using K = ValueKind;
    r.add(input("user_id", "User id", "The user of each row, as an index into the users.", "u ∈ {0 … U−1}, shape B",
                K::Ids, "user", false));
    r.add(input("item_id", "Item id", "The candidate item of each row, as an index into the items.",
                "i ∈ {0 … I−1}, shape B", K::Ids, "item", false));
    r.add(input("history", "Behaviour sequence",
                "The items the user interacted with before this row, oldest first, with a mask of the real "
                "entries (shorter histories are padded).",
                "(i₁ … i_L) with mask m ∈ {0,1}^L, shape B×L", K::Ids, "item", true));
    r.add(input("item_category", "Item category", "The categories (genres) of the candidate item, as a set.",
                "G(i) ⊆ {0 … C−1}, shape B", K::Bag, "category", false));
    r.add(input("history_category", "Category sequence",
                "The categories of each behaviour in the sequence, with the sequence's mask.",
                "(G(i₁) … G(i_L)), shape B×L", K::Bag, "category", true));
    BlockDefinition dense = input("dense_features", "Dense features",
                                  "Numeric side features of the row, scaled to about [0, 1]: the user's age / 100, "
                                  "gender (1 = female) and the item's year − 1900 over 100. Unknown values are 0.",
                                  "x ∈ ℝ^F, shape B×F", K::Float, "", false);
    dense.spec.params.push_back({"features", "Features", ParamKind::TextList, denseFeatureNames(), 0, 0,
                                 denseFeatureNames(), "Which features, in order"});
    dense.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        return ValueType{ValueKind::Float, "", false, static_cast<int64_t>(c.params["features"].size())};
    };
    r.add(std::move(dense));
}

#else // the LibTorch half

namespace {

enum class Source { User, Item, History };

// The ids of a row's user, its candidate item (or that item's category set), or its behaviours.
class IdsKernel : public BlockKernel {
public:
    explicit IdsKernel(Source source) : source_(source) {}

    Granularity granularity(const GraphStep& s, const std::vector<Granularity>& in) const override
    {
        return source_ == Source::User   ? Granularity::User
               : source_ == Source::Item ? Granularity::Item
                                         : BlockKernel::granularity(s, in);
    }
    BatchValue forward(BatchPass& p, GraphStep&, const Inputs<BatchValue>&) const override
    {
        BatchValue out;
        out.ids = source_ == Source::User ? p.batch.users : source_ == Source::Item ? p.batch.items : p.behaviours;
        out.sequence = source_ == Source::History;
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        if (source_ == Source::History)
            return BlockKernel::scoreAll(p, s, in);
        return source_ == Source::User ? PairValue{Granularity::User, {}, p.sliceUsers}
                                       : PairValue{Granularity::Item, {}, p.allItems};
    }
    HistoryFlags planHistory(HistoryPlan&, const GraphStep&, const Inputs<HistoryFlags>&) const override
    {
        HistoryFlags out;
        out.user = source_ == Source::User;
        out.sequence = source_ == Source::History;
        return out;
    }
    SharedValue scoreShared(SharedPass& p, GraphStep&, const Inputs<SharedValue>&) const override
    {
        SharedValue out;
        out.ids = source_ == Source::User   ? torch::full({p.n}, p.user, p.candidates.options())
                  : source_ == Source::Item ? p.candidates
                                            : p.history;
        return out;
    }
    ScriptValue script(ScriptPass&, GraphStep&, const Inputs<ScriptValue>&) const override
    {
        return {source_ == Source::User ? "users" : source_ == Source::Item ? "items" : "behaviours",
                source_ == Source::History};
    }

private:
    Source source_;
};

// Side features: column k of the row is user feature 0 (age) or 1 (gender), or item feature 0 (year).
class DenseKernel : public BlockKernel {
    struct State : StepState {
        std::vector<int> columns; // 0, 1: user features; 2: the item's year
    };

public:
    void compile(CompileContext&, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        for (const auto& f : s.params["features"]) {
            const auto name = f.get<std::string>();
            state->columns.push_back(name == "user_age" ? 0 : name == "user_gender" ? 1 : 2);
        }
        s.state = std::move(state);
    }
    Granularity granularity(const GraphStep& s, const std::vector<Granularity>&) const override
    {
        bool user = false, item = false;
        for (const int c : s.as<State>().columns)
            (c < 2 ? user : item) = true;
        return user && item ? Granularity::Pair : user ? Granularity::User : Granularity::Item;
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>&) const override
    {
        std::vector<torch::Tensor> columns;
        for (const int c : s.as<State>().columns)
            columns.push_back(c < 2 ? p.data.userFeatures.select(1, c).index_select(0, p.batch.users)
                                    : p.data.itemFeatures.select(1, 0).index_select(0, p.batch.items));
        BatchValue out;
        out.rows = torch::stack(columns, 1);
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>&) const override
    {
        std::vector<torch::Tensor> columns;
        for (const int c : s.as<State>().columns) {
            PairValue col = c < 2 ? PairValue{Granularity::User,
                                              p.data.userFeatures.select(1, c).index_select(0, p.sliceUsers).unsqueeze(1)}
                                  : PairValue{Granularity::Item, p.data.itemFeatures};
            columns.push_back(s.granularity == Granularity::Pair ? p.pairs(col) : col.t);
        }
        return {s.granularity, torch::cat(columns, 1)};
    }
    HistoryFlags planHistory(HistoryPlan&, const GraphStep& s, const Inputs<HistoryFlags>&) const override
    {
        HistoryFlags out;
        for (const int c : s.as<State>().columns)
            out.user = out.user || c < 2;
        return out;
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>&) const override
    {
        std::vector<torch::Tensor> columns;
        for (const int c : s.as<State>().columns)
            columns.push_back(c < 2 ? p.data.userFeatures.select(1, c).narrow(0, p.user, 1).expand({p.n})
                                    : p.data.itemFeatures.select(1, 0).index_select(0, p.candidates));
        return {torch::stack(columns, 1), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>&) const override
    {
        std::string cols;
        for (const int c : s.as<State>().columns)
            cols += (cols.empty() ? "" : ", ") +
                    (c < 2 ? p.self(p.data.userFeatures) + ".select(1, " + std::to_string(c) + ").index_select(0, users)"
                           : p.self(p.data.itemFeatures) + ".select(1, 0).index_select(0, items)");
        return p.assign(s, "torch.stack([" + cols + "], 1)");
    }
};

// The codes of one profile field for the row's user or item (GraphData::userFields / itemFields).
class FieldKernel : public BlockKernel {
    struct State : StepState {
        bool user = true;
        int64_t column = 0;
        torch::Tensor codes(const GraphData& d) const { return (user ? d.userFields : d.itemFields).select(1, column); }
    };

public:
    void compile(CompileContext&, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        const auto field = static_cast<int64_t>(*profileFieldNamed(s.params["field"].get<std::string>()));
        state->user = field < kUserProfileFields;
        state->column = state->user ? field : field - kUserProfileFields;
        s.state = std::move(state);
    }
    Granularity granularity(const GraphStep& s, const std::vector<Granularity>&) const override
    {
        return s.as<State>().user ? Granularity::User : Granularity::Item;
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>&) const override
    {
        const State& st = s.as<State>();
        BatchValue out;
        out.ids = st.codes(p.data).index_select(0, st.user ? p.batch.users : p.batch.items);
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>&) const override
    {
        const State& st = s.as<State>();
        return st.user ? PairValue{Granularity::User, {}, st.codes(p.data).index_select(0, p.sliceUsers)}
                       : PairValue{Granularity::Item, {}, st.codes(p.data)};
    }
    HistoryFlags planHistory(HistoryPlan&, const GraphStep& s, const Inputs<HistoryFlags>&) const override
    {
        HistoryFlags out;
        out.user = s.as<State>().user;
        return out;
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>&) const override
    {
        const State& st = s.as<State>();
        SharedValue out;
        out.ids = st.user ? st.codes(p.data).narrow(0, p.user, 1).expand({p.n}).contiguous()
                          : st.codes(p.data).index_select(0, p.candidates);
        return out;
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>&) const override
    {
        const State& st = s.as<State>();
        return p.assign(s, p.self(st.user ? p.data.userFields : p.data.itemFields) + ".select(1, " +
                               std::to_string(st.column) + ").index_select(0, " + (st.user ? "users" : "items") + ")");
    }
};

} // namespace

void addInputsKernels(KernelRegistry& r)
{
    r.add("user_profile", std::make_unique<FieldKernel>());
    r.add("item_field", std::make_unique<FieldKernel>());
    r.add("user_id", std::make_unique<IdsKernel>(Source::User));
    r.add("item_id", std::make_unique<IdsKernel>(Source::Item));
    r.add("item_category", std::make_unique<IdsKernel>(Source::Item));
    r.add("history", std::make_unique<IdsKernel>(Source::History));
    r.add("history_category", std::make_unique<IdsKernel>(Source::History));
    r.add("dense_features", std::make_unique<DenseKernel>());
}

#endif

} // namespace reclab
