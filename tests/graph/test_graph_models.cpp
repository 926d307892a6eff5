// Compiled graphs against the hand-written oracles: every shipped template, given the oracle's
// weights, gives the same scores, loss and gradients on the same batch; its fast all-items
// scoring equals scoring every pair, and scoring one history against many candidates equals
// batches with the history on every row; every template trains for real; NeuMF's pre-training
// loads its parts; custom graphs with the other blocks train; invalid graphs are refused
// before any training starts. The fused training step (no autograd) of the NCF and MF graphs
// gives autograd's loss and gradients, and trains NeuMF on ml-100k as autograd does.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "graph/GraphTemplates.h"
#include "oracles/BiasedMF.h"
#include "oracles/DeepInterest.h"
#include "oracles/NeuMF.h"

#include "data/DatasetSource.h"
#include "data/SampleGenerator.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"
#include "runs/Metrics.h"
#include "train/Trainer.h"
#include "util/Runtime.h"

#include "graph/GraphChecks.h" // brings Qt's headers: after every LibTorch one
#include "TestData.h"

#include <cmath>

using namespace reclab;
using namespace reclab::checks;

class TestGraphModels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void templatesMatchOracles_data();
    void templatesMatchOracles();
    void fusedStepTrainsAsAutograd();
    void fusedActivationUnitTrainsAsAutograd();
    void everyTemplateTrains_data();
    void everyTemplateTrains();
    void pretrainingLoadsTheParts();
    void customGraphsTrain();
    void allItemsScoringEqualsPairs();
    void historyScoringEqualsBatches();
    void invalidGraphIsRefusedBeforeTraining();
    void savedWeightsReload();
    void torchScriptLoadsInPython_data();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

// Small sizes, so every template runs in a moment.
TrainConfig smallConfig(const std::string& model)
{
    TrainConfig c = defaultConfigFor(model);
    c.factors = 8;
    c.mlpLayers = c.protocol == "din" ? std::vector<int64_t>{32, 16} : std::vector<int64_t>{32, 16, 8};
    c.attentionLayers = {16, 8};
    c.epochs = 1;
    c.pretrain = false;
    c.batchSize = 512;
    c.l2 = model == "mf" ? 0.05 : model == "base" || model == "din" ? 0.1 : 1e-3;
    return c;
}

std::shared_ptr<Recommender> oracleFor(const std::string& model, const ModelShape& s, const TrainConfig& c)
{
    if (model == "mf") {
        BiasedMFOptions o;
        o.numUsers = s.numUsers;
        o.numItems = s.numItems;
        o.factors = c.factors;
        o.globalMean = s.globalMean;
        o.l2 = c.l2;
        return std::make_shared<BiasedMFImpl>(o);
    }
    if (model == "base" || model == "din") {
        DeepInterestOptions o;
        o.pooling = model == "din" ? DeepInterestOptions::Attention : DeepInterestOptions::Sum;
        o.numItems = s.numItems;
        o.embedding = c.factors;
        o.attentionLayers = c.attentionLayers;
        o.mlpLayers = c.mlpLayers;
        o.l2 = c.l2;
        return std::make_shared<DeepInterestImpl>(o, s.itemData, s.numGenres, s.itemSampleCounts);
    }
    NeuMFOptions o;
    o.branches = model == "gmf" ? NcfBranches::GmfOnly : model == "mlp" ? NcfBranches::MlpOnly : NcfBranches::Both;
    o.numUsers = s.numUsers;
    o.numItems = s.numItems;
    o.gmfFactors = c.factors;
    o.mlpLayers = c.mlpLayers;
    o.l2 = c.l2;
    return std::make_shared<NeuMFImpl>(o);
}

// The oracle's name of a compiled graph's weight.
std::string oracleName(const std::string& name, const TrainConfig& c)
{
    auto replacePrefix = [&](const std::string& from, const std::string& to) -> std::optional<std::string> {
        if (name.rfind(from, 0) == 0)
            return to + name.substr(from.size());
        return std::nullopt;
    };
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"items.", "item_embedding."},
             {"genres.", "genre_embedding."},
             {"attention.input.", "attention_in."},
             {"attention.tail.", "attention."},
             {"logit.", "tower." + std::to_string(2 * c.mlpLayers.size()) + "."}})
        if (auto renamed = replacePrefix(from, to))
            return *renamed;
    return name;
}

bool isDataBuffer(const std::string& name)
{
    return name == "genre_mix" || name == "user_features" || name == "item_features" || name == "inverse_counts";
}

