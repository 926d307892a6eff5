// The text blocks: item text, user and item reviews, the word embedding (learned, or started from
// a vectors file, frozen or fine-tuned) and the sequence blocks over words (mean, sum, max and
// attention pooling, the text CNN, the text GRU/LSTM): shapes and refusals, the words each row
// reads against the dataset's text (reviews of training pairs only), the pools against their
// formulas computed by hand, and every pass (batch, all items, one history against many
// candidates, TorchScript in Python) agreeing on the sample.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/DatasetSource.h"
#include "data/SampleGenerator.h"
#include "graph/BlockDefinition.h"
#include "graph/GraphAnalysis.h"
#include "graph/GraphTemplates.h"
#include "text/ItemText.h"
#include "text/Tokenizer.h"
#include "text/WordVectors.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

using namespace reclab;
using namespace reclab::checks;

class TestTextBlocks : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapesAndRefusals();
    void itemWordsComeFromTheText();
    void poolsMatchTheFormula();
    void everyPassAgrees();
    void frozenVectorsStay();
    void reviewsOfTrainingPairsOnly();
    void vectorDropoutDropsWholeVectors();

private:
    std::shared_ptr<const Dataset> sample_;
    QTemporaryDir dir_;
};

namespace {

// The user's vector against the candidate's words through an encoder chain (JSON nodes, the
// first reading "words.out", the last feeding the dot product); history: a mean-pooled
// history multiplies in first.
GraphSpec textGraph(const std::string& encoder, const std::string& edges, const std::string& last, bool history = false,
                    const std::string& embedding = R"({"dim": 6})")
{
    const std::string historyNodes = history ? R"(, {"id": "history", "type": "history"},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 6, "init_std": 0.5}},
        {"id": "hpool", "type": "mean_pool"}, {"id": "mix", "type": "product"})"
                                             : "";
    const std::string historyEdges = history ? R"(, {"from": "history.out", "to": "behaviours.ids"},
        {"from": "behaviours.out", "to": "hpool.in"}, {"from": "hpool.out", "to": "mix.a"},
        {"from": ")" + last + R"(", "to": "mix.b"}, {"from": "mix.out", "to": "dot.b"})"
                                             : R"(, {"from": ")" + last + R"(", "to": "dot.b"})";
    return GraphSpec::parse(R"({"version": 1, "name": "text", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "text", "type": "item_text", "params": {"max_words": 7}},
        {"id": "words", "type": "word_embedding", "params": )" + embedding + R"(},
        {"id": "p", "type": "embedding", "params": {"dim": 6, "init_std": 0.5}},
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}, )" +
                            encoder + historyNodes + R"(],
      "edges": [{"from": "text.out", "to": "words.words"}, {"from": "user.out", "to": "p.ids"},
        {"from": "p.out", "to": "dot.a"}, {"from": "dot.out", "to": "click.logit"})" +
                            (edges.empty() ? "" : ", " + edges) + historyEdges + "]}");
}

GraphSpec poolGraph(const std::string& type, const std::string& params = "{}")
{
    return textGraph(R"({"id": "pool", "type": ")" + type + R"(", "params": )" + params + "}",
                     R"({"from": "words.out", "to": "pool.in"})", "pool.out");
}

std::shared_ptr<GraphModelImpl> compileWithText(const GraphSpec& graph, const TrainingTask& task, const TrainConfig& c)
{
    torch::manual_seed(7);
    auto model = std::dynamic_pointer_cast<GraphModelImpl>(compileGraph(graph, task.shape(), c));
    if (!model)
        throw std::runtime_error("not a graph model");
    return model;
}

torch::Tensor param(torch::nn::Module& m, const std::string& name)
{
    if (const auto* t = m.named_parameters().find(name))
        return *t;
    if (const auto* b = m.named_buffers().find(name))
        return *b;
    throw std::runtime_error("no tensor " + name);
}

