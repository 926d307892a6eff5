// The main window offscreen: it opens on the sample data, a training started from the Start
// action runs in its thread while the chart fills, the run lands in the database, and closing
// the window mid-training stops the run cleanly. Set RECLAB_SCREENSHOT_DIR to keep pictures.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "graph/GraphExport.h"

#include "MainWindow.h"
#include "graph/GraphDocument.h"
#include "graph/GraphEditor.h"
#include "data/SampleGenerator.h"
#include "train/TrainConfig.h"
#include "RunsTableModel.h"
#include "TrainingChart.h"
#include "store/ExperimentStore.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QMessageBox>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace reclab;

class TestGui : public QObject {
    Q_OBJECT
private slots:
    void opensOnSampleData();
    void trainsFromStartActionAndStoresRun();
    void closingMidTrainingStopsCleanly();
    void badDatasetShowsMessageAndKeepsOld();
    void protocolChoiceFollowsTheModel();
    void trainsTheEditorsGraph();
    void pauseStepAndLearningRate();

private:
    static void saveShot(QWidget* w, const char* name);
};

void TestGui::saveShot(QWidget* w, const char* name)
{
    const QByteArray dir = qgetenv("RECLAB_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
}

void TestGui::opensOnSampleData()
{
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("gui.db")), QStringLiteral("sample")});
    w.show();
    QVERIFY(!w.startAction()->isEnabled() || w.isDatasetLoaded());
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    QVERIFY(w.startAction()->isEnabled());
    QVERIFY(!w.stopAction()->isEnabled());
    QCOMPARE(w.modelCombo()->currentData().toString(), QStringLiteral("neumf"));
}

void TestGui::trainsFromStartActionAndStoresRun()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    MainWindow w({db, QStringLiteral("sample")});
    w.resize(1200, 760);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    w.epochsSpin()->setValue(4);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    w.startAction()->trigger();
    QVERIFY(w.isTraining());
    QVERIFY(w.stopAction()->isEnabled());
    QVERIFY(!w.startAction()->isEnabled());
    // The GUI thread keeps turning while the worker trains: points arrive through the event loop.
    QTRY_VERIFY_WITH_TIMEOUT(w.chart()->metricPointCount(QStringLiteral("hr@10")) >= 1, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.chart()->drawnLossPoints() > 0, 5000);
    saveShot(&w, "main-window-training.png");
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    QVERIFY(w.chart()->lossPointCount() > 10);
    QCOMPARE(w.chart()->metricPointCount(QStringLiteral("hr@10")), 4);
    QCOMPARE(w.chart()->drawnMetricPoints(QStringLiteral("ndcg@10")), 4);
    QCOMPARE(w.progressBar()->value(), w.progressBar()->maximum());
    saveShot(&w, "main-window-finished.png");

    const qint64 runId = finished.first().at(0).toLongLong();
    ExperimentStore store(db.toStdString());
    const auto run = store.findRun(runId);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Finished);
    QCOMPARE(store.metrics(runId, "hr@10").size(), size_t(4));
    QVERIFY(store.metrics(runId, "batch_loss").size() >= size_t(w.chart()->lossPointCount()));
    QCOMPARE(w.runsModel()->runCount(), 1);
    QCOMPARE(w.runsModel()->runAt(0)->id, runId);
    QVERIFY(w.startAction()->isEnabled());
    // NeuMF's default pre-training ran first: its parts' curves are stored beside the run's.
    QVERIFY(w.pretrainCheck()->isChecked());
    QVERIFY(store.metrics(runId, "pretrain_gmf_loss").size() > 4);
    QVERIFY(store.metrics(runId, "pretrain_mlp_loss").size() > 4);
    QVERIFY(TrainConfig::fromJson(nlohmann::json::parse(run->paramsJson)).pretrain);
}

void TestGui::closingMidTrainingStopsCleanly()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    qint64 runId = 0;
    {
        MainWindow w({db, QStringLiteral("sample")});
        w.show();
        QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
        w.modelCombo()->setCurrentIndex(w.modelCombo()->findData(QStringLiteral("gmf"))); // no pre-training phases
        w.epochsSpin()->setValue(1000);
        w.startAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(w.chart()->metricPointCount(QStringLiteral("hr@10")) >= 1, 60000);
        runId = w.currentRunId();
        QVERIFY(runId > 0);
        QElapsedTimer t;
        t.start();
        QVERIFY(w.close());
        QVERIFY2(t.elapsed() < 5000, "closing waited for the whole training");
    }
    ExperimentStore store(db.toStdString());
    const auto run = store.findRun(runId);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Stopped);
    QVERIFY(!store.metrics(runId, "hr@10").empty());
}

