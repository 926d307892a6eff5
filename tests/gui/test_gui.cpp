// The main window offscreen: it opens on the sample data, a training started from the Start
// action runs in its thread while the chart fills, the run lands in the database, and closing
// the window mid-training stops the run cleanly. Set RECLAB_SCREENSHOT_DIR to keep pictures.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "compiled/GraphExport.h"

#include "MainWindow.h"
#include "editor/GraphDocument.h"
#include "editor/GraphEditor.h"
#include "editor/GraphScene.h"
#include "data/SampleGenerator.h"
#include "runs/TrainConfig.h"
#include "experiments/RunsTableModel.h"
#include "experiments/CompareView.h"
#include "experiments/ExperimentsView.h"
#include "training/TrainingDashboard.h"
#include "training/TrainingPanel.h"
#include "chart/MetricChart.h"
#include "chart/RunCurves.h"
#include "store/ExperimentStore.h"
#include "util/Versions.h"
#include "TestData.h"

#include <QAction>
#include <QDropEvent>
#include <QGraphicsScene>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QSlider>
#include <QCheckBox>
#include <QComboBox>
#include <QMessageBox>
#include <QProcess>
#include <QStandardPaths>
#include <QStatusBar>
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
    void startupProbeOpensTheRealWorkbench();
    void trainsFromStartActionAndStoresRun();
    void closingMidTrainingStopsCleanly();
    void badDatasetShowsMessageAndKeepsOld();
    void protocolChoiceFollowsTheModel();
    void trainsTheEditorsGraph();
    void refusesAModelThatCannotFit();
    void pauseStepAndLearningRate();
    void twoRunsAtOnceEarlyStoppingAndResume();
    void menusSettingsRecentFilesAndDrop();

private:
    static void saveShot(QWidget* w, const char* name);
};

// A shown window on the sample with its data loaded (null if it did not load).
std::unique_ptr<MainWindow> sampleWindow(const QString& db)
{
    auto w = std::make_unique<MainWindow>(MainWindowOptions{db, QStringLiteral("sample")});
    w->show();
    if (!QTest::qWaitFor([&] { return w->isDatasetLoaded(); }, 30000))
        return nullptr;
    return w;
}

// A temporary folder with the experiment database, and a shown window on the sample with its
// data loaded (window is null if it did not load).
struct SampleSession {
    QTemporaryDir dir;
    QString db = dir.filePath(QStringLiteral("gui.db"));
    std::unique_ptr<MainWindow> window = sampleWindow(db);
};

// Accepts each modal message box as soon as it shows and keeps its text.
class DialogCatcher : public QObject {
public:
    DialogCatcher()
    {
        connect(&poll_, &QTimer::timeout, this, [this] {
            if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                text = box->text();
                box->accept();
            }
        });
        poll_.start(20);
    }
    QString text;

private:
    QTimer poll_;
};

