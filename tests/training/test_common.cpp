// The common protocol: one split for every model family (each user's latest interaction held
// out, the one before it for validation, histories of what came before), one evaluator (the
// same sampled negatives and all items; AUC, GAUC, LogLoss, RMSE and MAE from the same
// candidates), checked by hand on a tiny dataset, and MF, GMF and DIN trained on it for real.
#include "compare/RunComparison.h"
#include "compiled/GraphModule.h"
#include "data/CommonSplit.h"
#include "data/SampleGenerator.h"
#include "eval/HeldOutEvaluator.h"
#include "models/Recommender.h"
#include "runs/Protocols.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>

using namespace reclab;

class TestCommon : public QObject {
    Q_OBJECT
private slots:
    void splitHoldsOutTheLatestWithItsPast();
    void evaluatorByHand();
    void historyModelsScoreFromThePast();
    void sharedHistoryScoringMatchesBatches();
    void everyFamilyOnOneSplit();
};

namespace {

// Two users, six items. User 0: items 0, 1, 2, 3 at times 1..4; user 1: items 4 and 5 at the
// same time (the later row is the later one).
Dataset tinyDataset()
{
    Dataset d;
    d.name = d.source = "tiny";
    d.userIds = {"a", "b"};
    d.itemIds = {"i0", "i1", "i2", "i3", "i4", "i5"};
    d.interactions.append(0, 2, 3.f, 3);
    d.interactions.append(1, 4, 5.f, 1);
    d.interactions.append(0, 0, 5.f, 1);
    d.interactions.append(0, 3, 4.f, 4);
    d.interactions.append(1, 5, 2.f, 1);
    d.interactions.append(0, 1, 1.f, 2);
    return d;
}

// Scores from a fixed table; a "sequential" one records the histories it is given.
class TableModel : public Recommender {
public:
    TableModel(std::vector<std::vector<float>> table, bool readsHistory)
        : table_(std::move(table)), history_(readsHistory)
    {
    }
    ModelFamily family() const override { return history_ ? ModelFamily::Sequential : ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return static_cast<int64_t>(table_[0].size()); }
    torch::Tensor calculateLoss(const Batch&) override { return torch::zeros({}); }
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override
    {
        auto out = torch::empty({users.size(0)});
        for (int64_t k = 0; k < users.size(0); ++k)
            out[k] = table_[static_cast<size_t>(users[k].item<int64_t>())][static_cast<size_t>(items[k].item<int64_t>())];
        return out;
    }
    torch::Tensor predictBatch(const Batch& b) override
    {
        for (int64_t k = 0; k < b.users.size(0); ++k) {
            std::vector<int32_t> h;
            for (int64_t j = 0; j < b.historyLength[k].item<int64_t>(); ++j)
                h.push_back(static_cast<int32_t>(b.history[k][j].item<int64_t>()));
            seen[static_cast<int32_t>(b.users[k].item<int64_t>())] = h;
        }
        return predict(b.users, b.items);
    }
    std::map<int32_t, std::vector<int32_t>> seen; // user -> the last history scored with

private:
    std::vector<std::vector<float>> table_;
    bool history_;
};

const std::vector<std::vector<float>> kScores = {{0.9f, 0.8f, 0.95f, 0.5f, 0.1f, 0.7f},
                                                 {0.6f, 0.6f, 0.6f, 0.6f, 0.9f, 0.2f}};

HeldOutEvaluator tinyEvaluator(const Dataset& d, const CommonSplit& split, bool allItems)
{
    HeldOutOptions o;
    o.negatives = 2;
    o.seed = 7;
    o.allItems = allItems;
    o.logits = true;
    o.ratings = true;
    o.historyLength = 3;
    InteractionTable exclude = split.rows.train;
    exclude.append(0, 2, 1.f, 0); // user 0's validation item
    return HeldOutEvaluator(split.test, UserItemIndex(d.interactions, d.numUsers()),
                            UserItemIndex(exclude, d.numUsers()), d.numItems(), o);
}

double value(const MetricValues& m, const std::string& key)
{
    for (const auto& v : m)
        if (v.name == key)
            return v.value;
    return std::nan("");
}

bool has(const MetricValues& m, const std::string& key)
{
    return std::isfinite(value(m, key));
}

} // namespace