// A few Adam steps on the task's first samples, then evaluation mode; a batch to score.
Batch trainFewSteps(GraphModelImpl& model, const TrainingTask& task, double lr = 1e-2)
{
    Random rng(9);
    const EpochData epoch = task.sampleEpoch(rng, InputType::Pointwise);
    torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(lr));
    model.train();
    const int64_t size = std::min<int64_t>(128, epoch.users.size(0));
    for (int64_t start = 0; start + size <= std::min<int64_t>(epoch.users.size(0), 5 * size); start += size) {
        const auto rows = [&](const torch::Tensor& x) { return x.defined() ? x.narrow(0, start, size) : x; };
        adam.zero_grad();
        model.calculateLoss({rows(epoch.users), rows(epoch.items), rows(epoch.labels), {}, rows(epoch.history),
                             rows(epoch.historyLength), {}, {}})
            .backward();
        adam.step();
    }
    model.eval();
    return firstRows(epoch, 150);
}

// fullSortPredict's rows against predictBatch over every item, for a few users.
double fullSortGap(GraphModelImpl& model)
{
    torch::NoGradGuard noGrad;
    const int64_t n = model.data().numUsers;
    const auto users = torch::tensor({int64_t(0), n / 2, n - 1}, torch::kLong);
    const auto all = model.fullSortPredict(users);
    const int64_t items = model.numItems();
    Batch b;
    b.users = users.repeat_interleave(items);
    b.items = torch::arange(items, torch::kLong).repeat(3);
    return maxDiff(all.reshape({-1}), model.predictBatch(b));
}

} // namespace

void TestTextBlocks::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    QVERIFY(dir_.isValid());
}

void TestTextBlocks::shapesAndRefusals()
{
    GraphContext sizes = graphContextOf(*sample_);
    sizes.numWords = 100;
    const GraphAnalysis a = analyseGraph(poolGraph("mean_pool"), sizes);
    QVERIFY2(a.ok(), a.report().c_str());
    QCOMPARE(a.block("text")->output->text(), std::string("B×T words(word)"));
    QCOMPARE(a.block("words")->output->text(), std::string("B×T×6 (words)"));
    QCOMPARE(a.block("pool")->output->text(), std::string("B×6"));
    QCOMPARE(a.block("words")->parameters, int64_t(101 * 6)); // a row per word and the padding row
    QCOMPARE(a.textSources, unsigned(ItemWordsSource));
    QCOMPARE(analyseGraph(poolGraph("attention_pool", R"({"hidden": 5})"), sizes).block("pool")->parameters,
             int64_t(6 * 5 + 5 + 5));
    // A state per word stays word vectors: a CNN's every-entry output feeds a GRU.
    const GraphAnalysis chain = analyseGraph(
        textGraph(R"({"id": "cnn", "type": "conv1d", "params": {"heights": [2], "channels": 4, "output": "every"}},
                    {"id": "gru", "type": "recurrent", "params": {"hidden": 6}})",
                  R"({"from": "words.out", "to": "cnn.in"}, {"from": "cnn.out", "to": "gru.in"})", "gru.out"),
        sizes);
    QVERIFY2(chain.ok(), chain.report().c_str());
    QCOMPARE(chain.block("cnn")->output->text(), std::string("B×T×4 (words)"));

    // Word vectors are not row vectors: a linear layer refuses them, naming the port.
    const GraphAnalysis flat = analyseGraph(
        textGraph(R"({"id": "l", "type": "linear", "params": {"units": 6}})", R"({"from": "words.out", "to": "l.in"})", "l.out"),
        sizes);
    QVERIFY(!flat.ok());
    QVERIFY2(flat.report().find("block 'l', port 'in': expects vectors, got B×T×6 (words)") != std::string::npos,
             flat.report().c_str());
    // Data without text: the input says what is missing.
    GraphContext noText = sizes;
    noText.textFields = 0;
    const GraphAnalysis none = analyseGraph(poolGraph("mean_pool"), noText);
    QVERIFY2(none.report().find("block 'text': the dataset has no item text (titles, genres or tags)") != std::string::npos,
             none.report().c_str());
    const GraphAnalysis reviews = analyseGraph(graphTemplate("deepconn"), sizes);
    QVERIFY2(reviews.report().find("the dataset has no review text") != std::string::npos, reviews.report().c_str());
    // ... and so does training: the model is refused before anything is built.
    TrainConfig c = defaultConfigFor("deepconn");
    const auto task = TrainingTask::create(TaskKind::RatingPrediction, *sample_, c);
    try {
        compileGraph(graphFor(c), task->shape(), c);
        QFAIL("a review model compiled on data without reviews");
    } catch (const std::exception& e) {
        QVERIFY2(std::string(e.what()).find("no review text") != std::string::npos, e.what());
    }
}

