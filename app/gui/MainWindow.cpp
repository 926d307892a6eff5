#include "MainWindow.h"

#include "DatasetBrowser.h"
#ifdef RECLAB_HAVE_DOWNLOAD
#include "DownloadDialog.h"
#endif
#include "ImportDialog.h"
#include "RunsTableModel.h"
#include "TrainingChart.h"
#include "TrainingController.h"
#include "graph/GraphEditor.h"
#include "graph/GraphDocument.h"
#include "data/DatasetSource.h"
#include "graph/GraphAnalysis.h"
#include "models/ModelRegistry.h"
#include "store/ExperimentStore.h"

#include <QAction>
#include <QCloseEvent>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStyle>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTableView>
#include <QThread>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace reclab {

namespace {

} // namespace

// What the load worker hands back: the dataset with the figures the window shows, computed in
// the worker because they read every row.
struct LoadResult {
    std::shared_ptr<const Dataset> dataset;
    DatasetStats stats;
    std::string fingerprint;
    QString error;
};

namespace {

QString formatDuration(double seconds)
{
    const int s = static_cast<int>(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
    if (s >= 60)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QStringLiteral("%1 s").arg(s);
}

QStringList metricNamesFor(TaskKind task, int topK)
{
    if (task == TaskKind::RatingPrediction)
        return {QStringLiteral("rmse"), QStringLiteral("mae")};
    if (task == TaskKind::ClickThrough)
        return {QStringLiteral("auc"), QStringLiteral("gauc")};
    return {QStringLiteral("hr@%1").arg(topK), QStringLiteral("ndcg@%1").arg(topK)};
}

// The template model whose training defaults a graph of this task starts from.
const char* defaultsModelFor(TaskKind task)
{
    switch (task) {
    case TaskKind::RatingPrediction: return "mf";
    case TaskKind::ClickThrough: return "din";
    default: return "neumf";
    }
}

const QString kGraphModel = QStringLiteral("graph");

} // namespace

MainWindow::MainWindow(const MainWindowOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options), controller_(new TrainingController(this)),
      chart_(new TrainingChart(this)), browser_(new DatasetBrowser(this)), centralTabs_(new QTabWidget(this)),
      runsModel_(new RunsTableModel(this)), graphEditor_(new GraphEditor(this))
{
    setWindowTitle(tr("RecLab"));
    setWindowIcon(QIcon(QStringLiteral(":/reclab/icons/reclab.png")));
    centralTabs_->addTab(browser_, tr("Data"));
    centralTabs_->addTab(graphEditor_, tr("Model graph"));
    centralTabs_->addTab(chart_, tr("Training"));
    centralTabs_->setDocumentMode(true);
    setCentralWidget(centralTabs_);
    connect(browser_, &DatasetBrowser::preparedSaved, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Saved %1; it is now the training data").arg(path), 8000);
        loadDataset(path);
    });
    connect(browser_, &DatasetBrowser::problem, this, [this](const QString& m) { statusBar()->showMessage(m, 10000); });
    buildActions();
    buildSetupDock();
    // "Train this graph" trains the editor's graph with the run setup's settings.
    connect(graphEditor_, &GraphEditor::trainRequested, this, [this] {
        modelCombo_->setCurrentIndex(modelCombo_->findData(kGraphModel));
        startTraining();
    });
    connect(&graphEditor_->document(), &GraphDocument::changed, this, [this] {
        if (modelCombo_->currentData().toString() != kGraphModel)
            return;
        const bool canPretrain = graphEditor_->document().graph().pretrain.has_value();
        if (currentTask() == protocolTask_ && canPretrain == pretrainCheck_->isEnabled())
            return;
        applyModelDefaults();
        fillProtocols();
    });
    buildRunsDock();
    buildStepDock();

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

    connect(controller_, &TrainingController::runStarted, this, [this](qint64 id) {
        runId_ = id;
        refreshRuns();
    });
    connect(controller_, &TrainingController::batchProgress, this, &MainWindow::onBatch);
    connect(controller_, &TrainingController::epochFinished, this, &MainWindow::onEpoch);
    connect(controller_, &TrainingController::runFinished, this, &MainWindow::onRunFinished);
    connect(controller_, &TrainingController::stepReported, this, &MainWindow::onStep);

