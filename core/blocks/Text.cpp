// Text: the words of an item (title, genres, tags), the reviews written about it and the reviews
// its user wrote, as word ids per row with their padding (GraphText.h builds them from the
// training part only), and the word embedding that turns them into vectors: learned from
// scratch, or started from word vectors loaded or trained for the run, fine-tuned or frozen.
// The encoders over the word vectors are the sequence blocks: pooling (mean, max, attention),
// the 1-D convolution (a text CNN) and the recurrent block (a text GRU or LSTM).
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include "util/Error.h"
#else
#include "text/ItemText.h"
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

BlockDefinition words(const char* type, const char* name, const char* summary, const char* formula, TextSource source,
                      int64_t maxWords)
{
    BlockDefinition d;
    d.spec = {type,
              name,
              "Text",
              summary,
              formula,
              {},
              {out("words", ValueKind::Words)},
              {intParam("max_words", "Words kept", maxWords, 1, 100000,
                        "T: the first this many words of each text (shorter texts are padded)")}};
    d.traits.readsText = source;
    d.shape = [source](ShapeContext& c) -> std::optional<ValueType> {
        const unsigned itemFields =
            fieldBit(TextField::Title) | fieldBit(TextField::Genres) | fieldBit(TextField::Tags) | fieldBit(TextField::Year);
        if (c.sizes.numItems > 0 && source == ItemWordsSource && !(c.sizes.textFields & itemFields))
            return c.fail("", "the dataset has no item text (titles, genres or tags)");
        if (c.sizes.numItems > 0 && source != ItemWordsSource && !(c.sizes.textFields & fieldBit(TextField::Reviews)))
            return c.fail("", "the dataset has no review text (Amazon review files have it)");
        return ValueType{ValueKind::Words, "word", false, 0};
    };
    return d;
}

} // namespace

void defineTextBlocks(BlockRegistry& r)
{
    r.add(words("item_text", "Item text",
                "The words of the candidate item: its title (without the year), genres or categories and tags, "
                "as word ids with a mask of the real words.",
                "(w₁ … w_T) of item i, mask m ∈ {0,1}^T, shape B×T", ItemWordsSource, 32));
    r.add(words("item_reviews", "Item reviews",
                "The review text written about the candidate item, training interactions only, concatenated "
                "(DeepCoNN's item document).",
                "the words of {review(u′, i) : (u′, i) in training}, shape B×T", ItemReviewsSource, 200));
    r.add(words("user_reviews", "User reviews",
                "The review text the row's user wrote, training interactions only, concatenated (DeepCoNN's user "
                "document).",
                "the words of {review(u, i′) : (u, i′) in training}, shape B×T", UserReviewsSource, 200));

    BlockDefinition e;
    e.spec = {"word_embedding", "Word embedding", "Text",
              "A vector per word (padding reads as zeros), learned or started from the run's word vectors (loaded "
              "from a word2vec, GloVe or fastText file, or trained on the dataset's text). Frozen keeps the "
              "loaded vectors and trains only the words they lack. Blocks naming the same table share it.",
              "x_t = E[w_t],  E ∈ ℝ^{(W+1)×d} (row 0: padding);  frozen: E = K ⊙ V + (1 − K) ⊙ E_learned",
              {{"words", "words", {ValueKind::Words}}},
              {out("vectors", ValueKind::WordVectors)},
              {intParam("dim", "Dimension", 64, 1, 4096, "d; with word vectors, their dimension"),
               {"table", "Shared table", ParamKind::Name, "", 0, 0, {},
                "Blocks with the same table name share their weights (empty: a table of its own)"},
               choiceParam("init", "Start from", "auto", {"auto", "vectors", "random"},
                           "auto: the run's word vectors when it has them, else random; vectors: refuse a run "
                           "without them; random: N(0, 0.1²)"),
               choiceParam("train", "Training", "fine-tune", {"fine-tune", "frozen"},
                           "frozen: words the vectors had keep their vectors; the others are learned")}};
    e.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        const ValueType out{ValueKind::WordVectors, "word", false, c.params["dim"].get<int64_t>()};
        const std::string table = c.params["table"].get<std::string>();
        if (const BlockAnalysis* first = table.empty() ? nullptr : c.tableOwner(table)) {
            for (const char* key : {"dim", "init", "train"})
                if (first->params[key] != c.params[key])
                    return c.fail("", "shares table '" + table + "' with block '" + first->id + "' but its " + key + " differs");
            return out;
        }
        if (const int64_t vocab = c.vocabularySize("word"); vocab > 0)
            c.parameters = (vocab + 1) * out.width;
        return out;
    };
    r.add(std::move(e));
}

