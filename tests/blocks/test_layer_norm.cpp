// The LayerNorm block: its shape rule and parameter count, its scores against the formula
// computed by hand (per row and per behaviour of a padded sequence, padding left out), its
// all-item and shared-history passes against batches, and its TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

using namespace reclab;
using namespace reclab::checks;

class TestLayerNorm : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndParameters();
    void rowsMatchTheFormula();
    void sequencesMatchTheFormula();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

// The user's vector normalised, against the item's: every pass of a ranking graph.
GraphSpec rankingGraph(const std::string& params = "{}")
{
    return GraphSpec::parse(R"({"version": 1, "name": "ln_rows", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "item", "type": "item_id"},
        {"id": "p", "type": "embedding", "params": {"dim": 8, "init_std": 0.5}},
        {"id": "q", "type": "embedding", "params": {"dim": 8, "init_std": 0.5}},
        {"id": "norm", "type": "layer_norm", "params": )" + params + R"(},
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "user.out", "to": "p.ids"}, {"from": "item.out", "to": "q.ids"},
        {"from": "p.out", "to": "norm.in"}, {"from": "norm.out", "to": "dot.a"},
        {"from": "q.out", "to": "dot.b"}, {"from": "dot.out", "to": "click.logit"}]})");
}

// Each behaviour normalised, then averaged and met with the candidate: a sequence with padding.
GraphSpec historyGraph()
{
    return GraphSpec::parse(R"({"version": 1, "name": "ln_history", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "candidate", "type": "embedding", "params": {"dim": 8, "table": "items", "init_std": 0.5}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 8, "table": "items", "init_std": 0.5}},
        {"id": "norm", "type": "layer_norm", "params": {"eps": 0.001}}, {"id": "pool", "type": "mean_pool"},
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        {"from": "behaviours.out", "to": "norm.in"}, {"from": "norm.out", "to": "pool.in"},
        {"from": "pool.out", "to": "dot.a"}, {"from": "candidate.out", "to": "dot.b"},
        {"from": "dot.out", "to": "click.logit"}]})");
}

// y = g * (x - mean) / sqrt(var + eps) + b per row, in double, from first principles.
torch::Tensor layerNormByHand(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b, double eps)
{
    const auto xd = x.to(torch::kDouble);
    const auto mean = xd.sum(1, true) / static_cast<double>(x.size(1));
    const auto var = (xd - mean).pow(2).sum(1, true) / static_cast<double>(x.size(1));
    return (xd - mean) / (var + eps).sqrt() * g.to(torch::kDouble) + b.to(torch::kDouble);
}

// The model's parameter of this name.
torch::Tensor weight(GraphModelImpl& m, const std::string& name)
{
    const auto* t = m.named_parameters().find(name);
    if (!t)
        throw std::runtime_error("no parameter " + name);
    return *t;
}

std::shared_ptr<GraphModelImpl> compiled(const Dataset& data, const GraphSpec& graph, TaskKind task)
{
    const auto t = TrainingTask::create(task, data, defaultConfigFor(task == TaskKind::ClickThrough ? "din" : "neumf"));
    torch::manual_seed(3);
    auto model = std::make_shared<GraphModelImpl>(graph, GraphData::from(t->shape()), 0.0);
    torch::NoGradGuard noGrad;
    weight(*model, "norm.weight").uniform_(0.5, 1.5); // scale and shift away from 1 and 0
    weight(*model, "norm.bias").normal_(0.0, 0.3);
    model->eval();
    return model;
}

} // namespace

void TestLayerNorm::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestLayerNorm::shapeAndParameters()
{
    const BlockSpec* spec = findBlock("layer_norm");
    QVERIFY(spec);
    QCOMPARE(QString::fromStdString(spec->category), QString("Layers"));
    const GraphContext sizes = graphContextOf(*sample_);
    const GraphAnalysis a = analyseGraph(rankingGraph(), sizes);
    QVERIFY2(a.ok(), a.report().c_str());
    QCOMPARE(a.block("norm")->output->text(), std::string("B×8"));
    QCOMPARE(a.block("norm")->parameters, int64_t(16)); // γ and β
    QCOMPARE(analyseGraph(rankingGraph(R"({"affine": false})"), sizes).block("norm")->parameters, int64_t(0));
    QCOMPARE(analyseGraph(historyGraph(), sizes).block("norm")->output->text(), std::string("B×L×8"));

    const GraphAnalysis badEps = analyseGraph(rankingGraph(R"({"eps": 0})"), sizes);
    QVERIFY(!badEps.ok());
    QVERIFY2(badEps.report().find("block 'norm': parameter 'eps': expected a number from 1e-12 to 1") != std::string::npos,
             badEps.report().c_str());
    // Ids cannot be normalised: the connection is refused with the reason.
    GraphSpec g = rankingGraph();
    g.edges.erase(std::remove_if(g.edges.begin(), g.edges.end(), [](const GraphEdge& e) { return e.to.node == "norm"; }),
                  g.edges.end());
    QCOMPARE(connectionProblem(g, {"user", "out"}, {"norm", "in"}, sizes),
             std::string("LayerNorm 'in' takes vectors, not ids (embed them first)"));
}