void TestGui::badDatasetShowsMessageAndKeepsOld()
{
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("gui.db")), QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    // The warning dialog is modal; close it as soon as it shows.
    QTimer::singleShot(0, this, [] {});
    bool sawDialog = false;
    QTimer poll;
    connect(&poll, &QTimer::timeout, this, [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
            sawDialog = box->text().contains(QStringLiteral("/no/such/folder"));
            box->accept();
        }
    });
    poll.start(20);
    w.loadDataset(QStringLiteral("/no/such/folder"));
    QTRY_VERIFY_WITH_TIMEOUT(sawDialog, 10000);
    QVERIFY(w.isDatasetLoaded());
    QVERIFY(w.startAction()->isEnabled());
}

void TestGui::protocolChoiceFollowsTheModel()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    MainWindow w({db, QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    auto protocols = [&] {
        QStringList out;
        for (int k = 0; k < w.protocolCombo()->count(); ++k)
            out << w.protocolCombo()->itemData(k).toString();
        return out;
    };
    QCOMPARE(protocols(), (QStringList{"loo", "full"}));
    QVERIFY(w.pretrainCheck()->isEnabled() && w.pretrainCheck()->isChecked()); // neumf
    w.modelCombo()->setCurrentIndex(w.modelCombo()->findData(QStringLiteral("mf")));
    QVERIFY(!w.pretrainCheck()->isEnabled());
    QCOMPARE(protocols(), (QStringList{"holdout", "folds:1", "folds:2", "folds:3", "folds:4", "folds:5"}));

    // Popularity on full ranking: the run stores the full-ranking metrics.
    w.modelCombo()->setCurrentIndex(w.modelCombo()->findData(QStringLiteral("pop")));
    w.protocolCombo()->setCurrentIndex(1);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    ExperimentStore store(db.toStdString());
    const qint64 runId = finished.first().at(0).toLongLong();
    QCOMPARE(store.metrics(runId, "coverage@10").size(), size_t(1));
    QCOMPARE(TrainConfig::fromJson(nlohmann::json::parse(store.findRun(runId)->paramsJson)).protocol, std::string("full"));

    // DIN: one protocol, and the runs table shows its click metrics.
    w.modelCombo()->setCurrentIndex(w.modelCombo()->findData(QStringLiteral("din")));
    QCOMPARE(protocols(), (QStringList{"din"}));
    QCOMPARE(w.epochsSpin()->value(), 2); // the model's default
    w.epochsSpin()->setValue(1);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 120000);
    QCOMPARE(finished.last().at(1).toString(), QStringLiteral("FINISHED"));
    const qint64 dinRun = finished.last().at(0).toLongLong();
    const auto auc = store.metrics(dinRun, "auc");
    QCOMPARE(auc.size(), size_t(1));
    QVERIFY(auc[0].value > 0.5);
    QTRY_VERIFY(w.runsModel()->runCount() >= 2);
    const QString summary = w.runsModel()->data(w.runsModel()->index(0, RunsTableModel::Metrics), Qt::DisplayRole).toString();
    QVERIFY2(summary.startsWith(QLatin1String("auc ")) && summary.contains(QLatin1String("gauc ")), qPrintable(summary));
    saveShot(&w, "din-run.png");
}