void TestGui::saveShot(QWidget* w, const char* name)
{
    const QByteArray dir = qgetenv("RECLAB_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QTest::qWait(50); // the layout settles as it would before the window paints
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
    QCOMPARE(w.panel()->modelCombo()->currentData().toString(), QStringLiteral("neumf"));
}

// The probe tests/bench/startup_time.py times: the workbench binary itself, launched as users
// launch it, reports once its window is shown and painted with the sample loaded, and quits.
void TestGui::startupProbeOpensTheRealWorkbench()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("probe.db"));
    QProcess app;
    app.start(QStringLiteral(RECLAB_APP_PATH), {QStringLiteral("--startup-probe"), QStringLiteral("--db"), db,
                                                QStringLiteral("--settings"), dir.filePath(QStringLiteral("s.ini"))});
    QVERIFY(app.waitForFinished(60000));
    QCOMPARE(app.exitCode(), 0);
    // "ready MS" (the window painted with its data), then "engine MS": the real engine library,
    // loaded from beside the executable after the first paint.
    const QString out = QString::fromUtf8(app.readAllStandardOutput()).trimmed();
    const QStringList lines = out.split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 2);
    const QStringList ready = lines[0].split(QLatin1Char(' ')), engine = lines[1].split(QLatin1Char(' '));
    QCOMPARE(ready.size(), 2);
    QCOMPARE(ready[0], QStringLiteral("ready"));
    QCOMPARE(engine.size(), 2);
    QCOMPARE(engine[0], QStringLiteral("engine"));
    bool number = false, loaded = false;
    const double ms = ready[1].toDouble(&number), engineMs = engine[1].toDouble(&loaded);
    QVERIFY2(number && ms > 0 && loaded && engineMs > ms, qPrintable(out));
    QVERIFY(QFileInfo::exists(db)); // the window opened its experiment database
    // The executable itself does not need LibTorch's libraries: only the engine library does.
    if (const QString ldd = QStandardPaths::findExecutable(QStringLiteral("ldd")); !ldd.isEmpty()) {
        QProcess deps;
        deps.start(ldd, {QStringLiteral(RECLAB_APP_PATH)});
        QVERIFY(deps.waitForFinished(30000));
        const QString needed = QString::fromUtf8(deps.readAllStandardOutput());
        QVERIFY2(needed.contains(QStringLiteral("libQt6Widgets")) && !needed.contains(QStringLiteral("libtorch")) &&
                     !needed.contains(QStringLiteral("libc10")),
                 qPrintable(needed));
    }
    // Without its engine library the workbench still opens, and says why training is unavailable.
    const QString alone = dir.filePath(QStringLiteral("reclab"));
    QVERIFY(QFile::copy(QStringLiteral(RECLAB_APP_PATH), alone));
    app.start(alone, {QStringLiteral("--startup-probe"), QStringLiteral("--db"), db, QStringLiteral("--settings"),
                      dir.filePath(QStringLiteral("s.ini"))});
    QVERIFY(app.waitForFinished(60000));
    QCOMPARE(app.exitCode(), 0);
    const QStringList without = QString::fromUtf8(app.readAllStandardOutput()).trimmed().split(QLatin1Char('\n'));
    QCOMPARE(without.size(), 2);
    QVERIFY(without[0].startsWith(QStringLiteral("ready ")));
    QVERIFY2(without[1].startsWith(QStringLiteral("engine failed: ")) && without[1].contains(QStringLiteral("libreclab_engine.so")),
             qPrintable(without[1]));
    // The option is for the benchmark, not for people: --help does not list it.
    app.start(QStringLiteral(RECLAB_APP_PATH), {QStringLiteral("--help")});
    QVERIFY(app.waitForFinished(30000));
    const QString help = QString::fromUtf8(app.readAllStandardOutput());
    QVERIFY(help.contains(QStringLiteral("--data")) && !help.contains(QStringLiteral("startup-probe")));
}