// Copies every weight and statistic of the oracle into the graph; all must have a counterpart.
void copyOracle(torch::nn::Module& oracle, GraphModelImpl& graph, const TrainConfig& c)
{
    torch::NoGradGuard noGrad;
    const auto sources = oracle.named_parameters();
    const auto sourceBuffers = oracle.named_buffers();
    size_t copied = 0;
    for (auto& p : graph.named_parameters()) {
        const auto* source = sources.find(oracleName(p.key(), c));
        QVERIFY2(source, qPrintable(QString::fromStdString("no oracle weight for " + p.key())));
        QCOMPARE(source->sizes(), p.value().sizes());
        p.value().copy_(*source);
        ++copied;
    }
    QCOMPARE(copied, sources.size());
    for (auto& b : graph.named_buffers()) {
        if (isDataBuffer(b.key()))
            continue;
        const auto* source = sourceBuffers.find(oracleName(b.key(), c));
        QVERIFY2(source, qPrintable(QString::fromStdString("no oracle buffer for " + b.key())));
        b.value().copy_(*source);
    }
}

} // namespace

void TestGraphModels::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestGraphModels::templatesMatchOracles_data()
{
    QTest::addColumn<QString>("model");
    for (const char* m : {"gmf", "mlp", "neumf", "mf", "base", "din"})
        QTest::newRow(m) << m;
}

void TestGraphModels::templatesMatchOracles()
{
    QFETCH(QString, model);
    const std::string name = model.toStdString();
    const TrainConfig c = smallConfig(name);
    const auto task = TrainingTask::create(findModel(name)->task, *sample_, c);
    const ModelShape shape = task->shape();
    torch::manual_seed(7);
    auto oracle = oracleFor(name, shape, c);
    auto compiled = createModel(*findModel(name), shape, c);
    auto* graph = dynamic_cast<GraphModelImpl*>(compiled.get());
    QVERIFY(graph);
    copyOracle(*oracle, *graph, c);

    Random rng(3);
    const Batch batch = firstRows(task->sampleEpoch(rng, InputType::Pointwise), 300);
    // Scores in evaluation.
    oracle->eval();
    graph->eval();
    {
        torch::NoGradGuard noGrad;
        const double d = maxDiff(graph->predictBatch(batch), oracle->predictBatch(batch));
        QVERIFY2(d <= 1e-6, qPrintable(QString("scores differ by %1").arg(d)));
    }
    // Loss (with its regulariser) and every gradient, in training mode.
    oracle->train();
    graph->train();
    const auto oracleLoss = oracle->calculateLoss(batch);
    const auto graphLoss = graph->calculateLoss(batch);
    QVERIFY2(std::abs(oracleLoss.item<double>() - graphLoss.item<double>()) <= 1e-6,
             qPrintable(QString("loss %1 vs %2").arg(graphLoss.item<double>()).arg(oracleLoss.item<double>())));
    oracleLoss.backward();
    graphLoss.backward();
    const auto oracleParams = oracle->named_parameters();
    for (const auto& p : graph->named_parameters()) {
        const auto& g = oracleParams[oracleName(p.key(), c)].grad();
        QVERIFY2(p.value().grad().defined() == g.defined(), p.key().c_str());
        if (g.defined()) {
            const double d = maxDiff(p.value().grad(), g);
            QVERIFY2(d <= 1e-6, qPrintable(QString::fromStdString(p.key()) + QString(": gradients differ by %1").arg(d)));
        }
    }
    // The fused step (the NCF and MF graphs): autograd's loss and gradients, times the weight.
    std::string why;
    const bool fused = graph->hasFusedStep(&why);
    QCOMPARE(fused, name != "base" && name != "din");
    if (!fused) {
        QVERIFY2(why.find("history") != std::string::npos, why.c_str());
    } else {
        for (auto& p : graph->parameters())
            p.grad().zero_();
        const double weighted = graph->trainingStep(batch, 0.5).item<double>();
        QVERIFY2(std::abs(weighted - 0.5 * oracleLoss.item<double>()) <= 1e-6,
                 qPrintable(QString("fused loss %1 vs %2").arg(weighted).arg(0.5 * oracleLoss.item<double>())));
        for (const auto& p : graph->named_parameters()) {
            const double d = maxDiff(p.value().grad(), 0.5 * oracleParams[oracleName(p.key(), c)].grad());
            QVERIFY2(d <= 1e-6, qPrintable(QString::fromStdString(p.key()) + QString(": fused gradients differ by %1").arg(d)));
        }
        // and the graph's own autograd step, to float rounding
        std::vector<torch::Tensor> fusedGrads;
        for (auto& p : graph->parameters()) {
            fusedGrads.push_back(p.grad().clone());
            p.grad().zero_();
        }
        graph->setFusedSteps(false);
        const double viaAutograd = graph->trainingStep(batch, 0.5).item<double>();
        graph->setFusedSteps(true);
        QVERIFY(std::abs(viaAutograd - weighted) <= 1e-7);
        size_t k = 0;
        for (const auto& p : graph->named_parameters()) {
            const auto& f = fusedGrads[k++];
            const double d = maxDiff(p.value().grad(), f); // bias sums are added in another order
            QVERIFY2(d <= 1e-7, qPrintable(QString::fromStdString(p.key()) + QString(": %1 from autograd's").arg(d)));
        }
    }
    // All items for some users, against the oracle's own fast path.
    if (findModel(name)->task != TaskKind::ClickThrough) {
        torch::NoGradGuard noGrad;
        graph->eval();
        oracle->eval();
        const auto users = torch::arange(0, 40, torch::kLong);
        const double d = maxDiff(graph->fullSortPredict(users), oracle->fullSortPredict(users));
        QVERIFY2(d <= 1e-5, qPrintable(QString("all-item scores differ by %1").arg(d)));
    }
}

