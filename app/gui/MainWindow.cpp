#include "MainWindow.h"

#include "data/DatasetBrowser.h"
#include "data/DatasetLoadJob.h"
#ifdef RECLAB_HAVE_DOWNLOAD
#include "data/DownloadDialog.h"
#endif
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

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options), dashboard_(new TrainingDashboard(this)), browser_(new DatasetBrowser(this)),
      centralTabs_(new QTabWidget(this)), runsModel_(new RunsTableModel(this)), graphEditor_(new GraphEditor(this)),
      panel_(new TrainingPanel(&graphEditor_->document())), liveRuns_(new LiveRuns(dashboard_, this)),
      loader_(new DatasetLoadJob(this))
{
    connect(loader_, &DatasetLoadJob::finished, this, &MainWindow::onDatasetLoaded);
    setWindowTitle(tr("RecLab"));
    setWindowIcon(QIcon(QStringLiteral(":/reclab/icons/reclab.png")));
    centralTabs_->addTab(browser_, tr("Data"));
    centralTabs_->addTab(graphEditor_, tr("Model graph"));
    centralTabs_->addTab(dashboard_, tr("Training"));
    compare_ = new CompareView;
    centralTabs_->addTab(compare_, tr("Compare"));
    // The Inspect and Ranking tabs' pages come with LibTorch's engine, loaded after the window's
    // first paint; until then each says so.
    auto engineTab = [this](const QString& title, QLabel*& note) {
        auto* tab = new QWidget;
        auto* layout = new QVBoxLayout(tab);
        layout->setContentsMargins(0, 0, 0, 0);
        note = new QLabel(tr("Loading LibTorch…"));
        note->setAlignment(Qt::AlignCenter);
        note->setWordWrap(true);
        layout->addWidget(note);
        centralTabs_->addTab(tab, title);
        return tab;
    };
    inspectTab_ = engineTab(tr("Inspect"), engineNote_);
    rankingTab_ = engineTab(tr("Ranking"), rankingNote_);
    connect(runsModel_, &QAbstractItemModel::modelReset, this, &MainWindow::offerRunsToInspect);
    connect(dashboard_, &TrainingDashboard::storedRunFailed, this,
            [this](qint64, const QString& error) { statusBar()->showMessage(error, 8000); });
    centralTabs_->setDocumentMode(true);
    setCentralWidget(centralTabs_);
    connect(browser_, &DatasetBrowser::preparedSaved, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Saved %1; it is now the training data").arg(path), 8000);
        loadDataset(path);
    });
    connect(browser_, &DatasetBrowser::problem, this, [this](const QString& m) { statusBar()->showMessage(m, 10000); });
    buildActions();

    auto* setup = new QDockWidget(tr("Run setup"), this);
    setup->setObjectName(QStringLiteral("setupDock"));
    setup->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    auto* scroll = new QScrollArea;
    scroll->setWidget(panel_);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    // The settings, and below them the queue: several runs, one Start.
    auto* setupPage = new QWidget;
    auto* setupLayout = new QVBoxLayout(setupPage);
    setupLayout->setContentsMargins(0, 0, 4, 4);
    setupLayout->addWidget(scroll, 1);
    runQueue_ = new RunQueue;
    setupLayout->addWidget(runQueue_);
    setup->setWidget(setupPage);
    // Wide enough for the panel and its scroll bar: nothing of it is cut or scrolled sideways.
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setup->setMinimumWidth(std::max(340, panel_->minimumSizeHint().width() + scroll->verticalScrollBar()->sizeHint().width() + 6));
    addDockWidget(Qt::LeftDockWidgetArea, setup);
    // "Train this graph" trains the editor's graph with the run setup's settings.
    connect(graphEditor_, &GraphEditor::trainRequested, this, [this] {
        panel_->selectModel(QString::fromLatin1(kCustomGraphModel));
        startTraining();
    });
    buildRunsDock();
    connectLiveRuns();
    connect(runQueue_, &RunQueue::addRequested, this, [this] {
        if (waitingForEngine([this] { emit runQueue_->addRequested(); }))
            return;
        TrainConfig config;
        if (checkedPanelConfig(config))
            runQueue_->add(config, panel_->modelText());
    });
    connect(runQueue_, &RunQueue::launchRequested, this, [this](const TrainConfig& config, const QString& label) {
        if (!dataset_) {
            runQueue_->entryFinished(0, QStringLiteral("FAILED"));
            return;
        }
        queueKey_ = launch(config, tr("%1 on %2").arg(label, QString::fromStdString(dataset_->name)), 0)->controller;
    });
    buildStepDock();
    refreshTimer_.setSingleShot(true);
    refreshTimer_.setInterval(300);
    connect(&refreshTimer_, &QTimer::timeout, this, &MainWindow::refreshRuns);

    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->setTextVisible(true);
    progress_->setFormat(tr("idle"));
    progress_->setMinimumWidth(220);
    etaLabel_ = new QLabel(this);
    speedLabel_ = new QLabel(this);
    statusBar()->addPermanentWidget(speedLabel_);
    statusBar()->addPermanentWidget(etaLabel_);
    statusBar()->addPermanentWidget(progress_);

    runsModel_->setDatabasePath(options_.databasePath);
    try {
        ExperimentStore store(options_.databasePath.toStdString());
        if (const int n = store.recoverInterruptedRuns())
            statusBar()->showMessage(tr("%n earlier run(s) were interrupted and are marked so; select one and "
                                        "Resume to continue it.", nullptr, n), 8000);
    } catch (const std::exception& e) {
        statusBar()->showMessage(tr("Experiment database: %1").arg(QString::fromUtf8(e.what())));
    }
    refreshRuns();
    EngineLoader& engineLoader = EngineLoader::instance();
    connect(&engineLoader, &EngineLoader::failed, this, &MainWindow::onEngineFailed);
    engineLoader.whenReady(this, [this] { onEngineReady(); });
    if (!engineLoader.problem().isEmpty())
        onEngineFailed(engineLoader.problem());
    resize(1280, 800);
    resizeDocks({runsDock_}, {240}, Qt::Vertical); // the charts get the most room
    buildLessons();
    buildMenus();
    setAcceptDrops(true); // a data file or folder dropped on the window opens
    restoreSettings();
    addRecent("recent/databases", options_.databasePath);
    updateActions();
    loadDataset(options_.dataSpec);
}