void TestGui::trainsFromStartActionAndStoresRun()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    MainWindow w({db, QStringLiteral("sample")});
    w.resize(1200, 760);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    w.panel()->epochsSpin()->setValue(4);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    w.startAction()->trigger();
    QVERIFY(w.isTraining());
    QVERIFY(w.stopAction()->isEnabled());
    QVERIFY(w.startAction()->isEnabled()); // another run may start beside it
    // The GUI thread keeps turning while the worker trains: points arrive through the event loop.
    QTRY_VERIFY_WITH_TIMEOUT(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("hr@10")) >= 1, 300000);
    QTRY_VERIFY_WITH_TIMEOUT(w.dashboard()->lossChart()->drawnPoints(w.currentRunId()) > 0, 5000);
    saveShot(&w, "main-window-training.png");
    // The epoch's line in the status bar ends before the speed and ETA begin ("…" if it must),
    // the whole line in the bar's tooltip.
    const QString epochLine = w.statusBar()->currentMessage();
    QVERIFY2(epochLine.contains(QStringLiteral("epoch")) && w.statusBar()->toolTip().startsWith(epochLine.chopped(1)),
             qPrintable(epochLine));
    QVERIFY2(w.statusBar()->fontMetrics().horizontalAdvance(epochLine) < w.speedLabel()->x(), qPrintable(epochLine));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 300000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    QVERIFY(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("batch_loss")) > 10);
    QCOMPARE(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("hr@10")), 4);
    QCOMPARE(w.dashboard()->metricChart()->key(), QStringLiteral("hr@10"));
    QCOMPARE(w.dashboard()->metricChart()->drawnPoints(w.currentRunId()), 4);
    QCOMPARE(w.progressBar()->value(), w.progressBar()->maximum());
    saveShot(&w, "main-window-finished.png");

    const qint64 runId = finished.first().at(0).toLongLong();
    ExperimentStore store(db.toStdString());
    const auto run = store.findRun(runId);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Finished);
    QCOMPARE(store.metrics(runId, "hr@10").size(), size_t(4));
    QVERIFY(store.metrics(runId, "batch_loss").size() >= size_t(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("batch_loss"))));
    QTRY_COMPARE(w.runsModel()->runCount(), 1); // the table refreshes in a worker thread
    QTRY_COMPARE(w.runsModel()->runAt(0)->status, RunStatus::Finished);
    QCOMPARE(w.runsModel()->runAt(0)->id, runId);
    QVERIFY(w.startAction()->isEnabled());
    // NeuMF's default pre-training ran first: its parts' curves are stored beside the run's.
    QVERIFY(w.panel()->pretrainCheck()->isChecked());
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
        w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("gmf"))); // no pre-training phases
        w.panel()->epochsSpin()->setValue(1000);
        w.startAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("hr@10")) >= 1, 300000);
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
    SampleSession session;
    QVERIFY(session.window);
    MainWindow& w = *session.window;
    DialogCatcher dialog; // the warning is modal
    w.loadDataset(QStringLiteral("/no/such/folder"));
    QTRY_VERIFY_WITH_TIMEOUT(dialog.text.contains(QStringLiteral("/no/such/folder")), 10000);
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
        for (int k = 0; k < w.panel()->protocolCombo()->count(); ++k)
            out << w.panel()->protocolCombo()->itemData(k).toString();
        return out;
    };
    // Each task's own protocols, then the common one every model runs and the cold-start one.
    QCOMPARE(protocols(), (QStringList{"loo", "full", "common", "cold"}));
    QVERIFY(w.panel()->pretrainCheck()->isEnabled() && w.panel()->pretrainCheck()->isChecked()); // neumf
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("mf")));
    QVERIFY(!w.panel()->pretrainCheck()->isEnabled());
    QCOMPARE(protocols(), (QStringList{"holdout", "folds:1", "folds:2", "folds:3", "folds:4", "folds:5", "common", "cold"}));

    // Popularity on full ranking: the run stores the full-ranking metrics.
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("pop")));
    w.panel()->protocolCombo()->setCurrentIndex(1);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 300000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    ExperimentStore store(db.toStdString());
    const qint64 runId = finished.first().at(0).toLongLong();
    QCOMPARE(store.metrics(runId, "coverage@10").size(), size_t(1));
    QCOMPARE(TrainConfig::fromJson(nlohmann::json::parse(store.findRun(runId)->paramsJson)).protocol, std::string("full"));

    // Bayesian MF: Gibbs sweeps after a burn-in, no optimizer, batches or learning rate to set.
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("bpmf")));
    QVERIFY(w.panel()->burnInSpin()->isEnabled() && w.panel()->epochsSpin()->isEnabled());
    QVERIFY(!w.panel()->learningRateSpin()->isEnabled() && !w.panel()->batchSpin()->isEnabled());
    QCOMPARE(w.panel()->burnInSpin()->value(), 20);
    w.panel()->epochsSpin()->setValue(30);
    w.panel()->burnInSpin()->setValue(5);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 120000);
    QCOMPARE(finished.last().at(1).toString(), QStringLiteral("FINISHED"));
    const qint64 bpmfRun = finished.last().at(0).toLongLong();
    QCOMPARE(TrainConfig::fromJson(nlohmann::json::parse(store.findRun(bpmfRun)->paramsJson)).burnIn, 5);
    const auto rmse = store.metrics(bpmfRun, "rmse");
    QCOMPARE(rmse.size(), size_t(30)); // one evaluation per sweep
    QVERIFY(rmse.back().value < rmse[4].value); // the averaged posterior beats the burn-in's last sample
    saveShot(&w, "bpmf-run.png");
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("mf")));
    QVERIFY(!w.panel()->burnInSpin()->isEnabled() && w.panel()->learningRateSpin()->isEnabled());

    // DIN: its own protocol (and the common one), and the runs table shows its click metrics.
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("din")));
    QCOMPARE(protocols(), (QStringList{"din", "common"}));
    QCOMPARE(w.panel()->epochsSpin()->value(), 2); // the model's default
    w.panel()->epochsSpin()->setValue(1);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 120000);
    QCOMPARE(finished.last().at(1).toString(), QStringLiteral("FINISHED"));
    const qint64 dinRun = finished.last().at(0).toLongLong();
    const auto auc = store.metrics(dinRun, "auc");
    QCOMPARE(auc.size(), size_t(1));
    QVERIFY(auc[0].value > 0.5);
    QTRY_VERIFY(w.runsModel()->runCount() >= 3);
    // The runs table: the DIN run has AUC and GAUC, and no ranking metric.
    auto column = [](const char* key) {
        const auto& keys = RunsTableModel::metricKeys();
        return RunsTableModel::FirstMetric + static_cast<int>(std::find(keys.begin(), keys.end(), key) - keys.begin());
    };
    // The table refreshes in a worker thread: wait for the refresh after the run ended.
    QTRY_COMPARE(w.runsModel()->data(w.runsModel()->index(w.runsModel()->rowOf(dinRun), column("auc")), Qt::DisplayRole).toString(),
                 metricText(auc[0].value));
    const int dinRow = w.runsModel()->rowOf(dinRun);
    QVERIFY(!w.runsModel()->data(w.runsModel()->index(dinRow, column("gauc")), Qt::DisplayRole).toString().isEmpty());
    QVERIFY(w.runsModel()->data(w.runsModel()->index(dinRow, column("hr@10")), Qt::DisplayRole).toString().isEmpty());
    saveShot(&w, "din-run.png");

    // A next-item model offers its loss and window; a model without a history offers neither.
    QVERIFY(!w.panel()->lossCombo()->isEnabled() && w.panel()->maxLengthSpin()->isEnabled()); // din reads a history
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("gru4rec")));
    QCOMPARE(w.panel()->scheduleCombo()->currentData().toString(), QStringLiteral("constant")); // GRU4Rec keeps its rate
    QVERIFY(w.panel()->smoothingSpin()->isEnabled());                                            // and smooths its labels
    QCOMPARE(w.panel()->smoothingSpin()->value(), 0.1);
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("sasrec")));
    QVERIFY(w.panel()->lossCombo()->isEnabled() && w.panel()->maxLengthSpin()->isEnabled());
    QCOMPARE(w.panel()->maxLengthSpin()->value(), 50);
    QCOMPARE(w.panel()->scheduleCombo()->currentData().toString(), QStringLiteral("cosine")); // SASRec anneals
    QVERIFY(w.panel()->smoothingSpin()->isEnabled());                                          // and smooths its labels
    QCOMPARE(w.panel()->smoothingSpin()->value(), 0.1);
    QVERIFY(!w.panel()->negativesSpin()->isEnabled()); // cross-entropy samples nothing
    w.panel()->lossCombo()->setCurrentIndex(w.panel()->lossCombo()->findData(QStringLiteral("bce")));
    QVERIFY(w.panel()->negativesSpin()->isEnabled() && !w.panel()->smoothingSpin()->isEnabled()); // negatives per target, no smoothing
    w.panel()->lossCombo()->setCurrentIndex(w.panel()->lossCombo()->findData(QStringLiteral("bpr")));
    QVERIFY(!w.panel()->negativesSpin()->isEnabled()); // always one
    w.panel()->maxLengthSpin()->setValue(8);
    w.panel()->epochsSpin()->setValue(1);
    w.panel()->protocolCombo()->setCurrentIndex(w.panel()->protocolCombo()->findData(QStringLiteral("common")));
    // The protocol's description wraps; every line shows, however narrow the dock's scroll leaves it.
    auto* described = w.panel()->findChild<QLabel*>(QStringLiteral("protocolText"));
    QVERIFY(described && described->text().contains(QStringLiteral("sampled negatives")));
    QTRY_VERIFY(described->height() >= described->heightForWidth(described->width()));
    saveShot(w.panel(), "sasrec-setup.png"); // the whole form, past the dock's scroll
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, 120000);
    QCOMPARE(finished.last().at(1).toString(), QStringLiteral("FINISHED"));
    const TrainConfig sasrec = TrainConfig::fromJson(nlohmann::json::parse(store.findRun(finished.last().at(0).toLongLong())->paramsJson));
    QCOMPARE(sasrec.loss, std::string("bpr"));
    QCOMPARE(sasrec.protocol, std::string("common"));
    QCOMPARE(sasrec.historyLength, 8);
    QCOMPARE(sasrec.lrSchedule, std::string("cosine"));
    QCOMPARE(sasrec.labelSmoothing, 0.0); // BPR has no labels to smooth
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("neumf")));
    QVERIFY(!w.panel()->lossCombo()->isEnabled() && !w.panel()->maxLengthSpin()->isEnabled());
    QVERIFY(!w.panel()->smoothingSpin()->isEnabled());
    QCOMPARE(w.panel()->scheduleCombo()->currentData().toString(), QStringLiteral("constant"));
}