#else // the LibTorch half

namespace {

enum class Source { Item, ItemReviews, UserReviews };

const torch::Tensor& wordsOf(const GraphData& d, Source source)
{
    return source == Source::Item ? d.itemWords : source == Source::ItemReviews ? d.itemReviewWords : d.userReviewWords;
}

// Word ids of an item's or a user's text, the first `max_words` of them.
class WordsKernel : public BlockKernel {
    struct State : StepState {
        int64_t length = 0;
    };

public:
    explicit WordsKernel(Source source) : source_(source) {}

    void compile(CompileContext& c, GraphStep& s) const override
    {
        const torch::Tensor& words = wordsOf(c.data, source_);
        if (!words.defined())
            throw GraphError(c.graphName, "nodes." + s.id, "the graph reads text, but the run prepared none for it");
        auto state = std::make_unique<State>();
        state->length = std::min(s.params["max_words"].get<int64_t>(), words.size(1));
        s.state = std::move(state);
    }
    Granularity granularity(const GraphStep&, const std::vector<Granularity>&) const override
    {
        return source_ == Source::UserReviews ? Granularity::User : Granularity::Item;
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>&) const override
    {
        BatchValue out;
        out.ids = rows(p.data, s, source_ == Source::UserReviews ? p.batch.users : p.batch.items);
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>&) const override
    {
        if (source_ == Source::UserReviews)
            return {Granularity::User, {}, rows(p.data, s, p.sliceUsers)};
        return {Granularity::Item, {}, rows(p.data, s, p.allItems)};
    }
    HistoryFlags planHistory(HistoryPlan&, const GraphStep&, const Inputs<HistoryFlags>&) const override
    {
        HistoryFlags out;
        out.user = source_ == Source::UserReviews;
        return out;
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>&) const override
    {
        SharedValue out;
        if (source_ == Source::UserReviews) {
            const auto one = rows(p.data, s, torch::full({1}, p.user, p.candidates.options()));
            out.ids = one.expand({p.n, one.size(1)});
        } else {
            out.ids = rows(p.data, s, p.candidates);
        }
        return out;
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>&) const override
    {
        const ScriptValue v = p.assign(s, p.self(wordsOf(p.data, source_)) + ".index_select(0, " +
                                              (source_ == Source::UserReviews ? "users" : "items") + ").narrow(1, 0, " +
                                              std::to_string(s.as<State>().length) + ")");
        return {v.name, false, v.name};
    }

private:
    torch::Tensor rows(const GraphData& d, const GraphStep& s, const torch::Tensor& index) const
    {
        return wordsOf(d, source_).index_select(0, index).narrow(1, 0, s.as<State>().length);
    }
    Source source_;
};

// A word table: learned rows, and, when frozen, the loaded vectors and which words they had.
class WordTableImpl : public torch::nn::Module {
public:
    WordTableImpl(int64_t rows, int64_t dim) { weight = register_parameter("weight", torch::empty({rows, dim})); }
    void freeze(const torch::Tensor& vectors, const torch::Tensor& known)
    {
        vectors_ = register_buffer("vectors", vectors.clone());
        known_ = register_buffer("known", known.clone());
    }
    torch::Tensor rows() const { return known_.defined() ? known_ * vectors_ + (1 - known_) * weight : weight; }
    std::string script(const ScriptPass& p) const
    {
        if (!known_.defined())
            return p.self(weight);
        return "(" + p.self(known_) + " * " + p.self(vectors_) + " + (1.0 - " + p.self(known_) + ") * " + p.self(weight) + ")";
    }