// NeuMF at the paper's sizes, one epoch of ml-100k with the fused step and one through
// autograd from the same seed, with and without L2: the same weights up to float rounding.
void TestGraphModels::fusedStepTrainsAsAutograd()
{
    // Values read by several blocks (p by three, the item vector by two), a tanh tower and a
    // linear layer without bias: the fused step's gradients are autograd's.
    const GraphSpec shared = GraphSpec::parse(R"({"version": 1, "name": "shared", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "item", "type": "item_id"},
        {"id": "p", "type": "embedding", "params": {"dim": 6, "regularizer": "batch"}},
        {"id": "q", "type": "embedding", "params": {"dim": 6}}, {"id": "b", "type": "embedding", "params": {"dim": 6}},
        {"id": "item_vec", "type": "add"}, {"id": "dot", "type": "dot"}, {"id": "gmf", "type": "product"},
        {"id": "joined", "type": "concat", "params": {"inputs": 3}},
        {"id": "tower", "type": "mlp", "params": {"layers": [8, 4], "activation": "tanh"}},
        {"id": "out", "type": "linear", "params": {"units": 1, "bias": false}}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "user.out", "to": "p.ids"}, {"from": "item.out", "to": "q.ids"}, {"from": "item.out", "to": "b.ids"},
        {"from": "q.out", "to": "item_vec.a"}, {"from": "b.out", "to": "item_vec.b"},
        {"from": "p.out", "to": "dot.a"}, {"from": "item_vec.out", "to": "dot.b"},
        {"from": "p.out", "to": "gmf.a"}, {"from": "item_vec.out", "to": "gmf.b"},
        {"from": "gmf.out", "to": "joined.in1"}, {"from": "dot.out", "to": "joined.in2"}, {"from": "p.out", "to": "joined.in3"},
        {"from": "joined.out", "to": "tower.in"}, {"from": "tower.out", "to": "out.in"}, {"from": "out.out", "to": "click.logit"}]})");
    auto [model, batch] = trainedBriefly(*sample_, shared);
    model->train();
    QVERIFY(model->hasFusedStep());
    std::vector<torch::Tensor> viaAutograd;
    for (const bool fused : {false, true}) {
        for (auto& p : model->parameters())
            p.mutable_grad() = torch::zeros_like(p);
        model->setFusedSteps(fused);
        model->trainingStep(batch);
        size_t k = 0;
        for (const auto& p : model->named_parameters()) {
            if (!fused) {
                viaAutograd.push_back(p.value().grad().clone());
                continue;
            }
            const double d = maxDiff(p.value().grad(), viaAutograd[k++]);
            QVERIFY2(viaAutograd[k - 1].abs().max().item<double>() > 0, p.key().c_str());
            QVERIFY2(d <= 1e-7, qPrintable(QString::fromStdString(p.key()) + QString(": %1").arg(d)));
        }
    }

    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    TrainConfig c = defaultConfigFor("neumf");
    c.epochs = 1;
    c.factors = 8;
    c.mlpLayers = {64, 32, 16, 8};
    c.negatives = 4;
    c.pretrain = false;
    for (const double l2 : {0.0, 1e-3}) {
        c.l2 = l2;
        std::vector<torch::Tensor> weights[2];
        double hr[2] = {0, 0}, loss[2] = {0, 0};
        for (const bool autograd : {false, true}) {
            if (autograd)
                qputenv("RECLAB_AUTOGRAD_STEPS", "1");
            Trainer trainer(ds, c);
            trainer.setEpochCallback([&](const EpochStats& s) { loss[autograd] = s.loss; });
            const RunOutcome outcome = trainer.fit();
            qunsetenv("RECLAB_AUTOGRAD_STEPS");
            QCOMPARE(outcome.status, RunStatus::Finished);
            auto* graph = dynamic_cast<GraphModelImpl*>(trainer.model().get());
            QVERIFY(graph);
            QCOMPARE(graph->hasFusedStep(), !autograd);
            hr[autograd] = metricOr(outcome.finalMetrics, "hr@10", 0);
            for (const auto& p : graph->parameters())
                weights[autograd].push_back(p.detach().clone());
        }
        double d = 0;
        for (size_t k = 0; k < weights[0].size(); ++k)
            d = std::max(d, maxDiff(weights[0][k], weights[1][k]));
        qInfo("NeuMF, one epoch of ml-100k, L2 %g: HR@10 %.4f fused, %.4f autograd; loss %.7f and %.7f; weights "
              "differ by at most %.2e", l2, hr[0], hr[1], loss[0], loss[1], d);
        QVERIFY(hr[0] >= 0.4);
        QVERIFY2(std::abs(loss[0] - loss[1]) <= 1e-5 * loss[1], qPrintable(QString("%1 vs %2").arg(loss[0]).arg(loss[1])));
        QVERIFY2(std::abs(hr[0] - hr[1]) <= 0.003, qPrintable(QString("%1 vs %2").arg(hr[0]).arg(hr[1])));
        QVERIFY2(d <= 1e-5, qPrintable(QString::number(d)));
    }
}

