// The convolution blocks (1-D convolution, Caser's vertical filters): shape rules and parameter
// counts against the compiled modules, every row of a batch with histories of every length
// against the formula computed entry by entry on the unpadded history (padding never read, an
// empty history gives zeros, never NaN), shared-history scoring against batches, and the
// TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

using namespace reclab;
using namespace reclab::checks;

class TestConvolution : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndParameters();
    void outputsMatchTheFormula();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

struct Case {
    const char* type;
    const char* params;
    int64_t width; // the block's output width
    const char* shape;
};

const std::vector<Case>& cases()
{
    static const std::vector<Case> all = {
        {"conv1d", R"({"heights": [1, 2, 3], "channels": 4})", 12, "B×12"},
        {"conv1d", R"({"heights": [2, 5], "channels": 3, "span": 4, "activation": "tanh"})", 6, "B×6"},
        {"conv1d", R"({"heights": [3], "channels": 5, "output": "every", "activation": "none"})", 5, "B×L×5"},
        {"vertical_conv", R"({"filters": 3, "span": 4})", 18, "B×18"},
    };
    return all;
}

// Behaviours embedded (width 6), read by the block (every entry: averaged), met with the
// candidate's own vector of the block's width.
GraphSpec historyGraph(const Case& c)
{
    const bool every = std::string(c.params).find("every") != std::string::npos;
    const std::string pool = every ? R"({"id": "pool", "type": "mean_pool"},)" : "";
    const std::string edges = every ? R"({"from": "conv.out", "to": "pool.in"}, {"from": "pool.out", "to": "dot.a"},)"
                                    : R"({"from": "conv.out", "to": "dot.a"},)";
    return GraphSpec::parse(R"({"version": 1, "name": "convolution", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "candidate", "type": "embedding", "params": {"dim": )" + std::to_string(c.width) +
                            R"(, "table": "candidates", "init_std": 0.5}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 6, "table": "items", "init_std": 0.5}},
        {"id": "conv", "type": ")" + c.type + R"(", "params": )" + c.params + R"(}, )" + pool + R"(
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        {"from": "behaviours.out", "to": "conv.in"}, )" + edges + R"(
        {"from": "candidate.out", "to": "dot.b"}, {"from": "dot.out", "to": "click.logit"}]})");
}

torch::Tensor activate(const nlohmann::json& p, const torch::Tensor& x)
{
    const std::string a = p.value("activation", "relu");
    return a == "relu" ? torch::relu(x) : a == "tanh" ? torch::tanh(x) : x;
}

// The block's output for one unpadded history x [len, d], entry by entry: [width] (max, vertical)
// or the mean over the entries of [len, width] (every).
torch::Tensor byHand(GraphModelImpl& model, const Case& c, const torch::Tensor& x)
{
    const auto p = nlohmann::json::parse(c.params);
    const int64_t len = x.size(0), d = x.size(1);
    if (len == 0)
        return torch::zeros({c.width});
    const int64_t span = p.value("span", int64_t(0));
    // The entries read, oldest first: the latest `span` (zeros before the history), or all.
    auto read = [&](int64_t t) { // t counts along the read entries
        const int64_t at = span > 0 ? len - span + t : t;
        return at >= 0 ? x[at] : torch::zeros({d});
    };
    const int64_t n = span > 0 ? span : len;
    auto params = model.named_parameters();
    if (std::string(c.type) == "vertical_conv") {
        const auto w = params["conv_weight"], b = params["conv_bias"];
        std::vector<torch::Tensor> filters;
        for (int64_t v = 0; v < w.size(0); ++v) {
            auto y = b[v] * torch::ones({d});
            for (int64_t j = 0; j < n; ++j)
                y = y + w[v][j] * read(j);
            filters.push_back(y);
        }
        return torch::cat(filters);
    }
    const bool every = p.value("output", "max") == "every";
    std::vector<torch::Tensor> banks;
    for (const int64_t h : p["heights"].get<std::vector<int64_t>>()) {
        const auto w = params["conv_h" + std::to_string(h) + ".weight"], b = params["conv_h" + std::to_string(h) + ".bias"];
        std::vector<torch::Tensor> ends; // the filters' outputs for the windows ending at each t
        for (int64_t t = every ? 0 : std::min(h - 1, n - 1); t < n; ++t) {
            auto y = b.clone();
            for (int64_t k = 0; k < h; ++k) // w[:, :, h − 1 − k] meets the entry k before t
                if (t - k >= 0)
                    y = y + torch::mv(w.select(2, h - 1 - k), read(t - k));
            ends.push_back(activate(p, y));
        }
        const auto all = torch::stack(ends);
        banks.push_back(every ? all : std::get<0>(all.max(0)).unsqueeze(0));
    }
    const auto y = torch::cat(banks, 1);
    return every ? y.mean(0) : y.squeeze(0);
}

} // namespace