    runsModel_->setDatabasePath(options_.databasePath);
    try {
        ExperimentStore store(options_.databasePath.toStdString());
        if (const int n = store.recoverInterruptedRuns())
            statusBar()->showMessage(tr("%n earlier run(s) were interrupted and are marked so.", nullptr, n), 8000);
    } catch (const std::exception& e) {
        statusBar()->showMessage(tr("Experiment database: %1").arg(QString::fromUtf8(e.what())));
    }
    refreshRuns();
    resize(1180, 760);
    updateActions();
    loadDataset(options_.dataSpec);
}

MainWindow::~MainWindow() { controller_->shutdown(); }

bool MainWindow::isTraining() const { return controller_->isRunning(); }

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
    connect(startAction_, &QAction::triggered, this, &MainWindow::startTraining);
    stopAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"));
    stopAction_->setShortcut(QKeySequence(Qt::Key_Escape));
    connect(stopAction_, &QAction::triggered, this, &MainWindow::stopTraining);
    pauseAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
    pauseAction_->setCheckable(true);
    pauseAction_->setToolTip(tr("Pause the run between batches; uncheck to resume"));
    connect(pauseAction_, &QAction::toggled, this, [this](bool paused) {
        controller_->setPaused(paused);
        if (isTraining())
            progress_->setFormat(paused ? tr("paused  %p%") : tr("resuming…"));
    });
    stepAction_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Step"));
    stepAction_->setToolTip(tr("Run one batch and show its loss and each block's gradient norm (pauses the run)"));
    connect(stepAction_, &QAction::triggered, this, [this] {
        if (!isTraining())
            return;
        const QSignalBlocker block(pauseAction_);
        pauseAction_->setChecked(true);
        controller_->requestStep();
    });
}

void MainWindow::buildSetupDock()
{
    auto* panel = new QWidget;
    auto* form = new QFormLayout(panel);
    datasetLabel_ = new QLabel(tr("loading…"));
    datasetLabel_->setWordWrap(true);
    datasetLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Dataset"), datasetLabel_);

    modelCombo_ = new QComboBox;
    for (const auto& m : modelRegistry()) {
        modelCombo_->addItem(QString::fromStdString(m.displayName), QString::fromStdString(m.name));
        modelCombo_->setItemData(modelCombo_->count() - 1, QString::fromStdString(m.summary), Qt::ToolTipRole);
    }
    modelCombo_->addItem(tr("Model graph (editor)"), kGraphModel);
    modelCombo_->setItemData(modelCombo_->count() - 1,
                             tr("The graph in the Model graph tab; its output decides the task"), Qt::ToolTipRole);
    form->addRow(tr("Model"), modelCombo_);
    epochsSpin_ = new QSpinBox;
    epochsSpin_->setRange(1, 100000);
    form->addRow(tr("Epochs"), epochsSpin_);
    pretrainCheck_ = new QCheckBox(tr("Pre-train GMF and MLP first"));
    pretrainCheck_->setToolTip(tr("NeuMF: train a GMF and an MLP for the same epochs, start NeuMF from them "
                                  "(He et al. 2017, 3.4.1) and continue with SGD"));
    form->addRow(QString(), pretrainCheck_);
    batchSpin_ = new QSpinBox;
    batchSpin_->setRange(1, 1 << 20);
    form->addRow(tr("Batch size"), batchSpin_);
    lrSpin_ = new QDoubleSpinBox;
    lrSpin_->setDecimals(5);
    lrSpin_->setRange(0.00001, 10.0);
    lrSpin_->setSingleStep(0.0005);
    lrSpin_->setKeyboardTracking(false); // a typed rate counts when editing ends
    lrSpin_->setToolTip(tr("Changed during a run, the new rate applies from the next epoch and is marked on the chart"));
    connect(lrSpin_, &QDoubleSpinBox::valueChanged, this, [this](double lr) {
        if (isTraining() && controller_->setLearningRate(lr))
            statusBar()->showMessage(tr("Learning rate %1 from the next epoch").arg(lr), 8000);
    });
    form->addRow(tr("Learning rate"), lrSpin_);
    seedSpin_ = new QSpinBox;
    seedSpin_->setRange(0, 1 << 30);
    form->addRow(tr("Seed"), seedSpin_);
    threadsSpin_ = new QSpinBox;
    threadsSpin_->setRange(0, QThread::idealThreadCount() * 4);
    threadsSpin_->setSpecialValueText(tr("default"));
    form->addRow(tr("Threads"), threadsSpin_);
    protocolCombo_ = new QComboBox;
    form->addRow(tr("Protocol"), protocolCombo_);
    protocolLabel_ = new QLabel;
    protocolLabel_->setWordWrap(true);
    protocolLabel_->setStyleSheet(QStringLiteral("color: palette(mid);"));
    form->addRow(protocolLabel_);
    connect(modelCombo_, &QComboBox::currentIndexChanged, this, [this] {
        applyModelDefaults();
        fillProtocols();
    });
    connect(protocolCombo_, &QComboBox::currentIndexChanged, this, &MainWindow::describeProtocol);
    applyModelDefaults();
    fillProtocols();

    auto* dock = new QDockWidget(tr("Run setup"), this);
    dock->setObjectName(QStringLiteral("setupDock"));
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    dock->setWidget(panel);
    dock->setMinimumWidth(260);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
}