// DIN's activation unit in training runs as one fused node split over RecLab's threads: on a
// batch of ml-100k's DIN protocol, under Dice and PReLU and on one and two threads, the loss,
// every gradient and Dice's running statistics are autograd's up to float rounding.
void TestGraphModels::fusedActivationUnitTrainsAsAutograd()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset ds = loadDataset(test::ml100kDir().toStdString());
    for (const std::string activation : {"dice", "prelu", "relu"}) {
        TrainConfig c = defaultConfigFor("din");
        c.activation = activation;
        const auto task = TrainingTask::create(findModel("din")->task, ds, c);
        torch::manual_seed(7);
        auto compiled = createModel(*findModel("din"), task->shape(), c);
        auto* graph = dynamic_cast<GraphModelImpl*>(compiled.get());
        QVERIFY(graph);
        // Only Dice and PReLU are fused; with them the epoch loop keeps LibTorch on one thread.
        QCOMPARE(graph->spreadsTraining(), activation != "relu");
        if (activation == "relu")
            continue;
        Random rng(5);
        const Batch batch = firstRows(task->sampleEpoch(rng, InputType::Pointwise), 256);
        QVERIFY(batch.historyLength.sum().item<int64_t>() > 5000); // behaviours to split
        graph->train();
        std::vector<torch::Tensor> buffersBefore;
        for (const auto& b : graph->buffers())
            buffersBefore.push_back(b.clone());
        auto step = [&](bool fused, int threads, std::vector<torch::Tensor>& out) {
            for (size_t k = 0; k < buffersBefore.size(); ++k)
                graph->buffers()[k].copy_(buffersBefore[k]);
            for (auto& p : graph->parameters())
                p.mutable_grad() = torch::zeros_like(p);
            graph->setFusedSteps(fused);
            setEvaluationThreads(threads);
            const double loss = graph->trainingStep(batch).item<double>();
            setEvaluationThreads(0);
            for (const auto& p : graph->parameters())
                out.push_back(p.grad().clone());
            for (const auto& b : graph->buffers())
                out.push_back(b.clone());
            return loss;
        };
        std::vector<torch::Tensor> autograd;
        const double reference = step(false, 1, autograd);
        for (const int threads : {1, 2}) {
            std::vector<torch::Tensor> fused;
            const double loss = step(true, threads, fused);
            QVERIFY2(std::abs(loss - reference) <= 1e-6,
                     qPrintable(QString("%1, %2 threads: loss %3 vs %4").arg(activation.c_str()).arg(threads).arg(loss).arg(reference)));
            double worst = 0;
            for (size_t k = 0; k < fused.size(); ++k) {
                const double scale = std::max(1e-3, autograd[k].abs().max().item<double>());
                worst = std::max(worst, maxDiff(fused[k], autograd[k]) / scale);
            }
            qInfo("%s, %d thread(s): gradients and running statistics within %.2e of autograd's (relative)",
                  activation.c_str(), threads, worst);
            QVERIFY2(worst <= 2e-4, qPrintable(QString("%1, %2 threads: %3").arg(activation.c_str()).arg(threads).arg(worst)));
        }
        graph->setFusedSteps(true);
    }
}

void TestGraphModels::everyTemplateTrains_data()
{
    templatesMatchOracles_data();
}

