// The recurrent block (RNN / GRU / LSTM): its shape rule and parameter count against the
// compiled modules, its last and every-step states against the same modules run on each
// unpadded sequence alone (padding never read, an empty history gives zeros), the backward
// direction against the reversed sequence, shared-history scoring against batches, and its
// TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

#include <torch/nn/modules/rnn.h>

using namespace reclab;
using namespace reclab::checks;

class TestRecurrent : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndParameters();
    void statesMatchEachSequenceRunAlone();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

// Behaviours embedded, read by the block, (every step: averaged), met with the candidate.
GraphSpec historyGraph(const std::string& params, bool every = false)
{
    const std::string pool = every ? R"({"id": "pool", "type": "mean_pool"},)" : "";
    const std::string to = every ? "pool" : "dot";
    const std::string edges = every ? R"({"from": "rnn.out", "to": "pool.in"}, {"from": "pool.out", "to": "dot.a"},)"
                                    : R"({"from": "rnn.out", "to": "dot.a"},)";
    return GraphSpec::parse(R"({"version": 1, "name": "recurrent", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "candidate", "type": "embedding", "params": {"dim": 6, "table": "items", "init_std": 0.5}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 6, "table": "items", "init_std": 0.5}},
        {"id": "rnn", "type": "recurrent", "params": )" + params + R"(}, )" + pool + R"(
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        {"from": "behaviours.out", "to": "rnn.in"}, )" + edges + R"(
        {"from": "candidate.out", "to": "dot.b"}, {"from": "dot.out", "to": "click.logit"}]})");
}


// The states of one unpadded sequence x [len, d] through a module registered on the model.
torch::Tensor runAlone(GraphModelImpl& model, const std::string& name, const torch::Tensor& x)
{
    const std::shared_ptr<torch::nn::Module> m = model.named_children()[name];
    const auto in = x.unsqueeze(0);
    if (auto* gru = m->as<torch::nn::GRUImpl>())
        return std::get<0>(gru->forward(in)).squeeze(0);
    if (auto* lstm = m->as<torch::nn::LSTMImpl>())
        return std::get<0>(lstm->forward(in)).squeeze(0);
    return std::get<0>(m->as<torch::nn::RNNImpl>()->forward(in)).squeeze(0);
}

} // namespace

void TestRecurrent::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestRecurrent::shapeAndParameters()
{
    const BlockSpec* spec = findBlock("recurrent");
    QVERIFY(spec);
    QCOMPARE(QString::fromStdString(spec->category), QString("Sequence"));
    const GraphContext sizes = graphContextOf(*sample_);
    struct Case {
        const char* params;
        const char* output;
    };
    for (const Case& c : {Case{R"({"cell": "gru", "hidden": 6})", "B×6"},
                          Case{R"({"cell": "lstm", "hidden": 6, "layers": 2, "dropout": 0.2})", "B×6"},
                          Case{R"({"cell": "rnn", "hidden": 3, "bidirectional": true})", "B×6"},
                          Case{R"({"cell": "gru", "hidden": 6, "output": "every"})", "B×L×6"}}) {
        const GraphSpec g = historyGraph(c.params, std::string(c.params).find("every") != std::string::npos);
        const GraphAnalysis a = analyseGraph(g, sizes);
        QVERIFY2(a.ok(), a.report().c_str());
        QCOMPARE(a.block("rnn")->output->text(), std::string(c.output));
        // The count the editor shows is the compiled modules' own.
        auto model = compiledForHistory(*sample_, g, 5);
        int64_t weights = 0;
        for (const auto& p : model->named_parameters())
            if (p.key().rfind("rnn", 0) == 0)
                weights += p.value().numel();
        QCOMPARE(a.block("rnn")->parameters, weights);
    }
    // Per-row vectors are not a sequence: refused with the reason.
    const std::string report = perRowInputReport("recurrent", sizes);
    QVERIFY2(report.find("expects a sequence (B×L×d), got B×4") != std::string::npos, report.c_str());
}

void TestRecurrent::statesMatchEachSequenceRunAlone()
{
    const int64_t n = 7, maxLength = 9;
    for (const char* params : {R"({"cell": "gru", "hidden": 6})", R"({"cell": "lstm", "hidden": 6, "layers": 2})",
                               R"({"cell": "rnn", "hidden": 3, "bidirectional": true})", R"({"cell": "gru", "hidden": 6, "output": "every"})",
                               R"({"cell": "gru", "hidden": 3, "bidirectional": true, "output": "every"})"}) {
        const bool every = std::string(params).find("every") != std::string::npos;
        const bool bidirectional = std::string(params).find("bidirectional") != std::string::npos;
        auto model = compiledForHistory(*sample_, historyGraph(params, every), 5);
        torch::NoGradGuard noGrad;
        const int64_t items = model->data().numItems;
        const auto table = model->named_parameters()["items.weight"];
        const auto lengths = torch::tensor({0, 1, 2, 4, 5, 8, 9}, torch::kLong); // 0 to the longest
        const auto [b, history] = historyRows(items, lengths, maxLength);
        const auto scores = model->predictBatch(b);
        QVERIFY2(torch::isfinite(scores).all().item<bool>(), params);
        for (int64_t row = 0; row < n; ++row) {
            const int64_t len = lengths[row].item<int64_t>();
            const auto seq = history[row].narrow(0, 0, len);
            const auto x = table.index_select(0, seq);
            torch::Tensor summary;
            if (len == 0) {
                summary = torch::zeros({table.size(1)}); // 0 · candidate
            } else {
                auto states = runAlone(*model, "rnn", x);
                if (bidirectional)
                    states = torch::cat({states, runAlone(*model, "rnn_reverse", x.flip(0)).flip(0)}, 1);
                if (every)
                    summary = states.mean(0);
                else if (bidirectional) // forward after the last step, backward after the first
                    summary = torch::cat({states[len - 1].narrow(0, 0, states.size(1) / 2),
                                          states[0].narrow(0, states.size(1) / 2, states.size(1) / 2)});
                else
                    summary = states[len - 1];
            }
            const double expected = len == 0 ? 0.0 : (summary * table[b.items[row].item<int64_t>()]).sum().item<double>();
            QVERIFY2(std::abs(scores[row].item<double>() - expected) < 1e-5,
                     qPrintable(QString("%1, %2 behaviours: %3, run alone %4").arg(params).arg(len)
                                    .arg(scores[row].item<double>()).arg(expected)));
            QVERIFY2(sharedScoringGap(*model, b.history[row], len, 20) < 1e-5,
                     qPrintable(QString("%1, %2 behaviours: shared scoring differs").arg(params).arg(len)));
        }
    }
}

void TestRecurrent::torchScriptLoadsInPython()
{
    for (const char* params : {R"({"cell": "gru", "hidden": 6})", R"({"cell": "lstm", "hidden": 6, "layers": 2})",
                               R"({"cell": "rnn", "hidden": 3, "bidirectional": true, "output": "every"})"}) {
        const GraphSpec graph = historyGraph(params, std::string(params).find("every") != std::string::npos);
        auto [model, batch] = trainedBriefly(*sample_, graph);
        checkTorchScriptInPython(*model, batch, QString::fromUtf8(params));
    }
}

QTEST_APPLESS_MAIN(TestRecurrent)
#include "test_recurrent.moc"
