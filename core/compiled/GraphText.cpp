#include "compiled/GraphText.h"

#include "compiled/BlockKernel.h"
#include "graph/BlockDefinition.h"
#include "text/ItemText.h"
#include "text/WordTraining.h"
#include "text/WordVectors.h"
#include "util/Error.h"

#include <torch/types.h>

#include <algorithm>
#include <unordered_set>

namespace reclab {

namespace {

// The largest `max_words` of the graph's blocks of this type (0: none).
int64_t wordsKept(const GraphAnalysis& a, const char* type)
{
    int64_t most = 0;
    for (const auto& b : a.blocks)
        if (b.type == type)
            most = std::max(most, b.params.value("max_words", int64_t{0}));
    return most;
}

// Rows of word ids + 1, right-padded with 0 to the longest list (at most `limit`, at least 1).
torch::Tensor paddedWords(const std::vector<std::vector<int32_t>>& lists, int64_t limit)
{
    size_t longest = 1;
    for (const auto& l : lists)
        longest = std::max(longest, l.size());
    const int64_t T = std::min<int64_t>(limit, static_cast<int64_t>(longest));
    auto out = torch::zeros({static_cast<int64_t>(lists.size()), T}, torch::kLong);
    auto a = out.accessor<int64_t, 2>();
    for (size_t r = 0; r < lists.size(); ++r)
        for (int64_t t = 0; t < std::min<int64_t>(T, static_cast<int64_t>(lists[r].size())); ++t)
            a[static_cast<int64_t>(r)][t] = lists[r][static_cast<size_t>(t)] + 1;
    return out;
}

// Each item's tokens of the fields in `fields`.
std::vector<std::vector<int32_t>> itemLists(const ItemText& text, unsigned fields)
{
    std::vector<std::vector<int32_t>> lists(static_cast<size_t>(text.numItems()));
    for (size_t i = 0; i < lists.size(); ++i)
        for (uint32_t k = text.start[i]; k < text.start[i + 1]; ++k)
            if (fields & fieldBit(text.field[k]))
                lists[i].push_back(text.token[k]);
    return lists;
}

int64_t wordDimension(const GraphAnalysis& a, int64_t fallback)
{
    for (const auto& b : a.blocks)
        if (b.type == "word_embedding")
            return b.params.value("dim", fallback);
    return fallback;
}

// The run's word vectors lined up with the vocabulary: [W + 1, d] (row 0 padding) and which
// words they had [W + 1, 1].
void addVectors(GraphData& d, const ItemText& text, const TrainConfig& c, std::string& note)
{
    const VocabularyVectors aligned = runWordVectors(text, c, note);
    const int64_t W = static_cast<int64_t>(text.vocabulary.size()), dim = aligned.dim;
    d.wordVectors = torch::zeros({W + 1, dim});
    d.wordVectors.narrow(0, 1, W).copy_(torch::from_blob(const_cast<float*>(aligned.rows.data()), {W, dim}, torch::kFloat));
    d.wordKnown = torch::ones({W + 1, 1});
    auto known = d.wordKnown.accessor<float, 2>();
    for (int64_t w = 0; w < W; ++w)
        known[w + 1][0] = aligned.known[static_cast<size_t>(w)] ? 1.f : 0.f;
}

} // namespace

WordVectors graphWordVectors(const GraphModelImpl& model)
{
    const GraphData& d = model.data();
    for (const auto& step : model.steps()) {
        if (step->type != "word_embedding" || !d.vocabulary)
            continue;
        const std::string table = step->params.value("table", std::string());
        const std::string name = table.empty() ? step->id : table;
        const auto params = model.named_parameters();
        const auto buffers = model.named_buffers();
        torch::Tensor rows = params[name + ".weight"].detach();
        if (const auto* known = buffers.find(name + ".known"))
            rows = *known * buffers[name + ".vectors"] + (1 - *known) * rows;
        rows = rows.to(torch::kCPU, torch::kFloat).contiguous();
        WordVectors out;
        out.source = "the word embedding '" + step->id + "'";
        out.dim = static_cast<int>(rows.size(1));
        for (size_t w = 0; w < d.vocabulary->size(); ++w)
            out.add((*d.vocabulary)[w], rows[static_cast<int64_t>(w) + 1].data_ptr<float>());
        return out;
    }
    throw ConfigError("run", "the model has no word embedding, so it learned no word vectors");
}

VocabularyVectors runWordVectors(const ItemText& text, const TrainConfig& c, std::string& note)
{
    WordVectors vectors;
    if (c.wordVectors == "train") {
        WordTraining o;
        o.dim = c.wordDim;
        o.seed = c.seed;
        vectors = trainWordVectors(text, o);
        note += "; word vectors trained by fastText (" + o.describe() + ")";
    } else {
        const std::unordered_set<std::string> wanted(text.vocabulary.words().begin(), text.vocabulary.words().end());
        VectorsFormat format{};
        vectors = readWordVectors(c.wordVectors, &wanted, &format);
        note += std::string("; word vectors from ") + c.wordVectors + " (" + vectorsFormatName(format) + ")";
    }
    VocabularyVectors aligned = alignVectors(vectors, text.vocabulary, c.seed);
    note += ", " + std::to_string(aligned.dim) + " dimensions, " + std::to_string(aligned.unknown) + " of " +
            std::to_string(text.vocabulary.size()) + " words without a vector";
    return aligned;
}

void addGraphText(GraphData& d, const ModelShape& shape, const GraphAnalysis& analysis, const TrainConfig& c)
{
    const unsigned sources = analysis.textSources;
    if (!shape.dataset)
        throw ConfigError("model", "the graph reads item text, but this task does not give its data to models");
    const Dataset& ds = *shape.dataset;
    const bool reviews = sources & (ItemReviewsSource | UserReviewsSource);
    TextOptions o;
    const unsigned reviewBit = fieldBit(TextField::Reviews);
    const unsigned itemFields = (sources & ItemWordsSource) ? parseTextFields(c.textFields) & ~reviewBit : 0u;
    o.fields = itemFields | (reviews ? reviewBit : 0u);
    o.minCount = c.textMinCount;
    std::shared_ptr<std::unordered_set<uint64_t>> trainPairs;
    if (reviews) {
        if (!shape.train)
            throw ConfigError("model", "review inputs need a task with a training part (the reviews of test "
                                       "interactions stay out)");
        trainPairs = std::make_shared<std::unordered_set<uint64_t>>();
        trainPairs->reserve(shape.train->size());
        for (size_t r = 0; r < shape.train->size(); ++r)
            trainPairs->insert(uint64_t(uint32_t(shape.train->user[r])) << 32 | uint32_t(shape.train->item[r]));
        o.reviewAllowed = [trainPairs](int32_t u, int32_t i) {
            return trainPairs->count(uint64_t(uint32_t(u)) << 32 | uint32_t(i)) > 0;
        };
    }
    if ((sources & ItemWordsSource) && !(availableTextFields(ds) & itemFields))
        throw ConfigError("text-fields", ds.name + " has no " + textFieldList(itemFields) + " for the graph's item text");
    const ItemText text = buildItemText(ds, o);
    if (text.empty())
        throw ConfigError("text-min-count", ds.name + "'s text leaves no word seen " + std::to_string(o.minCount) +
                                                " times or more");
    d.numWords = static_cast<int64_t>(text.vocabulary.size());
    d.textFields = availableTextFields(ds);
    d.vocabulary = std::make_shared<const std::vector<std::string>>(text.vocabulary.words());
    if (sources & ItemWordsSource)
        d.itemWords = paddedWords(itemLists(text, itemFields), wordsKept(analysis, "item_text"));
    if (sources & ItemReviewsSource)
        d.itemReviewWords = paddedWords(itemLists(text, reviewBit), wordsKept(analysis, "item_reviews"));
    if (sources & UserReviewsSource) {
        const int64_t kept = wordsKept(analysis, "user_reviews");
        d.userReviewWords = paddedWords(userReviewWords(ds, text, static_cast<size_t>(kept)), kept);
    }
    std::string note = std::to_string(d.numWords) + " words from " + textFieldList(text.fields) +
                       (reviews ? " (" + std::to_string(text.reviewsUsed) + " training reviews)" : "");
    if (!c.wordVectors.empty() && shape.restoring) {
        const int64_t dim = wordDimension(analysis, c.wordDim);
        d.wordVectors = torch::zeros({d.numWords + 1, dim});
        d.wordKnown = torch::zeros({d.numWords + 1, 1});
    } else if (!c.wordVectors.empty()) {
        addVectors(d, text, c, note);
    }
    d.textNote = note;
}

} // namespace reclab
