// The Runs view and the Compare tab on runs really trained into a real SQLite file: search,
// filters (model, tag, status, params), numeric sorting, in-place rename and tags, notes,
// moving and deleting with the run's files; the comparison's tables, best-per-column marks,
// differences-only params, split warning, paired tests and exports; and through the main
// window, Compare and Clone. Set RECLAB_SCREENSHOT_DIR to keep pictures.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/MovieLens100kLoader.h"
#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "train/TrainingSession.h"

#include "MainWindow.h"
#include "experiments/RunsTableModel.h"
#include "TestData.h"
#include "training/TrainingDashboard.h"
#include "experiments/CompareView.h"
#include "experiments/ExperimentsView.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace reclab;

class TestExperiments : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void filtersAndSortsRuns();
    void editsRunsInPlace();
    void deletesRunsWithTheirFiles();
    void comparesRuns();
    void comparesFromTheWindowAndClones();
    void comparesThreeFamiliesOnTheCommonSplit();
    void screenshotOfMl100kComparison();

private:
    static void saveShot(QWidget* w, const char* name);
    int64_t train(const std::string& model, int epochs, double lr = 0, RunLabels labels = {});

    QTemporaryDir dir_;
    QString db_;
    std::shared_ptr<const Dataset> sample_;
    int64_t slowGmf_ = 0, gmf_ = 0, mf_ = 0, din_ = 0;
};

void TestExperiments::saveShot(QWidget* w, const char* name)
{
    const QByteArray dir = qgetenv("RECLAB_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
}

int64_t TestExperiments::train(const std::string& model, int epochs, double lr, RunLabels labels)
{
    TrainConfig c = defaultConfigFor(model);
    c.epochs = epochs;
    c.threads = 1;
    if (lr > 0)
        c.learningRate = lr;
    TrainingSession session(sample_, c, db_.toStdString());
    session.setLabels(std::move(labels));
    session.run();
    return session.runId();
}

void TestExperiments::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("runs.db"));
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    slowGmf_ = train("gmf", 1, 0.0001, {"ranking", "slow", {"baseline"}, 0});
    gmf_ = train("gmf", 6, 0, {"ranking", "", {"tuned"}, 0});
    mf_ = train("mf", 3);
    din_ = train("din", 1, 0, {"", "", {"attention"}, 0});
}

