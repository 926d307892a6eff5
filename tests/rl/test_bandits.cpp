// Ranking policies and their environments: the per-item policies find the best arm of a known
// Bernoulli problem; the replay counts exactly the events whose logged item was in the slate, in
// the log's order, and repeats itself for a seed; the simulator built from a stored run has no
// negative regret and its learners beat the run's own static ranking; bad combinations are
// refused before anything runs; `reclab-cli bandit --json` writes progress and a final object
// per policy.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "models/Recommender.h"

#include <torch/utils.h>
#include "inspection/StoredRun.h"
#include "rl/BanditRecords.h"
#include "rl/BanditRun.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"
#include "util/Error.h"
#include "zoo/ModelRegistry.h"

#include <QTemporaryDir>
#include <QtTest>

#include "CliRunner.h"

#include <nlohmann/json.hpp>

#include <numeric>
#include <set>

using namespace reclab;

class TestBandits : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void armPoliciesFindTheBestArm();
    void replayCountsMatchedEventsInOrder();
    void simulatorLearnersBeatTheStaticRanking();
    void refusals();
    void cliWritesProgressAndResults();

private:
    std::shared_ptr<const Dataset> sample_;
    QTemporaryDir dir_;
    std::string db_;
    int64_t baseRun_ = 0;
};

namespace {

std::string refusal(const std::function<void()>& f)
{
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

} // namespace

void TestBandits::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    db_ = dir_.filePath("runs.db").toStdString();
    TrainConfig c = defaultConfigFor("gmf");
    c.epochs = 3;
    c.threads = 2;
    TrainingSession session(sample_, c, db_);
    QCOMPARE(session.run().status, RunStatus::Finished);
    baseRun_ = session.runId();
}

void TestBandits::armPoliciesFindTheBestArm()
{
    // 10 arms paying 1 with chance 0.05, 0.15, ..., 0.95; one item per slate.
    std::vector<int32_t> arms(10);
    std::iota(arms.begin(), arms.end(), 0);
    auto rate = [](int32_t a) { return 0.05 + 0.1 * a; };
    double randomMean = 0;
    for (const char* name : {"random", "egreedy", "ucb", "bayes-ucb", "thompson", "exp3"}) {
        auto policy = makeArmPolicy(parsePolicy(name), 10, ArmPolicySettings{}, 3);
        Random world(11);
        std::vector<int32_t> slate;
        double reward = 0;
        int bestLate = 0;
        const int steps = 6000;
        for (int t = 0; t < steps; ++t) {
            policy->choose(0, arms, 1, slate);
            QCOMPARE(slate.size(), size_t(1));
            const double r = world.uniform() < rate(slate[0]) ? 1.0 : 0.0;
            policy->update(0, slate, {{slate[0], 0, r}});
            reward += r;
            bestLate += t >= steps - 1000 && slate[0] == 9;
        }
        const double mean = reward / steps;
        const ItemEstimate best = policy->estimate(0, 9);
        qInfo("%-9s mean reward %.3f, best arm in the last 1000 steps %d, its estimate %.3f after %lld", name, mean,
              bestLate, best.mean, static_cast<long long>(best.observations));
        if (std::string(name) == "random") {
            randomMean = mean;
            QVERIFY(std::abs(mean - 0.5) < 0.03);
            continue;
        }
        QVERIFY2(mean > randomMean + 0.25, name);
        if (std::string(name) != "exp3") {
            QVERIFY2(bestLate > 600, name);
            QVERIFY(std::abs(best.mean - 0.95) < 0.03);
        }
    }
}

