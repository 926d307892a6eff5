// The attention decoder (seq2seq): shape rule and parameter count against the compiled modules,
// every row of a batch with histories of length 0…9 against the decoder computed step by step by
// hand on the unpadded history (both scores; an empty history attends to nothing and stays
// finite), its attention maps from shared scoring, the K-step next-item loss against the formula,
// the common protocol's K targets per row, and the TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "graph/GraphTemplates.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

#include <map>
#include <tuple>

using namespace reclab;
using namespace reclab::checks;

class TestDecoder : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndParameters();
    void outputsMatchTheFormula();
    void stepLossMatchesTheFormula();
    void protocolGivesTheNextKItems();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

constexpr int64_t K = 3, D = 2; // steps, output width per step

// Behaviours embedded (width 6) as the encoder's states, decoded from the latest one or the
// user's vector (width 5); the K outputs side by side met with a candidate vector of K·D.
GraphSpec decoderGraph(const std::string& score, bool byUser)
{
    std::string nodes = byUser ? R"({"id": "u", "type": "user_id"}, {"id": "init", "type": "embedding", "params": {"dim": 5, "table": "users", "init_std": 0.5}},)"
                               : R"({"id": "init", "type": "latest_entry"},)";
    std::string edges = byUser ? R"({"from": "u.out", "to": "init.ids"},)" : R"({"from": "behaviours.out", "to": "init.in"},)";
    return GraphSpec::parse(R"({"version": 1, "name": "decoder", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "candidate", "type": "embedding", "params": {"dim": 6, "table": "candidates", "init_std": 0.5}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 6, "table": "items", "init_std": 0.5}},
        )" + nodes + R"(
        {"id": "dec", "type": "attention_decoder", "params": {"steps": 3, "hidden": 4, "width": 2, "score": ")" + score + R"("}},
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        )" + edges + R"(
        {"from": "behaviours.out", "to": "dec.states"}, {"from": "init.out", "to": "dec.init"},
        {"from": "dec.out", "to": "dot.a"}, {"from": "candidate.out", "to": "dot.b"}, {"from": "dot.out", "to": "click.logit"}]})");
}

// Behaviours (width 4) decoded for the next 2 items, scored against the same table.
GraphSpec nextTwoGraph()
{
    return GraphSpec::parse(R"({"version": 1, "name": "next two", "nodes": [
        {"id": "history", "type": "history"},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 4, "table": "items", "init_std": 0.5}},
        {"id": "init", "type": "latest_entry"},
        {"id": "dec", "type": "attention_decoder", "params": {"steps": 2, "hidden": 3, "width": 4}},
        {"id": "next", "type": "next_item_output", "params": {"steps": 2}}],
      "edges": [{"from": "history.out", "to": "behaviours.ids"}, {"from": "behaviours.out", "to": "init.in"},
                {"from": "behaviours.out", "to": "dec.states"}, {"from": "init.out", "to": "dec.init"},
                {"from": "dec.out", "to": "next.state"}]})");
}

torch::Tensor logistic(const torch::Tensor& x) { return 1 / (1 + torch::exp(-x)); }

// The decoder by hand for one unpadded history x [len, h] and summary u: each step's output
// [steps, d] and weights [steps, len].
std::pair<torch::Tensor, torch::Tensor> decodeByHand(GraphModelImpl& model, int64_t steps, bool additive,
                                                     const torch::Tensor& x, const torch::Tensor& u)
{
    auto w = model.named_parameters();
    const auto p = [&](const char* name) { return w[std::string("dec.") + name].to(torch::kDouble); };
    const auto xs = x.to(torch::kDouble);
    const int64_t len = xs.size(0), hidden = p("start.weight").size(0), d = p("output.weight").size(0);
    auto s = torch::tanh(torch::mv(p("start.weight"), u.to(torch::kDouble)) + p("start.bias"));
    auto o = torch::zeros({d}, torch::kDouble);
    std::vector<torch::Tensor> outs, weights;
    for (int64_t k = 0; k < steps; ++k) {
        std::vector<double> e;
        for (int64_t j = 0; j < len; ++j) {
            const auto key = torch::mv(p("key.weight"), xs[j]);
            e.push_back(additive ? torch::dot(p("score.weight")[0], torch::tanh(key + p("key.bias") + torch::mv(p("query.weight"), s))).item<double>()
                                 : torch::dot(s, key).item<double>());
        }
        auto alpha = torch::zeros({len}, torch::kDouble);
        auto context = torch::zeros({xs.size(1)}, torch::kDouble);
        if (len > 0) {
            const double top = *std::max_element(e.begin(), e.end());
            double total = 0;
            for (double& v : e)
                total += (v = std::exp(v - top));
            for (int64_t j = 0; j < len; ++j) {
                alpha[j] = e[static_cast<size_t>(j)] / total;
                context = context + alpha[j] * xs[j];
            }
        }
        // GRU cell, gates in PyTorch's order (reset, update, new).
        const auto in = torch::cat({context, o});
        const auto gi = torch::mv(p("cell.weight_ih"), in) + p("cell.bias_ih");
        const auto gh = torch::mv(p("cell.weight_hh"), s) + p("cell.bias_hh");
        const auto r = logistic(gi.narrow(0, 0, hidden) + gh.narrow(0, 0, hidden));
        const auto z = logistic(gi.narrow(0, hidden, hidden) + gh.narrow(0, hidden, hidden));
        const auto n = torch::tanh(gi.narrow(0, 2 * hidden, hidden) + r * gh.narrow(0, 2 * hidden, hidden));
        s = (1 - z) * n + z * s;
        o = torch::mv(p("output.weight"), torch::cat({s, context})) + p("output.bias");
        outs.push_back(o);
        weights.push_back(alpha);
    }
    return {torch::stack(outs), torch::stack(weights)};
}

} // namespace