void TestCommon::splitHoldsOutTheLatestWithItsPast()
{
    const Dataset d = tinyDataset();
    const CommonSplit s = makeCommonSplit(d, 2, true);
    QCOMPARE(s.test.user, (std::vector<int32_t>{0, 1}));
    QCOMPARE(s.test.item, (std::vector<int32_t>{3, 5})); // user 1: the later of two equal times
    QCOMPARE(s.test.rating, (std::vector<float>{4.f, 2.f}));
    QCOMPARE(s.test.history[0], (std::vector<int32_t>{1, 2})); // the latest 2 before item 3, validation included
    QCOMPARE(s.test.history[1], (std::vector<int32_t>{4}));
    QCOMPARE(s.valid.user, (std::vector<int32_t>{0})); // user 1 has two interactions: none to validate
    QCOMPARE(s.valid.item, (std::vector<int32_t>{2}));
    QCOMPARE(s.valid.history[0], (std::vector<int32_t>{0, 1}));
    QCOMPARE(s.rows.train.size(), size_t(3)); // items 0, 1 of user 0 and 4 of user 1, file order
    QCOMPARE(std::vector<int32_t>(s.rows.train.item.begin(), s.rows.train.item.end()), (std::vector<int32_t>{4, 0, 1}));
    // Training samples: each training interaction with its earlier ones, padded with numItems.
    QCOMPARE(s.train.item, (std::vector<int32_t>{0, 1, 4}));
    QCOMPARE(s.train.length, (std::vector<int32_t>{0, 1, 0}));
    QCOMPARE(s.train.history, (std::vector<int32_t>{6, 6, 0, 6, 6, 6}));
    QVERIFY(makeCommonSplit(d, 2, false).train.size() == 0);
    Dataset flat = d;
    std::fill(flat.interactions.timestamp.begin(), flat.interactions.timestamp.end(), 0);
    QVERIFY_THROWS_EXCEPTION(DataError, makeCommonSplit(flat, 2, false));
}

void TestCommon::evaluatorByHand()
{
    const Dataset d = tinyDataset();
    const CommonSplit split = makeCommonSplit(d, 3, false);
    const HeldOutEvaluator e = tinyEvaluator(d, split, true);
    // User 0 has two unseen items: 4 and 5 are its negatives; user 1's are two of 0..3.
    const auto& c = e.candidates();
    QCOMPARE(c.size(), size_t(6));
    QCOMPARE(c[0], 3);
    QCOMPARE(std::min(c[1], c[2]), 4);
    QCOMPARE(std::max(c[1], c[2]), 5);
    QCOMPARE(c[3], 5);
    QVERIFY(c[4] != c[5] && c[4] < 4 && c[5] < 4);
    TableModel model(kScores, false);
    UserMetrics perUser;
    const MetricValues m = e.evaluate(model, torch::kCPU, 2, &perUser);
    // Sampled ranks: user 0's item 3 (0.5) is below item 5 (0.7): rank 1; user 1's item 5
    // (0.2) is below both negatives (0.6): rank 2.
    QCOMPARE(value(m, "hr@2"), 0.5);
    QVERIFY(std::abs(value(m, "ndcg@2") - 0.5 / std::log2(3.0)) < 1e-9);
    QCOMPARE(value(m, "mrr@2"), 0.25);
    // All items: user 0 ranks 3 among 3, 4, 5 (0, 1 trained, 2 validated): rank 1; user 1
    // among 0, 1, 2, 3, 5 (4 trained): rank 4.
    QCOMPARE(value(m, "full_hr@2"), 0.5);
    QCOMPARE(value(m, "full_mrr@2"), 0.25);
    // AUC over the 2 x 4 (positive, negative) pairs: 0.5 > 0.1 and 0.2 > 0.1 only.
    QCOMPARE(value(m, "auc"), 0.25);
    QCOMPARE(value(m, "gauc"), 0.25); // user 0: 1/2, user 1: 0/2
    const auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
    const double logloss = -(std::log(sig(0.5)) + std::log(1 - sig(0.1)) + std::log(1 - sig(0.7)) + std::log(sig(0.2)) +
                             2 * std::log(1 - sig(0.6))) /
                           6;
    QVERIFY2(std::abs(value(m, "logloss") - logloss) < 1e-6, qPrintable(QString::number(value(m, "logloss"))));
    // Ratings clamped to the scale (1..5): both predicted 1 against 4 and 2.
    QVERIFY(std::abs(value(m, "rmse") - std::sqrt(5.0)) < 1e-6);
    QCOMPARE(value(m, "mae"), 2.0);
    // Per user, for paired tests.
    std::map<std::string, std::vector<double>> columns;
    for (const auto& u : perUser)
        columns[u.name] = u.values;
    QCOMPARE(columns["hr@2"], (std::vector<double>{1.0, 0.0}));
    QCOMPARE(columns["auc"], (std::vector<double>{0.5, 0.0}));
    QVERIFY(columns.count("rmse") == 1);
    // Without all items: no full_ metrics.
    QVERIFY(!has(tinyEvaluator(d, split, false).evaluate(model, torch::kCPU, 2), "full_hr@2"));
}