MainWindow::~MainWindow()
{
    liveRuns_->shutdownAll();
}

QTableWidget* MainWindow::stepTable() const { return stepPanel_->table(); }

qint64 MainWindow::currentRunId() const
{
    const LiveRuns::Run* run = activeRun();
    return run && run->runId > 0 ? run->runId : lastRunId_;
}

void MainWindow::buildActions()
{
    auto* bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    openAction_ = bar->addAction(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("Open folder…"));
    openAction_->setToolTip(tr("Load a dataset folder: MovieLens 100K/1M/10M/20M/25M/latest, RecBole atomic files, Amazon reviews"));
    connect(openAction_, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset folder"));
        if (!dir.isEmpty())
            loadDataset(dir);
    });
    openFileAction_ = bar->addAction(style()->standardIcon(QStyle::SP_FileIcon), tr("Open file…"));
    openFileAction_->setToolTip(tr("Load one file: CSV/TSV/'::' interactions, a RecBole .inter, Amazon JSON lines or a prepared .rlprep"));
    connect(openFileAction_, &QAction::triggered, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Dataset file"), QString(),
                                                          tr("Datasets (*.csv *.tsv *.dat *.data *.txt *.inter *.json *.jsonl *.rlprep);;All files (*)"));
        if (!file.isEmpty())
            openFile(file);
    });
#ifdef RECLAB_HAVE_DOWNLOAD
    downloadAction_ = bar->addAction(style()->standardIcon(QStyle::SP_ArrowDown), tr("Download…"));
    downloadAction_->setToolTip(tr("Fetch MovieLens 100K, 1M, 10M, 20M, 25M or latest-small from GroupLens, verified and extracted"));
    connect(downloadAction_, &QAction::triggered, this, &MainWindow::showDownloadDialog);
