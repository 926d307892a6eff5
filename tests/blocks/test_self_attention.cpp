// The position embedding and Transformer layer blocks: shape rules and parameter counts against
// the compiled modules, the layer's states against the formula computed by hand in double on
// each unpadded sequence alone (per head, causal, places counted back from the latest; padding
// never read, an empty history finite), shared-history scoring against batches, and the
// SASRec template's TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

using namespace reclab;
using namespace reclab::checks;

class TestSelfAttention : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndParameters();
    void statesMatchTheFormula();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

GraphSpec attentionGraph(const std::string& layer)
{
    return GraphSpec::parse(R"({"version": 1, "name": "self_attention", "nodes": [
        {"id": "history", "type": "history"},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 8, "table": "items", "init_std": 0.5}},
        {"id": "places", "type": "position_embedding", "params": {"max_length": 4}},
        {"id": "layer", "type": "transformer_layer", "params": )" + layer + R"(},
        {"id": "next", "type": "next_item_output"}],
      "edges": [
        {"from": "history.out", "to": "behaviours.ids"}, {"from": "behaviours.out", "to": "places.in"},
        {"from": "places.out", "to": "layer.in"}, {"from": "layer.out", "to": "next.state"}]})");
}

torch::Tensor param(GraphModelImpl& m, const std::string& name)
{
    const auto* t = m.named_parameters().find(name);
    if (!t)
        throw std::runtime_error("no parameter " + name);
    return t->to(torch::kDouble);
}

torch::Tensor layerNorm(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b)
{
    const auto mean = x.mean(1, true);
    const auto var = (x - mean).pow(2).mean(1, true);
    return (x - mean) / (var + 1e-12).sqrt() * g + b;
}

// The layer's output for one real sequence x [len, d], from the definitions.
// The layer's states for x [len, d], and each head's weights [len, len] into maps when given.
torch::Tensor layerByHand(GraphModelImpl& m, const torch::Tensor& x, int64_t heads, bool causal, bool gelu,
                          std::vector<torch::Tensor>* maps = nullptr)
{
    const int64_t len = x.size(0), d = x.size(1), dh = d / heads;
    const auto linear = [&](const torch::Tensor& v, const std::string& name) {
        return v.matmul(param(m, "layer." + name + ".weight").t()) + param(m, "layer." + name + ".bias");
    };
    const auto qkv = linear(x, "project");
    std::vector<torch::Tensor> parts;
    for (int64_t h = 0; h < heads; ++h) {
        const auto q = qkv.narrow(1, h * dh, dh), k = qkv.narrow(1, d + h * dh, dh), v = qkv.narrow(1, 2 * d + h * dh, dh);
        auto out = torch::zeros({len, dh}, torch::kDouble);
        auto map = torch::zeros({len, len}, torch::kDouble);
        for (int64_t i = 0; i < len; ++i) {
            const int64_t seen = causal ? i + 1 : len;
            const auto w = torch::softmax(k.narrow(0, 0, seen).matmul(q[i]) / std::sqrt(double(dh)), 0);
            out[i] = w.matmul(v.narrow(0, 0, seen));
            map[i].narrow(0, 0, seen).copy_(w);
        }
        if (maps)
            maps->push_back(map);
        parts.push_back(out);
    }
    const auto x1 = layerNorm(x + linear(torch::cat(parts, 1), "output"), param(m, "layer.norm1.weight"),
                              param(m, "layer.norm1.bias"));
    const auto hidden = linear(x1, "inner");
    return layerNorm(x1 + linear(gelu ? torch::gelu(hidden) : torch::relu(hidden), "outer"), param(m, "layer.norm2.weight"),
                     param(m, "layer.norm2.bias"));
}

} // namespace

