// Metrics against hand-computed cases, and the sampled ranking evaluator on a tiny dataset
// whose ranks can be worked out by hand.
#include "data/Splits.h"
#include "data/UserItemIndex.h"
#include "eval/FullRankingEvaluator.h"
#include "train/AccuracyBench.h"
#include "runs/Metrics.h"
#include "runs/Protocols.h"
#include "runs/TrainConfig.h"
#include "eval/SampledRankingEvaluator.h"
#include "models/Popularity.h"

#include <QtTest>

#include <limits>

#include <cmath>
#include <set>

using namespace reclab;

class TestMetrics : public QObject {
    Q_OBJECT
private slots:
    void hitRateCountsRanksBelowK();
    void ndcgUsesLogDiscount();
    void emptyRanksGiveZero();
    void rmseAndMae();
    void undefinedMetricsReadNotApplicable();
    void rmseRejectsLengthMismatch();
    void mrrUsesReciprocalRank();
    void topKMetricsWithSeveralRelevantItems();
    void aucCountsOrderedPairsAndHalfTies();
    void gaucWeightsUsersByImpressions();
    void logLossClipsProbabilities();
    void coverageAndPopularityOfTopLists();
    void sampledEvaluatorRanksByPopularity();
    void sampledNegativesAreUnseenDistinctAndSeeded();
    void fullRankingExcludesSeenItems();
    void benchMeanAndSampleStd();
    void metricTraitsComeFromOneTable();
    void protocolCatalogueDescribesItsNumbers();
};

void TestMetrics::hitRateCountsRanksBelowK()
{
    const std::vector<int64_t> ranks{0, 3, 9, 10, 50};
    QCOMPARE(hitRateAtK(ranks, 10), 0.6);
    QCOMPARE(hitRateAtK(ranks, 1), 0.2);
    QCOMPARE(hitRateAtK(ranks, 100), 1.0);
}

void TestMetrics::ndcgUsesLogDiscount()
{
    const std::vector<int64_t> ranks{0, 3, 9, 10, 50};
    // (1/log2(2) + 1/log2(5) + 1/log2(11)) / 5, worked out by hand: (1 + 0.4306766 + 0.2890648) / 5
    QVERIFY(std::fabs(ndcgAtK(ranks, 10) - 0.3439483) < 1e-6);
    QCOMPARE(ndcgAtK({0}, 10), 1.0);
    QVERIFY(std::fabs(ndcgAtK({1}, 10) - 0.6309298) < 1e-6);
    QCOMPARE(ndcgAtK({10}, 10), 0.0);
}

void TestMetrics::emptyRanksGiveZero()
{
    QCOMPARE(hitRateAtK({}, 10), 0.0);
    QCOMPARE(ndcgAtK({}, 10), 0.0);
}

void TestMetrics::rmseAndMae()
{
    const std::vector<float> predicted{3.f, 4.f, 5.f, 1.5f};
    const std::vector<float> truth{2.f, 4.f, 3.f, 2.f};
    // squared errors 1, 0, 4, 0.25 -> sqrt(5.25 / 4); absolute errors 1, 0, 2, 0.5 -> 3.5 / 4
    QVERIFY(std::fabs(rootMeanSquaredError(predicted, truth) - std::sqrt(5.25 / 4)) < 1e-12);
    QCOMPARE(meanAbsoluteError(predicted, truth), 0.875);
}

void TestMetrics::rmseRejectsLengthMismatch()
{
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, rootMeanSquaredError({1.f}, {1.f, 2.f}));
}

void TestMetrics::mrrUsesReciprocalRank()
{
    // 1/1 + 1/4 + 1/10 + 0 + 0 over five users
    QVERIFY(std::fabs(mrrAtK({0, 3, 9, 10, 50}, 10) - (1.0 + 0.25 + 0.1) / 5) < 1e-12);
    QCOMPARE(mrrAtK({}, 10), 0.0);
}