void TestTextBlocks::itemWordsComeFromTheText()
{
    TrainConfig c = defaultConfigFor("neumf");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    auto model = compileWithText(poolGraph("mean_pool"), *task, c);
    const GraphData& d = model->data();
    TextOptions o;
    o.fields = parseTextFields(TrainConfig{}.textFields);
    const ItemText text = buildItemText(*sample_, o);
    QCOMPARE(d.numWords, int64_t(text.vocabulary.size()));
    QCOMPARE(*d.vocabulary, text.vocabulary.words());
    QCOMPARE(d.itemWords.size(0), int64_t(sample_->numItems()));
    for (const int32_t item : {0, 7, 88, sample_->numItems() - 1}) {
        const auto row = d.itemWords[item];
        size_t k = 0;
        for (; k < std::min<size_t>(text.tokenCount(item), size_t(d.itemWords.size(1))); ++k)
            QCOMPARE(row[int64_t(k)].item<int64_t>(), int64_t(text.token[text.start[size_t(item)] + k]) + 1);
        for (; k < size_t(d.itemWords.size(1)); ++k)
            QCOMPARE(row[int64_t(k)].item<int64_t>(), int64_t(0)); // padding
    }
    QVERIFY2(d.textNote.find(std::to_string(d.numWords) + " words from title, genres") == 0, d.textNote.c_str());
}

void TestTextBlocks::poolsMatchTheFormula()
{
    TrainConfig c = defaultConfigFor("neumf");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    for (const std::string type : {"sum_pool", "mean_pool", "max_pool", "attention_pool"}) {
        auto model = compileWithText(poolGraph(type), *task, c);
        model->eval();
        torch::NoGradGuard noGrad;
        const auto users = torch::randint(sample_->numUsers(), {64}, torch::kLong);
        const auto items = torch::randint(sample_->numItems(), {64}, torch::kLong);
        const auto words = model->data().itemWords.index_select(0, items); // [64, T], T ≤ max_words
        const auto x = param(*model, "words.weight").to(torch::kDouble).index({words}); // row 0 is zero
        const auto m = (words > 0).to(torch::kDouble).unsqueeze(2);
        torch::Tensor pooled;
        if (type == "sum_pool" || type == "mean_pool") {
            pooled = (x * m).sum(1);
            if (type == "mean_pool")
                pooled = pooled / m.sum(1).clamp_min(1);
        } else if (type == "max_pool") {
            pooled = std::get<0>(x.masked_fill(m == 0, -1e30).max(1)).masked_fill(m.sum(1) == 0, 0.0);
        } else {
            const auto w = param(*model, "pool.weight").to(torch::kDouble), b = param(*model, "pool.bias").to(torch::kDouble);
            const auto u = param(*model, "pool_context").to(torch::kDouble);
            auto s = torch::matmul(torch::tanh(torch::matmul(x, w.t()) + b), u).masked_fill(m.squeeze(2) == 0, -1e30);
            pooled = (torch::softmax(s, 1).unsqueeze(2) * x).sum(1);
        }
        const auto expected = (param(*model, "p.weight").to(torch::kDouble).index_select(0, users) * pooled).sum(1);
        Batch b;
        b.users = users;
        b.items = items;
        const double gap = maxDiff(model->predictBatch(b).to(torch::kDouble), expected);
        QVERIFY2(gap < 1e-5, qPrintable(QString::fromStdString(type) + QString(": %1").arg(gap)));
    }
}