void TestGraphModels::everyTemplateTrains()
{
    QFETCH(QString, model);
    TrainConfig c = smallConfig(model.toStdString());
    c.epochs = 2;
    Trainer trainer(sample_, c);
    std::vector<double> losses;
    trainer.setEpochCallback([&](const EpochStats& s) {
        losses.push_back(s.loss);
        for (const auto& m : s.metrics)
            QVERIFY2(std::isfinite(m.value), m.name.c_str());
    });
    const RunOutcome outcome = trainer.fit();
    QCOMPARE(outcome.status, RunStatus::Finished);
    QCOMPARE(losses.size(), size_t(2));
    QVERIFY2(losses[1] < losses[0], qPrintable(QString("%1 then %2").arg(losses[0]).arg(losses[1])));
}

void TestGraphModels::pretrainingLoadsTheParts()
{
    const TrainConfig c = smallConfig("neumf");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    auto make = [&](const char* name) {
        auto m = createModel(*findModel(name), task->shape(), c);
        return std::dynamic_pointer_cast<GraphModelImpl>(m);
    };
    auto gmf = make("gmf"), mlp = make("mlp"), neumf = make("neumf");
    neumf->loadPretrained({gmf.get(), mlp.get()}, 0.3);
    {
        torch::NoGradGuard noGrad;
        const auto users = torch::randint(0, task->shape().numUsers, {64}, torch::kLong);
        const auto items = torch::randint(0, task->shape().numItems, {64}, torch::kLong);
        const auto expected = 0.3 * gmf->predict(users, items) + 0.7 * mlp->predict(users, items);
        QVERIFY(maxDiff(neumf->predict(users, items), expected) < 1e-5);
    }

    // Through the trainer: two pre-training phases, then NeuMF's own epochs.
    TrainConfig pre = c;
    pre.pretrain = true;
    Trainer trainer(sample_, pre);
    std::set<std::string> phases;
    trainer.setBatchCallback([&](const BatchProgress& p) { phases.insert(p.phase); });
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    QCOMPARE(phases, (std::set<std::string>{"", "gmf", "mlp"}));
}

namespace {

GraphSpec customClickGraph()
{
    // Mean-pooled history and dense features through batch norm, PReLU, dropout and tanh.
    return GraphSpec::parse(R"({"version": 1, "name": "pooled", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "dense", "type": "dense_features"},
        {"id": "candidate", "type": "embedding", "params": {"dim": 8, "table": "items"}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 8, "table": "items"}},
        {"id": "pool", "type": "mean_pool"},
        {"id": "joined", "type": "concat", "params": {"inputs": 3}},
        {"id": "norm", "type": "batch_norm"},
        {"id": "hidden", "type": "linear", "params": {"units": 16}},
        {"id": "act", "type": "prelu"}, {"id": "drop", "type": "dropout", "params": {"p": 0.1}},
        {"id": "squash", "type": "tanh"}, {"id": "logit", "type": "linear", "params": {"units": 1}},
        {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        {"from": "behaviours.out", "to": "pool.in"}, {"from": "pool.out", "to": "joined.in1"},
        {"from": "candidate.out", "to": "joined.in2"}, {"from": "dense.out", "to": "joined.in3"},
        {"from": "joined.out", "to": "norm.in"}, {"from": "norm.out", "to": "hidden.in"},
        {"from": "hidden.out", "to": "act.in"}, {"from": "act.out", "to": "drop.in"},
        {"from": "drop.out", "to": "squash.in"}, {"from": "squash.out", "to": "logit.in"},
        {"from": "logit.out", "to": "click.logit"}]})");
}

// Users' ages and the items' years with MF-style factors: every granularity of all-item scoring.
GraphSpec customRankingGraph()
{
    return GraphSpec::parse(R"({"version": 1, "name": "side", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "item", "type": "item_id"},
        {"id": "genres", "type": "item_category"},
        {"id": "dense", "type": "dense_features", "params": {"features": ["item_year", "user_age"]}},
        {"id": "p", "type": "embedding", "params": {"dim": 6}},
        {"id": "q", "type": "embedding", "params": {"dim": 6}},
        {"id": "g", "type": "embedding", "params": {"dim": 6}},
        {"id": "item_vec", "type": "add"}, {"id": "dot", "type": "dot"},
        {"id": "gmf", "type": "product"}, {"id": "act", "type": "sigmoid"},
        {"id": "joined", "type": "concat", "params": {"inputs": 4}},
        {"id": "tower", "type": "mlp", "params": {"layers": [8], "activation": "relu"}},
        {"id": "out", "type": "linear", "params": {"units": 1}},
        {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "user.out", "to": "p.ids"}, {"from": "item.out", "to": "q.ids"},
        {"from": "genres.out", "to": "g.ids"}, {"from": "q.out", "to": "item_vec.a"},
        {"from": "g.out", "to": "item_vec.b"}, {"from": "p.out", "to": "dot.a"},
        {"from": "item_vec.out", "to": "dot.b"}, {"from": "p.out", "to": "gmf.a"},
        {"from": "item_vec.out", "to": "gmf.b"}, {"from": "gmf.out", "to": "act.in"},
        {"from": "act.out", "to": "joined.in1"}, {"from": "dot.out", "to": "joined.in2"},
        {"from": "dense.out", "to": "joined.in3"}, {"from": "p.out", "to": "joined.in4"},
        {"from": "joined.out", "to": "tower.in"}, {"from": "tower.out", "to": "out.in"},
        {"from": "out.out", "to": "click.logit"}]})");
}