void TestBandits::replayCountsMatchedEventsInOrder()
{
    BanditConfig c;
    c.policies = {PolicyKind::Random, PolicyKind::Thompson};
    c.arms = 40;
    c.steps = 3000;
    BanditRun run(sample_, nullptr, c);
    // The log's events of the 40 most-rated items, in time order.
    const InteractionTable& rows = sample_->interactions;
    std::vector<double> count(size_t(sample_->numItems()));
    for (size_t r = 0; r < rows.size(); ++r)
        ++count[size_t(rows.item[r])];
    std::vector<int32_t> items(count.size());
    std::iota(items.begin(), items.end(), 0);
    std::stable_sort(items.begin(), items.end(), [&](int32_t a, int32_t b) { return count[size_t(a)] > count[size_t(b)]; });
    items.resize(40);
    std::vector<size_t> events;
    for (size_t r = 0; r < rows.size(); ++r)
        if (std::find(items.begin(), items.end(), rows.item[r]) != items.end())
            events.push_back(r);
    std::stable_sort(events.begin(), events.end(), [&](size_t a, size_t b) { return rows.timestamp[a] < rows.timestamp[b]; });
    int64_t matched = 0;
    double reward = 0;
    for (int64_t t = 0; t < c.steps; ++t) {
        const BanditStep s = run.stepOne(0);
        const size_t row = events[size_t(t)];
        QCOMPARE(s.user, rows.user[row]);
        QCOMPARE(s.logged, rows.item[row]);
        QCOMPARE(s.slate.size(), size_t(5));
        const bool in = std::find(s.slate.begin(), s.slate.end(), s.logged) != s.slate.end();
        QCOMPARE(s.counted, in);
        QCOMPARE(s.seen.size(), size_t(in ? 1 : 0));
        if (in) {
            QCOMPARE(s.seen[0].reward, rows.rating[row] >= 4 ? 1.0 : 0.0);
            QCOMPARE(s.slate[size_t(s.seen[0].position)], s.logged);
            ++matched;
            reward += s.seen[0].reward;
        }
    }
    const PolicyResult r = run.results().front();
    QCOMPARE(r.matched, matched);
    QCOMPARE(r.reward, reward);
    // Random slates of 5 from 40 match about an eighth of the events.
    QVERIFY(std::abs(double(matched) / double(c.steps) - 5.0 / 40.0) < 0.03);
    // The same seed repeats every figure; another seed draws other slates.
    const auto once = runBandits(sample_, nullptr, c), again = runBandits(sample_, nullptr, c);
    c.seed = 7;
    const auto other = runBandits(sample_, nullptr, c);
    for (size_t p = 0; p < once.size(); ++p) {
        QCOMPARE(once[p].matched, again[p].matched);
        QCOMPARE(once[p].reward, again[p].reward);
    }
    QVERIFY(once[0].matched != other[0].matched || once[0].reward != other[0].reward);
}

void TestBandits::simulatorLearnersBeatTheStaticRanking()
{
    auto base = std::make_shared<StoredModel>(loadStoredModel(db_, baseRun_, sample_));
    BanditConfig c;
    c.environment = BanditEnvironmentKind::Simulator;
    c.policies = {PolicyKind::Base, PolicyKind::LinUcb, PolicyKind::Reinforce, PolicyKind::Random};
    c.steps = 6000;
    BanditRun run(sample_, base, c);
    for (size_t lane = 0; lane < 4; ++lane)
        for (int t = 0; t < 200; ++t) {
            const BanditStep s = run.stepOne(lane);
            QVERIFY2(s.regret > -1e-9, "a slate did better than the optimum");
            QCOMPARE(s.seen.size(), s.slate.size());
            QCOMPARE(std::set<int32_t>(s.slate.begin(), s.slate.end()).size(), s.slate.size());
        }
    run.advance(c.steps);
    const auto r = run.results();
    for (const auto& p : r)
        qInfo("%-9s clicks per slate %.3f, regret %.1f", p.policy.c_str(), p.meanReward, p.regret);
    QCOMPARE(r[0].steps, c.steps);
    QVERIFY(r[0].regret > 0);
    QVERIFY2(r[1].reward > r[0].reward, "LinUCB did not beat the base ranking");
    QVERIFY2(r[2].reward > r[0].reward, "REINFORCE did not beat the base ranking");
    // Seeded: the same users, clicks and learning again.
    c.steps = 1500;
    const auto once = runBandits(sample_, base, c), again = runBandits(sample_, base, c);
    for (size_t p = 0; p < once.size(); ++p) {
        QCOMPARE(once[p].reward, again[p].reward);
        QCOMPARE(once[p].regret, again[p].regret);
    }
}