void TestMetrics::topKMetricsWithSeveralRelevantItems()
{
    // Worked by hand at K = 3:
    //  u1: relevant at ranks 0 and 2 of 2 -> hit 1, precision 2/3, recall 1,
    //      NDCG (1 + 1/log2 4) / (1 + 1/log2 3) = 0.9197208, MRR 1, AP (1/1 + 2/3) / 2 = 0.8333333
    //  u2: relevant at rank 5 -> nothing in the top 3
    //  u3: relevant at rank 1, 3 relevant (two never ranked) -> hit 1, precision 1/3, recall 1/3,
    //      NDCG (1/log2 3) / (1 + 1/log2 3 + 1/2) = 0.2960819, MRR 1/2, AP (1/2) / 3 = 0.1666667
    //  u4: no relevant item -> left out of the averages
    const std::vector<UserRanking> users{{{2, 0}, 2}, {{5}, 1}, {{1}, 3}, {{}, 0}};
    const TopKMetrics m = topKMetrics(users, 3);
    QCOMPARE(m.users, size_t(3));
    QVERIFY(std::fabs(m.hit - 2.0 / 3) < 1e-12);
    QVERIFY(std::fabs(m.precision - (2.0 / 3 + 1.0 / 3) / 3) < 1e-12);
    QVERIFY(std::fabs(m.recall - (1.0 + 1.0 / 3) / 3) < 1e-12);
    QVERIFY(std::fabs(m.ndcg - (0.9197207891 + 0.2960819110) / 3) < 1e-9);
    QVERIFY(std::fabs(m.mrr - 0.5) < 1e-12);
    QVERIFY(std::fabs(m.map - (0.8333333333 + 0.1666666667) / 3) < 1e-9);
    // With one relevant item per user the general form reduces to HR, NDCG and MRR.
    const std::vector<int64_t> ranks{0, 3, 9, 10, 50};
    std::vector<UserRanking> single;
    for (const int64_t r : ranks)
        single.push_back({{r}, 1});
    const TopKMetrics s = topKMetrics(single, 10);
    QVERIFY(std::fabs(s.hit - hitRateAtK(ranks, 10)) < 1e-12);
    QVERIFY(std::fabs(s.ndcg - ndcgAtK(ranks, 10)) < 1e-12);
    QVERIFY(std::fabs(s.mrr - mrrAtK(ranks, 10)) < 1e-12);
    QVERIFY(std::fabs(s.recall - s.hit) < 1e-12);
    QVERIFY(std::fabs(s.precision - s.hit / 10) < 1e-12);
    QVERIFY(std::fabs(s.map - s.mrr) < 1e-12); // AP of one relevant item is its reciprocal rank
}

void TestMetrics::aucCountsOrderedPairsAndHalfTies()
{
    // Positives 0.9, 0.7, 0.6; negatives 0.8, 0.6. Pairs: 0.9 beats both (2), 0.7 beats 0.6 (1),
    // 0.6 ties 0.6 (1/2): 3.5 of 6.
    const std::vector<float> scores{0.9f, 0.8f, 0.7f, 0.6f, 0.6f};
    const std::vector<float> labels{1, 0, 1, 0, 1};
    QVERIFY(std::fabs(areaUnderCurve(scores, labels) - 3.5 / 6) < 1e-12);
    QCOMPARE(areaUnderCurve({0.1f, 0.2f}, {0, 1}), 1.0);
    QCOMPARE(areaUnderCurve({0.1f, 0.2f}, {1, 0}), 0.0);
    QVERIFY(std::isnan(areaUnderCurve({0.1f, 0.2f}, {1, 1}))); // one class: undefined, not 0
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, areaUnderCurve({0.1f}, {1, 0}));
}