void TestCommon::historyModelsScoreFromThePast()
{
    const Dataset d = tinyDataset();
    const CommonSplit split = makeCommonSplit(d, 3, false);
    TableModel model(kScores, true);
    const MetricValues m = tinyEvaluator(d, split, true).evaluate(model, torch::kCPU, 2);
    // The same scores through predictBatch: the same numbers, and each user's candidates were
    // scored with what came before the held-out item (validation included), never after.
    QCOMPARE(value(m, "hr@2"), 0.5);
    QCOMPARE(value(m, "full_mrr@2"), 0.25);
    QCOMPARE(model.seen[0], (std::vector<int32_t>{0, 1, 2}));
    QCOMPARE(model.seen[1], (std::vector<int32_t>{4}));
}

void TestCommon::sharedHistoryScoringMatchesBatches()
{
    // DIN's graph scores a user's candidates through the shared history and the attention table;
    // the padded batches give the same scores.
    const Dataset sample = generateSampleDataset();
    TrainConfig c = defaultConfigFor("din");
    c.protocol = "common";
    const CommonTask task(sample, c, abilitiesOf(c));
    auto model = std::dynamic_pointer_cast<GraphModelImpl>(compileGraph(graphFor(c), task.shape(), c));
    QVERIFY(model && model->sharesHistory());
    model->eval();
    torch::NoGradGuard noGrad;
    const auto& held = task.split().test;
    const auto candidates = torch::arange(sample.numItems(), torch::kLong);
    for (const size_t row : {size_t(0), held.size() / 2, held.size() - 1}) {
        const auto shared = model->scoreWithHistory(held.user[row], held.history[row], candidates, c.historyLength);
        const auto batches = model->Recommender::scoreWithHistory(held.user[row], held.history[row], candidates, c.historyLength);
        QVERIFY(model->hasAttentionTable());
        QVERIFY2(torch::allclose(shared, batches, 1e-4, 1e-5),
                 qPrintable(QString::number((shared - batches).abs().max().item<double>())));
    }
}

void TestCommon::everyFamilyOnOneSplit()
{
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("runs.db")).toStdString();
    auto sample = std::make_shared<const Dataset>(generateSampleDataset());
    std::map<std::string, int64_t> runs;
    std::map<std::string, MetricValues> metrics;
    for (const std::string model : {"mf", "gmf", "din"}) {
        TrainConfig c = defaultConfigFor(model);
        c.protocol = "common";
        c.epochs = 1;
        c.pretrain = false;
        if (model == "gmf") { // validated on the full ranking of each user's latest-but-one item
            c.validationMetric = "full_ndcg"; // at K, like "ndcg"
            c.patience = 0;
        }
        TrainingSession session(sample, c, db);
        session.setStartCallback([&](int64_t id) { runs[model] = id; });
        const RunOutcome outcome = session.run();
        QCOMPARE(outcome.status, RunStatus::Finished);
        metrics[model] = outcome.finalMetrics;
    }
    for (const auto& [model, m] : metrics) {
        for (const char* key : {"hr@10", "ndcg@10", "mrr@10", "full_hr@10", "full_ndcg@10", "auc", "gauc"})
            QVERIFY2(has(m, key), qPrintable(QString::fromStdString(model + " lacks " + key)));
        QCOMPARE(has(m, "rmse"), model == "mf");
        QCOMPARE(has(m, "logloss"), model != "mf");
    }
    // On the sample's planted sequences, DIN's history beats a chance ranking by far.
    QVERIFY(value(metrics["din"], "hr@10") > 0.3);
    ExperimentStore store(db);
    const auto validated = store.metrics(runs["gmf"], "val_full_ndcg@10");
    QCOMPARE(validated.size(), size_t(1));
    QVERIFY(validated[0].value > 0 && validated[0].value <= 1);
    QVERIFY(store.metrics(runs["mf"], "val_full_ndcg@10").empty());
    const RunComparison c = compareRuns(store, {runs["mf"], runs["din"]});
    QVERIFY2(c.sameSplit, c.splitNote.c_str());
    QVERIFY(!c.significance.empty());
    const RunComparison all = compareRuns(store, {runs["mf"], runs["gmf"], runs["din"]});
    QVERIFY(all.sameSplit);
    // Three runs on one split: a Friedman test per shared per-user metric, over every test user.
    bool hr = false;
    for (const auto& t : all.rankTests)
        if (t.metric == "hr@10") {
            hr = true;
            QCOMPARE(t.result.users, size_t(sample->numUsers())); // every sample user has two interactions or more
            QCOMPARE(t.result.pairs.size(), size_t(3));
            QVERIFY(t.result.meanRanks[2] < t.result.meanRanks[0]); // DIN ranks above MF
        }
    QVERIFY(hr);
    // A prepared split or a mismatched task is not silently run: every task fits "common".
    for (const TaskKind kind : {TaskKind::ImplicitRanking, TaskKind::RatingPrediction, TaskKind::ClickThrough})
        QVERIFY(commonProtocol().fits(kind));
}

QTEST_GUILESS_MAIN(TestCommon)
#include "test_common.moc"