void TestTextBlocks::everyPassAgrees()
{
    const std::vector<std::pair<std::string, GraphSpec>> graphs = {
        {"attention", poolGraph("attention_pool")},
        {"text CNN", textGraph(R"({"id": "cnn", "type": "conv1d", "params": {"heights": [2, 3], "channels": 3}})",
                               R"({"from": "words.out", "to": "cnn.in"})", "cnn.out")},
        {"text GRU", textGraph(R"({"id": "gru", "type": "recurrent", "params": {"hidden": 3, "bidirectional": true}})",
                               R"({"from": "words.out", "to": "gru.in"})", "gru.out")},
        {"CNN then LSTM",
         textGraph(R"({"id": "cnn", "type": "conv1d", "params": {"heights": [2], "channels": 4, "output": "every"}},
                     {"id": "lstm", "type": "recurrent", "params": {"cell": "lstm", "hidden": 6}})",
                   R"({"from": "words.out", "to": "cnn.in"}, {"from": "cnn.out", "to": "lstm.in"})", "lstm.out")}};
    TrainConfig c = defaultConfigFor("neumf");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    for (const auto& [name, graph] : graphs) {
        auto model = compileWithText(graph, *task, c);
        const Batch batch = trainFewSteps(*model, *task);
        const double gap = fullSortGap(*model);
        QVERIFY2(gap < 1e-4, qPrintable(QString::fromStdString(name) + QString(" full sort: %1").arg(gap)));
        checkTorchScriptInPython(*model, batch, QString::fromStdString(name));
    }
    // With a behaviour history: one history's words-and-behaviours scoring shared by many candidates.
    TrainConfig din;
    din.protocol = "din";
    const auto click = TrainingTask::create(TaskKind::ClickThrough, *sample_, din);
    auto model = compileWithText(
        textGraph(R"({"id": "cnn", "type": "conv1d", "params": {"heights": [2, 3], "channels": 3}})",
                  R"({"from": "words.out", "to": "cnn.in"})", "cnn.out", true),
        *click, din);
    model->eval();
    QVERIFY(model->sharesHistory());
    torch::NoGradGuard noGrad;
    const auto history = torch::randint(sample_->numItems(), {9}, torch::kLong);
    const double shared = sharedScoringGap(*model, history, 6, 40);
    QVERIFY2(shared < 1e-5, qPrintable(QString("shared history: %1").arg(shared)));
}

