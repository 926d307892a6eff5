// The DIN protocol and the click-through models (Zhou et al. 2018): behaviour samples built by
// hand, Dice against LibTorch's own ops, the activation unit against the MLP on
// [h, t, h - t, h * t] it stands for, masking, mini-batch aware regularisation, and real
// training on MovieLens-100K where DIN must beat BaseModel.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "oracles/DeepInterest.h"

#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>

#include "TestData.h"

#include "data/BehaviourSplit.h"
#include "data/DatasetSource.h"
#include "data/SampleGenerator.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Error.h"

#include <QtTest>

#include <set>

using namespace reclab;

class TestDin : public QObject {
    Q_OBJECT
private slots:
    void behaviourSamplesByHand();
    void usersSplitBySeed();
    void implicitDataIsRefused();
    void diceMatchesLibTorchOps();
    void activationUnitIsTheMlpOnFourParts();
    void paddingDoesNotCount();
    void miniBatchAwareRegularisation();
    void protocolChecks();
    void dinBeatsBaseModelOnMovieLens();
};

namespace {

// Two users, five items with genres; user 0 rates in shuffled file order.
Dataset handDataset()
{
    Dataset ds;
    ds.name = "hand";
    ds.source = "hand-made";
    ds.userIds = {"u0", "u1"};
    ds.itemIds = {"a", "b", "c", "d", "e"};
    ds.genreNames = {"Drama", "Comedy"};
    for (const std::vector<int32_t>& g : std::vector<std::vector<int32_t>>{{0}, {1}, {0, 1}, {}, {1}})
        ds.items.appendGenres(g);
    ds.interactions.append(0, 2, 5, 300); // third for u0
    ds.interactions.append(0, 0, 3, 100); // first
    ds.interactions.append(1, 4, 4, 50);
    ds.interactions.append(0, 1, 4, 200); // second
    ds.interactions.append(0, 3, 1, 300); // fourth: same time as c, later in the file
    ds.interactions.append(1, 0, 2, 60);
    return ds;
}

std::vector<int32_t> historyOf(const BehaviourSamples& s, size_t row)
{
    const auto* h = s.history.data() + row * static_cast<size_t>(s.maxHistory);
    return std::vector<int32_t>(h, h + s.length[row]);
}

DeepInterestOptions smallOptions(DeepInterestOptions::Pooling pooling)
{
    DeepInterestOptions o;
    o.pooling = pooling;
    o.numItems = 5;
    o.embedding = 4;
    o.attentionLayers = {6, 3};
    o.mlpLayers = {5};
    return o;
}

Batch handBatch()
{
    // Two rows, histories of three slots: [a, b, pad] and [c, pad, pad], candidates d and e.
    Batch b;
    b.users = torch::tensor({0, 1}, torch::kLong);
    b.items = torch::tensor({3, 4}, torch::kLong);
    b.labels = torch::tensor({1.f, 0.f});
    b.history = torch::tensor({0, 1, 5, 2, 5, 5}, torch::kLong).view({2, 3});
    b.historyLength = torch::tensor({2, 1}, torch::kLong);
    return b;
}

} // namespace

