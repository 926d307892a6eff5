// Lesson mode and the run queue on the real window (offscreen). "CF vs NCF vs DIN" puts the
// comparison of the three families on screen in two user actions (Lessons, Start lesson):
// three runs on one common split, every shared metric filled, the Friedman test; then DIN's
// attention and NeuMF's embeddings. The queue trains several runs with one Start. The time the
// lesson takes is printed (a figure to report, not an assertion; run this test function alone
// as the benchmark). Set RECLAB_SCREENSHOT_DIR to keep pictures.
#include "MainWindow.h"
#include "LessonRunner.h"
#include "compare/RunComparison.h"
#include "experiments/CompareView.h"
#include "inspect/AttentionView.h"
#include "InspectOf.h"
#include "inspect/ProjectorView.h"
#include "inspect/ScatterPlot.h"
#include "lessons/LessonPanel.h"
#include "training/RunQueue.h"
#include "training/TrainingDashboard.h"
#include "chart/MetricChart.h"
#include "training/TrainingPanel.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QToolTip>
#include <QHelpEvent>
#include <QtTest>

#include "Screenshots.h"

#include <cmath>
#include <cstdio>

using namespace reclab;
using reclab::test::saveShot;

class TestLessons : public QObject {
    Q_OBJECT
private slots:
    void cfNcfDinComparisonInTwoActions();
    void queueTrainsSeveralRunsWithOneStart();
    void theOtherLessonsRunToTheirEnd();
};