void TestMetrics::gaucWeightsUsersByImpressions()
{
    // User 7: the five samples above (AUC 3.5/6, 5 impressions); user 3: positive 0.2 below
    // negative 0.4 (AUC 0, 2 impressions); user 5: positives only (left out).
    // GAUC = (5 * 3.5/6 + 2 * 0) / 7.
    const std::vector<int32_t> users{7, 3, 7, 5, 7, 3, 7, 5, 7};
    const std::vector<float> scores{0.9f, 0.2f, 0.8f, 0.5f, 0.7f, 0.4f, 0.6f, 0.1f, 0.6f};
    const std::vector<float> labels{1, 1, 0, 1, 1, 0, 0, 1, 1};
    QVERIFY(std::fabs(groupAreaUnderCurve(users, scores, labels) - 5 * (3.5 / 6) / 7) < 1e-12);
    QVERIFY(std::isnan(groupAreaUnderCurve({1, 2}, {0.3f, 0.4f}, {1, 0})));
}

void TestMetrics::logLossClipsProbabilities()
{
    // -(ln 0.9 + ln 0.8 + ln 0.4) / 3
    QVERIFY(std::fabs(logLoss({0.9f, 0.2f, 0.6f}, {1, 0, 0}) - 0.4149315996) < 1e-7);
    // A confident wrong answer is clipped instead of infinite: -ln(1e-7).
    QVERIFY(std::fabs(logLoss({0.f}, {1}) - (-std::log(1e-7))) < 1e-9);
    QVERIFY(std::isnan(logLoss({}, {})));
}

void TestMetrics::coverageAndPopularityOfTopLists()
{
    const std::vector<std::vector<int32_t>> lists{{0, 1}, {1, 2}, {1, 0}};
    QCOMPARE(itemCoverageAtK(lists, 5, 2), 0.6); // items 0, 1, 2 of 5
    QCOMPARE(itemCoverageAtK(lists, 5, 1), 0.4); // items 0, 1
    // counts 10, 5, 1, 0, 0: users' means (10+5)/2, (5+1)/2, (5+10)/2 -> (7.5 + 3 + 7.5) / 3
    const std::vector<int64_t> counts{10, 5, 1, 0, 0};
    QCOMPARE(averagePopularityAtK(lists, counts, 2), 6.0);
    QCOMPARE(averagePopularityAtK(lists, counts, 1), (10.0 + 5 + 5) / 3);
}

namespace {
// Five items with training counts 4, 3, 2, 1, 0; user 0 consumed items 0 and 1 (1 is held out).
Dataset tinyDataset()
{
    Dataset ds;
    ds.name = "tiny";
    for (int u = 0; u < 5; ++u)
        ds.userIds.push_back(std::to_string(u));
    for (int i = 0; i < 5; ++i)
        ds.itemIds.push_back(std::to_string(i));
    int64_t t = 100;
    ds.interactions.append(0, 0, 1, t++);
    ds.interactions.append(0, 1, 1, t++); // latest: held out
    for (int u = 1; u < 5; ++u)
        ds.interactions.append(u, 0, 1, t++);
    for (int u = 1; u < 4; ++u)
        ds.interactions.append(u, 1, 1, t++);
    for (int u = 1; u < 3; ++u)
        ds.interactions.append(u, 2, 1, t++);
    ds.interactions.append(1, 3, 1, t++);
    return ds;
}
} // namespace

void TestMetrics::sampledEvaluatorRanksByPopularity()
{
    const Dataset ds = tinyDataset();
    const LeaveOneOutSplit split = makeLeaveOneOutSplit(ds);
    const UserItemIndex seen(ds.interactions, ds.numUsers());
    // Only user 0's held-out item matters here: candidates are items 2, 3, 4 (unseen).
    SampledRankingEvaluator evaluator({0}, {1}, seen, ds.numItems(), 3, 7);
    Popularity pop(split.train, ds.numItems());
    // Training counts (held-out row removed): item0 5, item1 3, item2 2, item3 1, item4 0.
    // The held-out item 1 outscores every unseen candidate, so its rank is 0.
    const auto ranks = evaluator.ranks(*pop, torch::kCPU);
    QCOMPARE(ranks.size(), size_t(1));
    QCOMPARE(ranks[0], int64_t(0));
    const auto m = evaluator.evaluate(*pop, torch::kCPU, 1);
    QCOMPARE(metricOr(m, "hr@1", -1), 1.0);
    QCOMPARE(metricOr(m, "ndcg@1", -1), 1.0);
}