void TestLayerNorm::rowsMatchTheFormula()
{
    auto model = compiled(*sample_, rankingGraph(), TaskKind::ImplicitRanking);
    torch::NoGradGuard noGrad;
    const int64_t items = model->data().numItems;
    const auto users = torch::arange(4, 24, torch::kLong);
    const auto expected = torch::matmul(layerNormByHand(weight(*model, "p.weight").index_select(0, users),
                                                        weight(*model, "norm.weight"), weight(*model, "norm.bias"), 1e-5),
                                        weight(*model, "q.weight").to(torch::kDouble).t()); // [20, items]
    const auto pairs = model->predict(users.repeat_interleave(items), torch::arange(items).repeat({users.size(0)}));
    const double d = maxDiff(pairs.view({users.size(0), items}).to(torch::kDouble), expected);
    QVERIFY2(d < 1e-5, qPrintable(QString("pairs differ from the formula by %1").arg(d)));
    // Every item for these users at once: the same scores.
    QVERIFY(maxDiff(model->fullSortPredict(users), pairs.view({users.size(0), items})) < 1e-5);
}

void TestLayerNorm::sequencesMatchTheFormula()
{
    auto model = compiled(*sample_, historyGraph(), TaskKind::ClickThrough);
    torch::NoGradGuard noGrad;
    const int64_t items = model->data().numItems, n = 50, maxLength = 12;
    QVERIFY(model->sharesHistory());
    const auto table = weight(*model, "items.weight");
    for (const int64_t length : {int64_t(0), int64_t(1), int64_t(5), maxLength}) {
        const auto history = torch::randperm(items, torch::kLong).narrow(0, 0, length);
        const auto candidates = torch::randperm(items, torch::kLong).narrow(0, 0, n);
        Batch b;
        b.users = torch::zeros({n}, torch::kLong);
        b.items = candidates;
        // Padding holds an id past the table: it must never be looked up or counted.
        b.history = torch::cat({history, torch::full({maxLength - length}, items, torch::kLong)}).unsqueeze(0).expand({n, maxLength});
        b.historyLength = torch::full({n}, length, torch::kLong);
        const auto batch = model->predictBatch(b);
        QVERIFY2(torch::isfinite(batch).all().item<bool>(), qPrintable(QString("%1 behaviours: not finite").arg(length)));
        auto pooled = torch::zeros({1, table.size(1)}, torch::kDouble);
        if (length > 0)
            pooled = layerNormByHand(table.index_select(0, history), weight(*model, "norm.weight"),
                                     weight(*model, "norm.bias"), 1e-3)
                         .mean(0, true);
        const auto expected = (pooled * table.index_select(0, candidates).to(torch::kDouble)).sum(1);
        const double d = maxDiff(batch.to(torch::kDouble), expected);
        QVERIFY2(d < 1e-5, qPrintable(QString("%1 behaviours: differs from the formula by %2").arg(length).arg(d)));
        // One history against all candidates: the same scores.
        const auto shared = model->scoreHistory(0, history, candidates);
        QVERIFY2(maxDiff(shared, batch) < 1e-5, qPrintable(QString("%1 behaviours: shared scoring differs").arg(length)));
    }
}

void TestLayerNorm::torchScriptLoadsInPython()
{
    for (const auto& graph : {rankingGraph(), historyGraph()}) {
        auto [model, batch] = trainedBriefly(*sample_, graph);
        checkTorchScriptInPython(*model, batch, QString::fromStdString(graph.name));
    }
}

QTEST_APPLESS_MAIN(TestLayerNorm)
#include "test_layer_norm.moc"