void MainWindow::buildRunsDock()
{
    runsView_ = new QTableView;
    runsView_->setModel(runsModel_);
    runsView_->setSelectionBehavior(QAbstractItemView::SelectRows);
    runsView_->setAlternatingRowColors(true);
    runsView_->verticalHeader()->hide();
    runsView_->horizontalHeader()->setStretchLastSection(true);
    runsDock_ = new QDockWidget(tr("Runs"), this);
    runsDock_->setObjectName(QStringLiteral("runsDock"));
    runsDock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    runsDock_->setWidget(runsView_);
    addDockWidget(Qt::BottomDockWidgetArea, runsDock_);
}

TaskKind MainWindow::currentTask() const
{
    if (modelCombo_->currentData().toString() == kGraphModel) {
        // A graph being edited keeps the last task it had until it is valid again.
        const GraphAnalysis& a = graphEditor_->document().analysis();
        return a.ok() ? a.task : protocolTask_;
    }
    const ModelInfo* info = findModel(modelCombo_->currentData().toString().toStdString());
    return info ? info->task : TaskKind::ImplicitRanking;
}

const ModelInfo* MainWindow::currentDefaults() const
{
    const QString name = modelCombo_->currentData().toString();
    return findModel(name == kGraphModel ? defaultsModelFor(currentTask()) : name.toStdString());
}

void MainWindow::fillProtocols()
{
    // The protocols that fit the task; the current choice stays where it still fits.
    const QString before = protocolCombo_->currentData().toString();
    const TaskKind task = currentTask();
    {
        const QSignalBlocker block(protocolCombo_);
        protocolCombo_->clear();
        if (task == TaskKind::RatingPrediction) {
            protocolCombo_->addItem(tr("Random 80/20 hold-out"), QStringLiteral("holdout"));
            for (int k = 1; k <= 5; ++k)
                protocolCombo_->addItem(tr("ml-100k fold u%1").arg(k), QStringLiteral("folds:%1").arg(k));
        } else if (task == TaskKind::ClickThrough) {
            protocolCombo_->addItem(tr("Behaviour histories, users 80/20"), QStringLiteral("din"));
        } else {
            protocolCombo_->addItem(tr("Leave-one-out, 99 negatives"), QStringLiteral("loo"));
            protocolCombo_->addItem(tr("Full ranking"), QStringLiteral("full"));
        }
        protocolCombo_->setCurrentIndex(std::max(0, protocolCombo_->findData(before)));
    }
    protocolTask_ = task;
    describeProtocol();
}