void TestSelfAttention::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestSelfAttention::shapeAndParameters()
{
    const GraphContext sizes = graphContextOf(*sample_);
    const GraphSpec g = attentionGraph(R"({"heads": 2, "inner": 12})");
    const GraphAnalysis a = analyseGraph(g, sizes);
    QVERIFY2(a.ok(), a.report().c_str());
    QCOMPARE(a.block("layer")->output->text(), std::string("B×L×8"));
    QCOMPARE(QString::fromStdString(findBlock("transformer_layer")->category), QString("Sequence"));
    auto model = compiledForHistory(*sample_, g, 3);
    int64_t layer = 0, places = 0;
    for (const auto& p : model->named_parameters()) {
        if (p.key().rfind("layer.", 0) == 0)
            layer += p.value().numel();
        if (p.key().rfind("places", 0) == 0)
            places += p.value().numel();
    }
    QCOMPARE(a.block("layer")->parameters, layer);
    QCOMPARE(a.block("places")->parameters, places);
    QCOMPARE(places, int64_t(4 * 8));
    const GraphAnalysis three = analyseGraph(attentionGraph(R"({"heads": 3})"), sizes);
    QVERIFY2(three.report().find("width 8 does not divide into 3 heads") != std::string::npos, three.report().c_str());
}

void TestSelfAttention::statesMatchTheFormula()
{
    const int64_t n = 6, L = 7;
    for (const char* layer : {R"({"heads": 2, "inner": 12, "dropout": 0.3})",
                              R"({"heads": 1, "inner": 5, "causal": false, "activation": "relu"})"}) {
        const bool causal = std::string(layer).find("false") == std::string::npos;
        const bool gelu = std::string(layer).find("relu") == std::string::npos;
        auto model = compiledForHistory(*sample_, attentionGraph(layer), 3);
        torch::NoGradGuard noGrad;
        const int64_t items = model->data().numItems;
        const auto table = param(*model, "items.weight"), places = param(*model, "places_places");
        const auto lengths = torch::tensor({0, 1, 3, 4, 6, 7}, torch::kLong); // longer than the 4 places too
        const auto [b, history] = historyRows(items, lengths, L);
        const auto scores = model->predictBatch(b);
        QVERIFY2(torch::isfinite(scores).all().item<bool>(), layer);
        for (int64_t row = 0; row < n; ++row) {
            const int64_t len = lengths[row].item<int64_t>();
            double expected = 0;
            const int64_t heads = std::string(layer).find("\"heads\": 2") != std::string::npos ? 2 : 1;
            if (len > 0) {
                const auto place = (len - 1 - torch::arange(len, torch::kLong)).clamp(0, 3);
                const auto x = table.index_select(0, history[row].narrow(0, 0, len)) + places.index_select(0, place);
                std::vector<torch::Tensor> maps;
                const auto states = layerByHand(*model, x, heads, causal, gelu, &maps);
                expected = states[len - 1].dot(table[b.items[row].item<int64_t>()]).item<double>();
                // The Attention view's maps: each head's weights of every entry over the entries.
                const auto got = model->sequenceAttention(0, b.history[row].narrow(0, 0, len));
                QCOMPARE(got.size(), static_cast<size_t>(heads));
                for (int64_t h = 0; h < heads; ++h) {
                    QCOMPARE(got[static_cast<size_t>(h)].label, "head " + std::to_string(h + 1));
                    QVERIFY2(maxDiff(got[static_cast<size_t>(h)].weights.to(torch::kDouble), maps[static_cast<size_t>(h)]) < 1e-5,
                             qPrintable(QString("%1, %2 behaviours: head %3's map").arg(layer).arg(len).arg(h + 1)));
                }
            }
            QVERIFY2(std::abs(scores[row].item<double>() - expected) < 1e-4,
                     qPrintable(QString("%1, %2 behaviours: %3, by hand %4").arg(layer).arg(len).arg(scores[row].item<double>()).arg(expected)));
            QVERIFY2(sharedScoringGap(*model, b.history[row], len, 25) < 1e-5,
                     qPrintable(QString("%1, %2 behaviours: shared scoring differs").arg(layer).arg(len)));
        }
    }
}

void TestSelfAttention::torchScriptLoadsInPython()
{
    const GraphSpec graph = graphFor(defaultConfigFor("sasrec"));
    auto [model, batch] = trainedBriefly(*sample_, graph);
    checkTorchScriptInPython(*model, batch, QStringLiteral("sasrec"));
}

QTEST_APPLESS_MAIN(TestSelfAttention)
#include "test_self_attention.moc"
