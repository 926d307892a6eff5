// Validation parts, early stopping, checkpoints and resuming, on real training: the validation
// part comes out of the training data and never changes the test part; early stopping keeps the
// best validation epoch and tests it once; a run stopped between or inside epochs resumes from
// its checkpoint to exactly the figures of an uninterrupted run; the best checkpoint restores the
// recorded test metrics; bad requests are refused before anything changes.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/BehaviourSplit.h"
#include "data/MovieLens100kLoader.h"
#include "data/SampleGenerator.h"
#include "data/Splits.h"
#include "compiled/GraphExport.h"
#include "zoo/ModelRegistry.h"
#include "store/ExperimentStore.h"
#include "train/Checkpoint.h"
#include "runs/StoredRuns.h"
#include "train/TrainingSession.h"
#include "util/ArchiveCheck.h"
#include "util/Error.h"

#include "TestData.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

using namespace reclab;

class TestCheckpoint : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void leaveOneOutValidationComesOutOfTraining();
    void ratioAndBehaviourValidationKeepTheTestPart();
    void earlyStoppingKeepsTheBestEpoch();
    void earlyStoppingOnRatingsAndClicks();
    void resumeBetweenEpochsMatchesAnUninterruptedRun_data();
    void resumeBetweenEpochsMatchesAnUninterruptedRun();
    void resumeAfterAStopInsideAnEpoch();
    void refusals();

private:
    std::shared_ptr<const Dataset> sample_;
    std::shared_ptr<const Dataset> ml100k_;
};

namespace {

TrainConfig quick(const std::string& model, int epochs)
{
    TrainConfig c = defaultConfigFor(model);
    c.epochs = epochs;
    return c;
}

// metric key -> value per epoch, as stored.
std::map<std::string, std::map<int, double>> storedMetrics(const std::string& db, int64_t runId)
{
    ExperimentStore store(db);
    std::map<std::string, std::map<int, double>> out;
    for (const auto& p : store.metrics(runId))
        out[p.key][p.epoch] = p.value;
    return out;
}

} // namespace

void TestCheckpoint::initTestCase()
{
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    if (test::hasMl100k())
        ml100k_ = std::make_shared<const Dataset>(loadMovieLens100k(test::ml100kDir().toStdString()));
}

void TestCheckpoint::leaveOneOutValidationComesOutOfTraining()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& ds = *ml100k_;
    const LeaveOneOutSplit plain = makeLeaveOneOutSplit(ds);
    const LeaveOneOutSplit split = makeLeaveOneOutSplit(ds, true);
    QCOMPARE(split.testUser, plain.testUser);
    QCOMPARE(split.testItem, plain.testItem);
    QVERIFY(plain.validUser.empty());
    // Every ml-100k user has at least 20 ratings, so every one validates.
    QCOMPARE(split.validUser.size(), static_cast<size_t>(ds.numUsers()));
    QCOMPARE(split.train.size() + split.validUser.size() + split.testUser.size(), ds.interactions.size());

    // The validation item is the user's latest but one: no training row of the user is later, and
    // only the test item is not earlier.
    std::vector<int64_t> validTime(static_cast<size_t>(ds.numUsers()), -1), testTime(validTime);
    std::map<std::pair<int32_t, int32_t>, int64_t> timeOf;
    for (size_t r = 0; r < ds.interactions.size(); ++r)
        timeOf[{ds.interactions.user[r], ds.interactions.item[r]}] = ds.interactions.timestamp[r];
    for (size_t k = 0; k < split.validUser.size(); ++k) {
        validTime[static_cast<size_t>(split.validUser[k])] = timeOf[{split.validUser[k], split.validItem[k]}];
        testTime[static_cast<size_t>(split.testUser[k])] = timeOf[{split.testUser[k], split.testItem[k]}];
    }
    for (size_t k = 0; k < split.validUser.size(); ++k) {
        const auto u = static_cast<size_t>(split.validUser[k]);
        QVERIFY(validTime[u] <= testTime[u]);
        QVERIFY(split.validItem[k] != split.testItem[k]);
    }
    for (size_t r = 0; r < split.train.size(); ++r)
        QVERIFY(split.train.timestamp[r] <= validTime[static_cast<size_t>(split.train.user[r])]);
}

