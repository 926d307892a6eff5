// Comparing runs: the paired tests against scipy's figures, per-user test metrics from real
// trainings agreeing with the stored means, and compareRuns over real runs in a real SQLite
// file (same split or not, best per column, params that differ, CSV and Markdown).
#include "compare/RunComparison.h"
#include "data/MovieLens100kLoader.h"
#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include "TestData.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>
#include <numeric>

using namespace reclab;

class TestCompare : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void pairedTestsMatchScipyExact();
    void pairedTestsMatchScipyWithTiesAndZeros();
    void pairedTestsOfIdenticalRunsAreUndefined();
    void pairByUserKeepsUsersScoredByBoth();
    void perUserMetricsAverageToTheStoredMetrics();
    void perUserMetricsOfRatingsAndClicks();
    void comparesRunsOnTheSameSplit();
    void flagsRunsOnDifferentSplits();
    void exportsCsvAndMarkdown();
    void friedmanByHand();
    void trainTimeCountsPreTraining();

private:
    std::shared_ptr<const Dataset> sample_, ml100k_;
    QTemporaryDir dir_;
    std::string db_;
    int64_t gmfA_ = 0, gmfB_ = 0, otherSeed_ = 0, onSample_ = 0;
};

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t train(const std::shared_ptr<const Dataset>& data, TrainConfig config, const std::string& db,
              RunOutcome* outcome = nullptr, RunLabels labels = {})
{
    TrainingSession session(data, std::move(config), db);
    session.setLabels(std::move(labels));
    const RunOutcome o = session.run();
    if (outcome)
        *outcome = o;
    return session.runId();
}

TrainConfig quick(const std::string& model, int epochs)
{
    TrainConfig c = defaultConfigFor(model);
    c.epochs = epochs;
    c.threads = 1;
    return c;
}

const UserMetric* find(const UserMetrics& all, const std::string& name)
{
    for (const auto& m : all)
        if (m.name == name)
            return &m;
    return nullptr;
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

} // namespace

void TestCompare::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("runs.db")).toStdString();
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    if (test::hasMl100k())
        ml100k_ = std::make_shared<const Dataset>(loadMovieLens100k(test::ml100kDir().toStdString()));
}

void TestCompare::pairedTestsMatchScipyExact()
{
    // scipy 1.10: ttest_rel(a, b) -> t 3.2219802204288084, p 0.008130377344981184;
    // wilcoxon(a, b) -> W 9.0, p 0.01611328125 (exact: 12 pairs, no ties, no zeros).
    const std::vector<double> a{0.81, 0.62, 0.93, 0.55, 0.71, 0.88, 0.47, 0.66, 0.79, 0.90, 0.58, 0.73};
    const std::vector<double> b{0.78, 0.61, 0.85, 0.575, 0.64, 0.795, 0.49, 0.595, 0.70, 0.915, 0.52, 0.685};
    const PairedTestResult r = pairedTests(a, b);
    QCOMPARE(r.pairs, size_t(12));
    QVERIFY(std::abs(r.t - 3.2219802204288084) < 1e-10);
    QVERIFY(std::abs(r.tPValue - 0.008130377344981184) < 1e-10);
    QVERIFY(std::abs(r.cohensDz - 0.9301055737941111) < 1e-10);
    QVERIFY(std::abs(r.ciLow - 0.012543338270393927) < 1e-10);
    QVERIFY(std::abs(r.ciHigh - 0.06662332839627275) < 1e-10);
    QVERIFY(r.exact);
    QCOMPARE(r.w, 9.0);
    QVERIFY(std::abs(r.wilcoxonPValue - 0.01611328125) < 1e-12);
    // Ranks: W+ 69, W- 9.
    QVERIFY(std::abs(r.rankBiserial - (69.0 - 9.0) / 78.0) < 1e-12);
    // Swapping the runs flips the signs, not the p-values.
    const PairedTestResult s = pairedTests(b, a);
    QVERIFY(std::abs(s.t + r.t) < 1e-12);
    QVERIFY(std::abs(s.wilcoxonPValue - r.wilcoxonPValue) < 1e-15);
    QVERIFY(std::abs(s.rankBiserial + r.rankBiserial) < 1e-12);
}

