// The Ranking tab on a real run trained here on the sample: policies run in a worker on the
// simulator and on the replay, their curves grow on the dashboard's charts, each policy is
// stored as a run with its curves, and a paused run steps one decision at a time, showing the
// slate and how the policy's estimates moved. Set RECLAB_SCREENSHOT_DIR to keep pictures.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "train/TrainingSession.h"
#include "zoo/ModelRegistry.h"

#include "chart/MetricChart.h"
#include "experiments/RunsTableModel.h"
#include "MainWindow.h"
#include "ranking/RankingView.h"
#include "store/ExperimentStore.h"

#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "Screenshots.h"

using namespace reclab;

class TestRankingView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void simulatorCurvesGrowAndRunsAreStored();
    void pausedRunStepsOneDecisionAtATime();
    void windowHasTheRankingTab();

private:
    void setUp(RankingView& view, const char* environment);

    QTemporaryDir dir_;
    QString db_;
    std::shared_ptr<const Dataset> sample_;
    int64_t base_ = 0;
    RunsTableModel runs_;
};

void TestRankingView::initTestCase()
{
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    db_ = dir_.filePath(QStringLiteral("runs.db"));
    TrainConfig c = defaultConfigFor("gmf");
    c.epochs = 3;
    c.threads = 2;
    TrainingSession session(sample_, c, db_.toStdString());
    QCOMPARE(session.run().status, RunStatus::Finished);
    base_ = session.runId();
    runs_.setDatabasePath(db_);
    QVERIFY(runs_.refresh());
}

void TestRankingView::setUp(RankingView& view, const char* environment)
{
    view.resize(1300, 820);
    view.show();
    QVERIFY(view.minimumSizeHint().width() < 860); // beside the setup dock in the window's 1,211 pixels
    view.offerRuns(db_, runs_);
    view.setDataset(sample_);
    view.environmentCombo()->setCurrentIndex(view.environmentCombo()->findData(QString::fromLatin1(environment)));
}

