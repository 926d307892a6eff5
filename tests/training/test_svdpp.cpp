// The rating models beyond biased MF. SVD++: its prediction is Koren's formula, computed here by
// hand on a small table; only the implicit factors of the items a user rated receive gradient;
// all-item scores equal pair scores; and on ml-100k's u1 fold it trains to a lower RMSE than
// biased MF with the same settings and epochs. Bayesian MF: the gamma draws its sampler rests
// on have the right moments; its prediction is the mean of exactly the samples its bank keeps
// (the chain of another model with the same seed, sweep by sweep); and on u1 the averaged
// posterior beats its own single samples and biased MF, and a paused run steps one sweep.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/DatasetSource.h"
#include "models/BayesianMF.h"
#include "models/SVDpp.h"
#include "runs/Metrics.h"
#include "util/Random.h"
#include "train/Trainer.h"
#include "zoo/ModelRegistry.h"

#include "TestData.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

using namespace reclab;

class TestSvdpp : public QObject {
    Q_OBJECT
private slots:
    void predictsByHand();
    void beatsBiasedMfOnMovieLens();
    void gammaDrawsHaveTheirMoments();
    void bayesianMfAveragesTheKeptSamples();
    void bayesianMfOnMovieLens();
};

void TestSvdpp::predictsByHand()
{
    // users 0, 1, 2; items 0..3; user 0 rated items 0 and 2 (item 2 twice), user 1 item 3, user 2 nothing
    InteractionTable t;
    t.append(0, 0, 4.f, 1);
    t.append(0, 2, 2.f, 2);
    t.append(0, 2, 3.f, 3);
    t.append(1, 3, 5.f, 4);
    SVDppOptions o;
    o.numUsers = 3;
    o.numItems = 4;
    o.factors = 2;
    o.globalMean = 3.5;
    o.l2 = 0.1;
    SVDppImpl m(t, o);
    torch::manual_seed(1);
    {
        torch::NoGradGuard noGrad;
        for (auto& p : m.parameters())
            p.uniform_(-1, 1);
    }
    const auto params = m.named_parameters();
    const auto P = params["user_factors.weight"], Q = params["item_factors.weight"], Y = params["implicit_factors.weight"];
    const auto bu = params["user_bias.weight"], bi = params["item_bias.weight"];
    auto byHand = [&](int64_t u, int64_t i) {
        torch::Tensor pu = P[u].clone();
        if (u == 0) // N(0) = {0, 2}: each rated item once
            pu = pu + (Y[0] + Y[2]) / std::sqrt(2.0);
        if (u == 1)
            pu = pu + Y[3];
        return 3.5 + bu[u][0].item<double>() + bi[i][0].item<double>() + (pu * Q[i]).sum().item<double>();
    };
    torch::NoGradGuard noGrad;
    const auto users = torch::tensor({0, 0, 1, 2, 2, 0}, torch::kLong), items = torch::tensor({0, 3, 1, 2, 0, 1}, torch::kLong);
    const auto predicted = m.predict(users, items);
    const auto all = m.fullSortPredict(torch::tensor({0, 1, 2}, torch::kLong));
    for (int64_t k = 0; k < users.size(0); ++k) {
        const int64_t u = users[k].item<int64_t>(), i = items[k].item<int64_t>();
        QVERIFY2(std::abs(predicted[k].item<double>() - byHand(u, i)) < 1e-5, qPrintable(QString("row %1").arg(k)));
        QVERIFY(std::abs(all[u][i].item<double>() - byHand(u, i)) < 1e-5);
    }
    // Gradients: a batch of user 1 only reaches y_3 among the implicit factors.
    torch::GradMode::set_enabled(true);
    Batch b;
    b.users = torch::tensor({1}, torch::kLong);
    b.items = torch::tensor({0}, torch::kLong);
    b.labels = torch::tensor({4.f});
    m.calculateLoss(b).backward();
    const auto g = Y.grad();
    QVERIFY(g.defined());
    QCOMPARE(g.narrow(0, 0, 3).abs().sum().item<double>(), 0.0);
    QVERIFY(g[3].abs().sum().item<double>() > 0);
}

void TestSvdpp::beatsBiasedMfOnMovieLens()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    double rmse[2] = {0, 0};
    for (const char* model : {"mf", "svdpp"}) {
        TrainConfig c = defaultConfigFor(model);
        c.protocol = "folds";
        c.fold = 1;
        c.epochs = 12;
        const RunOutcome outcome = Trainer(ds, c).fit();
        QCOMPARE(outcome.status, RunStatus::Finished);
        rmse[std::string(model) == "svdpp"] = metricOr(outcome.finalMetrics, "rmse", 9);
    }
    qInfo("u1, 12 epochs: biased MF RMSE %.4f, SVD++ %.4f", rmse[0], rmse[1]);
    QVERIFY2(rmse[1] < 0.95, qPrintable(QString::number(rmse[1])));
    QVERIFY2(rmse[1] < rmse[0], qPrintable(QString("%1 vs %2").arg(rmse[1]).arg(rmse[0])));
}