void TestMetrics::sampledNegativesAreUnseenDistinctAndSeeded()
{
    Dataset ds;
    for (int u = 0; u < 20; ++u)
        ds.userIds.push_back(std::to_string(u));
    for (int i = 0; i < 300; ++i)
        ds.itemIds.push_back(std::to_string(i));
    for (int u = 0; u < 20; ++u)
        for (int k = 0; k < 30; ++k)
            ds.interactions.append(u, (u * 7 + k * 11) % 300, 1, k);
    const LeaveOneOutSplit split = makeLeaveOneOutSplit(ds);
    const UserItemIndex seen(ds.interactions, ds.numUsers());
    SampledRankingEvaluator a(split.testUser, split.testItem, seen, ds.numItems(), 99, 42);
    SampledRankingEvaluator b(split.testUser, split.testItem, seen, ds.numItems(), 99, 42);
    SampledRankingEvaluator c(split.testUser, split.testItem, seen, ds.numItems(), 99, 43);
    QVERIFY(torch::equal(a.candidates(), b.candidates()));
    QVERIFY(!torch::equal(a.candidates(), c.candidates()));
    const auto cand = a.candidates();
    for (int64_t row = 0; row < cand.size(0); ++row) {
        const int32_t user = split.testUser[static_cast<size_t>(row)];
        QCOMPARE(cand[row][0].item<int64_t>(), int64_t(split.testItem[static_cast<size_t>(row)]));
        std::set<int64_t> distinct;
        for (int64_t k = 1; k < cand.size(1); ++k) {
            const int64_t item = cand[row][k].item<int64_t>();
            QVERIFY2(!seen.contains(user, static_cast<int32_t>(item)), "a negative is an item the user consumed");
            distinct.insert(item);
        }
        QCOMPARE(distinct.size(), size_t(99));
    }
}