void TestExperiments::filtersAndSortsRuns()
{
    RunsTableModel model;
    model.setDatabasePath(db_);
    ExperimentsView view(&model);
    QString error;
    QVERIFY2(view.refresh(&error), qPrintable(error));
    QCOMPARE(view.proxy()->rowCount(), 4);
    QCOMPARE(view.countLabel()->text(), QStringLiteral("4 runs"));
    // Newest first; status icons.
    QCOMPARE(view.proxy()->runAt(0)->id, din_);
    QVERIFY(!view.proxy()->index(0, RunsTableModel::Status).data(Qt::DecorationRole).value<QIcon>().isNull());

    view.searchEdit()->setText(QStringLiteral("SLOW"));
    QCOMPARE(view.proxy()->rowCount(), 1);
    QCOMPARE(view.proxy()->runAt(0)->id, slowGmf_);
    QCOMPARE(view.countLabel()->text(), QStringLiteral("1 of 4 runs"));
    view.searchEdit()->clear();
    view.modelCombo()->setCurrentText(QStringLiteral("gmf"));
    QCOMPARE(view.proxy()->rowCount(), 2);
    view.modelCombo()->setCurrentIndex(0);
    view.tagCombo()->setCurrentText(QStringLiteral("attention"));
    QCOMPARE(view.proxy()->rowCount(), 1);
    QCOMPARE(view.proxy()->runAt(0)->id, din_);
    view.tagCombo()->setCurrentIndex(0);
    view.experimentCombo()->setCurrentText(QStringLiteral("ranking"));
    QCOMPARE(view.proxy()->rowCount(), 2);
    view.experimentCombo()->setCurrentIndex(0);
    view.paramEdit()->setText(QStringLiteral("learning_rate<0.001 model=gmf"));
    QCOMPARE(view.proxy()->rowCount(), 1);
    view.paramEdit()->setText(QStringLiteral("epochs>=3 model=gmf"));
    QCOMPARE(view.proxy()->rowCount(), 1);
    QCOMPARE(view.proxy()->runAt(0)->id, gmf_);
    // A refresh in a worker thread (as while runs train) keeps the filter and its params.
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    view.refreshAsync();
    QTRY_COMPARE(reset.count(), 1);
    QCOMPARE(view.proxy()->rowCount(), 1);
    QCOMPARE(view.proxy()->runAt(0)->id, gmf_);
    view.paramEdit()->setText(QStringLiteral("learning_rate<fast"));
    QVERIFY(view.paramEdit()->toolTip().contains(QStringLiteral("needs a number")));
    view.paramEdit()->clear();
    view.statusCombo()->setCurrentText(QStringLiteral("FINISHED"));
    QCOMPARE(view.proxy()->rowCount(), 4);
    view.statusCombo()->setCurrentText(QStringLiteral("FAILED"));
    QCOMPARE(view.proxy()->rowCount(), 0);
    view.statusCombo()->setCurrentIndex(0);

    // Sorting by hr@10 is numeric, runs without it last.
    const int hr = RunsTableModel::FirstMetric;
    QCOMPARE(model.headerData(hr, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("hr@10"));
    view.table()->sortByColumn(hr, Qt::DescendingOrder);
    QCOMPARE(view.proxy()->runAt(0)->id, gmf_);
    QCOMPARE(view.proxy()->runAt(1)->id, slowGmf_);
    QVERIFY(view.proxy()->index(2, hr).data().toString().isEmpty());
    view.table()->sortByColumn(RunsTableModel::Id, Qt::AscendingOrder);
    QCOMPARE(view.proxy()->runAt(0)->id, slowGmf_);
}

void TestExperiments::editsRunsInPlace()
{
    RunsTableModel model;
    model.setDatabasePath(db_);
    ExperimentsView view(&model);
    QVERIFY(view.refresh());
    const int row = model.rowOf(mf_);
    QVERIFY(model.flags(model.index(row, RunsTableModel::Name)) & Qt::ItemIsEditable);
    QVERIFY(!(model.flags(model.index(row, RunsTableModel::Model)) & Qt::ItemIsEditable));
    QVERIFY(model.setData(model.index(row, RunsTableModel::Name), QStringLiteral("  explicit MF "), Qt::EditRole));
    QVERIFY(model.setData(model.index(row, model.tagsColumn()), QStringLiteral("rating, cf ,cf"), Qt::EditRole));
    QVERIFY(view.setNotes(mf_, QStringLiteral("biased MF, ratings")));
    QVERIFY(view.moveRuns({mf_, din_}, QStringLiteral("explicit and clicks")));
    ExperimentStore store(db_.toStdString());
    const auto run = store.findRun(mf_);
    QCOMPARE(run->name, std::string("explicit MF"));
    QCOMPARE(run->tags, (std::vector<std::string>{"cf", "rating"}));
    QCOMPARE(run->notes, std::string("biased MF, ratings"));
    QCOMPARE(run->experiment, std::string("explicit and clicks"));
    QCOMPARE(model.data(model.index(model.rowOf(mf_), model.tagsColumn()), Qt::DisplayRole).toString(), QStringLiteral("cf, rating"));
    QCOMPARE(model.data(model.index(model.rowOf(mf_), RunsTableModel::Name), Qt::ToolTipRole).toString(),
             QStringLiteral("biased MF, ratings"));
    QVERIFY(view.experimentCombo()->findText(QStringLiteral("explicit and clicks")) > 0);
    // The selection survives a refresh.
    view.selectRuns({mf_, gmf_});
    QVERIFY(view.refresh());
    QCOMPARE(view.selectedRunIds().size(), 2);
    QVERIFY(view.compareAction()->isEnabled());
    QVERIFY(!view.cloneAction()->isEnabled());
}

void TestExperiments::deletesRunsWithTheirFiles()
{
    const int64_t doomed = train("gmf", 1);
    const QString files = QString::fromStdString(runArtifactDir(db_.toStdString(), doomed));
    QVERIFY(QFileInfo::exists(files + QStringLiteral("/last.pt")));
    RunsTableModel model;
    model.setDatabasePath(db_);
    ExperimentsView view(&model);
    QVERIFY(view.refresh());
    QCOMPARE(model.runCount(), 5);
    QString error;
    QVERIFY2(view.deleteRuns({doomed}, &error), qPrintable(error));
    QCOMPARE(model.runCount(), 4);
    QCOMPARE(model.rowOf(doomed), -1);
    QVERIFY(!QFileInfo::exists(files));
    QVERIFY(!ExperimentStore(db_.toStdString()).findRun(doomed));
    // The files were moved aside at once and are removed by a worker.
    QTRY_VERIFY(!QFileInfo::exists(files + QStringLiteral(".deleting")));
    QVERIFY(!view.deleteRuns({doomed}, &error));
    QVERIFY(error.contains(QStringLiteral("has no run")));
}

void TestExperiments::comparesRuns()
{
    CompareView view;
    view.resize(1100, 800);
    view.show();
    QSignalSpy compared(&view, &CompareView::compared);
    view.compare(db_, {slowGmf_, gmf_, mf_});
    QTRY_COMPARE(compared.count(), 1);
    QVERIFY(!view.isLoading());
    const RunComparison* c = view.comparison();
    QVERIFY(c);
    // Models x metrics: one row per run; hr@10 of the 6-epoch run is best and marked; the
    // rating run's hr@10 is n/a and the ranking runs' rmse is, so its lone rmse is not marked.
    QTableWidget* t = view.metricsTable();
    QCOMPARE(t->rowCount(), 3);
    int hr = -1, rmse = -1;
    for (int col = 0; col < t->columnCount(); ++col) {
        hr = t->horizontalHeaderItem(col)->text() == QStringLiteral("hr@10") ? col : hr;
        rmse = t->horizontalHeaderItem(col)->text() == QStringLiteral("rmse") ? col : rmse;
    }
    QVERIFY(hr > 0 && rmse > 0);
    QVERIFY(t->item(1, hr)->font().bold());
    QVERIFY(!t->item(0, hr)->font().bold());
    QCOMPARE(t->item(2, hr)->text(), QStringLiteral("n/a"));
    QCOMPARE(t->item(0, rmse)->text(), QStringLiteral("n/a"));
    QVERIFY(!t->item(2, rmse)->font().bold()); // the only rmse: no best among one
    QCOMPARE(t->horizontalHeaderItem(t->columnCount() - 2)->text(), QStringLiteral("train time (s)"));
    QCOMPARE(t->horizontalHeaderItem(t->columnCount() - 1)->text(), QStringLiteral("wall time (s)"));
    // Different tasks hold out different parts: flagged.
    QVERIFY(!view.splitBanner()->isHidden());
    QVERIFY(view.splitBanner()->text().contains(QStringLiteral("not evaluated on the same split")));
    QVERIFY(view.significanceNote()->text().contains(QStringLiteral("exactly two runs")));
    // Params: the differing ones, or all with the differing ones marked.
    const int differing = view.paramsTable()->rowCount();
    view.differencesOnlyCheck()->setChecked(false);
    QVERIFY(view.paramsTable()->rowCount() > differing);
    // The curves of all three, in the dashboard's charts.
    QTRY_COMPARE(view.curves()->runIds().size(), 3);
    saveShot(&view, "compare-three-sample.png");

    // Two runs on one split: the paired tests.
    view.compare(db_, {slowGmf_, gmf_});
    QTRY_COMPARE(compared.count(), 2);
    QVERIFY(view.splitBanner()->isHidden());
    QCOMPARE(view.significanceTable()->rowCount(), 3);
    QVERIFY(view.significanceNote()->text().startsWith(QStringLiteral("A = #")));
    QTRY_COMPARE(view.curves()->runIds().size(), 2);
    // Exports: what the shown tab holds.
    view.tabs()->setCurrentIndex(2);
    const QString md = dir_.filePath(QStringLiteral("tests.md")), csv = dir_.filePath(QStringLiteral("metrics.csv"));
    QVERIFY(view.exportTable(md));
    view.tabs()->setCurrentIndex(0);
    QVERIFY(view.exportTable(csv));
    QFile mdFile(md), csvFile(csv);
    QVERIFY(mdFile.open(QIODevice::ReadOnly) && csvFile.open(QIODevice::ReadOnly));
    QCOMPARE(mdFile.readAll().toStdString(), toMarkdown(significanceTable(*view.comparison())));
    QCOMPARE(csvFile.readAll().toStdString(), toCsv(metricsTable(*view.comparison())));
    view.tabs()->setCurrentIndex(2);
    saveShot(&view, "compare-two-sample-tests.png");
    // A run that does not exist: a message, the old comparison stays.
    QSignalSpy failed(&view, &CompareView::failed);
    view.compare(db_, {gmf_, 987654});
    QTRY_COMPARE(failed.count(), 1);
    QVERIFY(failed.first().first().toString().contains(QStringLiteral("has no run 987654")));
    QCOMPARE(view.comparison()->runs.size(), size_t(2));
}

void TestExperiments::comparesFromTheWindowAndClones()
{
    MainWindow w({db_, QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    ExperimentsView* runs = w.experimentsView();
    QVERIFY(runs);
    QTRY_COMPARE(w.runsModel()->runCount(), 4);
    runs->selectRuns({slowGmf_, gmf_});
    QVERIFY(runs->compareAction()->isEnabled());
    QSignalSpy compared(w.compareView(), &CompareView::compared);
    runs->compareAction()->trigger();
    QCOMPARE(w.centralTabs()->currentWidget(), static_cast<QWidget*>(w.compareView()));
    QTRY_COMPARE(compared.count(), 1);
    QCOMPARE(w.compareView()->comparison()->runs.size(), size_t(2));
    saveShot(&w, "window-compare.png");

    // Clone the slow run: a new run with its params and split, filed beside it.
    runs->selectRuns({slowGmf_});
    QVERIFY(runs->cloneAction()->isEnabled());
    QSignalSpy finished(&w, &MainWindow::trainingFinished);
    runs->cloneAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QCOMPARE(finished.first().at(1).toString(), QStringLiteral("FINISHED"));
    const qint64 clone = finished.first().at(0).toLongLong();
    ExperimentStore store(db_.toStdString());
    const auto original = store.findRun(slowGmf_), copy = store.findRun(clone);
    QCOMPARE(copy->parentRunId, slowGmf_);
    QCOMPARE(copy->experiment, original->experiment);
    QCOMPARE(copy->paramsJson, original->paramsJson);
    QCOMPARE(copy->splitFingerprint, original->splitFingerprint);
    // Same config, seed and split: the same result.
    QCOMPARE(store.latestMetricsOf(clone).size(), store.latestMetricsOf(slowGmf_).size());
    QCOMPARE(store.metrics(clone, "hr@10").back().value, store.metrics(slowGmf_, "hr@10").back().value);
    QTRY_VERIFY(w.runsModel()->rowOf(clone) >= 0);
    saveShot(&w, "window-runs.png");
}

// MF, GMF and DIN on the common protocol: one split, so the view ranks all three with the
// Friedman test and every pair post hoc; a metric only one of them has is nobody's best.
void TestExperiments::comparesThreeFamiliesOnTheCommonSplit()
{
    const QString db = dir_.filePath(QStringLiteral("common.db"));
    QList<qint64> ids;
    for (const char* model : {"mf", "gmf", "din"}) {
        TrainConfig c = defaultConfigFor(model);
        c.protocol = "common";
        c.epochs = 1;
        c.threads = 1;
        TrainingSession session(sample_, c, db.toStdString());
        QCOMPARE(session.run().status, RunStatus::Finished);
        ids << session.runId();
    }
    CompareView view;
    view.resize(1200, 800);
    view.show();
    QSignalSpy compared(&view, &CompareView::compared);
    view.compare(db, ids);
    QTRY_COMPARE(compared.count(), 1);
    QVERIFY(view.splitBanner()->isHidden());
    QTableWidget* metrics = view.metricsTable();
    auto column = [&](QTableWidget* t, const QString& name) {
        for (int c = 0; c < t->columnCount(); ++c)
            if (t->horizontalHeaderItem(c)->text() == name)
                return c;
        return -1;
    };
    const int rmse = column(metrics, QStringLiteral("rmse")), hr = column(metrics, QStringLiteral("hr@10"));
    QVERIFY(rmse > 0 && hr > 0);
    QVERIFY(!metrics->item(0, rmse)->font().bold()); // MF alone has an RMSE
    int boldHr = 0;
    for (int r = 0; r < 3; ++r)
        boldHr += metrics->item(r, hr)->font().bold();
    QCOMPARE(boldHr, 1);
    QTableWidget* ranks = view.significanceTable();
    QVERIFY(column(ranks, QStringLiteral("p (Friedman)")) > 0);
    QVERIFY(ranks->rowCount() >= 4); // hr, ndcg, mrr, auc at least
    QVERIFY(!view.rankPairsTable()->isHidden());
    QCOMPARE(view.rankPairsTable()->rowCount(), ranks->rowCount() * 3);
    QVERIFY(view.significanceNote()->text().contains(QStringLiteral("Friedman")));
    view.tabs()->setCurrentIndex(2);
    saveShot(&view, "compare-common-significance.png");
    view.tabs()->setCurrentIndex(0);
    saveShot(&view, "compare-common-metrics.png");
}

void TestExperiments::screenshotOfMl100kComparison()
{
    // Pictures of the compare view on real data, for people to look at; skipped otherwise.
    if (qEnvironmentVariableIsEmpty("RECLAB_SCREENSHOT_DIR"))
        QSKIP("set RECLAB_SCREENSHOT_DIR to take the ml-100k comparison pictures");
    RECLAB_REQUIRE_ML100K();
    const auto ml = std::make_shared<const Dataset>(loadMovieLens100k(test::ml100kDir().toStdString()));
    const std::string db = dir_.filePath(QStringLiteral("ml100k.db")).toStdString();
    QList<qint64> ids;
    for (const auto& [model, epochs] : {std::pair{"mf", 10}, std::pair{"neumf", 5}, std::pair{"din", 3}}) {
        TrainConfig c = defaultConfigFor(model);
        c.epochs = epochs;
        c.pretrain = false;
        c.protocol = "common"; // one split: the three compare and rank
        TrainingSession session(ml, c, db);
        session.setLabels({"ml-100k", "", {}, 0});
        session.run();
        ids << session.runId();
    }
    MainWindow w({QString::fromStdString(db), QString::fromStdString(test::ml100kDir().toStdString())});
    w.resize(1500, 1000);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 60000);
    QSignalSpy compared(w.compareView(), &CompareView::compared);
    w.compareRuns(ids);
    QTRY_COMPARE(compared.count(), 1);
    QTRY_COMPARE(w.compareView()->curves()->runIds().size(), 3);
    QTest::qWait(300);
    saveShot(&w, "ml100k-compare-mf-neumf-din.png");
    w.compareView()->differencesOnlyCheck()->setChecked(true);
    w.compareView()->tabs()->setCurrentIndex(1);
    saveShot(&w, "ml100k-compare-params.png");
}

QTEST_MAIN(TestExperiments)
#include "test_experiments.moc"