#endif
    sampleAction_ = bar->addAction(style()->standardIcon(QStyle::SP_FileDialogDetailedView), tr("Sample data"));
    sampleAction_->setToolTip(tr("The bundled generated dataset: users with planted tastes and drifting genre interests"));
    connect(sampleAction_, &QAction::triggered, this, [this] { loadDataset(QStringLiteral("sample")); });
    bar->addSeparator();
    startAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"));
    startAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    startAction_->setToolTip(tr("Start a run with the run setup's settings, beside any runs already training"));
    connect(startAction_, &QAction::triggered, this, &MainWindow::startTraining);
    bar->addSeparator();
    activeRun_ = new QComboBox;
    activeRun_->setMinimumContentsLength(16);
    activeRun_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    activeRun_->setToolTip(tr("The training run that Pause, Step, Stop and the learning rate steer"));
    activeRun_->setPlaceholderText(tr("no run training"));
    bar->addWidget(activeRun_);
    connect(activeRun_, &QComboBox::currentIndexChanged, this, &MainWindow::showActiveRun);
    pauseAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
    pauseAction_->setCheckable(true);
    pauseAction_->setToolTip(tr("Pause the run between batches; uncheck to resume"));
    connect(pauseAction_, &QAction::toggled, this, [this](bool paused) {
        if (LiveRuns::Run* run = activeRun())
            liveRuns_->setPaused(run, paused);
    });
    stepAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Step"));
    stepAction_->setToolTip(tr("Run one batch and show its loss and each block's gradient norm (pauses the run)"));
    connect(stepAction_, &QAction::triggered, this, [this] {
        LiveRuns::Run* run = activeRun();
        if (!run)
            return;
        const QSignalBlocker block(pauseAction_);
        pauseAction_->setChecked(true);
        liveRuns_->step(run);
    });
    bar->addWidget(new QLabel(tr(" lr ")));
    runRate_ = new QDoubleSpinBox;
    runRate_->setDecimals(5);
    runRate_->setRange(0.00001, 10.0);
    runRate_->setSingleStep(0.0005);
    runRate_->setKeyboardTracking(false); // a typed rate counts when editing ends
    runRate_->setToolTip(tr("The steered run's learning rate: a new rate applies from its next epoch and is marked on the chart"));
    bar->addWidget(runRate_);
    connect(runRate_, &QDoubleSpinBox::valueChanged, this, [this](double lr) {
        LiveRuns::Run* run = activeRun();
        if (!run || !liveRuns_->setLearningRate(run, lr))
            return;
        statusBar()->showMessage(tr("Learning rate %1 for %2 from its next epoch").arg(lr).arg(run->label), 8000);
    });
    stopAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"));
    stopAction_->setShortcut(QKeySequence(Qt::Key_Escape));
    stopAction_->setToolTip(tr("Stop the run; it keeps every finished epoch and can be resumed"));
    connect(stopAction_, &QAction::triggered, this, &MainWindow::stopTraining);
    resumeAction_ = bar->addAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("Resume"));
    resumeAction_->setToolTip(tr("Continue the stopped or interrupted run selected in the runs table from its last checkpoint"));
    connect(resumeAction_, &QAction::triggered, this, &MainWindow::resumeSelectedRun);
}

void MainWindow::openFile(const QString& path)
{
    DataFormat format = DataFormat::Delimited;
    try {
        format = detectDataFormat(path.toStdString());
    } catch (const std::exception&) {
        // Not recognised: the import dialog shows why and lets the user say how to read it.
    }
    if (format != DataFormat::Delimited) {
        loadDataset(path);
        return;
    }
    auto* dialog = new ImportDialog(path, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { loadDataset(dialog->path(), dialog->options()); });
    dialog->open();
}