void TestCheckpoint::ratioAndBehaviourValidationKeepTheTestPart()
{
    const Dataset& ds = *sample_;
    const RatioSplit plain = makeRandomRatioSplit(ds, 0.8, 7);
    const RatioSplit split = makeRandomRatioSplit(ds, 0.8, 7, 0.1);
    QCOMPARE(split.test.user, plain.test.user);
    QCOMPARE(split.test.item, plain.test.item);
    const auto n = static_cast<double>(ds.interactions.size());
    QVERIFY(std::abs(static_cast<double>(split.valid.size()) - 0.1 * n) <= 1.0);
    QCOMPARE(split.train.size() + split.valid.size(), plain.train.size());
    QVERIFY_THROWS_EXCEPTION(ConfigError, makeRandomRatioSplit(ds, 0.8, 7, 0.8));

    BehaviourSplitOptions o;
    const BehaviourSplit plainUsers = makeBehaviourSplit(ds, o);
    o.validUserShare = 0.1;
    const BehaviourSplit users = makeBehaviourSplit(ds, o);
    QCOMPARE(users.testUsers, plainUsers.testUsers);
    QCOMPARE(users.test.size(), plainUsers.test.size());
    QVERIFY(!users.validUsers.empty());
    std::set<int32_t> valid(users.validUsers.begin(), users.validUsers.end());
    for (const int32_t u : users.testUsers)
        QVERIFY(!valid.count(u));
    for (const int32_t u : users.train.user)
        QVERIFY(!valid.count(u));
    QCOMPARE(users.train.size() + users.valid.size(), plainUsers.train.size());
}

void TestCheckpoint::earlyStoppingKeepsTheBestEpoch()
{
    RECLAB_REQUIRE_ML100K();
    QTemporaryDir dir;
    const std::string db = (dir.path() + "/runs.db").toStdString();
    TrainConfig c = quick("gmf", 30);
    c.validationMetric = "ndcg";
    c.patience = 2;
    TrainingSession session(ml100k_, c, db);
    std::vector<EpochStats> epochs;
    session.setEpochCallback([&](const EpochStats& s) { epochs.push_back(s); });
    const RunOutcome outcome = session.run();
    QCOMPARE(outcome.status, RunStatus::Finished);
    QVERIFY(outcome.testedAtBest);
    // GMF on ml-100k overfits well before 30 epochs.
    QVERIFY2(outcome.epochsCompleted < 30, outcome.message.c_str());
    QVERIFY(outcome.message.find("stopped early") != std::string::npos);

    // The best epoch is the validation maximum, and the run ended `patience` epochs after it.
    int best = 0;
    double bestValue = -1;
    for (const auto& s : epochs) {
        QCOMPARE(s.metrics.front().name.substr(0, 4), std::string("val_"));
        QCOMPARE(metricOr(s.metrics, "hr@10", -1.0), -1.0); // the test part is not looked at while training
        const double v = metricOr(s.metrics, "val_ndcg@10", -1.0);
        if (v > bestValue) {
            bestValue = v;
            best = s.epoch;
        }
    }
    QCOMPARE(outcome.bestEpoch, best);
    QCOMPARE(outcome.epochsCompleted, best + c.patience);

    // Stored: validation curves per epoch, the test metrics once at the best epoch.
    const auto stored = storedMetrics(db, session.runId());
    QCOMPARE(static_cast<int>(stored.at("val_ndcg@10").size()), outcome.epochsCompleted);
    QCOMPARE(stored.at("ndcg@10").size(), size_t{1});
    QCOMPARE(stored.at("ndcg@10").begin()->first, best);
    QCOMPARE(stored.at("best_epoch").begin()->second, static_cast<double>(best));
    const double testNdcg = stored.at("ndcg@10").begin()->second;
    QCOMPARE(metricOr(outcome.finalMetrics, "ndcg@10", -1), testNdcg);

    // best.pt restores exactly that model; last.pt is the last epoch's, which tests differently.
    const std::string artifacts = runArtifactDir(db, session.runId());
    Trainer restorer(ml100k_, storedTrainConfig(db, session.runId()));
    const MetricValues atBest = restorer.evaluateCheckpoint(artifacts + "/best.pt");
    QVERIFY(std::abs(metricOr(atBest, "ndcg@10", -1) - testNdcg) < 1e-9);
    QCOMPARE(CheckpointReader(artifacts + "/best.pt").progress().bestEpoch, best);
    QCOMPARE(CheckpointReader(artifacts + "/last.pt").progress().epoch, outcome.epochsCompleted);
    const MetricValues atLast = restorer.evaluateCheckpoint(artifacts + "/last.pt");
    QVERIFY(metricOr(atLast, "ndcg@10", -1) != testNdcg);
}