void TestDecoder::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestDecoder::shapeAndParameters()
{
    const GraphContext sizes = graphContextOf(*sample_);
    for (const std::string score : {"bahdanau", "luong"}) {
        const GraphSpec g = decoderGraph(score, false);
        const GraphAnalysis a = analyseGraph(g, sizes);
        QVERIFY2(a.ok(), a.report().c_str());
        QCOMPARE(a.block("dec")->output->text(), std::string("B×6"));
        auto model = compiledForHistory(*sample_, g, 5);
        int64_t weights = 0;
        for (const auto& p : model->named_parameters())
            if (p.key().rfind("dec.", 0) == 0)
                weights += p.value().numel();
        QCOMPARE(a.block("dec")->parameters, weights);
    }
    // The summary must be one vector per row.
    GraphSpec perEntry = decoderGraph("bahdanau", false);
    for (auto& e : perEntry.edges)
        if (e.to.node == "dec" && e.to.port == "init")
            e.from.node = "behaviours";
    const GraphAnalysis bad = analyseGraph(perEntry, sizes);
    QVERIFY2(bad.report().find("expects one summary per row (B×u), got B×L×6") != std::string::npos, bad.report().c_str());
    // The template: three steps per row; an output expecting another number of steps is told the widths.
    GraphSpec seq2seq = graphTemplate("seq2seq");
    const GraphAnalysis ok = analyseGraph(seq2seq, sizes);
    QVERIFY2(ok.ok(), ok.report().c_str());
    QCOMPARE(ok.nextItemSteps, int64_t(3));
    QVERIFY(!ok.nextItemsEveryStep);
    QCOMPARE(abilitiesOf(defaultConfigFor("seq2seq")).nextItemSteps, int64_t(3));
    for (auto& n : seq2seq.nodes)
        if (n.id == "next")
            n.params["steps"] = 2;
    const GraphAnalysis mismatch = analyseGraph(seq2seq, sizes);
    QVERIFY2(mismatch.report().find("is B×192 but the item vectors of 'items' have 64 entries (× 2 steps)") != std::string::npos,
             mismatch.report().c_str());
}

void TestDecoder::outputsMatchTheFormula()
{
    const int64_t maxLength = 9;
    for (const std::string score : {"bahdanau", "luong"})
        for (const bool byUser : {false, true}) {
            const QString name = QString::fromStdString(score) + (byUser ? " from the user" : " from the latest entry");
            auto model = compiledForHistory(*sample_, decoderGraph(score, byUser), 5);
            torch::NoGradGuard noGrad;
            auto w = model->named_parameters();
            const auto table = w["items.weight"], candidates = w["candidates.weight"];
            const auto lengths = torch::tensor({0, 1, 2, 3, 5, 8, 9}, torch::kLong);
            auto [b, history] = historyRows(model->data().numItems, lengths, maxLength);
            b.users = torch::randint(sample_->numUsers(), {lengths.size(0)}, torch::kLong);
            const auto scores = model->predictBatch(b);
            QVERIFY2(torch::isfinite(scores).all().item<bool>(), qPrintable(name));
            for (int64_t row = 0; row < lengths.size(0); ++row) {
                const int64_t len = lengths[row].item<int64_t>();
                const auto x = table.index_select(0, history[row].narrow(0, 0, len));
                const auto u = byUser ? w["users.weight"][b.users[row].item<int64_t>()]
                                      : (len > 0 ? x[len - 1] : torch::zeros({x.size(1)}));
                const auto [outs, alpha] = decodeByHand(*model, K, score == "bahdanau", x, u);
                const double expected =
                    torch::dot(outs.reshape({-1}), candidates[b.items[row].item<int64_t>()].to(torch::kDouble)).item<double>();
                QVERIFY2(std::abs(scores[row].item<double>() - expected) < 1e-5,
                         qPrintable(QString("%1, %2 behaviours: %3, by hand %4").arg(name).arg(len).arg(scores[row].item<double>()).arg(expected)));
                if (byUser || len == 0) // shared scoring is for one user's history
                    continue;
                QVERIFY2(sharedScoringGap(*model, b.history[row], len, 20) < 1e-5, qPrintable(name));
                // The Attention view's map: each step's weights over the history, as by hand.
                const auto maps = model->sequenceAttention(0, b.history[row].narrow(0, 0, len));
                QCOMPARE(maps.size(), size_t(1));
                QCOMPARE(maps[0].label, std::string("decoder"));
                QCOMPARE(maps[0].weights.sizes().vec(), (std::vector<int64_t>{K, len}));
                QVERIFY2(maxDiff(maps[0].weights.to(torch::kDouble), alpha) < 1e-5, qPrintable(name));
            }
        }
}

