// A training steered while it runs, as the dashboard does from the GUI thread: paused, advanced
// one batch at a time with each step's loss and per-block gradient norms, resumed; a learning
// rate changed mid-run applies from the next epoch; a cosine schedule anneals every step and
// takes a rate set live as its new peak, also after a resume; a paused run stops cleanly.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "train/Trainer.h"
#include "util/Error.h"

#include <QtTest>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

using namespace reclab;

class TestControls : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void pauseStepResume();
    void learningRateChangeAppliesNextEpoch();
    void cosineScheduleAnnealsEveryStep();
    void stopWhilePaused();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

TrainConfig gmf(int epochs)
{
    TrainConfig c = defaultConfigFor("gmf");
    c.epochs = epochs;
    return c;
}

template <typename Predicate> bool waitFor(Predicate done, int ms = 20000)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace

void TestControls::initTestCase()
{
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestControls::pauseStepResume()
{
    Trainer trainer(sample_, gmf(1));
    std::mutex m;
    std::vector<StepReport> steps;
    std::atomic<int64_t> lastStep{0};
    trainer.setStepCallback([&](const StepReport& r) {
        const std::lock_guard<std::mutex> lock(m);
        steps.push_back(r);
    });
    trainer.setBatchCallback([&](const BatchProgress& p) { lastStep = p.step; });
    trainer.setPaused(true); // before the first batch
    auto run = std::async(std::launch::async, [&] { return trainer.fit(); });

    // Paused: no batch runs.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    QCOMPARE(lastStep.load(), int64_t(0));
    QVERIFY(trainer.isPaused());
    for (int k = 0; k < 3; ++k)
        trainer.requestStep();
    QVERIFY(waitFor([&] {
        const std::lock_guard<std::mutex> lock(m);
        return steps.size() == 3;
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    {
        const std::lock_guard<std::mutex> lock(m);
        QCOMPARE(steps.size(), size_t(3)); // exactly the steps asked for
        for (int k = 0; k < 3; ++k) {
            QCOMPARE(steps[size_t(k)].step, int64_t(k + 1));
            QCOMPARE(steps[size_t(k)].batch, int64_t(k + 1));
            QVERIFY(std::isfinite(steps[size_t(k)].loss) && steps[size_t(k)].loss > 0);
        }
        // Every block with parameters has a gradient norm; the embeddings' are positive.
        std::map<std::string, double> norms(steps[0].gradientNorms.begin(), steps[0].gradientNorms.end());
        QVERIFY2(norms.count("user_gmf") && norms.count("item_gmf") && norms.count("output"),
                 qPrintable(QString::number(norms.size())));
        QVERIFY(norms["user_gmf"] > 0 && norms["output"] > 0);
        qInfo("step 1: loss %.4f, |grad| user_gmf %.3g, item_gmf %.3g, output %.3g", steps[0].loss, norms["user_gmf"],
              norms["item_gmf"], norms["output"]);
    }
    QVERIFY(trainer.isPaused());
    trainer.setPaused(false);
    QCOMPARE(run.get().status, RunStatus::Finished);
    QVERIFY(lastStep.load() > 3);
}

void TestControls::learningRateChangeAppliesNextEpoch()
{
    Trainer trainer(sample_, gmf(3));
    std::vector<double> rates;
    trainer.setEpochCallback([&](const EpochStats& s) {
        rates.push_back(s.learningRate);
        if (s.epoch == 1)
            trainer.setLearningRate(0.02);
    });
    QVERIFY_THROWS_EXCEPTION(ConfigError, trainer.setLearningRate(std::nan("")));
    QVERIFY_THROWS_EXCEPTION(ConfigError, trainer.setLearningRate(-1));
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    QCOMPARE(rates.size(), size_t(3));
    QCOMPARE(rates[0], gmf(3).learningRate);
    QCOMPARE(rates[1], 0.02);
    QCOMPARE(rates[2], 0.02);
}

void TestControls::cosineScheduleAnnealsEveryStep()
{
    TrainConfig config = gmf(4);
    config.lrSchedule = "cosine";
    config.learningRate = 0.01;
    Trainer trainer(sample_, config);
    std::vector<double> rates, losses;
    int64_t batches = 0;
    trainer.setBatchCallback([&](const BatchProgress& p) { batches = p.batchesPerEpoch; });
    trainer.setEpochCallback([&](const EpochStats& s) {
        rates.push_back(s.learningRate);
        losses.push_back(s.loss);
        if (s.epoch == 2)
            trainer.setLearningRate(0.004);
    });
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    QCOMPARE(rates.size(), size_t(4));
    QVERIFY(batches > 1);
    // Each epoch reports the rate of its last step: the peak · ½(1 + cos(π t)), t the share of
    // the run before that step; from epoch 3 the peak is the rate set after epoch 2.
    for (int e = 1; e <= 4; ++e) {
        const double t = (e - 1 + double(batches - 1) / double(batches)) / 4.0;
        const double expected = (e <= 2 ? 0.01 : 0.004) * 0.5 * (1 + std::cos(M_PI * t));
        QVERIFY2(std::abs(rates[size_t(e - 1)] - expected) < 1e-12,
                 qPrintable(QStringLiteral("epoch %1: %2 against %3").arg(e).arg(rates[size_t(e - 1)]).arg(expected)));
    }
    QVERIFY(rates[3] < 0.004 * 0.01); // near zero at the end
    QVERIFY(losses.back() < losses.front());
    // Stopped after epoch 3 and resumed from its checkpoint: epoch 4 anneals from the peak set
    // live, as the unbroken run did, not from the configured one.
    QTemporaryDir dir;
    Trainer first(sample_, config);
    first.setCheckpointDir(dir.path().toStdString());
    first.setEpochCallback([&](const EpochStats& s) {
        if (s.epoch == 2)
            first.setLearningRate(0.004);
        if (s.epoch == 3)
            first.requestStop();
    });
    QCOMPARE(first.fit().status, RunStatus::Stopped);
    Trainer second(sample_, config);
    second.setCheckpointDir(dir.path().toStdString());
    second.setResumeFrom(dir.filePath(QStringLiteral("last.pt")).toStdString());
    std::vector<double> resumedRates;
    second.setEpochCallback([&](const EpochStats& s) { resumedRates.push_back(s.learningRate); });
    QCOMPARE(second.fit().status, RunStatus::Finished);
    QCOMPARE(resumedRates.size(), size_t(1));
    QVERIFY2(std::abs(resumedRates[0] - rates[3]) < 1e-12,
             qPrintable(QStringLiteral("%1 against %2").arg(resumedRates[0]).arg(rates[3])));
    // An unknown schedule is refused naming the option.
    TrainConfig bad = gmf(1);
    bad.lrSchedule = "step";
    try {
        bad.validate();
        QFAIL("an unknown schedule was accepted");
    } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("lr-schedule") != std::string::npos, e.what());
    }
}

void TestControls::stopWhilePaused()
{
    Trainer trainer(sample_, gmf(50));
    std::atomic<int> epochs{0};
    trainer.setEpochCallback([&](const EpochStats&) { ++epochs; });
    auto run = std::async(std::launch::async, [&] { return trainer.fit(); });
    QVERIFY(waitFor([&] { return epochs.load() >= 1; }));
    trainer.setPaused(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto t0 = std::chrono::steady_clock::now();
    trainer.requestStop();
    const RunOutcome outcome = run.get();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    QCOMPARE(outcome.status, RunStatus::Stopped);
    QVERIFY(outcome.epochsCompleted >= 1 && outcome.epochsCompleted < 50);
    QVERIFY2(ms < 2000, qPrintable(QString::number(ms)));
}

QTEST_APPLESS_MAIN(TestControls)
#include "test_controls.moc"