void TestSvdpp::gammaDrawsHaveTheirMoments()
{
    Random rng(7);
    for (const double shape : {0.3, 1.0, 3.5, 400.0}) {
        const int n = 200000;
        double sum = 0, squares = 0;
        for (int k = 0; k < n; ++k) {
            const double x = rng.gamma(shape);
            QVERIFY(x >= 0);
            sum += x;
            squares += x * x;
        }
        const double mean = sum / n, var = squares / n - mean * mean;
        // Gamma(k, 1): mean k, variance k; five standard errors.
        QVERIFY2(std::abs(mean - shape) < 5 * std::sqrt(shape / n), qPrintable(QString("shape %1 mean %2").arg(shape).arg(mean)));
        QVERIFY2(std::abs(var - shape) < 5 * shape * std::sqrt(2.0 / n) * std::sqrt(3.0 + 6.0 / shape),
                 qPrintable(QString("shape %1 variance %2").arg(shape).arg(var)));
    }
}

void TestSvdpp::bayesianMfAveragesTheKeptSamples()
{
    // 30 users, 20 items, ratings from a planted rank-2 structure plus noise.
    InteractionTable t;
    Random rng(3);
    for (int32_t u = 0; u < 30; ++u)
        for (int32_t i = 0; i < 20; ++i)
            if (rng.uniform() < 0.5)
                t.append(u, i, static_cast<float>(std::clamp(std::round(3 + std::sin(u) * std::cos(i) * 2 + rng.normal() * 0.5), 1.0, 5.0)), 0);
    BayesianMFOptions o;
    o.numUsers = 30;
    o.numItems = 20;
    o.factors = 3;
    o.globalMean = 3.0;
    o.seed = 11;
    BayesianMFOptions chainOnly = o;
    chainOnly.burnIn = 1000; // predicts with the current sample throughout
    BayesianMFImpl chain(t, chainOnly);
    o.burnIn = 1;
    o.bankBytes = 1; // a bank of two samples: thinned at once
    BayesianMFImpl banked(t, o);
    const auto users = torch::arange(30, torch::kLong).repeat_interleave(20);
    const auto items = torch::arange(20, torch::kLong).repeat(30);
    std::vector<torch::Tensor> drawn;
    for (int s = 1; s <= 6; ++s) {
        const double a = chain.sampleEpoch(), b = banked.sampleEpoch();
        QCOMPARE(a, b); // the same chain: same seed, same draws
        drawn.push_back(chain.predict(users, items));
    }
    QCOMPARE(banked.sweeps(), int64_t(6));
    // After the burn-in (sweep 1) sweeps 2..6 are samples 0..4; a bank of two keeps 0 and 4 at the end
    // (0, 1 → full; 0, 2 → full; 0, 4 with spacing 4).
    QCOMPARE(banked.samplesAveraged(), int64_t(2));
    const auto expected = (drawn[1] + drawn[5]) / 2;
    QVERIFY((banked.predict(users, items) - expected).abs().max().item<double>() < 1e-5);
    const auto all = banked.fullSortPredict(torch::arange(30, torch::kLong)).reshape({-1});
    QVERIFY((all - expected).abs().max().item<double>() < 1e-5);
    QVERIFY(chain.noisePrecision() > 0);
}

void TestSvdpp::bayesianMfOnMovieLens()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    TrainConfig c = defaultConfigFor("bpmf");
    c.protocol = "folds";
    c.fold = 1;
    c.epochs = 40;
    c.burnIn = 10;
    Trainer trainer(ds, c);
    std::vector<double> rmse;
    std::atomic<int> epochs{0};
    trainer.setEpochCallback([&](const EpochStats& s) {
        rmse.push_back(metricOr(s.metrics, "rmse", 9));
        ++epochs;
    });
    // Started paused: a step runs one sweep and reports it, then the run goes on unpaused.
    std::vector<StepReport> steps;
    trainer.setPaused(true);
    trainer.setStepCallback([&](const StepReport& r) {
        steps.push_back(r);
        trainer.setPaused(false);
    });
    bool sweptWhilePaused = true;
    std::thread stepper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        sweptWhilePaused = epochs.load() > 0 || !trainer.isPaused();
        trainer.requestStep();
    });
    const RunOutcome outcome = trainer.fit();
    stepper.join();
    QVERIFY(!sweptWhilePaused);
    QCOMPARE(outcome.status, RunStatus::Finished);
    QCOMPARE(steps.size(), size_t{1});
    QCOMPARE(steps[0].epoch, 1);
    QVERIFY(steps[0].loss > 0 && steps[0].gradientNorms.empty());
    QCOMPARE(rmse.size(), size_t{40});
    const double single = rmse[9], averaged = rmse.back();
    qInfo("u1, Bayesian MF: one sample (sweep 10) RMSE %.4f, 30 averaged %.4f", single, averaged);
    QVERIFY2(averaged < single - 0.01, qPrintable(QString("%1 vs %2").arg(averaged).arg(single)));
    QVERIFY2(averaged < 0.935, qPrintable(QString::number(averaged)));
}

QTEST_GUILESS_MAIN(TestSvdpp)
#include "test_svdpp.moc"