void TestCompare::pairedTestsMatchScipyWithTiesAndZeros()
{
    // 120 users with hit-rate-like 0/1 values, some replaced by NDCG-like ones: many ties and
    // zero differences, so the normal approximation with the tie correction applies.
    std::vector<double> a(120), b(120), a2(120);
    for (int i = 0; i < 120; ++i) {
        a[i] = (i * 7) % 10 < 6 ? 1.0 : 0.0;
        b[i] = (i * 3) % 10 < 4 ? 1.0 : 0.0;
        a2[i] = i % 5 == 0 ? 1.0 / std::log2(i % 10 + 2) : a[i];
    }
    // scipy 1.10: ttest_rel(a, b) -> 2.50263019536184, p 0.013684317756099164;
    // wilcoxon(a, b) -> W 1746.0, p 0.014305878435429619.
    PairedTestResult r = pairedTests(a, b);
    QVERIFY(std::abs(r.t - 2.50263019536184) < 1e-10);
    QVERIFY(std::abs(r.tPValue - 0.013684317756099164) < 1e-10);
    QVERIFY(!r.exact);
    QCOMPARE(r.w, 1746.0);
    QVERIFY(std::abs(r.wilcoxonPValue - 0.014305878435429619) < 1e-10);
    // ttest_rel(a2, b) -> 1.7755274280855708, p 0.07836706037843708;
    // wilcoxon(a2, b) -> W 1962.0, p 0.1432003484552607 (24 zero differences dropped).
    r = pairedTests(a2, b);
    QVERIFY(std::abs(r.t - 1.7755274280855708) < 1e-10);
    QVERIFY(std::abs(r.tPValue - 0.07836706037843708) < 1e-10);
    QCOMPARE(r.nonZero, size_t(96));
    QCOMPARE(r.w, 1962.0);
    QVERIFY(std::abs(r.wilcoxonPValue - 0.1432003484552607) < 1e-10);
}

void TestCompare::pairedTestsOfIdenticalRunsAreUndefined()
{
    const std::vector<double> a{0.1, 0.5, 0.9, 0.3};
    const PairedTestResult r = pairedTests(a, a);
    QCOMPARE(r.meanDifference, 0.0);
    QVERIFY(std::isnan(r.t) && std::isnan(r.tPValue) && std::isnan(r.cohensDz));
    QVERIFY(std::isnan(r.wilcoxonPValue) && std::isnan(r.rankBiserial));
    QCOMPARE(r.nonZero, size_t(0));
    const PairedTestResult empty = pairedTests({}, {});
    QCOMPARE(empty.pairs, size_t(0));
    QVERIFY(std::isnan(empty.tPValue));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pairedTests({1.0}, {}));
}

void TestCompare::pairByUserKeepsUsersScoredByBoth()
{
    const UserMetric a{"auc", {1, 2, 4, 7, 9}, {0.1, 0.2, 0.4, kNaN, 0.9}};
    const UserMetric b{"auc", {2, 3, 4, 7, 9, 11}, {0.25, 0.3, 0.45, 0.7, 0.95, 1.0}};
    std::vector<double> va, vb;
    pairByUser(a, b, va, vb);
    QCOMPARE(va, (std::vector<double>{0.2, 0.4, 0.9}));
    QCOMPARE(vb, (std::vector<double>{0.25, 0.45, 0.95}));
}

void TestCompare::perUserMetricsAverageToTheStoredMetrics()
{
    RECLAB_REQUIRE_ML100K();
    // Leave-one-out with sampled negatives, and the full protocol: the per-user values average
    // to the metrics the run stored, over all 943 users.
    for (const std::string protocol : {"loo", "full"}) {
        TrainConfig c = quick("gmf", 2);
        c.protocol = protocol;
        RunOutcome outcome;
        const int64_t id = train(ml100k_, c, db_, &outcome);
        ExperimentStore store(db_);
        const UserMetrics perUser = store.userMetrics(id);
        QCOMPARE(perUser.size(), size_t(protocol == "full" ? 6 : 3));
        for (const std::string name : {"hr@10", "ndcg@10", "mrr@10"}) {
            const UserMetric* m = find(perUser, name);
            QVERIFY2(m, name.c_str());
            QCOMPARE(m->users.size(), size_t(943));
            QVERIFY(std::is_sorted(m->users.begin(), m->users.end()));
            QVERIFY(std::abs(mean(m->values) - metricOr(outcome.finalMetrics, name, kNaN)) < 1e-12);
            QVERIFY(std::abs(mean(m->values) - store.metrics(id, name).back().value) < 1e-12);
        }
        if (protocol == "full")
            QVERIFY(std::abs(mean(find(perUser, "recall@10")->values) - metricOr(outcome.finalMetrics, "recall@10", kNaN)) <
                    1e-12);
        QVERIFY(!store.findRun(id)->splitFingerprint.empty());
    }
}

