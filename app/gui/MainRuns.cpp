// The window's stored runs: the Runs and Step docks, and what they open (Compare, Inspect, a
// clone); the lesson mode's panel and chooser.
#include "MainWindow.h"
#include "data/DatasetBrowser.h"
#include "data/DatasetLoadJob.h"
#include "data/DownloadDialog.h"
#include "data/ImportDialog.h"
#include "experiments/RunsTableModel.h"
#include "experiments/CompareView.h"
#include "engine/Engine.h"
#include "engine/EngineLoader.h"
#include "inspect/InspectPage.h"
#include "ranking/RankingPage.h"
#include "experiments/ExperimentsView.h"
#include "training/TrainingDashboard.h"
#include "training/StepPanel.h"
#include "training/TrainingController.h"
#include "training/TrainingPanel.h"
#include "training/RunQueue.h"
#include "lessons/LessonPanel.h"
#include "LessonRunner.h"
#include "editor/GraphEditor.h"
#include "editor/GraphDocument.h"
#include "data/DatasetSource.h"
#include "graph/GraphAnalysis.h"
#include "zoo/ModelRegistry.h"
#include "store/ExperimentStore.h"
#include "runs/StoredRuns.h"
#include "util/Error.h"
#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QStyle>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolBar>
#include <QVBoxLayout>

namespace reclab {

void MainWindow::buildRunsDock()
{
    experiments_ = new ExperimentsView(runsModel_);
    runsView_ = experiments_->table();
    runsDock_ = new QDockWidget(tr("Runs"), this);
    runsDock_->setObjectName(QStringLiteral("runsDock"));
    runsDock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    runsDock_->setWidget(experiments_);
    addDockWidget(Qt::BottomDockWidgetArea, runsDock_);
    // A selected run is shown in the charts (overlaid with the others) and may be resumed.
    connect(experiments_, &ExperimentsView::selectionChanged, this, [this] {
        if (const RunRecord* run = selectedRun(); run && experiments_->selectedRunIds().size() == 1)
            dashboard_->showStoredRun(options_.databasePath, run->id); // read off the GUI thread
        updateActions();
    });
    connect(experiments_, &ExperimentsView::problem, this, [this](const QString& m) { statusBar()->showMessage(m, 10000); });
    connect(experiments_, &ExperimentsView::compareRequested, this, &MainWindow::compareRuns);
    connect(experiments_, &ExperimentsView::openRequested, this, [this](const QList<qint64>& ids) {
        for (const qint64 id : ids)
            dashboard_->showStoredRun(options_.databasePath, id);
        centralTabs_->setCurrentWidget(dashboard_);
    });
    connect(experiments_, &ExperimentsView::cloneRequested, this, &MainWindow::cloneRun);
    connect(experiments_, &ExperimentsView::inspectRequested, this, &MainWindow::inspectRun);
    connect(compare_, &CompareView::failed, this, [this](const QString& error) {
        QMessageBox::warning(this, tr("Compare runs"), error);
    });
}

void MainWindow::offerRunsToInspect()
{
    if (inspect_)
        inspect_->offerRuns(options_.databasePath, *runsModel_);
    if (ranking_)
        ranking_->offerRuns(options_.databasePath, *runsModel_);
}

void MainWindow::inspectRun(qint64 runId)
{
    const int row = runsModel_->rowOf(runId);
    const RunRecord* run = row >= 0 ? runsModel_->runAt(row) : nullptr;
    const auto abilities = run ? abilitiesOfRun(run->paramsJson) : std::nullopt;
    withInspectPage([runId, attention = abilities && (abilities->weighsBehaviours || abilities->sequenceAttention)](InspectPage& page) {
        page.inspect(runId, attention);
    });
}

void MainWindow::withInspectPage(std::function<void(InspectPage&)> f)
{
    centralTabs_->setCurrentWidget(inspectTab_);
    EngineLoader::instance().whenReady(this, [this, f = std::move(f)] {
        if (inspect_)
            f(*inspect_);
    });
}

void MainWindow::onEngineReady()
{
    Engine* loaded = EngineLoader::instance().engineIfReady();
    panel_->setDevices(loaded->devices());
    inspect_ = loaded->newInspectPage(inspectTab_);
    inspectTab_->layout()->addWidget(inspect_);
    engineNote_->hide();
    ranking_ = loaded->newRankingPage(rankingTab_);
    rankingTab_->layout()->addWidget(ranking_);
    rankingNote_->hide();
    ranking_->setDataset(dataset_);
    connect(ranking_, &RankingPage::runsStored, this, &MainWindow::refreshRuns);
    offerRunsToInspect();
}

void MainWindow::onEngineFailed(const QString& message)
{
    engineNote_->setText(message);
    rankingNote_->setText(message);
    statusBar()->showMessage(message);
}

void MainWindow::compareRuns(const QList<qint64>& runIds)
{
    if (runIds.size() < 2)
        return;
    centralTabs_->setCurrentWidget(compare_);
    compare_->compare(options_.databasePath, runIds);
}

void MainWindow::cloneRun(qint64 runId)
{
    if (!dataset_)
        return;
    TrainConfig config;
    try {
        ExperimentStore store(options_.databasePath.toStdString());
        const auto run = store.findRun(runId);
        if (!run)
            throw StoreError(options_.databasePath.toStdString() + " has no run " + std::to_string(runId));
        requireSameData(*run, *dataset_, "clone it");
        config = storedTrainConfig(options_.databasePath.toStdString(), runId);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Cannot clone"), QString::fromUtf8(e.what()));
        return;
    }
    launch(config, tr("%1 on %2 (clone of #%3)").arg(QString::fromStdString(config.model), QString::fromStdString(dataset_->name)).arg(runId),
           0, runId);
}

void MainWindow::buildStepDock()
{
    stepPanel_ = new StepPanel;
    stepDock_ = new QDockWidget(tr("Step"), this);
    stepDock_->setObjectName(QStringLiteral("stepDock"));
    stepDock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                           QDockWidget::DockWidgetClosable);
    stepDock_->setWidget(stepPanel_);
    addDockWidget(Qt::BottomDockWidgetArea, stepDock_);
    tabifyDockWidget(runsDock_, stepDock_);
    runsDock_->raise();
    connect(liveRuns_, &LiveRuns::stepped, this, [this](LiveRuns::Run* run, const StepReport& r) {
        stepPanel_->showStep(run->label, r);
        stepDock_->raise();
        showActiveRun();
        emit stepShown(r.step);
    });
}