// The Model graph tab: a template edited there is trained with "Train this graph", the run is
// stored as a graph run with its graph and weights beside the database; the protocols follow
// the graph's task.
void TestGui::trainsTheEditorsGraph()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    MainWindow w({db, QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    GraphEditor* editor = w.graphEditor();
    w.centralTabs()->setCurrentWidget(editor);
    // The editor checks against the loaded data: the sample's item count sizes the item table.
    const Dataset sample = generateSampleDataset();
    QCOMPARE(editor->document().context().numItems, int64_t(sample.numItems()));
    QCOMPARE(editor->document().context().numUsers, int64_t(sample.numUsers()));
    editor->loadTemplate(QStringLiteral("gmf"));
    auto* factors = editor->properties()->findChild<QLineEdit*>(QStringLiteral("var_factors"));
    QVERIFY(factors);
    factors->setText(QStringLiteral("8"));
    emit factors->editingFinished();

    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    QAction* train = editor->trainAction();
    QVERIFY(train);
    QCOMPARE(w.modelCombo()->currentData().toString(), QStringLiteral("neumf"));
    train->trigger();
    QCOMPARE(w.modelCombo()->currentData().toString(), QStringLiteral("graph"));
    QCOMPARE(w.centralTabs()->currentWidget(), static_cast<QWidget*>(w.chart()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    const qint64 runId = finished.first().at(0).toLongLong();
    QTRY_COMPARE(w.runsModel()->data(w.runsModel()->index(0, RunsTableModel::Model), Qt::DisplayRole).toString(),
                 QStringLiteral("graph: GMF"));

    ExperimentStore store(db.toStdString());
    const TrainConfig config = TrainConfig::fromJson(nlohmann::json::parse(store.findRun(runId)->paramsJson));
    QCOMPARE(config.model, std::string("graph"));
    QCOMPARE(config.graph, editor->document().graph().toJson());
    QVERIFY(!store.metrics(runId, "hr@10").empty());
    const QString artifacts = QString::fromStdString(runArtifactDir(db.toStdString(), runId));
    QVERIFY(QFile::exists(artifacts + QStringLiteral("/weights.pt")));
    QFile graphFile(artifacts + QStringLiteral("/graph.json"));
    QVERIFY(graphFile.open(QIODevice::ReadOnly));
    const nlohmann::json stored = nlohmann::json::parse(graphFile.readAll().toStdString())["graph"];
    QCOMPARE(stored.value("name", std::string()), std::string("GMF"));
    QVERIFY2(stored["variables"]["factors"] == 8, stored.dump().c_str());
    w.centralTabs()->setCurrentWidget(editor);
    saveShot(&w, "graph-tab-trained.png");

    // A click graph in the editor: the protocols become the behaviour-history one.
    editor->loadTemplate(QStringLiteral("din"));
    QCOMPARE(w.protocolCombo()->count(), 1);
    QCOMPARE(w.protocolCombo()->currentData().toString(), QStringLiteral("din"));
    editor->loadTemplate(QStringLiteral("mf"));
    QCOMPARE(w.protocolCombo()->currentData().toString(), QStringLiteral("holdout"));

    // A broken graph is not started: the editor says why; the Start action brings the editor
    // forward with the problem.
    editor->document().removeBlocks({QStringLiteral("rating")});
    QVERIFY(!editor->document().analysis().ok());
    QCOMPARE(w.protocolCombo()->currentData().toString(), QStringLiteral("holdout")); // the task it had
    train->trigger();
    QVERIFY(editor->statusLabel()->text().startsWith(QStringLiteral("Fix the problems first")));
    QVERIFY(!w.isTraining());
    w.centralTabs()->setCurrentWidget(w.chart());
    bool warned = false;
    QTimer::singleShot(0, [&] {
        for (QWidget* top : QApplication::topLevelWidgets())
            if (auto* box = qobject_cast<QMessageBox*>(top)) {
                warned = box->text().contains(QStringLiteral("cannot be trained"));
                box->accept();
            }
    });
    w.startAction()->trigger();
    QVERIFY(warned);
    QVERIFY(!w.isTraining());
    QCOMPARE(w.centralTabs()->currentWidget(), static_cast<QWidget*>(editor));
    saveShot(&w, "graph-tab.png");
}

// Steering a run from the window: Pause holds it, Step runs one batch and lists each block's
// gradient norm, a new learning rate applies from the next epoch and is marked on the chart,
// Resume continues, Stop ends it.
void TestGui::pauseStepAndLearningRate()
{
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("gui.db")), QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    w.modelCombo()->setCurrentIndex(w.modelCombo()->findData(QStringLiteral("gmf")));
    w.epochsSpin()->setValue(1000);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    QSignalSpy steps(&w, &MainWindow::stepShown);
    QVERIFY(!w.pauseAction()->isEnabled());
    w.startAction()->trigger();
    QVERIFY(w.pauseAction()->isEnabled() && w.stepAction()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(w.chart()->metricPointCount(QStringLiteral("hr@10")) >= 1, 60000);

    w.pauseAction()->setChecked(true);
    QTest::qWait(300);
    const int held = w.chart()->lossPointCount();
    QTest::qWait(400);
    QCOMPARE(w.chart()->lossPointCount(), held); // nothing trains while paused
    w.stepAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(steps.count(), 1, 10000);
    QStringList blocks;
    for (int r = 0; r < w.stepTable()->rowCount(); ++r)
        blocks << w.stepTable()->item(r, 0)->text();
    QVERIFY2(blocks.contains(QStringLiteral("user_gmf")) && blocks.contains(QStringLiteral("output")),
             qPrintable(blocks.join(',')));
    QVERIFY(w.stepTable()->item(0, 1)->text().toDouble() > 0);
    QVERIFY(w.pauseAction()->isChecked());

    const int epochsBefore = w.chart()->metricPointCount(QStringLiteral("hr@10"));
    w.learningRateSpin()->setValue(0.004);
    w.pauseAction()->setChecked(false); // resume
    QTRY_VERIFY_WITH_TIMEOUT(w.chart()->metricPointCount(QStringLiteral("hr@10")) >= epochsBefore + 2, 60000);
    QCOMPARE(w.chart()->learningRateMarkCount(), 1);
    w.chart()->flush();
    saveShot(&w, "pause-step.png");
    w.stopAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("STOPPED"));
    QVERIFY(!w.pauseAction()->isEnabled() && !w.pauseAction()->isChecked());
}

QTEST_MAIN(TestGui)
#include "test_gui.moc"