void TestDin::behaviourSamplesByHand()
{
    const Dataset ds = handDataset();
    BehaviourSplitOptions o;
    o.maxHistory = 2;
    o.trainUserShare = 0.5;
    o.positiveRating = 4;
    const BehaviourSplit split = makeBehaviourSplit(ds, o);
    QCOMPARE(split.testUsers.size(), size_t(1));
    const bool u0Tests = split.testUsers[0] == 0;
    const BehaviourSamples& s0 = u0Tests ? split.test : split.train;
    const BehaviourSamples& s1 = u0Tests ? split.train : split.test;

    // User 0 in time order a(100) b(200) c(300) d(300, after c in the file): one sample per
    // rating, the latest two earlier ratings as behaviours, padded with the item count.
    QCOMPARE(s0.size(), size_t(4));
    QCOMPARE(s0.item, (std::vector<int32_t>{0, 1, 2, 3}));
    QCOMPARE(s0.label, (std::vector<float>{0, 1, 1, 0})); // ratings 3, 4, 5, 1 against >= 4
    QCOMPARE(historyOf(s0, 0), std::vector<int32_t>{});
    QCOMPARE(historyOf(s0, 1), (std::vector<int32_t>{0}));
    QCOMPARE(historyOf(s0, 2), (std::vector<int32_t>{0, 1}));
    QCOMPARE(historyOf(s0, 3), (std::vector<int32_t>{1, 2})); // truncated to the latest two
    QCOMPARE(s0.history[0], 5);
    QCOMPARE(s0.history[3], 5); // row 1, second slot: padding
    QCOMPARE(s1.item, (std::vector<int32_t>{4, 0}));
    QCOMPARE(historyOf(s1, 1), (std::vector<int32_t>{4}));
    QCOMPARE(s1.label, (std::vector<float>{1, 0}));
}

void TestDin::usersSplitBySeed()
{
    const Dataset ds = generateSampleDataset();
    BehaviourSplitOptions o;
    const BehaviourSplit a = makeBehaviourSplit(ds, o);
    const BehaviourSplit again = makeBehaviourSplit(ds, o);
    o.seed = 7;
    const BehaviourSplit other = makeBehaviourSplit(ds, o);
    QCOMPARE(a.testUsers, again.testUsers);
    QVERIFY(a.testUsers != other.testUsers);
    // 20% of the users, and no user on both sides.
    QCOMPARE(static_cast<double>(a.testUsers.size()), std::round(0.2 * ds.numUsers()));
    const std::set<int32_t> test(a.testUsers.begin(), a.testUsers.end());
    for (const int32_t u : a.train.user)
        QVERIFY(!test.count(u));
    for (const int32_t u : a.test.user)
        QVERIFY(test.count(u));
    QCOMPARE(a.train.size() + a.test.size(), ds.interactions.size());
}

void TestDin::implicitDataIsRefused()
{
    Dataset ds = handDataset();
    for (auto& r : ds.interactions.rating)
        r = 1;
    try {
        makeBehaviourSplit(ds, BehaviourSplitOptions{});
        QFAIL("expected a DataError");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains("explicit ratings"), e.what());
    }
}

void TestDin::diceMatchesLibTorchOps()
{
    torch::manual_seed(3);
    Dice fused(7), reference(7);
    torch::NoGradGuard outer;
    {
        auto alpha = fused->named_parameters()["alpha"];
        alpha.uniform_(-0.5, 0.5);
        reference->named_parameters()["alpha"].copy_(alpha);
    }
    for (const bool training : {true, false}) {
        fused->train(training);
        reference->train(training);
        torch::AutoGradMode grad(true);
        const auto input = torch::randn({33, 7}) * 2 + 0.5;
        auto x1 = input.clone().requires_grad_(true);
        auto x2 = input.clone().requires_grad_(true);
        const auto y1 = fused(x1);
        const auto y2 = reference->reference(x2);
        QVERIFY(torch::allclose(y1, y2, 1e-5, 1e-5));
        const auto g = torch::randn({33, 7});
        (y1 * g).sum().backward();
        (y2 * g).sum().backward();
        QVERIFY2(torch::allclose(x1.grad(), x2.grad(), 1e-4, 1e-5), training ? "train" : "eval");
        const auto a1 = fused->named_parameters()["alpha"].grad();
        const auto a2 = reference->named_parameters()["alpha"].grad();
        QVERIFY(torch::allclose(a1, a2, 1e-4, 1e-4));
        // Running statistics moved alike (training) or not at all (evaluation).
        QVERIFY(torch::allclose(fused->named_buffers()["running_var"], reference->named_buffers()["running_var"]));
        fused->zero_grad();
        reference->zero_grad();
    }
}