// DIN-like, but the attention's query adds the user's vector to the candidate's: the unit reads
// more than two items, so no table of item pairs can stand for it.
GraphSpec userQueryGraph()
{
    return GraphSpec::parse(R"({"version": 1, "name": "user_query", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "p", "type": "embedding", "params": {"dim": 8}},
        {"id": "candidate", "type": "embedding", "params": {"dim": 8, "table": "items"}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 8, "table": "items"}},
        {"id": "query", "type": "add"},
        {"id": "attention", "type": "din_attention", "params": {"layers": [12, 6], "activation": "dice"}},
        {"id": "joined", "type": "concat"},
        {"id": "logit", "type": "linear", "params": {"units": 1}}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "user.out", "to": "p.ids"}, {"from": "item.out", "to": "candidate.ids"},
        {"from": "history.out", "to": "behaviours.ids"}, {"from": "candidate.out", "to": "query.a"},
        {"from": "p.out", "to": "query.b"}, {"from": "behaviours.out", "to": "attention.keys"},
        {"from": "query.out", "to": "attention.query"}, {"from": "attention.out", "to": "joined.in1"},
        {"from": "query.out", "to": "joined.in2"}, {"from": "joined.out", "to": "logit.in"},
        {"from": "logit.out", "to": "click.logit"}]})");
}

// Each behaviour multiplied by the candidate before pooling: behaviours and candidates meet
// before the pool, so the history cannot be shared by the candidates.
GraphSpec mixedHistoryGraph()
{
    return GraphSpec::parse(R"({"version": 1, "name": "mixed", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "candidate", "type": "embedding", "params": {"dim": 8, "table": "items"}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 8, "table": "items"}},
        {"id": "meet", "type": "product"}, {"id": "pool", "type": "sum_pool"},
        {"id": "logit", "type": "linear", "params": {"units": 1}}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        {"from": "behaviours.out", "to": "meet.a"}, {"from": "candidate.out", "to": "meet.b"},
        {"from": "meet.out", "to": "pool.in"}, {"from": "pool.out", "to": "logit.in"},
        {"from": "logit.out", "to": "click.logit"}]})");
}

} // namespace

void TestGraphModels::customGraphsTrain()
{
    for (const auto& [graph, protocol, metric] :
         {std::tuple{customClickGraph(), "din", "auc"}, std::tuple{customRankingGraph(), "loo", "hr@10"}}) {
        TrainConfig c;
        c.model = "graph";
        c.graph = graph.toJson();
        c.protocol = protocol;
        c.epochs = std::string(protocol) == "din" ? 2 : 5;
        c.batchSize = 512;
        Trainer trainer(sample_, c);
        double value = 0;
        trainer.setEpochCallback([&](const EpochStats& s) {
            for (const auto& m : s.metrics)
                if (m.name == metric)
                    value = m.value;
        });
        QCOMPARE(trainer.fit().status, RunStatus::Finished);
        qInfo("custom graph %s: %s %.4f", graph.name.c_str(), metric, value);
        // Well above chance: AUC 0.5; HR@10 of 1 positive among 100 is 0.1.
        QVERIFY2(value > (std::string(metric) == "auc" ? 0.6 : 0.3), qPrintable(QString::number(value)));
    }
}