void TestMetrics::fullRankingExcludesSeenItems()
{
    // Training: item 0 by users 1-4, item 1 by users 1-3, item 2 by users 1-2, item 3 by user 1;
    // popularity scores 4, 3, 2, 1, 0. Held out: user 4 -> items 2 and 4, user 0 -> item 3,
    // user 1 -> item 4.
    InteractionTable train;
    for (int u = 1; u <= 4; ++u)
        train.append(u, 0, 1, 0);
    for (int u = 1; u <= 3; ++u)
        train.append(u, 1, 1, 0);
    for (int u = 1; u <= 2; ++u)
        train.append(u, 2, 1, 0);
    train.append(1, 3, 1, 0);
    Popularity pop(train, 5);
    FullRankingEvaluator evaluator({4, 0, 4, 1}, {2, 3, 4, 4}, UserItemIndex(train, 5), 5, {4, 3, 2, 1, 0});
    QCOMPARE(evaluator.numUsers(), size_t(3));
    const auto r = evaluator.rank(*pop, torch::kCPU, 2);
    QCOMPARE(r.users, (std::vector<int32_t>{0, 1, 4}));
    // User 0 saw nothing: item 3 has items 0, 1, 2 above it.
    QCOMPARE(r.rankings[0].relevantRanks, (std::vector<int64_t>{3}));
    QCOMPARE(r.topLists[0], (std::vector<int32_t>{0, 1}));
    // User 1 saw items 0-3: item 4 is the only candidate, so rank 0 and a one-item list.
    QCOMPARE(r.rankings[1].relevantRanks, (std::vector<int64_t>{0}));
    QCOMPARE(r.topLists[1], (std::vector<int32_t>{4}));
    // User 4 saw item 0: item 2 is below item 1 only; item 4 below items 1, 2 and 3 (the other
    // held-out item still competes).
    QCOMPARE(r.rankings[2].relevantRanks, (std::vector<int64_t>{1, 3}));
    QCOMPARE(r.rankings[2].relevantCount, int64_t(2));
    QCOMPARE(r.topLists[2], (std::vector<int32_t>{1, 2}));

    // At K = 2, by hand: user 4 hit 1, precision 1/2, recall 1/2, NDCG (1/log2 3)/(1 + 1/log2 3),
    // MRR 1/2, AP (1/2)/2; user 0 nothing; user 1 all 1 except precision 1/2.
    const auto m = evaluator.evaluate(*pop, torch::kCPU, 2);
    QVERIFY(std::fabs(metricOr(m, "hr@2", -1) - 2.0 / 3) < 1e-12);
    QVERIFY(std::fabs(metricOr(m, "precision@2", -1) - 1.0 / 3) < 1e-12);
    QVERIFY(std::fabs(metricOr(m, "recall@2", -1) - 0.5) < 1e-12);
    QVERIFY(std::fabs(metricOr(m, "ndcg@2", -1) - (0.6309297536 / 1.6309297536 + 1.0) / 3) < 1e-9);
    QVERIFY(std::fabs(metricOr(m, "mrr@2", -1) - 0.5) < 1e-12);
    QVERIFY(std::fabs(metricOr(m, "map@2", -1) - (0.25 + 1.0) / 3) < 1e-12);
    QCOMPARE(metricOr(m, "coverage@2", -1), 0.8);                    // items 0, 1, 2, 4 of 5
    QCOMPARE(metricOr(m, "avgpop@2", -1), (2.5 + 3.5 + 0.0) / 3); // (3+2)/2, (4+3)/2, 0/1
}

void TestMetrics::benchMeanAndSampleStd()
{
    // 0.6, 0.7, 0.8: mean 0.7, sample variance (0.01 + 0 + 0.01) / 2 = 0.01.
    const auto [mean, sd] = meanAndStd({0.6, 0.7, 0.8});
    QVERIFY(std::fabs(mean - 0.7) < 1e-12 && std::fabs(sd - 0.1) < 1e-12);
    QCOMPARE(meanAndStd({0.5}).second, 0.0);
    QVERIFY(std::isnan(meanAndStd({}).first));
}

void TestMetrics::undefinedMetricsReadNotApplicable()
{
    QCOMPARE(formatMetric(std::numeric_limits<double>::quiet_NaN()), std::string("n/a"));
    QCOMPARE(formatMetric(0.0), std::string("0.0000")); // a real zero stays a number
    QCOMPARE(formatMetric(0.5, 2), std::string("0.50"));
    // An AUC over one class is undefined, and reads so.
    QCOMPARE(formatMetric(areaUnderCurve({0.2f, 0.9f}, {1.f, 1.f})), std::string("n/a"));
}