void MainWindow::showDownloadDialog()
{
#ifdef RECLAB_HAVE_DOWNLOAD
    auto* dialog = new DownloadDialog(DownloadDialog::defaultTargetDir(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DownloadDialog::downloaded, this, [this, dialog](const QString& folder) {
        dialog->accept();
        loadDataset(folder);
    });
    dialog->open();
#endif
}

void MainWindow::loadDataset(const QString& spec)
{
    loadDataset(spec, LoadOptions{});
    if (loading_)
        loadingSpec_ = spec; // the usual options: `--data spec` loads the same
}

void MainWindow::loadDataset(const QString& spec, const LoadOptions& options)
{
    if (!loader_->start(spec, options))
        return; // one load at a time; runs in training keep the dataset they started with
    loading_ = true;
    loadingSpec_.clear();
    updateActions();
    panel_->setDatasetText(tr("loading %1…").arg(spec), QString());
    statusBar()->showMessage(tr("Loading %1…").arg(spec));
}

void MainWindow::onDatasetLoaded(const QString& spec, const LoadResult& result)
{
    loading_ = false;
    if (!result.dataset) {
        panel_->setDatasetText(dataset_ ? datasetHtml_ : tr("none"), datasetTip_);
        statusBar()->showMessage(tr("Could not load %1").arg(spec), 8000);
        updateActions();
        QMessageBox::warning(this, tr("Cannot load dataset"), result.error);
        return;
    }
    setDataset(result);
    dataSpec_ = loadingSpec_;
    rememberDataset(spec);
    const LoadReport& report = result.dataset->report;
    statusBar()->showMessage(report.skippedRows ? tr("Loaded %1 (%2); skipped %3 malformed rows, the first: %4")
                                                      .arg(QString::fromStdString(result.dataset->name),
                                                           QString::fromStdString(report.format))
                                                      .arg(static_cast<qulonglong>(report.skippedRows))
                                                      .arg(QString::fromStdString(report.problems.front()))
                                                : tr("Loaded %1 (%2) in %3 s")
                                                      .arg(QString::fromStdString(result.dataset->name),
                                                           QString::fromStdString(report.format))
                                                      .arg(report.seconds, 0, 'f', 2),
                             report.skippedRows ? 0 : 8000);
    emit datasetLoaded();
}

void MainWindow::setDataset(const LoadResult& loaded)
{
    dataset_ = loaded.dataset;
    if (ranking_)
        ranking_->setDataset(dataset_);
    const DatasetStats& s = loaded.stats;
    datasetHtml_ = tr("<b>%1</b><br>%2 users, %3 items<br>%4 interactions (density %5%)<br><small>%6</small>")
                       .arg(QString::fromStdString(dataset_->name).toHtmlEscaped())
                       .arg(s.users)
                       .arg(s.items)
                       .arg(static_cast<qulonglong>(s.interactions))
                       .arg(s.density * 100.0, 0, 'f', 2)
                       .arg(QString::fromStdString(dataset_->source).toHtmlEscaped());
    datasetTip_ = QString::fromStdString("fingerprint " + loaded.fingerprint);
    panel_->setDatasetText(datasetHtml_, datasetTip_);
    browser_->setDataset(dataset_, s);
    // The editor checks shapes and memory against the data the graph will train on.
    graphEditor_->document().setContext(graphContextOf(*dataset_));
    updateActions();
}

void MainWindow::updateActions()
{
    const bool steering = activeRun() != nullptr;
    startAction_->setEnabled(dataset_ && !loading_);
    stopAction_->setEnabled(steering);
    // A run on several processes cannot pause: the other ranks would wait on it in vain.
    const bool pausable = steering && activeRun()->processes <= 1;
    pauseAction_->setEnabled(pausable);
    stepAction_->setEnabled(pausable);
    activeRun_->setEnabled(steering);
    runRate_->setEnabled(steering);
    if (!steering) {
        const QSignalBlocker block(pauseAction_);
        pauseAction_->setChecked(false);
    }
    const RunRecord* selected = selectedRun();
    const bool resumable = selected && (selected->status == RunStatus::Stopped || selected->status == RunStatus::Interrupted);
    resumeAction_->setEnabled(dataset_ && !loading_ && resumable);
    openAction_->setEnabled(!loading_);
    sampleAction_->setEnabled(!loading_);
    openFileAction_->setEnabled(!loading_);
}

const RunRecord* MainWindow::selectedRun() const
{
    return experiments_ ? experiments_->selectedRun() : nullptr;
}

void MainWindow::refreshRuns()
{
    experiments_->refreshAsync(); // errors reach the status bar through problem()
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    // Stop every run and join its thread before the window goes away; each stored run ends as
    // STOPPED with every completed epoch kept, and can be resumed.
    liveRuns_->shutdownAll();
    saveSettings();
    event->accept();
}

} // namespace reclab
