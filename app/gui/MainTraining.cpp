// The window's live runs: starting one from the run setup (or resuming a stored one), the
// runs in training and which of them the toolbar steers, and what their epochs and ends show.
#include "MainWindow.h"

#include "editor/GraphDocument.h"
#include "editor/GraphEditor.h"
#include "engine/Engine.h"
#include "engine/EngineLoader.h"
#include "experiments/RunsTableModel.h"
#include "training/RunQueue.h"
#include "training/StepPanel.h"
#include "training/TrainingController.h"
#include "training/TrainingDashboard.h"
#include "training/TrainingPanel.h"
#include "runs/StoredRuns.h"
#include "zoo/ModelRegistry.h"

#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QStatusBar>
#include <QTabWidget>

namespace reclab {

void MainWindow::startTraining()
{
    if (!dataset_)
        return;
    if (panel_->isGraphModel() && !graphEditor_->document().analysis().ok()) {
        centralTabs_->setCurrentWidget(graphEditor_);
        QMessageBox::warning(this, tr("Model graph"),
                             tr("The graph cannot be trained yet: %1")
                                 .arg(QString::fromStdString(graphEditor_->document().analysis().issues.front().text())));
        return;
    }
    if (waitingForEngine([this] { startTraining(); }))
        return;
    TrainConfig config;
    if (checkedPanelConfig(config))
        launch(config, tr("%1 on %2").arg(panel_->modelText(), QString::fromStdString(dataset_->name)), 0);
}

bool MainWindow::waitingForEngine(std::function<void()> retry)
{
    EngineLoader& loader = EngineLoader::instance();
    if (loader.engineIfReady() || !loader.problem().isEmpty())
        return false;
    statusBar()->showMessage(tr("Loading LibTorch; this goes on when it is ready"), 3000);
    loader.whenReady(this, std::move(retry));
    return true;
}

bool MainWindow::checkedPanelConfig(TrainConfig& config)
{
    if (!dataset_)
        return false;
    try {
        config = panel_->config();
        engine().checkConfig(dataset_, config); // sizes against the data: a model that cannot fit is refused here
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Invalid settings"), QString::fromUtf8(e.what()));
        return false;
    }
    return true;
}

void MainWindow::resumeSelectedRun()
{
    const RunRecord* selected = selectedRun();
    if (!selected || !dataset_)
        return;
    const qint64 id = selected->id;
    TrainConfig config;
    QString model;
    try {
        config = storedTrainConfig(options_.databasePath.toStdString(), id);
        model = QString::fromStdString(config.model);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Cannot resume"), QString::fromUtf8(e.what()));
        return;
    }
    // A stored run's chart keeps its earlier epochs; the resumed ones are appended live.
    dashboard_->addStoredRun(options_.databasePath, id);
    launch(config, tr("%1 on %2 (resumed)").arg(model, QString::fromStdString(dataset_->name)), id);
}

LiveRuns::Run* MainWindow::launch(const TrainConfig& config, const QString& label, qint64 resumeRunId, qint64 parentRunId)
{
    centralTabs_->setCurrentWidget(dashboard_);
    LiveRuns::Run* run =
        liveRuns_->launch(dataset_, config, options_.databasePath, label, resumeRunId, parentRunId, dataSpec_);
    activeRun_->addItem(label, QVariant::fromValue(static_cast<QObject*>(run->controller)));
    activeRun_->setCurrentIndex(activeRun_->count() - 1);
    showActiveRun();
    updateActions();
    return run;
}

void MainWindow::connectLiveRuns()
{
    connect(liveRuns_, &LiveRuns::started, this, [this](LiveRuns::Run* run) {
        const int index = activeRun_->findData(QVariant::fromValue(static_cast<QObject*>(run->controller)));
        if (index >= 0)
            activeRun_->setItemText(index, run->label);
        refreshRuns();
        if (run->controller == queueKey_)
            runQueue_->entryStarted(run->runId);
        emit runStarted(run->runId);
    });
    connect(liveRuns_, &LiveRuns::progressed, this, [this](LiveRuns::Run* run) {
        if (run == activeRun())
            showActiveRun();
    });
    connect(liveRuns_, &LiveRuns::noted, this,
            [this](LiveRuns::Run* run, const QString& note) { showElidedStatus(run->label + QStringLiteral(": ") + note); });
    connect(liveRuns_, &LiveRuns::epochEnded, this, &MainWindow::onEpoch);
    connect(liveRuns_, &LiveRuns::finished, this, &MainWindow::onRunFinished);
}

LiveRuns::Run* MainWindow::activeRun() const
{
    return liveRuns_->find(activeRun_->currentData().value<QObject*>());
}

void MainWindow::showActiveRun()
{
    const LiveRuns::Run* run = activeRun();
    if (!run) {
        updateActions();
        return;
    }
    progress_->setValue(static_cast<int>(run->done * 1000));
    progress_->setFormat(QStringLiteral("%1  %p%").arg(run->stage));
    etaLabel_->setText(run->etaText());
    QString speed = run->samplesPerSecond > 0
                        ? tr("%1 samples/s").arg(QLocale().toString(run->samplesPerSecond, 'f', 0))
                        : QString();
    if (liveRuns_->count() > 1)
        speed += tr("  (%n runs training)", nullptr, static_cast<int>(liveRuns_->count()));
    speedLabel_->setText(speed);
    const QSignalBlocker block(pauseAction_);
    pauseAction_->setChecked(run->paused);
    const QSignalBlocker blockRate(runRate_);
    runRate_->setValue(run->learningRate);
    updateActions();
}

void MainWindow::stopTraining()
{
    if (LiveRuns::Run* run = activeRun())
        liveRuns_->stop(run);
}

void MainWindow::showElidedStatus(const QString& text)
{
    // The bar would clip the message under its permanent widgets (speed, ETA, progress): it
    // ends in "…" where it must, and the whole text is the bar's tooltip.
    int room = statusBar()->width() - 24;
    for (const QWidget* w : {static_cast<QWidget*>(speedLabel_), static_cast<QWidget*>(etaLabel_), static_cast<QWidget*>(progress_)})
        if (w->isVisible()) // their new text may not be laid out yet: the larger of hint and width
            room -= std::max(w->width(), w->sizeHint().width()) + 8;
    statusBar()->setToolTip(text);
    statusBar()->showMessage(statusBar()->fontMetrics().elidedText(text, Qt::ElideRight, std::max(room, 120)));
}

void MainWindow::onEpoch(LiveRuns::Run* run, const EpochStats& s)
{
    if (run == activeRun()) {
        QStringList parts;
        for (const auto& m : s.metrics)
            parts << QStringLiteral("%1 %2").arg(QString::fromStdString(m.name), metricText(m.value));
        showActiveRun(); // the speed and ETA first: the message gets the room they leave
        showElidedStatus(
            tr("%1, epoch %2: loss %3  %4").arg(run->label).arg(s.epoch).arg(s.loss, 0, 'f', 4).arg(parts.join("  ")));
    }
    // The stored runs' latest metrics: one table query for all the epochs of all runs that
    // end within a moment, not one per epoch per run on the GUI thread.
    if (!refreshTimer_.isActive())
        refreshTimer_.start();
}

void MainWindow::onRunFinished(const QObject* key, qint64 runId, const QString& status, const QString& message,
                               const QString& label, double took)
{
    lastRunId_ = runId;
    lastStatus_ = status;
    const int index = activeRun_->findData(QVariant::fromValue(const_cast<QObject*>(key)));
    const bool wasActive = index >= 0 && index == activeRun_->currentIndex();
    {
        const QSignalBlocker block(activeRun_);
        activeRun_->removeItem(index);
        if (wasActive)
            activeRun_->setCurrentIndex(activeRun_->count() - 1);
    }
    if (wasActive || liveRuns_->count() == 0) {
        if (liveRuns_->count() == 0) {
            progress_->setFormat(status == QLatin1String("FINISHED") ? tr("finished") : status.toLower());
            progress_->setValue(status == QLatin1String("FINISHED") ? 1000 : progress_->value());
            etaLabel_->setText(tr("took %1").arg(LiveRuns::duration(took)));
        } else {
            showActiveRun();
        }
    }
    refreshRuns();
    updateActions();
    const bool queued = key == queueKey_;
    if (queued)
        queueKey_ = nullptr;
    if (status == QLatin1String("FAILED") && !queued) // a queued run's failure must not hold up the queue
        QMessageBox::warning(this, tr("Training failed"), tr("%1: %2").arg(label, message));
    else
        statusBar()->showMessage(message.isEmpty() ? tr("%1 %2").arg(label, status.toLower())
                                                   : tr("%1: %2").arg(label, message),
                                 8000);
    emit trainingFinished(runId, status);
    if (queued)
        runQueue_->entryFinished(runId, status);
}

} // namespace reclab