// The Model graph tab: a template edited there is trained with "Train this graph", the run is
// stored as a graph run with its graph and weights beside the database; the protocols follow
// the graph's task.
void TestGui::trainsTheEditorsGraph()
{
    SampleSession session;
    QVERIFY(session.window);
    MainWindow& w = *session.window;
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
    QCOMPARE(w.panel()->modelCombo()->currentData().toString(), QStringLiteral("neumf"));
    train->trigger();
    QCOMPARE(w.panel()->modelCombo()->currentData().toString(), QStringLiteral("graph"));
    QCOMPARE(w.centralTabs()->currentWidget(), static_cast<QWidget*>(w.dashboard()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 300000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    const qint64 runId = finished.first().at(0).toLongLong();
    QTRY_COMPARE(w.runsModel()->data(w.runsModel()->index(w.runsModel()->rowOf(runId), RunsTableModel::Model), Qt::DisplayRole).toString(),
                 QStringLiteral("graph: GMF"));

    ExperimentStore store(session.db.toStdString());
    const TrainConfig config = TrainConfig::fromJson(nlohmann::json::parse(store.findRun(runId)->paramsJson));
    QCOMPARE(config.model, std::string("graph"));
    QCOMPARE(config.graph, editor->document().graph().toJson());
    QVERIFY(!store.metrics(runId, "hr@10").empty());
    const QString artifacts = QString::fromStdString(runArtifactDir(session.db.toStdString(), runId));
    QVERIFY(QFile::exists(artifacts + QStringLiteral("/weights.pt")));
    QFile graphFile(artifacts + QStringLiteral("/graph.json"));
    QVERIFY(graphFile.open(QIODevice::ReadOnly));
    const nlohmann::json stored = nlohmann::json::parse(graphFile.readAll().toStdString())["graph"];
    QCOMPARE(stored.value("name", std::string()), std::string("GMF"));
    QVERIFY2(stored["variables"]["factors"] == 8, stored.dump().c_str());
    w.centralTabs()->setCurrentWidget(editor);
    saveShot(&w, "graph-tab-trained.png");

    // A click graph in the editor: the protocols become the behaviour-history one (and common).
    editor->loadTemplate(QStringLiteral("din"));
    QCOMPARE(w.panel()->protocolCombo()->count(), 2);
    QCOMPARE(w.panel()->protocolCombo()->currentData().toString(), QStringLiteral("din"));
    editor->loadTemplate(QStringLiteral("mf"));
    QCOMPARE(w.panel()->protocolCombo()->currentData().toString(), QStringLiteral("holdout"));

    // A broken graph is not started: the editor says why; the Start action brings the editor
    // forward with the problem.
    editor->document().removeBlocks({QStringLiteral("rating")});
    QVERIFY(!editor->document().analysis().ok());
    QCOMPARE(w.panel()->protocolCombo()->currentData().toString(), QStringLiteral("holdout")); // the task it had
    train->trigger();
    QVERIFY(editor->statusLabel()->text().startsWith(QStringLiteral("Fix the problems first")));
    QVERIFY(!w.isTraining());
    w.centralTabs()->setCurrentWidget(w.dashboard());
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

// A model larger than the machine's memory is refused before a run exists: in the editor's status
// line, and from Start in a dialog that names the sizes; nothing is stored.
void TestGui::refusesAModelThatCannotFit()
{
    SampleSession session;
    QVERIFY(session.window);
    MainWindow& w = *session.window;
    GraphEditor* editor = w.graphEditor();
    editor->loadTemplate(QStringLiteral("mlp"));
    auto* layers = editor->properties()->findChild<QLineEdit*>(QStringLiteral("var_mlp_layers"));
    QVERIFY(layers);
    // 32 layers of 65536 x 65536 weights: over 500 GiB, more than any machine running this.
    QStringList wide;
    for (int k = 0; k < 32; ++k)
        wide << QStringLiteral("65536");
    layers->setText(wide.join(QStringLiteral(", ")));
    emit layers->editingFinished();
    DialogCatcher dialog;
    QSignalSpy started(&w, &MainWindow::runStarted);
    // The editor's own Train action names the problem in its status line.
    editor->trainAction()->trigger();
    QVERIFY2(editor->statusLabel()->text().contains(QStringLiteral("memory")), qPrintable(editor->statusLabel()->text()));
    // Start with the graph chosen in the run setup: a dialog.
    w.panel()->selectModel(QStringLiteral("graph"));
    w.startAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.text.isEmpty(), 10000);
    QVERIFY2(dialog.text.contains(QStringLiteral("memory")) && dialog.text.contains(QStringLiteral("GiB")),
             qPrintable(dialog.text));
    QCOMPARE(w.liveRunCount(), 0);
    QTest::qWait(200);
    QCOMPARE(started.count(), 0);
    QCOMPARE(ExperimentStore(session.db.toStdString()).listRuns().size(), size_t(0));
}

// Steering a run from the window: Pause holds it, Step runs one batch and lists each block's
// gradient norm, a new learning rate applies from the next epoch and is marked on the chart,
// Resume continues, Stop ends it.
void TestGui::pauseStepAndLearningRate()
{
    SampleSession session;
    QVERIFY(session.window);
    MainWindow& w = *session.window;
    w.panel()->modelCombo()->setCurrentIndex(w.panel()->modelCombo()->findData(QStringLiteral("gmf")));
    w.panel()->epochsSpin()->setValue(1000);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    QSignalSpy steps(&w, &MainWindow::stepShown);
    QVERIFY(!w.pauseAction()->isEnabled());
    w.startAction()->trigger();
    QVERIFY(w.pauseAction()->isEnabled() && w.stepAction()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("hr@10")) >= 1, 300000);

    w.pauseAction()->setChecked(true);
    QTest::qWait(300);
    const int held = w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("batch_loss"));
    QTest::qWait(400);
    QCOMPARE(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("batch_loss")), held); // nothing trains while paused
    w.stepAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(steps.count(), 1, 10000);
    QStringList blocks;
    for (int r = 0; r < w.stepTable()->rowCount(); ++r)
        blocks << w.stepTable()->item(r, 0)->text();
    QVERIFY2(blocks.contains(QStringLiteral("user_gmf")) && blocks.contains(QStringLiteral("output")),
             qPrintable(blocks.join(',')));
    QVERIFY(w.stepTable()->item(0, 1)->text().toDouble() > 0);
    QVERIFY(w.pauseAction()->isChecked());

    const int epochsBefore = w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("hr@10"));
    QCOMPARE(w.learningRateSpin()->value(), w.panel()->learningRateSpin()->value());
    w.learningRateSpin()->setValue(0.004);
    w.pauseAction()->setChecked(false); // resume
    QTRY_VERIFY_WITH_TIMEOUT(w.dashboard()->pointCount(w.currentRunId(), QStringLiteral("hr@10")) >= epochsBefore + 2, 300000);
    QCOMPARE(w.dashboard()->run(w.currentRunId())->learningRateChanges.size(), 1);
    w.dashboard()->flush();
    saveShot(&w, "pause-step.png");
    w.stopAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("STOPPED"));
    QVERIFY(!w.pauseAction()->isEnabled() && !w.pauseAction()->isChecked());
}