void TestDin::activationUnitIsTheMlpOnFourParts()
{
    torch::manual_seed(5);
    const Dataset ds = handDataset();
    DeepInterest din(smallOptions(DeepInterestOptions::Attention), &ds.items, 2);
    din->eval();
    torch::NoGradGuard noGrad;
    const Batch b = handBatch();
    torch::Tensor weights;
    din->forward(b, &weights);
    QCOMPARE(weights.sizes(), (torch::IntArrayRef{2, 3}));

    // The naive form: every behaviour h with its row's candidate t through Linear([h, t, h - t,
    // h * t]) and the rest of the unit.
    const auto rep = din->itemRepresentations();
    QCOMPARE(rep.size(1), int64_t(8)); // item and genre embeddings of 4
    QVERIFY(torch::allclose(rep[5], torch::zeros({8}))); // padding row
    // Item c has genres Drama and Comedy: its genre part is their mean.
    const auto genres = din->named_parameters()["genre_embedding.weight"];
    QVERIFY(torch::allclose(rep[2].narrow(0, 4, 4), (genres[0] + genres[1]) / 2));
    const std::vector<std::pair<int64_t, int64_t>> pairs = {{0, 0}, {0, 1}, {1, 2}}; // (row, item)
    for (size_t k = 0; k < pairs.size(); ++k) {
        const auto [row, item] = pairs[k];
        const auto h = rep[item].unsqueeze(0);
        const auto t = rep[b.items[row].item<int64_t>()].unsqueeze(0);
        const auto first = din->attentionInput()->forward(torch::cat({h, t, h - t, h * t}, 1));
        const float expected = din->attentionTail(first).item<float>();
        const int64_t slot = k == 1 ? 1 : 0;
        QVERIFY2(std::abs(weights[row][slot].item<float>() - expected) < 1e-5, qPrintable(QString::number(k)));
    }
    QCOMPARE(weights[0][2].item<float>(), 0.f);
    QCOMPARE(weights[1][1].item<float>(), 0.f);
}

void TestDin::paddingDoesNotCount()
{
    torch::manual_seed(9);
    const Dataset ds = handDataset();
    for (const auto pooling : {DeepInterestOptions::Sum, DeepInterestOptions::Attention}) {
        DeepInterest model(smallOptions(pooling), &ds.items, 2);
        model->eval();
        torch::NoGradGuard noGrad;
        Batch b = handBatch();
        torch::Tensor weights;
        const auto before = model->forward(b, &weights);
        if (pooling == DeepInterestOptions::Sum)
            QVERIFY(torch::equal(weights, torch::tensor({1.f, 1.f, 0.f, 1.f, 0.f, 0.f}).view({2, 3})));
        // What sits beyond a row's length is never read.
        b.history = torch::tensor({0, 1, 4, 2, 3, 0}, torch::kLong).view({2, 3});
        QVERIFY(torch::allclose(model->forward(b), before));
        // A real behaviour does count.
        b.historyLength = torch::tensor({3, 1}, torch::kLong);
        QVERIFY(!torch::allclose(model->forward(b)[0], before[0]));
        QVERIFY(torch::allclose(model->forward(b)[1], before[1]));
    }
}

void TestDin::miniBatchAwareRegularisation()
{
    torch::manual_seed(11);
    const Dataset ds = handDataset();
    DeepInterestOptions o = smallOptions(DeepInterestOptions::Attention);
    const std::vector<int64_t> counts = {4, 2, 1, 8, 1};
    o.l2 = 0.5;
    DeepInterest withL2(o, &ds.items, 2, &counts);
    o.l2 = 0;
    DeepInterest without(o, &ds.items, 2);
    {
        torch::NoGradGuard noGrad;
        const auto source = withL2->parameters();
        auto target = without->parameters();
        for (size_t k = 0; k < target.size(); ++k)
            target[k].copy_(source[k]);
    }
    const Batch b = handBatch(); // items a, b, c (behaviours) and d, e (candidates)
    const auto penalty = withL2->calculateLoss(b) - without->calculateLoss(b);
    const auto w = withL2->named_parameters()["item_embedding.weight"];
    double expected = 0;
    for (int i = 0; i < 5; ++i)
        expected += 0.25 * w[i].pow(2).sum().item<double>() / static_cast<double>(counts[static_cast<size_t>(i)]);
    QVERIFY(std::abs(penalty.item<double>() - expected) < 1e-6);

    // Items absent from the batch get no gradient from the penalty.
    Batch narrow = b;
    narrow.items = torch::tensor({0, 0}, torch::kLong);
    narrow.history = torch::tensor({1, 5, 5, 5, 5, 5}, torch::kLong).view({2, 3});
    narrow.historyLength = torch::tensor({1, 0}, torch::kLong);
    withL2->zero_grad();
    withL2->calculateLoss(narrow).backward();
    const auto grad = withL2->named_parameters()["item_embedding.weight"].grad();
    for (const int i : {2, 3, 4})
        QCOMPARE(grad[i].abs().sum().item<float>(), 0.f);
    QVERIFY(grad[0].abs().sum().item<float>() > 0);
}