void MainWindow::describeProtocol()
{
    const QString p = protocolCombo_->currentData().toString();
    if (p == QLatin1String("loo"))
        protocolLabel_->setText(
            tr("Each user's latest interaction is ranked against 99 sampled negatives; HR, NDCG and MRR at 10."));
    else if (p == QLatin1String("full"))
        protocolLabel_->setText(tr("Each user's latest interaction is ranked against every item the user did not train on; "
                                   "HR, NDCG, MRR, precision, recall, MAP, coverage and average popularity at 10."));
    else if (p == QLatin1String("holdout"))
        protocolLabel_->setText(tr("A random 20% of the ratings is held out; RMSE and MAE."));
    else if (p == QLatin1String("din"))
        protocolLabel_->setText(tr("Every rating is a sample scored from the user's 50 earlier ratings (items and genres); "
                                   "positive when rated 4 or more; 20% of the users held out. AUC, GAUC and LogLoss."));
    else
        protocolLabel_->setText(tr("MovieLens-100K's own split: train on uK.base, test on uK.test; RMSE and MAE."));
}

void MainWindow::buildStepDock()
{
    stepTable_ = new QTableWidget(0, 2);
    stepTable_->setHorizontalHeaderLabels({tr("Block"), tr("Gradient norm")});
    stepTable_->verticalHeader()->hide();
    stepTable_->horizontalHeader()->setStretchLastSection(true);
    stepTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    stepLabel_ = new QLabel(tr("Pause a run and press Step to run one batch."));
    stepLabel_->setWordWrap(true);
    auto* panel = new QWidget;
    auto* layout = new QVBoxLayout(panel);
    layout->addWidget(stepLabel_);
    layout->addWidget(stepTable_, 1);
    stepDock_ = new QDockWidget(tr("Step"), this);
    stepDock_->setObjectName(QStringLiteral("stepDock"));
    stepDock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                           QDockWidget::DockWidgetClosable);
    stepDock_->setWidget(panel);
    addDockWidget(Qt::BottomDockWidgetArea, stepDock_);
    tabifyDockWidget(runsDock_, stepDock_);
    runsDock_->raise();
}

void MainWindow::onStep(const StepReport& r)
{
    stepLabel_->setText(tr("Epoch %1, batch %2 (step %3): loss %4").arg(r.epoch).arg(r.batch).arg(r.step).arg(r.loss, 0, 'f', 5));
    stepTable_->setRowCount(static_cast<int>(r.gradientNorms.size()));
    for (int k = 0; k < stepTable_->rowCount(); ++k) {
        const auto& [block, norm] = r.gradientNorms[static_cast<size_t>(k)];
        stepTable_->setItem(k, 0, new QTableWidgetItem(QString::fromStdString(block)));
        stepTable_->setItem(k, 1, new QTableWidgetItem(QString::number(norm, 'g', 4)));
    }
    stepDock_->raise();
    progress_->setFormat(tr("paused after step %1  %p%").arg(r.step));
    emit stepShown(r.step);
}

void MainWindow::applyModelDefaults()
{
    const ModelInfo* info = currentDefaults();
    if (!info)
        return;
    const TrainConfig& d = info->defaults;
    epochsSpin_->setValue(d.epochs);
    batchSpin_->setValue(d.batchSize);
    lrSpin_->setValue(d.learningRate);
    seedSpin_->setValue(static_cast<int>(d.seed));
    // NeuMF, or a graph that names the parts it starts from.
    const QString model = modelCombo_->currentData().toString();
    const bool canPretrain = model == QLatin1String("neumf") ||
                             (model == kGraphModel && graphEditor_->document().graph().pretrain.has_value());
    pretrainCheck_->setChecked(d.pretrain && canPretrain);
    pretrainCheck_->setEnabled(canPretrain);
    const bool trainable = info->trainable;
    for (QWidget* w : {static_cast<QWidget*>(epochsSpin_), static_cast<QWidget*>(batchSpin_),
                       static_cast<QWidget*>(lrSpin_)})
        w->setEnabled(trainable);
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
}