void TestTextBlocks::frozenVectorsStay()
{
    TextOptions o;
    o.fields = parseTextFields(TrainConfig{}.textFields);
    const ItemText text = buildItemText(*sample_, o);
    // Vectors for every other word of the vocabulary, and one word the data does not have.
    WordVectors v;
    v.dim = 6;
    std::vector<float> row(6);
    for (size_t w = 0; w < text.vocabulary.size(); w += 2) {
        for (int k = 0; k < 6; ++k)
            row[size_t(k)] = float(w % 7) * 0.1f - float(k) * 0.05f;
        v.add(text.vocabulary.word(int32_t(w)), row.data());
    }
    v.add("zyzzyva", row.data());
    const std::string file = dir_.filePath("vectors.txt").toStdString();
    writeWordVectors(v, file);

    TrainConfig c = defaultConfigFor("neumf");
    c.wordVectors = file;
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    for (const bool frozen : {true, false}) {
        auto model = compileWithText(textGraph(R"({"id": "pool", "type": "mean_pool"})", R"({"from": "words.out", "to": "pool.in"})",
                                               "pool.out", false,
                                               std::string(R"({"dim": 6, "init": "vectors", "train": ")") +
                                                   (frozen ? "frozen" : "fine-tune") + "\"}"),
                                     *task, c);
        QVERIFY2(model->data().textNote.find("of " + std::to_string(text.vocabulary.size() / 2) + " words without a vector") !=
                         std::string::npos ||
                     model->data().textNote.find(std::to_string(text.vocabulary.size() / 2) + " of ") != std::string::npos,
                 model->data().textNote.c_str());
        const auto before = param(*model, "words.weight").clone();
        trainFewSteps(*model, *task, 0.05);
        const auto after = param(*model, "words.weight");
        const auto known = torch::arange(1, int64_t(text.vocabulary.size()) + 1, 2); // rows of words 0, 2, 4 …
        const auto unknown = torch::arange(2, int64_t(text.vocabulary.size()) + 1, 2);
        const double knownMoved = maxDiff(after.index_select(0, known), before.index_select(0, known));
        const double unknownMoved = maxDiff(after.index_select(0, unknown), before.index_select(0, unknown));
        QVERIFY2(unknownMoved > 1e-3, qPrintable(QString("unknown rows moved %1").arg(unknownMoved)));
        if (frozen) {
            QCOMPARE(knownMoved, 0.0);
            const float* first = v.find(text.vocabulary.word(0));
            QCOMPARE(after[1][3].item<float>(), first[3]); // word 0's row is the file's vector
            QCOMPARE(param(*model, "words.known")[1][0].item<float>(), 1.f);
            QCOMPARE(param(*model, "words.known")[2][0].item<float>(), 0.f);
        } else {
            QVERIFY2(knownMoved > 1e-3, qPrintable(QString("fine-tuned rows moved %1").arg(knownMoved)));
        }
        QCOMPARE(after[0].abs().sum().item<float>(), 0.f); // padding stays zero
    }
    // A vectors file of another width is refused naming both.
    try {
        compileWithText(textGraph(R"({"id": "pool", "type": "mean_pool"}, {"id": "l", "type": "linear", "params": {"units": 6}})",
                                  R"({"from": "words.out", "to": "pool.in"}, {"from": "pool.out", "to": "l.in"})", "l.out", false,
                                  R"({"dim": 8, "init": "vectors"})"),
                        *task, c);
        QFAIL("8-wide word embedding started from 6-dimensional vectors");
    } catch (const std::exception& e) {
        QVERIFY2(std::string(e.what()).find("the word vectors have 6 dimensions and the block 8") != std::string::npos, e.what());
    }
}