void TestCompare::perUserMetricsOfRatingsAndClicks()
{
    // Ratings: the per-user MAEs, weighted by each user's test rows, give the run's MAE.
    const int64_t mf = train(sample_, quick("mf", 2), db_);
    ExperimentStore store(db_);
    const UserMetrics rating = store.userMetrics(mf);
    QVERIFY(find(rating, "rmse") && find(rating, "mae"));
    const UserMetric& mae = *find(rating, "mae");
    QVERIFY(mae.users.size() > 50);
    for (const double v : mae.values)
        QVERIFY(v >= 0 && std::isfinite(v));
    // Clicks: one AUC per held-out user, NaN for users with one class only.
    const int64_t din = train(sample_, quick("din", 1), db_);
    const UserMetrics clicks = store.userMetrics(din);
    const UserMetric* auc = find(clicks, "auc");
    QVERIFY(auc && find(clicks, "logloss"));
    int defined = 0;
    for (const double v : auc->values) {
        QVERIFY(std::isnan(v) || (v >= 0 && v <= 1));
        defined += std::isnan(v) ? 0 : 1;
    }
    QVERIFY(defined > 10);
}

void TestCompare::comparesRunsOnTheSameSplit()
{
    RECLAB_REQUIRE_ML100K();
    // Two GMF runs on one split (same data, same seed: the same sampled negatives), one trained
    // much longer: a paired test over the 943 users must find the difference.
    TrainConfig weak = quick("gmf", 1);
    weak.learningRate = 0.0001;
    TrainConfig strong = quick("gmf", 6);
    gmfA_ = train(ml100k_, weak, db_, nullptr, {"ml-100k gmf", "weak", {"baseline"}, 0});
    gmfB_ = train(ml100k_, strong, db_, nullptr, {"ml-100k gmf", "", {}, gmfA_});
    ExperimentStore store(db_);
    const RunComparison c = compareRuns(store, {gmfA_, gmfB_});
    QVERIFY2(c.sameSplit, c.splitNote.c_str());
    QCOMPARE(c.runLabels[0], "#" + std::to_string(gmfA_) + " gmf (weak)");
    const auto hr = std::find(c.metricKeys.begin(), c.metricKeys.end(), "hr@10") - c.metricKeys.begin();
    QVERIFY(hr < static_cast<long>(c.metricKeys.size()));
    QVERIFY(c.metrics[1][hr] > c.metrics[0][hr]);
    QCOMPARE(c.bestRun[hr], 1);
    QCOMPARE(c.epochs, (std::vector<int>{1, 6}));
    QVERIFY(c.trainSeconds[1] > c.trainSeconds[0]);
    // learning_rate and epochs differ, the model does not.
    auto differs = [&](const std::string& key) {
        const auto k = std::find(c.paramKeys.begin(), c.paramKeys.end(), key) - c.paramKeys.begin();
        return static_cast<bool>(c.paramDiffers.at(static_cast<size_t>(k)));
    };
    QVERIFY(differs("learning_rate") && differs("epochs") && !differs("model") && !differs("factors"));
    QVERIFY(c.significanceNote.empty());
    QCOMPARE(c.significance.size(), size_t(3));
    for (const auto& s : c.significance) {
        QCOMPARE(s.result.pairs, size_t(943));
        QVERIFY(s.result.meanDifference < 0); // a (weak) minus b (strong)
        QVERIFY2(s.result.tPValue < 1e-6 && s.result.wilcoxonPValue < 1e-6, s.metric.c_str());
        QVERIFY(s.result.rankBiserial < 0);
    }
    // Tag, experiment and parent were filed with the runs.
    const auto a = store.findRun(gmfA_);
    QCOMPARE(a->experiment, std::string("ml-100k gmf"));
    QCOMPARE(a->tags, std::vector<std::string>{"baseline"});
    QCOMPARE(store.findRun(gmfB_)->parentRunId, gmfA_);
}