void TestConvolution::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestConvolution::shapeAndParameters()
{
    for (const char* type : {"conv1d", "vertical_conv"}) {
        const BlockSpec* spec = findBlock(type);
        QVERIFY(spec);
        QCOMPARE(QString::fromStdString(spec->category), QString("Sequence"));
    }
    const GraphContext sizes = graphContextOf(*sample_);
    for (const Case& c : cases()) {
        const GraphSpec g = historyGraph(c);
        const GraphAnalysis a = analyseGraph(g, sizes);
        QVERIFY2(a.ok(), a.report().c_str());
        QCOMPARE(a.block("conv")->output->text(), std::string(c.shape));
        auto model = compiledForHistory(*sample_, g, 5);
        int64_t weights = 0;
        for (const auto& p : model->named_parameters())
            if (p.key().rfind("conv", 0) == 0)
                weights += p.value().numel();
        QCOMPARE(a.block("conv")->parameters, weights);
    }
    // A span with a state per entry is refused with the reason; so is a per-row input.
    Case spanEvery{"conv1d", R"({"heights": [2], "output": "every", "span": 5})", 32, ""};
    const GraphAnalysis refused = analyseGraph(historyGraph(spanEvery), sizes);
    QVERIFY(!refused.ok());
    QVERIFY2(refused.report().find("needs max over time") != std::string::npos, refused.report().c_str());
    for (const char* type : {"conv1d", "vertical_conv"}) {
        const std::string report = perRowInputReport(type, sizes);
        QVERIFY2(report.find("expects a sequence (B×L×d), got B×4") != std::string::npos, report.c_str());
    }
}

void TestConvolution::outputsMatchTheFormula()
{
    const int64_t n = 7, maxLength = 9;
    for (const Case& c : cases()) {
        auto model = compiledForHistory(*sample_, historyGraph(c), 5);
        torch::NoGradGuard noGrad;
        const int64_t items = model->data().numItems;
        const auto table = model->named_parameters()["items.weight"];
        const auto candidates = model->named_parameters()["candidates.weight"];
        const auto lengths = torch::tensor({0, 1, 2, 3, 5, 8, 9}, torch::kLong); // 0 to the longest
        const auto [b, history] = historyRows(items, lengths, maxLength);
        const auto scores = model->predictBatch(b);
        QVERIFY2(torch::isfinite(scores).all().item<bool>(), c.params);
        for (int64_t row = 0; row < n; ++row) {
            const int64_t len = lengths[row].item<int64_t>();
            const auto y = byHand(*model, c, table.index_select(0, history[row].narrow(0, 0, len)));
            const double expected = (y * candidates[b.items[row].item<int64_t>()]).sum().item<double>();
            QVERIFY2(std::abs(scores[row].item<double>() - expected) < 1e-4,
                     qPrintable(QString("%1 %2, %3 behaviours: %4, by hand %5").arg(c.type, c.params).arg(len)
                                    .arg(scores[row].item<double>()).arg(expected)));
            QVERIFY2(sharedScoringGap(*model, b.history[row], len, 20) < 1e-5,
                     qPrintable(QString("%1 %2, %3 behaviours: shared scoring differs").arg(c.type, c.params).arg(len)));
        }
    }
}

void TestConvolution::torchScriptLoadsInPython()
{
    for (const Case& c : cases()) {
        auto [model, batch] = trainedBriefly(*sample_, historyGraph(c));
        checkTorchScriptInPython(*model, batch, QString("%1 %2").arg(c.type, c.params));
    }
}

QTEST_APPLESS_MAIN(TestConvolution)
#include "test_convolution.moc"