void TestDin::protocolChecks()
{
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    auto refused = [&](const std::string& model, const std::string& protocol, const char* expected) {
        TrainConfig c = defaultConfigFor(model);
        c.protocol = protocol;
        try {
            TrainingTask::create(findModel(model)->task, *ds, c);
        } catch (const ConfigError& e) {
            return QString::fromStdString(e.what()).contains(QLatin1String(expected));
        }
        return false;
    };
    QVERIFY(refused("din", "loo", "base, din, gru4rec, sasrec, caser, narm, seq2seq and cnn_lstm use the din or common protocol"));
    QVERIFY(refused("base", "folds", "base, din, gru4rec, sasrec, caser, narm, seq2seq and cnn_lstm use the din or common protocol"));
    QVERIFY(refused("neumf", "din", "ranking models use loo, full, common or cold"));
    QVERIFY(refused("mf", "din", "rating models use holdout, folds, common or cold"));
    // The registry's tags and defaults.
    QCOMPARE(findModel("din")->family, ModelFamily::Sequential);
    QCOMPARE(findModel("base")->family, ModelFamily::Context);
    QCOMPARE(findModel("din")->task, TaskKind::ClickThrough);
    QCOMPARE(findModel("din")->defaults.attentionLayers, (std::vector<int64_t>{80, 40}));
    // predict() without a history is a programming error, not a silent zero.
    const auto task = TrainingTask::create(TaskKind::ClickThrough, *ds, defaultConfigFor("din"));
    auto model = createModel(*findModel("din"), task->shape(), defaultConfigFor("din"));
    QVERIFY_THROWS_EXCEPTION(std::logic_error, model->predict(torch::zeros({1}, torch::kLong), torch::zeros({1}, torch::kLong)));
}

void TestDin::dinBeatsBaseModelOnMovieLens()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    std::map<std::string, MetricValues> final;
    for (const std::string model : {"base", "din"}) {
        TrainConfig c = defaultConfigFor(model);
        c.epochs = 2;
        Trainer trainer(ds, c);
        const RunOutcome outcome = trainer.fit();
        QCOMPARE(outcome.status, RunStatus::Finished);
        final[model] = outcome.finalMetrics;
        const double auc = metricOr(outcome.finalMetrics, "auc", 0);
        const double logloss = metricOr(outcome.finalMetrics, "logloss", 0);
        // Far above chance, and a log loss below always predicting the base rate (~0.68 here).
        QVERIFY2(auc > 0.65, qPrintable(QString::number(auc)));
        QVERIFY2(logloss > 0 && logloss < 0.67, qPrintable(QString::number(logloss)));
    }
    const double base = metricOr(final["base"], "gauc", 0), din = metricOr(final["din"], "gauc", 0);
    qInfo("ml-100k, 2 epochs: GAUC BaseModel %.4f, DIN %.4f", base, din);
    QVERIFY2(din > base + 0.005, qPrintable(QStringLiteral("din %1 base %2").arg(din).arg(base)));
}

QTEST_GUILESS_MAIN(TestDin)
#include "test_din.moc"