void TestCompare::flagsRunsOnDifferentSplits()
{
    RECLAB_REQUIRE_ML100K();
    QVERIFY(gmfA_ > 0);
    // Another seed draws other evaluation negatives; the sample is other data altogether.
    TrainConfig c = quick("gmf", 1);
    c.seed = 7;
    otherSeed_ = train(ml100k_, c, db_);
    onSample_ = train(sample_, quick("mf", 1), db_);
    ExperimentStore store(db_);
    const RunComparison seeds = compareRuns(store, {gmfA_, otherSeed_});
    QVERIFY(!seeds.sameSplit);
    QVERIFY2(seeds.splitNote.find("same data, another held-out part or protocol") != std::string::npos, seeds.splitNote.c_str());
    QVERIFY(seeds.significance.empty());
    QVERIFY(seeds.significanceNote.find("same split") != std::string::npos);
    const RunComparison data = compareRuns(store, {gmfA_, onSample_});
    QVERIFY(data.splitNote.find("different data") != std::string::npos);
    // The note names every run's protocol (the task's default when none was given) and what compares.
    QVERIFY2(data.splitNote.find("gmf (weak) on loo") != std::string::npos && data.splitNote.find("mf on holdout") != std::string::npos &&
                 data.splitNote.find("No two of them share a split") != std::string::npos,
             data.splitNote.c_str());
    // A rating model and a ranking model: each other's metrics are n/a, and a column that only
    // one run has names no best (a lone value wins nothing).
    const auto rmse = std::find(data.metricKeys.begin(), data.metricKeys.end(), "rmse") - data.metricKeys.begin();
    QVERIFY(std::isnan(data.metrics[0][rmse]));
    QCOMPARE(data.bestRun[rmse], -1);
    QCOMPARE(metricsTable(data).rows[0][1 + rmse], std::string("n/a"));
    QVERIFY_THROWS_EXCEPTION(StoreError, compareRuns(store, {gmfA_, 999999}));
}

void TestCompare::exportsCsvAndMarkdown()
{
    TextTable t{{"run", "hr@10", "note"}, {{"#1 gmf", "0.5000", "a, b"}, {"#2 \"x\"", "n/a", "p|q"}}};
    QCOMPARE(toCsv(t), std::string("run,hr@10,note\r\n#1 gmf,0.5000,\"a, b\"\r\n\"#2 \"\"x\"\"\",n/a,p|q\r\n"));
    QCOMPARE(toMarkdown(t), std::string("| run | hr@10 | note |\n| --- | ---: | ---: |\n| #1 gmf | 0.5000 | a, b |\n"
                                        "| #2 \"x\" | n/a | p\\|q |\n"));
    RECLAB_REQUIRE_ML100K();
    ExperimentStore store(db_);
    const RunComparison c = compareRuns(store, {gmfA_, gmfB_, onSample_});
    const TextTable metrics = metricsTable(c);
    QCOMPARE(metrics.rows.size(), size_t(3));
    QCOMPARE(metrics.header[metrics.header.size() - 2], std::string("train time (s)"));
    const TextTable diff = paramsTable(c, true), all = paramsTable(c, false);
    QVERIFY(diff.rows.size() < all.rows.size());
    for (const auto& row : diff.rows)
        QVERIFY(row[1] != row[2] || row[2] != row[3]);
    const nlohmann::json j = toJson(c);
    QCOMPARE(j["runs"].size(), size_t(3));
    QVERIFY(j["runs"][2]["metrics"]["hr@10"].is_null());
    QCOMPARE(j["same_split"].get<bool>(), false);
}