void MainWindow::buildLessons()
{
    lessonPanel_ = new LessonPanel;
    lessonDock_ = new QDockWidget(tr("Lesson"), this);
    lessonDock_->setObjectName(QStringLiteral("lessonDock"));
    lessonDock_->setWidget(lessonPanel_);
    // Beside the run setup, as its tab: a lesson takes no width from the views it opens.
    addDockWidget(Qt::LeftDockWidgetArea, lessonDock_);
    if (auto* setup = findChild<QDockWidget*>(QStringLiteral("setupDock")))
        tabifyDockWidget(setup, lessonDock_);
    lessonDock_->hide();
    lessons_ = new LessonRunner(this, lessonPanel_);
    connect(lessons_, &LessonRunner::stepShown, lessonDock_, [this] {
        lessonDock_->show();
        lessonDock_->raise();
    });
    connect(lessons_, &LessonRunner::ended, lessonDock_, &QWidget::hide);
    lessonsAction_ = new QAction(style()->standardIcon(QStyle::SP_DialogHelpButton), tr("Lessons…"), this);
    lessonsAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    lessonsAction_->setToolTip(tr("Guided scenarios for class on the sample data: CF vs NCF vs DIN, what attention finds, "
                                  "embeddings learning genres, overfitting and early stopping"));
    connect(lessonsAction_, &QAction::triggered, this, &MainWindow::showLessons);
    if (auto* bar = findChild<QToolBar*>(QStringLiteral("mainToolBar")))
        bar->insertAction(bar->actions().value(0), lessonsAction_);
}

LessonChooser* MainWindow::showLessons()
{
    QList<LessonSummary> summaries;
    for (const auto& lesson : LessonRunner::lessons())
        summaries.append({lesson.title, lesson.summary});
    auto* chooser = new LessonChooser(summaries, this);
    chooser->setAttribute(Qt::WA_DeleteOnClose);
    connect(chooser, &LessonChooser::lessonChosen, lessons_, &LessonRunner::start);
    chooser->open();
    return chooser;
}

} // namespace reclab