void MainWindow::loadDataset(const QString& spec, const LoadOptions& options)
{
    if (loading_ || isTraining())
        return;
    loading_ = true;
    updateActions();
    const QString shownBefore = datasetLabel_->text();
    datasetLabel_->setText(tr("loading %1…").arg(spec));
    statusBar()->showMessage(tr("Loading %1…").arg(spec));
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, spec, shownBefore] {
        const LoadResult result = watcher->result();
        watcher->deleteLater();
        loading_ = false;
        if (!result.dataset) {
            datasetLabel_->setText(dataset_ ? shownBefore : tr("none"));
            statusBar()->showMessage(tr("Could not load %1").arg(spec), 8000);
            updateActions();
            QMessageBox::warning(this, tr("Cannot load dataset"), result.error);
            return;
        }
        setDataset(result);
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
    });
    const std::string s = spec.toStdString();
    watcher->setFuture(QtConcurrent::run([s, options]() -> LoadResult {
        try {
            LoadResult r;
            r.dataset = std::make_shared<const Dataset>(reclab::loadDataset(s, options));
            r.stats = computeStats(*r.dataset);
            r.fingerprint = r.dataset->fingerprint();
            return r;
        } catch (const std::exception& e) {
            LoadResult r;
            r.error = QString::fromUtf8(e.what());
            return r;
        }
    }));
}

void MainWindow::setDataset(const LoadResult& loaded)
{
    dataset_ = loaded.dataset;
    const DatasetStats& s = loaded.stats;
    datasetLabel_->setText(tr("<b>%1</b><br>%2 users, %3 items<br>%4 interactions (density %5%)<br><small>%6</small>")
                               .arg(QString::fromStdString(dataset_->name).toHtmlEscaped())
                               .arg(s.users)
                               .arg(s.items)
                               .arg(static_cast<qulonglong>(s.interactions))
                               .arg(s.density * 100.0, 0, 'f', 2)
                               .arg(QString::fromStdString(dataset_->source).toHtmlEscaped()));
    datasetLabel_->setToolTip(QString::fromStdString("fingerprint " + loaded.fingerprint));
    browser_->setDataset(dataset_, s);
    // The editor checks shapes and memory against the data the graph will train on.
    graphEditor_->document().setContext(graphContextOf(*dataset_));
    updateActions();
}

void MainWindow::startTraining()
{
    if (!dataset_ || isTraining())
        return;
    const std::string modelName = modelCombo_->currentData().toString().toStdString();
    const bool isGraph = modelName == kGraphModel.toStdString();
    if (isGraph && !graphEditor_->document().analysis().ok()) {
        centralTabs_->setCurrentWidget(graphEditor_);
        QMessageBox::warning(this, tr("Model graph"),
                             tr("The graph cannot be trained yet: %1")
                                 .arg(QString::fromStdString(graphEditor_->document().analysis().issues.front().text())));
        return;
    }
    centralTabs_->setCurrentWidget(chart_);
    TrainConfig config;
    try {
        config = currentDefaults()->defaults;
        if (isGraph) {
            config.model = modelName;
            config.graph = graphEditor_->document().graph().toJson();
        }
        config.epochs = epochsSpin_->value();
        config.batchSize = batchSpin_->value();
        config.learningRate = lrSpin_->value();
        config.seed = static_cast<uint64_t>(seedSpin_->value());
        config.threads = threadsSpin_->value();
        config.pretrain = pretrainCheck_->isEnabled() && pretrainCheck_->isChecked();
        const QString protocol = protocolCombo_->currentData().toString();
        if (protocol.startsWith(QLatin1String("folds:"))) {
            config.protocol = "folds";
            config.fold = protocol.mid(6).toInt();
        } else {
            config.protocol = protocol.toStdString();
        }
        config.validate();
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Invalid settings"), QString::fromUtf8(e.what()));
        return;
    }
    plannedEpochs_ = isGraph || findModel(modelName)->trainable ? config.epochs : 1;
    const QString modelText = isGraph ? tr("Graph %1").arg(QString::fromStdString(graphFor(config).name))
                                      : modelCombo_->currentText();
    chart_->beginRun(tr("%1 on %2").arg(modelText, QString::fromStdString(dataset_->name)),
                     metricNamesFor(taskOf(config), config.topK), plannedEpochs_);
    progress_->setValue(0);
    progress_->setFormat(tr("preparing…"));
    etaLabel_->clear();
    speedLabel_->clear();
    runId_ = 0;
    lastStatus_.clear();
    lastLearningRate_ = config.learningRate;
    runClock_.start();
    controller_->start(dataset_, config, options_.databasePath);
    updateActions();
}