// The dashboard's reason to exist: two runs training at once, each in its own thread, overlaid
// in stable colours; one with early stopping watching a validation metric; a stopped run
// selected in the runs table resumes under its own id and its curve continues.
void TestGui::twoRunsAtOnceEarlyStoppingAndResume()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    MainWindow w({db, QStringLiteral("sample")});
    w.resize(1400, 900);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    TrainingPanel* panel = w.panel();
    QSignalSpy started(&w, &MainWindow::runStarted);
    QSignalSpy finished(&w, &MainWindow::trainingFinished);

    // Run A: GMF with early stopping on validation NDCG.
    panel->modelCombo()->setCurrentIndex(panel->modelCombo()->findData(QStringLiteral("gmf")));
    panel->epochsSpin()->setValue(40);
    panel->earlyStoppingCheck()->setChecked(true);
    QCOMPARE(panel->validationMetricCombo()->currentText(), QStringLiteral("ndcg@10"));
    panel->patienceSpin()->setValue(2);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, 30000);
    const qint64 a = started.at(0).at(0).toLongLong();

    // Run B, while A trains: MLP with SGD and momentum, no early stopping, a long run.
    panel->modelCombo()->setCurrentIndex(panel->modelCombo()->findData(QStringLiteral("mlp")));
    panel->earlyStoppingCheck()->setChecked(false);
    panel->optimizerCombo()->setCurrentIndex(panel->optimizerCombo()->findData(QStringLiteral("sgd")));
    QVERIFY(panel->momentumSpin()->isEnabled());
    panel->momentumSpin()->setValue(0.9);
    panel->learningRateSpin()->setValue(0.05);
    panel->epochsSpin()->setValue(1000);
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, 30000);
    const qint64 b = started.at(1).at(0).toLongLong();
    QVERIFY(a != b);
    QCOMPARE(w.liveRunCount(), 2);
    QCOMPARE(w.activeRunCombo()->count(), 2);
    QCOMPARE(w.currentRunId(), b); // the controls steer the latest run

    // Both curves grow at once, each in its own colour.
    QTRY_VERIFY_WITH_TIMEOUT(w.dashboard()->pointCount(b, QStringLiteral("hr@10")) >= 2, 90000);
    QVERIFY(w.dashboard()->pointCount(a, QStringLiteral("batch_loss")) > 0);
    QVERIFY(w.dashboard()->run(a)->colour != w.dashboard()->run(b)->colour);
    QVERIFY(w.dashboard()->run(a)->learningRateChanges.isEmpty()); // B's settings did not steer A
    QCOMPARE(w.dashboard()->run(a)->colour, runColour(a));

    // A stops early by itself and is tested once at its best epoch.
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() >= 1, 120000);
    QCOMPARE(finished.at(0).at(0).toLongLong(), a);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FINISHED"));
    ExperimentStore store(db.toStdString());
    QVERIFY(!store.metrics(a, "val_ndcg@10").empty());
    QCOMPARE(store.metrics(a, "ndcg@10").size(), size_t{1});
    QVERIFY(store.metrics(a, "val_ndcg@10").size() < 40);
    QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("gui.db.artifacts/run-%1/best.pt").arg(a))));
    QCOMPARE(w.liveRunCount(), 1);
    w.dashboard()->metricCombo()->setCurrentText(QStringLiteral("val_ndcg@10"));
    w.dashboard()->flush();
    saveShot(&w, "dashboard-two-runs.png");
    saveShot(w.dashboard(), "dashboard-two-runs-charts.png");

    // Stop B, then resume it from the runs table: same id, its epochs continue.
    w.stopAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 300000);
    QCOMPARE(finished.at(1).at(1).toString(), QStringLiteral("STOPPED"));
    const int stoppedEpochs = static_cast<int>(store.metrics(b, "hr@10").size());
    QTRY_COMPARE(w.runsModel()->runAt(w.runsModel()->rowOf(b))->status, RunStatus::Stopped);
    QVERIFY(!w.resumeAction()->isEnabled());
    w.experimentsView()->selectRuns({b});
    QVERIFY(w.resumeAction()->isEnabled());
    w.resumeAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 3, 30000);
    QCOMPARE(started.at(2).at(0).toLongLong(), b);
    QTRY_VERIFY_WITH_TIMEOUT(static_cast<int>(store.metrics(b, "hr@10").size()) >= stoppedEpochs + 1, 300000);
    w.stopAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 300000);
    const auto epochs = store.metrics(b, "hr@10");
    for (size_t k = 0; k < epochs.size(); ++k)
        QCOMPARE(epochs[k].epoch, static_cast<int>(k) + 1); // one record per epoch, in order
    QVERIFY(w.dashboard()->pointCount(b, QStringLiteral("hr@10")) >= stoppedEpochs + 1);
}