void TestMetrics::metricTraitsComeFromOneTable()
{
    QVERIFY(metricTraits("ndcg@10") && metricTraits("val_ndcg@20") == metricTraits("ndcg@10"));
    QVERIFY(!metricTraits("ndcg"));   // a top-K metric is stored with its K
    QVERIFY(!metricTraits("rmse@10")); // an error is not cut at K
    QVERIFY(!metricTraits("train_seconds"));
    for (const char* lower : {"rmse", "val_mae", "logloss", "avgpop@10", "loss", "val_loss"})
        QVERIFY2(lowerIsBetter(lower), lower);
    for (const char* higher : {"hr@10", "val_ndcg@10", "auc", "gauc", "coverage@10", "train_seconds"})
        QVERIFY2(!lowerIsBetter(higher), higher);
    QCOMPARE(taskMetricNames(TaskKind::ImplicitRanking, "loo", 5), (std::vector<std::string>{"hr@5", "ndcg@5", "mrr@5"}));
    QCOMPARE(taskMetricNames(TaskKind::ImplicitRanking, "full", 10).size(), size_t(8));
    QCOMPARE(taskMetricNames(TaskKind::RatingPrediction, "", 10), (std::vector<std::string>{"rmse", "mae"}));
    QCOMPARE(taskMetricNames(TaskKind::ClickThrough, "din", 10), (std::vector<std::string>{"auc", "gauc", "logloss"}));
    TrainConfig c;
    c.validationMetric = "ndcg"; // accuracy at K gets the run's K
    c.topK = 20;
    QCOMPARE(c.validationKey(), std::string("ndcg@20"));
    c.validationMetric = "coverage"; // not an accuracy: left as given, refused later
    QCOMPARE(c.validationKey(), std::string("coverage"));
}

void TestMetrics::protocolCatalogueDescribesItsNumbers()
{
    QCOMPARE(protocolIds(), std::string("loo, full, holdout, folds, din, common or cold"));
    QCOMPARE(protocolIds(protocolsFor(TaskKind::RatingPrediction)), std::string("holdout, folds, common or cold"));
    QCOMPARE(defaultProtocolFor(TaskKind::ImplicitRanking).id, std::string("loo"));
    QCOMPARE(protocolOf(TaskKind::ClickThrough, "").id, std::string("din"));
    QVERIFY(findProtocol("full")->allItems && findProtocol("folds")->predefinedFolds && !findProtocol("kfold"));
    TrainConfig c;
    c.evalNegatives = 49;
    c.testFraction = 0.25;
    c.historyLength = 30;
    c.topK = 5;
    QCOMPARE(protocolLabel(*findProtocol("loo"), c), std::string("Leave-one-out, 49 negatives"));
    QCOMPARE(protocolLabel(*findProtocol("holdout"), c), std::string("Random 75/25 hold-out"));
    QCOMPARE(protocolLabel(*findProtocol("folds"), c, 3), std::string("ml-100k fold u3"));
    // The common protocol: every task, the configuration's negatives and K, its metrics per task.
    QCOMPARE(protocolLabel(commonProtocol(), c), std::string("Common: latest item, 49 negatives and all items"));
    const std::string common = protocolDescription(commonProtocol(), c);
    QVERIFY2(common.find("the same 49 sampled negatives") != std::string::npos && common.find("MRR at 5") != std::string::npos,
             common.c_str());
    QCOMPARE(taskMetricNames(TaskKind::RatingPrediction, "common", 5),
             (std::vector<std::string>{"hr@5", "ndcg@5", "mrr@5", "full_hr@5", "full_ndcg@5", "full_mrr@5", "auc", "gauc",
                                       "rmse", "mae"}));
    QCOMPARE(taskMetricNames(TaskKind::ClickThrough, "common", 5).back(), std::string("logloss"));
    QVERIFY(metricTraits("full_ndcg@10") == metricTraits("ndcg@10") && metricTraits("val_full_hr@5") == metricTraits("hr@5"));
    const std::string loo = protocolDescription(*findProtocol("loo"), c);
    QVERIFY2(loo.find("49 sampled negatives; HR, NDCG and MRR at 5.") != std::string::npos, loo.c_str());
    const std::string din = protocolDescription(*findProtocol("din"), c);
    QVERIFY2(din.find("30 earlier ratings") != std::string::npos && din.find("25% of the users") != std::string::npos &&
                 din.find("AUC, GAUC and LogLoss.") != std::string::npos,
             din.c_str());
    c.positiveRating = 3.5;
    QVERIFY(protocolDescription(*findProtocol("din"), c).find("rated 3.5 or more") != std::string::npos);
}

QTEST_APPLESS_MAIN(TestMetrics)
#include "test_metrics.moc"