void TestCheckpoint::earlyStoppingOnRatingsAndClicks()
{
    // A lower-is-better metric (rmse), and the din protocol's validation users (gauc).
    QTemporaryDir dir;
    const std::string db = (dir.path() + "/runs.db").toStdString();
    TrainConfig mf = quick("mf", 6);
    mf.validationMetric = "rmse";
    mf.patience = 0; // never early: all epochs run, the best is still kept
    TrainingSession rating(sample_, mf, db);
    std::vector<double> rmse;
    rating.setEpochCallback([&](const EpochStats& s) { rmse.push_back(metricOr(s.metrics, "val_rmse", NAN)); });
    const RunOutcome r = rating.run();
    QCOMPARE(r.epochsCompleted, 6);
    QVERIFY(r.testedAtBest);
    const auto minimum = std::min_element(rmse.begin(), rmse.end());
    QCOMPARE(r.bestEpoch, static_cast<int>(minimum - rmse.begin()) + 1);
    QVERIFY(std::isfinite(metricOr(r.finalMetrics, "rmse", NAN)));

    TrainConfig din = quick("din", 2);
    din.validationMetric = "gauc";
    TrainingSession clicks(sample_, din, db);
    const RunOutcome d = clicks.run();
    QVERIFY(d.testedAtBest);
    QVERIFY(d.bestEpoch >= 1 && d.bestEpoch <= 2);
    QVERIFY(std::isfinite(metricOr(d.finalMetrics, "auc", NAN)));
}

void TestCheckpoint::resumeBetweenEpochsMatchesAnUninterruptedRun_data()
{
    QTest::addColumn<QString>("model");
    QTest::newRow("gradients (neumf)") << "neumf";
    QTest::newRow("Gibbs sweeps (bpmf)") << "bpmf";
}

void TestCheckpoint::resumeBetweenEpochsMatchesAnUninterruptedRun()
{
    QFETCH(QString, model);
    const bool sampler = model == "bpmf";
    QTemporaryDir dir;
    const std::string db = (dir.path() + "/runs.db").toStdString();
    TrainConfig c = quick(model.toStdString(), 4);
    c.pretrain = false;
    c.burnIn = 1; // the sampler's bank fills across the stop
    c.validationMetric = sampler ? "rmse" : "hr";
    c.patience = 0;

    TrainingSession straight(sample_, c, db);
    const RunOutcome whole = straight.run();
    QCOMPARE(whole.epochsCompleted, 4);

    // The same run stopped after its second epoch (the stop lands before the third begins).
    TrainingSession first(sample_, c, db);
    first.setEpochCallback([&](const EpochStats& s) {
        if (s.epoch == 2)
            first.requestStop();
    });
    const RunOutcome stopped = first.run();
    QCOMPARE(stopped.status, RunStatus::Stopped);
    QCOMPARE(stopped.epochsCompleted, 2);
    const int64_t id = first.runId();
    QCOMPARE(ExperimentStore(db).findRun(id)->status, RunStatus::Stopped);

    TrainingSession second(sample_, storedTrainConfig(db, id), db);
    second.resume(id);
    std::vector<int> resumedEpochs;
    second.setEpochCallback([&](const EpochStats& s) { resumedEpochs.push_back(s.epoch); });
    const RunOutcome resumed = second.run();
    QCOMPARE(second.runId(), id);
    QCOMPARE(resumed.status, RunStatus::Finished);
    QCOMPARE(resumedEpochs, (std::vector<int>{3, 4}));
    QCOMPARE(resumed.bestEpoch, whole.bestEpoch);

    // Same sampler draws, same optimizer or chain state: the same figures as the uninterrupted run.
    const auto a = storedMetrics(db, straight.runId());
    const auto b = storedMetrics(db, id);
    const auto keys = sampler ? std::vector<std::string>{"val_rmse", "loss"}
                              : std::vector<std::string>{"val_hr@10", "val_ndcg@10", "loss"};
    for (const auto& key : keys) {
        QCOMPARE(b.at(key).size(), size_t{4});
        for (int e = 1; e <= 4; ++e)
            QVERIFY2(std::abs(a.at(key).at(e) - b.at(key).at(e)) < 1e-6, key.c_str());
    }
    const char* tested = sampler ? "rmse" : "hr@10";
    QVERIFY(std::abs(metricOr(resumed.finalMetrics, tested, -1) - metricOr(whole.finalMetrics, tested, -2)) < 1e-9);
    QCOMPARE(ExperimentStore(db).findRun(id)->status, RunStatus::Finished);
}