// Three runs, four users, worked by hand: ranks per user (1 = best, the tie of user 2
// averaged) sum to 5.5, 8.5 and 10; chi2 = (12/(4*3*4) * 202.5 - 48) / (1 - 6/96) = 2.8.
void TestCompare::friedmanByHand()
{
    const std::vector<std::vector<double>> v = {
        {0.9, 0.8, 0.7, 0.5, std::nan("")}, {0.5, 0.6, 0.7, 0.4, 0.1}, {0.1, 0.2, 0.3, 0.6, 0.9}};
    const RankTestResult r = friedmanTest(v, false);
    QCOMPARE(r.users, size_t(4)); // the user with a NaN is left out
    QCOMPARE(r.meanRanks, (std::vector<double>{1.375, 2.125, 2.5}));
    QVERIFY(std::abs(r.chiSquare - 2.8) < 1e-12);
    QVERIFY(std::abs(r.pValue - std::exp(-1.4)) < 1e-12); // chi2 with 2 degrees of freedom
    const double se = std::sqrt(0.5);
    QVERIFY(std::abs(r.criticalDifference - 2.343 * se) < 1e-12);
    QCOMPARE(r.pairs.size(), size_t(3));
    const double p01 = std::erfc(0.75 / se / std::sqrt(2.0)), p02 = std::erfc(1.125 / se / std::sqrt(2.0)),
                 p12 = std::erfc(0.375 / se / std::sqrt(2.0));
    QVERIFY(std::abs(r.pairs[0].z + 0.75 / se) < 1e-12 && std::abs(r.pairs[0].p - p01) < 1e-12);
    // Holm: the smallest p (0 vs 2) times 3, the next times 2, the last as is, kept monotone.
    QVERIFY(std::abs(r.pairs[1].holmP - 3 * p02) < 1e-12);
    QVERIFY(std::abs(r.pairs[0].holmP - 2 * p01) < 1e-12);
    QVERIFY(std::abs(r.pairs[2].holmP - std::max(2 * p01, p12)) < 1e-12);
    // Errors: lower is better reverses the ranks.
    QCOMPARE(friedmanTest(v, true).meanRanks, (std::vector<double>{2.625, 1.875, 1.5}));
    QCOMPARE(holmAdjusted({0.01, 0.04, 0.03}), (std::vector<double>{0.03, 0.06, 0.06}));
    QVERIFY(std::isnan(friedmanTest({{1, 1}, {1, 1}, {1, 1}}, false).pValue)); // every user ties every run
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, friedmanTest({{1.0}, {2.0}}, false));
}


// NeuMF pre-trains GMF and MLP first: that time is training time too (it was left out, so the
// comparison showed half the runs table's duration). Wall time covers everything.
void TestCompare::trainTimeCountsPreTraining()
{
    TrainConfig c = quick("neumf", 1);
    c.pretrain = true;
    const std::string db = dir_.filePath(QStringLiteral("pretrain.db")).toStdString();
    const int64_t id = train(sample_, c, db);
    ExperimentStore store(db);
    double train = 0, pretrain = 0;
    for (const auto& p : store.metrics(id, "train_seconds"))
        train += p.value;
    const auto phases = store.metrics(id, "pretrain_seconds");
    QCOMPARE(phases.size(), size_t(2)); // one epoch of GMF, one of MLP
    for (const auto& p : phases) {
        QVERIFY(p.value > 0);
        pretrain += p.value;
    }
    QVERIFY(train > 0);
    QVERIFY(std::fabs(store.trainingSeconds(id) - (train + pretrain)) < 1e-9);
    const RunComparison cmp = compareRuns(store, {id});
    QVERIFY(std::fabs(cmp.trainSeconds[0] - (train + pretrain)) < 1e-9);
    QVERIFY2(cmp.wallSeconds[0] >= cmp.trainSeconds[0] - 1e-3,
             qPrintable(QStringLiteral("%1 < %2").arg(cmp.wallSeconds[0]).arg(cmp.trainSeconds[0])));
    QVERIFY(std::isfinite(cmp.wallSeconds[0]));
    const TextTable t = metricsTable(cmp);
    QCOMPARE(t.header.back(), std::string("wall time (s)"));
    QVERIFY(!std::isnan(toJson(cmp)["runs"][0]["wall_seconds"].get<double>()));
}

QTEST_GUILESS_MAIN(TestCompare)
#include "test_compare.moc"