void TestGraphModels::allItemsScoringEqualsPairs()
{
    // Users first .. first + n against every item, through fullSortPredict and as pairs.
    auto check = [](const GraphSpec& graph, const ModelShape& shape, int64_t first, int64_t n, bool spread) {
        GraphModel model(graph, GraphData::from(shape), 0.0);
        model->eval();
        torch::NoGradGuard noGrad;
        for (auto& p : model->parameters()) // well away from zero, if asked
            if (spread)
                p.normal_(0.0, 0.3);
        const int64_t items = shape.numItems;
        const auto users = torch::arange(first, first + n, torch::kLong);
        const auto all = model->fullSortPredict(users);
        QCOMPARE(all.sizes(), (std::vector<int64_t>{n, items}));
        const auto pairs = model->predict(users.repeat_interleave(items), torch::arange(items).repeat({n}));
        const double d = maxDiff(all, pairs.view({n, items}));
        QVERIFY2(d < 1e-5, qPrintable(QString::fromStdString(graph.name) + QString(": differ by %1").arg(d)));
    };
    TrainConfig c;
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    for (const auto& graph : {customRankingGraph(), graphTemplate("neumf"), graphTemplate("mf")}) {
        torch::manual_seed(11);
        check(graph, task->shape(), 5, 30, false);
    }
    // MLP towers over pairs run in blocks of items (compiled/PairTower): more items than a block,
    // a tower fed by its first layer's user and item parts (NeuMF) and one fed by pairs already
    // formed, a tanh tower with dropout, read by two blocks.
    const GraphSpec towers = GraphSpec::parse(R"({"version": 1, "name": "towers", "nodes": [
        {"id": "user", "type": "user_id"}, {"id": "item", "type": "item_id"},
        {"id": "p", "type": "embedding", "params": {"dim": 8}}, {"id": "q", "type": "embedding", "params": {"dim": 8}},
        {"id": "gmf", "type": "product"}, {"id": "joined", "type": "concat", "params": {"inputs": 3}},
        {"id": "tower", "type": "mlp", "params": {"layers": [24, 12], "activation": "tanh", "dropout": 0.3}},
        {"id": "head", "type": "linear", "params": {"units": 1}}, {"id": "act", "type": "sigmoid"},
        {"id": "side", "type": "linear", "params": {"units": 1}}, {"id": "sum", "type": "add"},
        {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "user.out", "to": "p.ids"}, {"from": "item.out", "to": "q.ids"},
        {"from": "p.out", "to": "gmf.a"}, {"from": "q.out", "to": "gmf.b"},
        {"from": "gmf.out", "to": "joined.in1"}, {"from": "p.out", "to": "joined.in2"},
        {"from": "q.out", "to": "joined.in3"}, {"from": "joined.out", "to": "tower.in"},
        {"from": "tower.out", "to": "head.in"}, {"from": "tower.out", "to": "act.in"},
        {"from": "act.out", "to": "side.in"}, {"from": "head.out", "to": "sum.a"},
        {"from": "side.out", "to": "sum.b"}, {"from": "sum.out", "to": "click.logit"}]})");
    ModelShape wide;
    wide.numUsers = 12;
    wide.numItems = 1300;
    for (const auto& [graph, tiles] : {std::pair{towers, true}, std::pair{graphTemplate("neumf"), true},
                                       std::pair{graphTemplate("neumf"), false}}) {
        qputenv("RECLAB_PAIR_TILES", tiles ? "1" : "0"); // the AVX-512 tiles where the CPU has them, or not
        torch::manual_seed(17);
        check(graph, wide, 0, wide.numUsers, true);
    }
    qunsetenv("RECLAB_PAIR_TILES");
}