void TestLessons::cfNcfDinComparisonInTwoActions()
{
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("lesson.db")), QStringLiteral("sample")});
    w.resize(1280, 800);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    int actions = 0;
    QElapsedTimer clock;
    clock.start();
    // Action 1: the toolbar's Lessons.
    w.lessonsAction()->trigger();
    ++actions;
    auto* chooser = w.findChild<LessonChooser*>();
    QVERIFY(chooser && chooser->isVisible());
    QCOMPARE(chooser->list()->count(), 4);
    QVERIFY(chooser->list()->item(0)->text().startsWith(QStringLiteral("CF vs NCF vs DIN")));
    saveShot(chooser, "lesson-chooser.png");
    // Action 2: Start lesson (the first is selected).
    QTest::mouseClick(chooser->startButton(), Qt::LeftButton);
    ++actions;
    QVERIFY(w.lessons()->isActive());
    QVERIFY(!w.lessonPanel()->nextButton()->isEnabled()); // waiting for the runs
    // Nothing more from the user: the runs train, then the comparison opens.
    CompareView* compare = w.compareView();
    QTRY_VERIFY_WITH_TIMEOUT(compare->comparison() && compare->comparison()->runs.size() == 3 && !compare->isLoading(),
                             300000);
    const double seconds = clock.elapsed() / 1000.0;
    std::printf("lesson CF vs NCF vs DIN: comparison on screen %.1f s after the first action, %d user actions\n",
                seconds, actions);
    QVERIFY(actions <= 3);
    QCOMPARE(w.centralTabs()->currentWidget(), static_cast<QWidget*>(compare));
    const RunComparison& c = *compare->comparison();
    QStringList models;
    for (const auto& run : c.runs)
        models << QString::fromStdString(run.model);
    QCOMPARE(models, (QStringList{"mf", "neumf", "din"}));
    QVERIFY2(c.sameSplit, c.splitNote.c_str());
    for (const char* key : {"hr@10", "ndcg@10", "mrr@10", "auc", "gauc", "full_hr@10"}) {
        const auto it = std::find(c.metricKeys.begin(), c.metricKeys.end(), key);
        QVERIFY2(it != c.metricKeys.end(), key);
        const size_t k = static_cast<size_t>(it - c.metricKeys.begin());
        for (size_t r = 0; r < 3; ++r)
            QVERIFY2(std::isfinite(c.metrics[r][k]), key);
        QVERIFY(c.bestRun[k] >= 0);
    }
    QVERIFY(!c.rankTests.empty()); // three runs: the Friedman test
    QCOMPARE(w.lessons()->stepIndex(), 1);
    QVERIFY(w.lessonPanel()->nextButton()->isEnabled());
    QVERIFY(w.lessonPanel()->textLabel()->text().contains(QStringLiteral("HR@10")));
    QTest::qWait(300); // the curves drawn
    saveShot(&w, "lesson-compare.png");

    // Next: DIN's attention on a user whose planted interest drifts.
    QTest::mouseClick(w.lessonPanel()->nextButton(), Qt::LeftButton);
    AttentionView* attention = inspectView(w)->attention();
    QCOMPARE(w.centralTabs()->currentWidget(), w.inspectTab());
    QTRY_VERIFY_WITH_TIMEOUT(!attention->isBusy() && attention->heatmap()->rows() > 0, 60000);
    QCOMPARE(attention->runCombo()->currentData().toLongLong(), w.lessons()->runs().at(2));
    QCOMPARE(attention->runCombo()->count(), 1); // DIN only: MF and NeuMF have no attention
    // Genres on both axes; each candidate's colours run from its least to its most attended row.
    for (int c = 0; c < attention->heatmap()->columns(); ++c)
        QVERIFY(attention->heatmap()->columnLabel(c).startsWith(attention->candidateGenres()[c].join(QStringLiteral(", "))));
    // A header elided to its slant shows the whole label on hover.
    AttentionHeatmap* map = attention->heatmap();
    const QPoint header(map->cellRect(0, 0).center().x(), map->cellRect(0, 0).top() - 20);
    QHelpEvent hover(QEvent::ToolTip, header, map->mapToGlobal(header));
    QApplication::sendEvent(map, &hover);
    QTRY_COMPARE(QToolTip::text(), map->columnLabel(0));
    QVERIFY(attention->relativeCheck()->isChecked());
    QVERIFY(attention->heatmap()->legend().contains(QStringLiteral("most attended")));
    attention->relativeCheck()->setChecked(false);
    QVERIFY(attention->heatmap()->legend().contains(QStringLiteral("below")));
    attention->relativeCheck()->setChecked(true);
    // The sample's drifting users are offered.
    QVERIFY2(attention->suggestedUsers()->isVisibleTo(attention) && attention->suggestedUsers()->count() > 1, qPrintable(attention->runCombo()->currentText() + QString::number(attention->suggestedUsers()->count())));
    QVERIFY(attention->suggestedUsers()->itemText(1).contains(QStringLiteral("→")));
    saveShot(&w, "lesson-attention.png");

    // Next: NeuMF's item embeddings, coloured by genre.
    QTest::mouseClick(w.lessonPanel()->nextButton(), Qt::LeftButton);
    ProjectorView* projector = inspectView(w)->projector();
    QTRY_VERIFY_WITH_TIMEOUT(projector->runId() == w.lessons()->runs().at(1) && !projector->isBusy() &&
                                 projector->plot()->pointCount() > 0,
                             120000);
    QCOMPARE(projector->colourCombo()->currentText(), QStringLiteral("genre"));
    QCOMPARE(projector->method(), QStringLiteral("t-SNE"));
    QTRY_VERIFY_WITH_TIMEOUT(!projector->isBusy(), 120000); // the t-SNE map converged
    saveShot(&w, "lesson-embeddings.png");
    // Finish ends the lesson.
    QCOMPARE(w.lessonPanel()->nextButton()->text(), QStringLiteral("Finish"));
    QTest::mouseClick(w.lessonPanel()->nextButton(), Qt::LeftButton);
    QVERIFY(!w.lessons()->isActive());
}