void TestCheckpoint::resumeAfterAStopInsideAnEpoch()
{
    QTemporaryDir dir;
    const std::string db = (dir.path() + "/runs.db").toStdString();
    TrainConfig c = quick("gmf", 3);
    c.reportEveryBatches = 5;

    TrainingSession straight(sample_, c, db);
    straight.run();

    // Stopped halfway through epoch 2: only epoch 1 is stored, the checkpoint holds epoch 1.
    TrainingSession first(sample_, c, db);
    first.setBatchCallback([&](const BatchProgress& p) {
        if (p.epoch == 2 && p.batch * 2 >= p.batchesPerEpoch)
            first.requestStop();
    });
    QCOMPARE(first.run().status, RunStatus::Stopped);
    const int64_t id = first.runId();
    auto stored = storedMetrics(db, id);
    QCOMPARE(stored.at("hr@10").size(), size_t{1});
    int maxEpoch = 0;
    for (const auto& [key, byEpoch] : stored)
        maxEpoch = std::max(maxEpoch, byEpoch.rbegin()->first);
    QCOMPARE(maxEpoch, 1);
    QCOMPARE(CheckpointReader(runArtifactDir(db, id) + "/last.pt").progress().epoch, 1);

    // Resumed with more epochs than planned: epochs 2 and 3 equal the straight run's, then a 4th.
    TrainConfig more = storedTrainConfig(db, id);
    more.epochs = 4;
    TrainingSession second(sample_, more, db);
    second.resume(id);
    QCOMPARE(second.run().epochsCompleted, 4);
    const auto a = storedMetrics(db, straight.runId());
    stored = storedMetrics(db, id);
    for (int e = 1; e <= 3; ++e)
        QVERIFY(std::abs(a.at("hr@10").at(e) - stored.at("hr@10").at(e)) < 1e-9);
    QCOMPARE(stored.at("hr@10").size(), size_t{4});
    QCOMPARE(storedTrainConfig(db, id).epochs, 4);
}