void TestGraphModels::historyScoringEqualsBatches()
{
    // One user's history against many candidates (recommendations, attention maps) gives the
    // scores and attention weights of a batch with the history on every row: computed, from
    // the attention table, and after a weight changes (the table is then stale and not used).
    const TrainConfig c = defaultConfigFor("din");
    const auto task = TrainingTask::create(TaskKind::ClickThrough, *sample_, c);
    const ModelShape shape = task->shape();
    const int64_t items = shape.numItems, n = 300, maxLength = c.historyLength;
    for (const auto& [graph, tabled] : {std::pair{graphTemplate("din"), true}, std::pair{graphTemplate("base"), false},
                                        std::pair{customClickGraph(), false}, std::pair{userQueryGraph(), false}}) {
        const QString name = QString::fromStdString(graph.name);
        torch::manual_seed(13);
        GraphModel model(graph, GraphData::from(shape), 0.0);
        torch::NoGradGuard noGrad;
        for (auto& p : model->parameters()) // every layer's weights well away from zero
            p.normal_(0.0, 0.3);
        model->eval();
        QVERIFY2(model->sharesHistory(), qPrintable(name));
        const bool attention = model->family() == ModelFamily::Sequential;
        auto check = [&](const char* how) {
            for (const int64_t length : {int64_t(0), int64_t(1), int64_t(7), maxLength}) {
                const int64_t user = 3 + length;
                const auto history = torch::randperm(items, torch::kLong).narrow(0, 0, length);
                const auto candidates = torch::randperm(items, torch::kLong).narrow(0, 0, n);
                torch::Tensor weights;
                const auto shared = model->scoreHistory(user, history, candidates, &weights);
                Batch b;
                b.users = torch::full({n}, user, torch::kLong);
                b.items = candidates;
                b.history = torch::cat({history, torch::full({maxLength - length}, items, torch::kLong)}).unsqueeze(0).expand({n, maxLength});
                b.historyLength = torch::full({n}, length, torch::kLong);
                const auto batch = model->predictBatch(b);
                const QString where = name + " " + how + QString(", %1 behaviours").arg(length);
                QCOMPARE(shared.sizes(), batch.sizes());
                QVERIFY2(batch.std().item<double>() > 1e-3, qPrintable(where + ": scores do not vary"));
                // Float sums in another order: relative to the scores' size (DIN's, with weights
                // this large, reach the hundreds).
                const double scale = std::max(1.0, batch.abs().max().item<double>());
                const double d = maxDiff(shared, batch);
                QVERIFY2(d <= 1e-5 * scale, qPrintable(where + QString(": scores differ by %1 of up to %2").arg(d).arg(scale)));
                QCOMPARE(weights.defined(), attention);
                if (attention && length > 0) {
                    QCOMPARE(weights.sizes(), (std::vector<int64_t>{n, length}));
                    const auto reference = model->lastAttention().narrow(1, 0, length);
                    const double dw = maxDiff(weights, reference);
                    const double wscale = std::max(1.0, reference.abs().max().item<double>());
                    QVERIFY2(dw <= 1e-5 * wscale, qPrintable(where + QString(": weights differ by %1 of up to %2").arg(dw).arg(wscale)));
                }
            }
        };
        check("computed");
        QCOMPARE(model->prepareAttentionTable(items - 1), false); // over the size limit: nothing built
        QVERIFY(!model->hasAttentionTable());
        QCOMPARE(model->prepareAttentionTable(), tabled);
        QCOMPARE(model->hasAttentionTable(), tabled);
        if (!tabled)
            continue;
        check("from the table");
        model->parameters().front().add_(0.05); // an in-place change, as an optimiser step makes
        QVERIFY(!model->hasAttentionTable());
        check("after a change");
    }
    // Behaviours multiplied by the candidate before pooling: refused, not scored wrongly.
    GraphModel mixed(mixedHistoryGraph(), GraphData::from(shape), 0.0);
    mixed->eval();
    QVERIFY(!mixed->sharesHistory());
    QVERIFY(!mixed->prepareAttentionTable());
    QVERIFY_THROWS_EXCEPTION(std::logic_error, mixed->scoreHistory(0, torch::arange(3), torch::arange(5)));
}

void TestGraphModels::invalidGraphIsRefusedBeforeTraining()
{
    GraphSpec g = graphTemplate("gmf");
    g.node("item_gmf")->params["dim"] = 32; // gmf's product gets 64 and 32
    TrainConfig c;
    c.model = "graph";
    c.graph = g.toJson();
    try {
        Trainer trainer(sample_, c);
        QFAIL("accepted");
    } catch (const GraphError& e) {
        QVERIFY2(QString(e.what()).contains("block 'gmf', port 'b': widths differ: a is B×64, b is B×32"), e.what());
    }
    c.graph = nullptr;
    QVERIFY_THROWS_EXCEPTION(ConfigError, Trainer(sample_, c));
}

namespace {

std::map<QString, GraphSpec> exportCases()
{
    std::map<QString, GraphSpec> cases;
    for (const char* name : {"gmf", "mlp", "neumf", "mf", "base", "din"})
        cases.emplace(name, graphTemplate(name));
    cases.emplace("custom pooled", customClickGraph());
    cases.emplace("custom side", customRankingGraph());
    return cases;
}

} // namespace

void TestGraphModels::savedWeightsReload()
{
    auto [model, batch] = trainedBriefly(*sample_, graphTemplate("din"));
    QTemporaryDir dir;
    saveTrainedGraph(*model, dir.path().toStdString());
    GraphModel again = loadTrainedGraph(dir.path().toStdString());
    torch::NoGradGuard noGrad;
    QCOMPARE(maxDiff(again->predictBatch(batch), model->predictBatch(batch)), 0.0);
    QVERIFY_THROWS_EXCEPTION(GraphError, loadTrainedGraph(dir.filePath("nothing").toStdString()));
}

void TestGraphModels::torchScriptLoadsInPython_data()
{
    QTest::addColumn<QString>("name");
    for (const auto& [name, graph] : exportCases())
        QTest::newRow(qPrintable(name)) << name;
}

void TestGraphModels::torchScriptLoadsInPython()
{
    QFETCH(QString, name);
    auto [model, batch] = trainedBriefly(*sample_, exportCases().at(name));
    checkTorchScriptInPython(*model, batch, name);
}

QTEST_APPLESS_MAIN(TestGraphModels)
#include "test_graph_models.moc"