// The desktop conventions: a menu bar with the standard shortcuts, an About box with the
// libraries' versions, the layout, tab, run setup and chart settings kept in a settings file
// and restored by the next window, recent datasets and databases, data dropped on the window,
// and the graph editor fitted to its graph the first time it shows.
void TestGui::menusSettingsRecentFilesAndDrop()
{
    QTemporaryDir dir;
    const QString settings = dir.filePath(QStringLiteral("reclab.ini"));
    const QString db = dir.filePath(QStringLiteral("gui.db"));
    const QString other = dir.filePath(QStringLiteral("other.db"));
    {
        MainWindow w({db, QStringLiteral("sample"), settings});
        w.show();
        QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
        QStringList titles;
        for (QAction* a : w.menuBar()->actions())
            titles << a->text().remove(QLatin1Char('&'));
        QCOMPARE(titles, (QStringList{"File", "Edit", "View", "Run", "Help"}));
        QCOMPARE(w.quitAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_Q));
        QCOMPARE(w.startAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_R));
        std::unique_ptr<QTableWidget> keys(w.shortcutsTable());
        QStringList listed;
        for (int r = 0; r < keys->rowCount(); ++r)
            listed << keys->item(r, 2)->text();
        for (const QKeySequence& k : {QKeySequence(Qt::CTRL | Qt::Key_Q), QKeySequence(QKeySequence::HelpContents),
                                      QKeySequence(QKeySequence::Undo), QKeySequence(Qt::CTRL | Qt::Key_3)})
            QVERIFY2(listed.contains(k.toString(QKeySequence::NativeText)), qPrintable(listed.join(QLatin1Char(','))));
        const QString about = w.aboutText();
        QVERIFY(about.contains(QString::fromLatin1(qVersion())));
        QVERIFY(about.contains(QString::fromStdString(torchVersionText())));
        QVERIFY(about.contains(QString::fromStdString(sqliteVersion())) && sqliteVersion().rfind("3.", 0) == 0);
        // Edit follows the tab: the editor's undo stack in the Model graph tab, nothing in Data.
        w.centralTabs()->setCurrentWidget(w.graphEditor());
        emit w.editMenu()->aboutToShow();
        QVERIFY(w.editMenu()->actions().constLast()->isEnabled() == w.graphEditor()->editActions().remove->isEnabled());
        // Shown for the first time, the editor fits its graph in the view.
        QTest::qWait(50);
        GraphView* view = w.graphEditor()->view();
        const QRect graph = view->mapFromScene(w.graphEditor()->scene()->itemsBoundingRect()).boundingRect();
        QVERIFY2(view->viewport()->rect().adjusted(-2, -2, 2, 2).contains(graph), "graph not fitted");
        QVERIFY(graph.width() > view->viewport()->width() / 3 || graph.height() > view->viewport()->height() / 3);
        w.centralTabs()->setCurrentIndex(0);
        emit w.editMenu()->aboutToShow();
        QVERIFY(!w.editMenu()->actions().constFirst()->isEnabled());
        // What the next window restores.
        w.centralTabs()->setCurrentWidget(w.dashboard());
        w.panel()->selectModel(QStringLiteral("gmf"));
        w.panel()->epochsSpin()->setValue(7);
        w.dashboard()->xAxisCombo()->setCurrentIndex(1);
        w.dashboard()->smoothingSlider()->setValue(33);
        w.resize(1211, 833);
        // Another database: opened, remembered.
        QVERIFY(w.openDatabase(other));
        QCOMPARE(w.databasePath(), other);
        QCOMPARE(w.runsModel()->databasePath(), other);
        QCOMPARE(w.recentList("recent/databases").value(0), QFileInfo(other).absoluteFilePath());
        QCOMPARE(w.recentList("recent/databases").value(1), QFileInfo(db).absoluteFilePath());
        // A folder dropped on the window opens as a dataset, and is remembered.
        if (test::hasMl100k()) {
            QMimeData mime;
            mime.setUrls({QUrl::fromLocalFile(test::ml100kDir())});
            QDropEvent drop(QPointF(300, 300), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
            QSignalSpy loaded(&w, &MainWindow::datasetLoaded);
            // Straight to the window's handler (QApplication delivers drops only during a drag).
            static_cast<QObject*>(&w)->event(&drop);
            QVERIFY(drop.isAccepted());
            QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 30000);
            QCOMPARE(w.recentList("recent/datasets").value(0), QFileInfo(test::ml100kDir()).absoluteFilePath());
        }
        QVERIFY(w.close());
    }
    MainWindow again({db, QStringLiteral("sample"), settings});
    again.show();
    QCOMPARE(again.centralTabs()->currentWidget(), static_cast<QWidget*>(again.dashboard()));
    QCOMPARE(again.panel()->modelCombo()->currentData().toString(), QStringLiteral("gmf"));
    QCOMPARE(again.panel()->epochsSpin()->value(), 7);
    QCOMPARE(again.dashboard()->xAxisCombo()->currentIndex(), 1);
    QCOMPARE(again.dashboard()->smoothingSlider()->value(), 33);
    QCOMPARE(again.size(), QSize(1211, 833));
    QCOMPARE(again.recentList("recent/databases").value(0), QFileInfo(db).absoluteFilePath()); // this session's
    QVERIFY(again.recentList("recent/databases").contains(QFileInfo(other).absoluteFilePath()));
    // Ctrl+Q closes the window.
    QVERIFY(again.isVisible());
    again.quitAction()->trigger();
    QVERIFY(!again.isVisible());
}

QTEST_MAIN(TestGui)
#include "test_gui.moc"