void TestTextBlocks::reviewsOfTrainingPairsOnly()
{
    // 12 users × 8 items, each review naming its item ("lampword"), its kind and its own pair.
    std::string lines;
    const char* names[] = {"lamp", "mug", "knife", "chair", "pen", "desk", "clock", "rug"};
    for (int u = 0; u < 12; ++u)
        for (int i = 0; i < 8; ++i) {
            if ((u + i) % 4 == 3)
                continue;
            const std::string text = std::string(names[i]) + "word " + (i % 2 ? "bright" : "solid") + " pair" +
                                     std::to_string(u) + "x" + std::to_string(i);
            lines += "{\"reviewerID\": \"U" + std::to_string(u) + "\", \"asin\": \"I" + std::to_string(i) +
                     "\", \"overall\": " + std::to_string(1 + (u + 2 * i) % 5) + ".0, \"reviewText\": \"" + text +
                     "\", \"unixReviewTime\": " + std::to_string(1000 + u * 10 + i) + "}\n";
        }
    QDir(dir_.path()).mkdir("amazon");
    const std::string path = dir_.filePath("amazon/reviews_Test_5.json").toStdString();
    std::ofstream(path) << lines;
    const Dataset ds = loadDataset(path);
    TrainConfig c = defaultConfigFor("deepconn");
    c.textMinCount = 1;
    const auto task = TrainingTask::create(TaskKind::RatingPrediction, ds, c);
    auto model = compileWithText(graphFor(c), *task, c);
    const GraphData& d = model->data();
    const auto& split = dynamic_cast<const RatingPredictionTask&>(*task).split();
    QVERIFY(split.test.size() > 5);
    auto idOf = [&](const std::string& w) {
        const auto& words = *d.vocabulary;
        return int64_t(std::find(words.begin(), words.end(), w) - words.begin()) + 1;
    };
    auto has = [](const torch::Tensor& row, int64_t id) { return (row == id).any().item<bool>(); };
    // The word only the review of (u, i) has.
    auto pairWord = [&](int32_t u, int32_t i) {
        for (size_t r = 0; r < ds.reviews.size(); ++r)
            if (ds.reviews.user[r] == u && ds.reviews.item[r] == i)
                return idOf(tokenize(ds.reviews.text[r]).back());
        return int64_t(-1);
    };
    for (size_t r = 0; r < split.test.size(); ++r) {
        const int32_t u = split.test.user[r], i = split.test.item[r];
        const int64_t id = pairWord(u, i); // past the vocabulary: no training review had it
        QVERIFY(id > 0);
        QVERIFY2(id > int64_t(d.vocabulary->size()) || (!has(d.userReviewWords[u], id) && !has(d.itemReviewWords[i], id)),
                 "a test interaction's review reached the model");
    }
    for (size_t r = 0; r < 5; ++r) {
        const int32_t u = split.train.user[r], i = split.train.item[r];
        const int64_t id = pairWord(u, i);
        QVERIFY(id > 0 && id <= int64_t(d.vocabulary->size()));
        QVERIFY(has(d.userReviewWords[u], id) && has(d.itemReviewWords[i], id));
    }
    const Batch batch = trainFewSteps(*model, *task);
    QVERIFY(fullSortGap(*model) < 1e-4);
    checkTorchScriptInPython(*model, batch, "DeepCoNN");
}

void TestTextBlocks::vectorDropoutDropsWholeVectors()
{
    // p · dropout(q): while training each row's whole item vector is kept as it is or zeroed,
    // about half of each; in evaluation the block passes everything through.
    const GraphSpec graph = GraphSpec::parse(R"({"version": 1, "name": "drop", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "item", "type": "item_id"},
        {"id": "p", "type": "embedding", "params": {"dim": 6, "init_std": 0.5}},
        {"id": "q", "type": "embedding", "params": {"dim": 6, "init_std": 0.5}},
        {"id": "drop", "type": "dropout", "params": {"p": 0.5, "unit": "vectors"}},
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [{"from": "user.out", "to": "p.ids"}, {"from": "item.out", "to": "q.ids"},
        {"from": "q.out", "to": "drop.in"}, {"from": "p.out", "to": "dot.a"}, {"from": "drop.out", "to": "dot.b"},
        {"from": "dot.out", "to": "click.logit"}]})");
    TrainConfig c = defaultConfigFor("neumf");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    auto model = compileWithText(graph, *task, c);
    torch::NoGradGuard noGrad;
    Batch b;
    b.users = torch::randint(sample_->numUsers(), {400}, torch::kLong);
    b.items = torch::randint(sample_->numItems(), {400}, torch::kLong);
    const auto full =
        (param(*model, "p.weight").index_select(0, b.users) * param(*model, "q.weight").index_select(0, b.items)).sum(1);
    model->train();
    const auto trained = model->predictBatch(b);
    const auto kept = (trained - full).abs() < 1e-5, dropped = trained.abs() < 1e-7;
    QVERIFY2((kept | dropped).all().item<bool>(), "a row was scaled or partly dropped");
    const double share = dropped.to(torch::kDouble).mean().item<double>();
    QVERIFY2(share > 0.4 && share < 0.6, qPrintable(QString("dropped share %1").arg(share)));
    model->eval();
    QVERIFY(maxDiff(model->predictBatch(b), full) < 1e-5);
}

QTEST_GUILESS_MAIN(TestTextBlocks)
#include "test_text_blocks.moc"