void TestRankingView::simulatorCurvesGrowAndRunsAreStored()
{
    RankingView view;
    setUp(view, "sim");
    QCOMPARE(view.baseRunCombo()->count(), 2); // (none) and the GMF run
    view.baseRunCombo()->setCurrentIndex(view.baseRunCombo()->findData(QVariant::fromValue<qint64>(base_)));
    view.policyBox(PolicyKind::LinUcb)->setChecked(true);
    view.stepsSpin()->setValue(4000);
    QSignalSpy finished(&view, &RankingView::finished), stored(&view, &RankingPage::runsStored);
    view.start();
    QVERIFY(view.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(!view.results().isEmpty() && view.results().front().steps >= 1000, 60000);
    reclab::test::saveShot(&view, "ranking-simulator-mid-run.png");
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QVERIFY(stored.count() >= 2); // when the runs began and when they ended
    reclab::test::saveShot(&view, "ranking-simulator-done.png");
    QCOMPARE(view.results().size(), 4);
    QCOMPARE(view.storedRuns().size(), 4);
    QCOMPARE(view.thirdChart()->key(), QStringLiteral("regret"));
    // Every policy drawn on each chart (a raw and a smoothed line per run).
    for (auto* chart : {view.rewardChart(), view.ctrChart(), view.thirdChart()})
        QVERIFY(chart->chart()->series().size() >= 4);
    ExperimentStore store(db_.toStdString());
    for (int p = 0; p < 4; ++p) {
        const PolicyResult& r = view.results()[p];
        QCOMPARE(r.steps, int64_t(4000));
        const auto run = store.findRun(view.storedRuns()[p]);
        QVERIFY(run && run->model == "bandit" && run->status == RunStatus::Finished);
        QCOMPARE(view.rewardChart()->rawPoints(run->id), static_cast<int>(r.curve.size()));
        const auto regret = store.metrics(run->id, "regret");
        QCOMPARE(regret.back().step, int64_t(4000));
        QCOMPARE(regret.back().value, r.regret);
    }
    // LinUCB (the fourth) learns from the clicks: more of them than random (the first).
    QVERIFY(view.results()[3].reward > view.results()[0].reward);
    QVERIFY(view.statusLabel()->text().startsWith(QStringLiteral("Done, 4000 decisions")));
    QVERIFY(view.startButton()->isEnabled() && view.startButton()->text() == QStringLiteral("Start"));
}

void TestRankingView::pausedRunStepsOneDecisionAtATime()
{
    RankingView view;
    setUp(view, "replay");
    QSignalSpy finished(&view, &RankingView::finished), stepped(&view, &RankingView::stepped);
    view.start();
    view.setPaused(true);
    QTRY_VERIFY_WITH_TIMEOUT(view.stepButton()->isEnabled(), 60000);
    QCOMPARE(view.pauseButton()->text(), QStringLiteral("Continue"));
    QCOMPARE(view.stepPolicyCombo()->count(), 3); // random, ε-greedy, Thompson
    view.stepPolicyCombo()->setCurrentIndex(2);
    const int64_t before = view.results().isEmpty() ? 0 : view.results()[2].steps;
    for (int k = 1; k <= 5; ++k) {
        view.stepOnce();
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), k, 10000);
        QCOMPARE(view.stepTable()->rowCount(), 5);
        QVERIFY(view.stepLabel()->text().contains(QStringLiteral("Thompson, decision %1").arg(before + k)));
        for (int row = 0; row < 5; ++row)
            QVERIFY(!view.stepTable()->item(row, 1)->text().isEmpty());
    }
    QCOMPARE(view.results()[2].steps, before + 5);
    // On until a slate holds the user's choice (a slate of 5 from 100 items: one in 20 or so).
    for (int k = 6; k < 400 && !view.stepLabel()->text().contains(QStringLiteral("which the slate held")); ++k) {
        view.stepOnce();
        QTRY_COMPARE_WITH_TIMEOUT(stepped.count(), k, 10000);
    }
    QVERIFY(view.stepLabel()->text().contains(QStringLiteral("it counts")));
    int chosen = 0;
    for (int row = 0; row < 5; ++row)
        chosen += view.stepTable()->item(row, 3)->text().startsWith(QStringLiteral("chose it"));
    QCOMPARE(chosen, 1);
    reclab::test::saveShot(&view, "ranking-step.png");
    // Stop while paused ends the runs as stopped.
    view.stop();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
    ExperimentStore store(db_.toStdString());
    for (const qint64 id : view.storedRuns())
        QCOMPARE(store.findRun(id)->status, RunStatus::Stopped);
    QVERIFY(view.statusLabel()->text().startsWith(QStringLiteral("Stopped at decision")));
}

// The window's Ranking tab is the engine's page: it offers the window's runs, runs on the window's
// data, and the runs table picks up the policies' runs when they are stored.
void TestRankingView::windowHasTheRankingTab()
{
    MainWindow w({db_, QStringLiteral("sample")});
    w.resize(1400, 900);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 60000);
    auto* view = qobject_cast<RankingView*>(w.rankingPage());
    QVERIFY(view);
    QCOMPARE(w.centralTabs()->tabText(w.centralTabs()->indexOf(w.rankingTab())), QStringLiteral("Ranking"));
    QTRY_VERIFY(view->baseRunCombo()->findData(QVariant::fromValue<qint64>(base_)) > 0);
    w.centralTabs()->setCurrentWidget(w.rankingTab());
    const int before = w.runsModel()->runCount();
    view->stepsSpin()->setValue(6000);
    QSignalSpy finished(view, &RankingView::finished);
    view->start();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QTRY_COMPARE_WITH_TIMEOUT(w.runsModel()->runCount(), before + 3, 10000);
    reclab::test::saveShot(&w, "ranking-window.png");
}

QTEST_MAIN(TestRankingView)
#include "test_ranking_view.moc"