void TestBandits::refusals()
{
    BanditConfig c;
    c.policies = {PolicyKind::Random};
    c.arms = 4;
    QVERIFY(refusal([&] { BanditRun(sample_, nullptr, c); }).find("slate of 5 from 4") != std::string::npos);
    c.arms = 100;
    Dataset untimed = *sample_;
    std::fill(untimed.interactions.timestamp.begin(), untimed.interactions.timestamp.end(), 0);
    QVERIFY(refusal([&] { BanditRun(std::make_shared<const Dataset>(untimed), nullptr, c); }).find("no timestamps") !=
            std::string::npos);
    Dataset implicit = *sample_;
    std::fill(implicit.interactions.rating.begin(), implicit.interactions.rating.end(), 1.0f);
    QVERIFY(refusal([&] { BanditRun(std::make_shared<const Dataset>(implicit), nullptr, c); }).find("feedback") !=
            std::string::npos);
    c.policies = {PolicyKind::LinUcb};
    QVERIFY(refusal([&] { BanditRun(sample_, nullptr, c); }).find("--base-run") != std::string::npos);
    c.environment = BanditEnvironmentKind::Simulator;
    c.policies = {PolicyKind::Random};
    QVERIFY(refusal([&] { BanditRun(sample_, nullptr, c); }).find("--base-run") != std::string::npos);
    auto base = std::make_shared<StoredModel>(loadStoredModel(db_, baseRun_, sample_));
    c.slate = 60;
    QVERIFY(refusal([&] { BanditRun(sample_, base, c); }).find("slate of 60 from 50") != std::string::npos);
    c.slate = 5;
    auto other = std::make_shared<const Dataset>(generateSampleDataset(SampleConfig{7}));
    QVERIFY(refusal([&] { BanditRun(other, base, c); }).find("other data") != std::string::npos);
}

void TestBandits::cliWritesProgressAndResults()
{
    const QString db = dir_.filePath("cli.db");
    const auto r = reclab::test::runCli({"bandit", "--data", "sample", "--policy", "random,egreedy", "--steps", "2000",
                                         "--every", "500", "--json", "--db", db});
    QCOMPARE(r.code, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 4 + 2);
    for (int k = 0; k < 4; ++k) {
        const auto progress = nlohmann::json::parse(lines[k].toStdString());
        QCOMPARE(progress["step"].get<int64_t>(), int64_t(500 * (k + 1)));
        QCOMPARE(progress["policies"].size(), size_t(2));
    }
    for (int k = 4; k < 6; ++k) {
        const auto final = nlohmann::json::parse(lines[k].toStdString());
        QCOMPARE(final["policy"].get<std::string>(), std::string(k == 4 ? "random" : "egreedy"));
        QVERIFY(final["matched"].get<int64_t>() > 0);
        QVERIFY(final["mean_reward"].get<double>() > 0 && final["mean_reward"].get<double>() <= 1);
        // Each policy is a finished run of the database, its curve the reward so far by decision.
        ExperimentStore store(db.toStdString());
        const auto run = store.findRun(final["run"].get<int64_t>());
        QVERIFY(run && run->model == "bandit" && run->status == RunStatus::Finished);
        const auto curve = store.metrics(run->id, "reward");
        QVERIFY(curve.size() >= 4);
        QCOMPARE(curve.back().step, int64_t(2000));
        QCOMPARE(curve.back().value, final["reward"].get<double>());
        QCOMPARE(store.metrics(run->id, "matched").back().value, double(final["matched"].get<int64_t>()));
        QCOMPARE(nlohmann::json::parse(run->paramsJson)["bandit"]["policy"], final["policy"]);
    }
    const auto bad = reclab::test::runCli({"bandit", "--data", "sample", "--slate", "200", "--arms", "100", "--db", db});
    QCOMPARE(bad.code, 2);
    QVERIFY(bad.err.contains("slate of 200 from 100"));
    QCOMPARE(bad.err.trimmed().count('\n'), 0);
    QVERIFY(bad.out.isEmpty());
    const auto policyRun = reclab::test::runCli({"bandit", "--base-run", "1", "--db", db});
    QCOMPARE(policyRun.code, 2);
    QVERIFY(policyRun.err.contains("run 1 is a bandit run"));
    const auto nan = reclab::test::runCli({"bandit", "--data", "sample", "--like", "nan", "--db", db});
    QCOMPARE(nan.code, 2);
    QVERIFY(nan.err.contains("--like"));
    QCOMPARE(ExperimentStore(db.toStdString()).listRuns().size(), size_t(2)); // the refusals wrote no run
    // Runs whose recorder goes before they end are marked interrupted, never left running.
    BanditConfig c;
    c.policies = {PolicyKind::Random};
    c.steps = 1000;
    BanditRun run(sample_, nullptr, c);
    int64_t id = 0;
    {
        BanditRecorder recorder(db.toStdString(), run, 0);
        run.advance(300);
        recorder.record(run);
        id = recorder.runIds().front();
        QCOMPARE(ExperimentStore(db.toStdString()).findRun(id)->status, RunStatus::Running);
    }
    QCOMPARE(ExperimentStore(db.toStdString()).findRun(id)->status, RunStatus::Interrupted);
}

QTEST_GUILESS_MAIN(TestBandits)
#include "test_bandits.moc"