void TestCheckpoint::refusals()
{
    QTemporaryDir dir;
    const std::string db = (dir.path() + "/runs.db").toStdString();

    // A metric the task does not compute, before any work.
    TrainConfig bad = quick("gmf", 1);
    bad.validationMetric = "rmse";
    try {
        Trainer t(sample_, bad);
        QFAIL("an rmse validation metric for a ranking model was accepted");
    } catch (const ConfigError& e) {
        QVERIFY(std::string(e.what()).find("validation-metric") != std::string::npos);
        QVERIFY(std::string(e.what()).find("ndcg@10") != std::string::npos);
    }
    bad.validationMetric = "hr";
    bad.validationFraction = 0.95;
    QVERIFY_THROWS_EXCEPTION(ConfigError, Trainer(sample_, bad));

    // A tower that cannot fit in memory (two 65536-wide layers: 4.3e9 weights, 69 GB with
    // gradients and Adam's moments per layer) is refused before anything is allocated.
    TrainConfig huge = quick("neumf", 1);
    huge.mlpLayers = {65536, 65536, 65536};
    try {
        Trainer t(sample_, huge);
        QFAIL("a model larger than memory was accepted");
    } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("memory") != std::string::npos, e.what());
    }

    // A finished run does not resume; nothing about it changes.
    TrainingSession done(sample_, quick("gmf", 1), db);
    done.run();
    TrainingSession again(sample_, quick("gmf", 2), db);
    again.resume(done.runId());
    try {
        again.run();
        QFAIL("a finished run was resumed");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("FINISHED") != std::string::npos);
    }
    QCOMPARE(ExperimentStore(db).findRun(done.runId())->status, RunStatus::Finished);
    QCOMPARE(ExperimentStore(db).listRuns().size(), size_t{1});

    // A stopped run resumed on other data, or without epochs left.
    TrainingSession stopped(sample_, quick("gmf", 3), db);
    stopped.setEpochCallback([&](const EpochStats&) { stopped.requestStop(); });
    QCOMPARE(stopped.run().status, RunStatus::Stopped);
    SampleConfig otherSeed;
    otherSeed.seed = 99;
    TrainingSession otherData(std::make_shared<const Dataset>(generateSampleDataset(otherSeed)),
                              quick("gmf", 3), db);
    otherData.resume(stopped.runId());
    QVERIFY_THROWS_EXCEPTION(Error, otherData.run());
    TrainingSession noEpochsLeft(sample_, quick("gmf", 1), db);
    noEpochsLeft.resume(stopped.runId());
    QVERIFY_THROWS_EXCEPTION(Error, noEpochsLeft.run());
    QCOMPARE(ExperimentStore(db).findRun(stopped.runId())->status, RunStatus::Stopped);

    // A damaged checkpoint is named in the message.
    const std::string last = runArtifactDir(db, stopped.runId()) + "/last.pt";
    std::ofstream(last, std::ios::trunc) << "not a checkpoint";
    try {
        CheckpointReader reader(last);
        QFAIL("a damaged checkpoint was read");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find(last) != std::string::npos);
    }
    TrainingSession damaged(sample_, quick("gmf", 3), db);
    damaged.resume(stopped.runId());
    QVERIFY_THROWS_EXCEPTION(Error, damaged.run());
    QCOMPARE(ExperimentStore(db).findRun(stopped.runId())->status, RunStatus::Stopped);

    // A checkpoint of another model shape.
    TrainConfig wide = quick("gmf", 1);
    wide.factors = 16;
    TrainingSession other(sample_, wide, db);
    other.run();
    Trainer narrow(sample_, quick("gmf", 1));
    QVERIFY_THROWS_EXCEPTION(Error, narrow.evaluateCheckpoint(runArtifactDir(db, other.runId()) + "/last.pt"));

    // One damaged byte: LibTorch does not check the records' CRC, and a damaged type source in a
    // code record made it terminate the process (fuzz_checkpoint); now both are refused first.
    const std::string wideLast = runArtifactDir(db, other.runId()) + "/last.pt";
    std::string bytes;
    {
        std::ifstream in(wideLast, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto refusedBecause = [&](const std::string& damagedBytes, const char* why) {
        const std::string path = (dir.path() + "/damaged.pt").toStdString();
        std::ofstream(path, std::ios::binary | std::ios::trunc) << damagedBytes;
        try {
            CheckpointReader reader(path);
            QFAIL("a damaged checkpoint was read");
        } catch (const DataError& e) {
            QVERIFY2(std::string(e.what()).find(why) != std::string::npos, e.what());
        }
    };
    for (const char* needle : {"weight : Tensor", "progress.rng"}) {
        std::string damagedBytes = bytes;
        const size_t at = damagedBytes.find(needle);
        QVERIFY(at != std::string::npos);
        damagedBytes[at + 6] = '\x01';
        refusedBecause(damagedBytes, "its CRC-32 does not match");
    }
    // A record's name in the zip directory that differs from its local header's, and a class
    // source renamed in both (no CRC covers names): LibTorch would not find the class its data
    // names, and ended the process (fuzz_checkpoint).
    const std::string code = "code/__torch__/___torch_mangle_3.py";
    std::string renamedOnce = bytes;
    renamedOnce[renamedOnce.rfind(code) + code.size() - 4] = '9'; // the directory's copy only
    refusedBecause(renamedOnce, "its names differ");
    std::string renamed = bytes;
    for (size_t at = renamed.find(code); at != std::string::npos; at = renamed.find(code, at + 1))
        renamed[at + code.size() - 4] = '9';
    QVERIFY(renamed.find("___torch_mangle_9.py") != std::string::npos);
    refusedBecause(renamed, "refers to __torch__.___torch_mangle_3.Module, which the archive does not define");

    // The source forms LibTorch writes for saved modules, and what it does not.
    QVERIFY(isSavedModuleSource("class Module(Module):\n  __parameters__ = [\"weight\", \"bias\", ]\n  __buffers__ = []\n"
                                "  weight : Tensor\n  bias : Tensor\n  part : __torch__.___torch_mangle_3.Module\n"
                                "  __annotations__[\"optimizer.kind\"] = int\n  flag : Optional[List[bool]]\n"));
    for (const char* bad : {"", "class Module(Module):\n  weight : Tensr\n", "class Module(Module):\n  weight \x01: Tensor\n",
                            "class Module(Module):\n  def forward(self):\n", "  weight : Tensor\n",
                            "class Module(Module):\n  __parameters__ = [\"a\\\"b\", ]\n",
                            "class Module(Module):\n  x : Optional[Optional[Optional[Optional[Optional[Optional[Optional["
                            "Optional[Optional[int]]]]]]]]]\n"})
        QVERIFY2(!isSavedModuleSource(bad), bad);
}

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "test_checkpoint.moc"