void TestDecoder::stepLossMatchesTheFormula()
{
    auto model = compiledForHistory(*sample_, nextTwoGraph(), 3);
    torch::NoGradGuard noGrad;
    const int64_t items = model->data().numItems, n = 4, L = 5;
    const auto table = model->named_parameters()["items.weight"];
    const auto lengths = torch::tensor({1, 5, 3, 2}, torch::kLong);
    auto [b, history] = historyRows(items, lengths, L);
    // Targets for both steps; the last rows' users have no second item after the target.
    b.targets = torch::randint(items, {n, 2}, torch::kLong);
    b.targets[2][1] = -1;
    b.targets[3][1] = -1;
    const double loss = model->calculateLoss(b).item<double>();
    double total = 0;
    int count = 0;
    for (int64_t row = 0; row < n; ++row) {
        const int64_t len = lengths[row].item<int64_t>();
        const auto x = table.index_select(0, history[row].narrow(0, 0, len));
        const auto outs = decodeByHand(*model, 2, true, x, x[len - 1]).first;
        for (int64_t k = 0; k < 2; ++k) {
            const int64_t target = b.targets[row][k].item<int64_t>();
            if (target < 0)
                continue;
            const auto logits = torch::mv(table.to(torch::kDouble), outs[k]);
            total += (torch::logsumexp(logits, 0) - logits[target]).item<double>();
            ++count;
        }
    }
    QCOMPARE(count, 6);
    QVERIFY2(std::abs(loss - total / count) < 1e-5, qPrintable(QString("%1, by hand %2").arg(loss).arg(total / count)));
}

void TestDecoder::protocolGivesTheNextKItems()
{
    // The seq2seq template on the common protocol: a row per training target, its targets that
    // item and the K − 1 after it in the user's training part (−1 past the last). Every row's
    // later targets are the earlier targets of the row that ends one item later.
    TrainConfig c = defaultConfigFor("seq2seq");
    c.protocol = "common";
    c.historyLength = 4;
    const auto task = TrainingTask::create(taskOf(c), *sample_, c);
    Random rng(3);
    const EpochData e = task->sampleEpoch(rng, InputType::Pointwise);
    QCOMPARE(e.targets.size(1), K);
    const int64_t rows = e.targets.size(0);
    // Each row by (user, latest history item, first target); sample users consume an item once.
    std::map<std::tuple<int64_t, int64_t, int64_t>, int64_t> rowOf;
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t len = e.historyLength[r].item<int64_t>();
        QVERIFY(len >= 1 && len <= 4);
        rowOf[{e.users[r].item<int64_t>(), e.history[r][len - 1].item<int64_t>(), e.targets[r][0].item<int64_t>()}] = r;
    }
    QCOMPARE(static_cast<int64_t>(rowOf.size()), rows);
    int64_t ends = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const auto t = e.targets[r];
        QVERIFY(t[0].item<int64_t>() >= 0);
        const auto next = rowOf.find({e.users[r].item<int64_t>(), t[0].item<int64_t>(), t[1].item<int64_t>()});
        if (t[1].item<int64_t>() < 0) { // the user's last training item: nothing after it
            QCOMPARE(t[2].item<int64_t>(), int64_t(-1));
            ++ends;
            continue;
        }
        QVERIFY2(next != rowOf.end(), "no row continues this one");
        QCOMPARE(e.targets[next->second][1].item<int64_t>(), t[2].item<int64_t>());
    }
    QVERIFY(ends > 0);
}

void TestDecoder::torchScriptLoadsInPython()
{
    for (const std::string score : {"bahdanau", "luong"}) {
        auto [model, batch] = trainedBriefly(*sample_, decoderGraph(score, score == "luong"));
        checkTorchScriptInPython(*model, batch, QString::fromStdString(score));
    }
}

QTEST_APPLESS_MAIN(TestDecoder)
#include "test_decoder.moc"