    torch::Tensor weight;

private:
    torch::Tensor vectors_, known_;
};
TORCH_MODULE(WordTable);

class WordEmbeddingKernel : public BlockKernel {
    struct State : StepState {
        WordTable table{nullptr};
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        const auto& p = s.params;
        const std::string name = p["table"].get<std::string>().empty() ? s.id : p["table"].get<std::string>();
        auto& shared = c.shared[name];
        if (!shared)
            shared = makeTable(c, s, name);
        auto state = std::make_unique<State>();
        state->table = WordTable(std::dynamic_pointer_cast<WordTableImpl>(shared));
        s.state = std::move(state);
    }
    BatchValue forward(BatchPass&, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        BatchValue out;
        out.ids = in[0]->ids;
        out.rows = lookUp(s, out.ids);
        return out;
    }
    PairValue scoreAll(PairPass&, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        return {in[0]->g, lookUp(s, in[0]->ids), in[0]->ids};
    }
    SharedValue scoreShared(SharedPass&, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        return {lookUp(s, in[0]->ids), in[0]->ids};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const ScriptValue v = p.assign(s, "torch.embedding(" + s.as<State>().table->script(p) + ", " + in[0]->words + ", 0)");
        return {v.name, false, in[0]->words};
    }

private:
    static torch::Tensor lookUp(const GraphStep& s, const torch::Tensor& words)
    {
        return torch::embedding(s.as<State>().table->rows(), words, /*padding_idx=*/0);
    }
    static std::shared_ptr<torch::nn::Module> makeTable(CompileContext& c, const GraphStep& s, const std::string& name)
    {
        const auto& p = s.params;
        const std::string where = "nodes." + s.id;
        if (c.data.numWords <= 0)
            throw GraphError(c.graphName, where, "the graph reads words, but the run has no vocabulary");
        const int64_t dim = p["dim"].get<int64_t>();
        const std::string init = p["init"].get<std::string>();
        const torch::Tensor& vectors = c.data.wordVectors;
        if (init == "vectors" && !vectors.defined())
            throw GraphError(c.graphName, where,
                             "starts from word vectors, but the run has none (give --word-vectors train or a vectors file)");
        const bool loaded = init != "random" && vectors.defined();
        if (loaded && vectors.size(1) != dim)
            throw GraphError(c.graphName, where,
                             "the word vectors have " + std::to_string(vectors.size(1)) + " dimensions and the block " +
                                 std::to_string(dim) + ": set its dimension to theirs (--word-dim " +
                                 std::to_string(vectors.size(1)) + ")");
        auto table = c.model.register_module(name, WordTable(c.data.numWords + 1, dim));
        torch::NoGradGuard noGrad;
        if (loaded)
            table->weight.copy_(vectors);
        else
            table->weight.normal_(0.0, 0.1);
        table->weight[0].zero_();
        if (loaded && p["train"] == "frozen")
            table->freeze(vectors, c.data.wordKnown);
        return table;
    }
};

} // namespace

void addTextKernels(KernelRegistry& r)
{
    r.add("item_text", std::make_unique<WordsKernel>(Source::Item));
    r.add("item_reviews", std::make_unique<WordsKernel>(Source::ItemReviews));
    r.add("user_reviews", std::make_unique<WordsKernel>(Source::UserReviews));
    r.add("word_embedding", std::make_unique<WordEmbeddingKernel>());
}

#endif

} // namespace reclab