void MainWindow::stopTraining()
{
    if (!isTraining())
        return;
    controller_->stop();
    progress_->setFormat(tr("stopping…"));
}

void MainWindow::onBatch(const BatchProgress& p)
{
    const double done = ((p.epoch - 1) + static_cast<double>(p.batch) / std::max<int64_t>(1, p.batchesPerEpoch)) /
                        plannedEpochs_;
    progress_->setValue(static_cast<int>(done * 1000));
    if (!p.phase.empty()) {
        // NeuMF's parts are being pre-trained: progress within that phase, nothing charted.
        progress_->setFormat(tr("pre-training %1: epoch %2/%3  %p%")
                                 .arg(QString::fromStdString(p.phase).toUpper())
                                 .arg(p.epoch)
                                 .arg(plannedEpochs_));
        return;
    }
    chart_->addBatch(p);
    progress_->setFormat(tr("epoch %1/%2  %p%").arg(p.epoch).arg(plannedEpochs_));
    const double elapsed = runClock_.elapsed() / 1000.0;
    if (done > 0.01)
        etaLabel_->setText(tr("ETA %1").arg(formatDuration(elapsed * (1.0 - done) / done)));
}

void MainWindow::onEpoch(const EpochStats& s)
{
    if (s.epoch > 1 && s.learningRate != lastLearningRate_)
        chart_->markLearningRate(s.epoch - 1, s.learningRate);
    lastLearningRate_ = s.learningRate;
    chart_->addEpoch(s);
    QStringList parts;
    for (const auto& m : s.metrics)
        parts << QStringLiteral("%1 %2").arg(QString::fromStdString(m.name), metricText(m.value));
    if (s.samplesPerSecond > 0)
        speedLabel_->setText(tr("%1 samples/s").arg(QLocale().toString(s.samplesPerSecond, 'f', 0)));
    statusBar()->showMessage(tr("Epoch %1: loss %2  %3").arg(s.epoch).arg(s.loss, 0, 'f', 4).arg(parts.join("  ")));
    progress_->setValue(static_cast<int>(1000.0 * s.epoch / plannedEpochs_));
    refreshRuns(); // the stored run's latest metrics
}

void MainWindow::onRunFinished(qint64 runId, const QString& status, const QString& message)
{
    chart_->flush();
    runId_ = runId;
    lastStatus_ = status;
    progress_->setFormat(status == QLatin1String("FINISHED") ? tr("finished") : status.toLower());
    if (status == QLatin1String("FINISHED"))
        progress_->setValue(1000);
    etaLabel_->setText(tr("took %1").arg(formatDuration(runClock_.elapsed() / 1000.0)));
    refreshRuns();
    updateActions();
    if (status == QLatin1String("FAILED"))
        QMessageBox::warning(this, tr("Training failed"), message);
    else if (!message.isEmpty())
        statusBar()->showMessage(message, 8000);
    emit trainingFinished(runId, status);
}

void MainWindow::updateActions()
{
    const bool training = isTraining();
    startAction_->setEnabled(dataset_ && !training && !loading_);
    stopAction_->setEnabled(training);
    pauseAction_->setEnabled(training);
    stepAction_->setEnabled(training);
    if (!training) {
        const QSignalBlocker block(pauseAction_);
        pauseAction_->setChecked(false);
    }
    openAction_->setEnabled(!training && !loading_);
    sampleAction_->setEnabled(!training && !loading_);
    openFileAction_->setEnabled(!training && !loading_);
    modelCombo_->setEnabled(!training);
}

void MainWindow::refreshRuns()
{
    QString error;
    if (!runsModel_->refresh(&error))
        statusBar()->showMessage(tr("Experiment database: %1").arg(error));
    runsView_->resizeColumnsToContents();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    // Stop the run and join the training thread before the window goes away; the stored run
    // ends as STOPPED with every completed epoch kept.
    controller_->shutdown();
    event->accept();
}

} // namespace reclab