void TestLessons::queueTrainsSeveralRunsWithOneStart()
{
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("queue.db")), QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    RunQueue* queue = w.runQueue();
    QVERIFY(!queue->startButton()->isEnabled()); // nothing queued
    for (const char* model : {"pop", "itemknn", "pop"}) {
        w.panel()->selectModel(QString::fromLatin1(model));
        QTest::mouseClick(queue->addButton(), Qt::LeftButton);
    }
    QCOMPARE(queue->entries().size(), 3);
    // The last one is removed again.
    queue->list()->setCurrentRow(2);
    QTest::mouseClick(queue->findChildren<QPushButton*>().at(1), Qt::LeftButton);
    QCOMPARE(queue->entries().size(), 2);
    QSignalSpy finished(queue, &RunQueue::finished);
    QTest::mouseClick(queue->startButton(), Qt::LeftButton);
    QVERIFY(queue->isRunning());
    QCOMPARE(w.liveRunCount(), 1); // one after another, not at once
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    const QList<qint64> ids = finished.first().first().value<QList<qint64>>();
    QCOMPARE(ids.size(), 2);
    QVERIFY(ids[0] < ids[1]);
    for (const auto& e : queue->entries())
        QCOMPARE(e.state, RunQueue::State::Done);
    QCOMPARE(queue->entries()[0].config.model, std::string("pop"));
    QCOMPARE(queue->entries()[1].config.model, std::string("itemknn"));
    QVERIFY(!queue->isRunning());
    QVERIFY(!queue->startButton()->isEnabled());
}

// "What attention finds", "Embeddings learn genres", "Overfitting and early stopping": each
// trains its runs and opens what it explains.
void TestLessons::theOtherLessonsRunToTheirEnd()
{
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("others.db")), QStringLiteral("sample")});
    w.resize(1280, 800);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    LessonRunner* lessons = w.lessons();
    const auto trained = [&](int lesson) {
        QSignalSpy done(lessons, &LessonRunner::runsTrained);
        lessons->start(lesson);
        return done.wait(300000) && lessons->stepIndex() == 1;
    };

    QVERIFY(trained(1));
    AttentionView* attention = inspectView(w)->attention();
    QTRY_VERIFY2_WITH_TIMEOUT(!attention->isBusy() && attention->heatmap()->rows() > 0,
                              qPrintable(attention->statusLabel()->text()), 60000);
    QCOMPARE(attention->runCombo()->currentData().toLongLong(), lessons->runs().at(0));
    lessons->end();

    QVERIFY(trained(2));
    ProjectorView* projector = inspectView(w)->projector();
    QTRY_VERIFY_WITH_TIMEOUT(projector->runId() == lessons->runs().at(0) && !projector->isBusy() &&
                                 projector->plot()->pointCount() > 0,
                             60000);
    QVERIFY2(projector->epochSlider()->maximum() + 1 == 8, // a snapshot per epoch, played through
             qPrintable(QStringLiteral("%1 snapshots, run %2, %3").arg(projector->epochSlider()->maximum() + 1)
                            .arg(projector->runId()).arg(projector->statusLabel()->text())));
    QCOMPARE(projector->colourCombo()->currentText(), QStringLiteral("genre"));
    lessons->end();

    QVERIFY(trained(3));
    QCOMPARE(w.dashboard()->metricChart()->key(), QStringLiteral("rmse"));
    const QList<qint64> runs = lessons->runs();
    QCOMPARE(runs.size(), 2);
    // The early-stopped run ends sooner, with the lower test RMSE.
    QTest::mouseClick(w.lessonPanel()->nextButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(w.compareView()->comparison() && !w.compareView()->isLoading(), 60000);
    const RunComparison& c = *w.compareView()->comparison();
    const size_t rmse = static_cast<size_t>(std::find(c.metricKeys.begin(), c.metricKeys.end(), "rmse") - c.metricKeys.begin());
    QVERIFY(rmse < c.metricKeys.size());
    QVERIFY2(c.epochs[1] < c.epochs[0], qPrintable(QStringLiteral("%1 vs %2").arg(c.epochs[1]).arg(c.epochs[0])));
    QVERIFY2(c.metrics[1][rmse] < c.metrics[0][rmse],
             qPrintable(QStringLiteral("%1 vs %2").arg(c.metrics[1][rmse]).arg(c.metrics[0][rmse])));
    saveShot(&w, "lesson-early-stopping.png");
}

QTEST_MAIN(TestLessons)
#include "test_lessons.moc"
