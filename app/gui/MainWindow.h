// The workbench window: run setup on the left, the live training chart in the middle, the
// stored runs below, progress with ETA and throughput in the status bar. Data loads and
// training both run off the GUI thread.
#pragma once

#include "data/Dataset.h"
#include "data/DatasetSource.h"
#include "models/ModelTraits.h"
#include "train/TrainingEvents.h"

#include <QElapsedTimer>
#include <QMainWindow>
#include <QString>

#include <memory>

class QAction;
class QCheckBox;
class QComboBox;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QSpinBox;
class QTabWidget;
class QTableView;
class QTableWidget;

namespace reclab {

class DatasetBrowser;
class GraphEditor;
struct ModelInfo;
class RunsTableModel;
struct LoadResult;
class TrainingChart;
class TrainingController;

struct MainWindowOptions {
    QString databasePath; // the experiment database
    QString dataSpec = QStringLiteral("sample"); // dataset loaded at start: "sample", a folder or a file
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const MainWindowOptions& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // For tests and scripting.
    TrainingChart* chart() const { return chart_; }
    DatasetBrowser* browser() const { return browser_; }
    QTabWidget* centralTabs() const { return centralTabs_; }
    GraphEditor* graphEditor() const { return graphEditor_; }
    RunsTableModel* runsModel() const { return runsModel_; }
    QAction* startAction() const { return startAction_; }
    QAction* stopAction() const { return stopAction_; }
    QAction* pauseAction() const { return pauseAction_; }
    QAction* stepAction() const { return stepAction_; }
    QTableWidget* stepTable() const { return stepTable_; }
    QDoubleSpinBox* learningRateSpin() const { return lrSpin_; }
    QAction* downloadAction() const { return downloadAction_; }
    QComboBox* modelCombo() const { return modelCombo_; }
    QComboBox* protocolCombo() const { return protocolCombo_; }
    QSpinBox* epochsSpin() const { return epochsSpin_; }
    QCheckBox* pretrainCheck() const { return pretrainCheck_; }
    QProgressBar* progressBar() const { return progress_; }
    bool isDatasetLoaded() const { return dataset_ != nullptr; }
    bool isTraining() const;
    qint64 currentRunId() const { return runId_; }
    QString lastRunStatus() const { return lastStatus_; }

public slots:
    void loadDataset(const QString& spec);
    void loadDataset(const QString& spec, const reclab::LoadOptions& options);
    // Opens a file as a user picked it: a generic delimited file goes through the import
    // dialog (separator, header, column roles, live preview) first; other formats load at once.
    void openFile(const QString& path);
    // Opens the MovieLens download dialog (when built with the downloader).
    void showDownloadDialog();
    void startTraining();
    void stopTraining();

signals:
    void datasetLoaded();
    void trainingFinished(qint64 runId, const QString& status);
    void stepShown(qint64 step);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildActions();
    void buildSetupDock();
    void buildRunsDock();
    void buildStepDock();
    void onStep(const StepReport& report);
    // The task of the chosen model (for "graph", the editor's graph) and whose defaults it uses.
    TaskKind currentTask() const;
    const ModelInfo* currentDefaults() const;
    void applyModelDefaults();
    void fillProtocols();
    void describeProtocol();
    void setDataset(const LoadResult& loaded);
    void onBatch(const BatchProgress& p);
    void onEpoch(const EpochStats& s);
    void onRunFinished(qint64 runId, const QString& status, const QString& message);
    void updateActions();
    void refreshRuns();

    MainWindowOptions options_;
    std::shared_ptr<const Dataset> dataset_;
    TrainingController* controller_;
    TrainingChart* chart_;
    DatasetBrowser* browser_;
    QTabWidget* centralTabs_;
    RunsTableModel* runsModel_;
    GraphEditor* graphEditor_;
    QTableView* runsView_ = nullptr;
    QAction* openAction_ = nullptr;
    QAction* sampleAction_ = nullptr;
    QAction* openFileAction_ = nullptr;
    QAction* downloadAction_ = nullptr;
    QAction* startAction_ = nullptr;
    QAction* stopAction_ = nullptr;
    QAction* pauseAction_ = nullptr;
    QAction* stepAction_ = nullptr;
    QTableWidget* stepTable_ = nullptr;
    QDockWidget* runsDock_ = nullptr;
    QDockWidget* stepDock_ = nullptr;
    QLabel* stepLabel_ = nullptr;
    QLabel* datasetLabel_ = nullptr;
    QComboBox* modelCombo_ = nullptr;
    QSpinBox* epochsSpin_ = nullptr;
    QCheckBox* pretrainCheck_ = nullptr;
    QSpinBox* batchSpin_ = nullptr;
    QDoubleSpinBox* lrSpin_ = nullptr;
    QSpinBox* seedSpin_ = nullptr;
    QSpinBox* threadsSpin_ = nullptr;
    QComboBox* protocolCombo_ = nullptr; // data: "loo", "full", "holdout" or "folds:K"
    QLabel* protocolLabel_ = nullptr;
    TaskKind protocolTask_ = TaskKind::ImplicitRanking; // the task the protocol list was filled for
    QProgressBar* progress_ = nullptr;
    QLabel* etaLabel_ = nullptr;
    QLabel* speedLabel_ = nullptr;
    QElapsedTimer runClock_;
    int plannedEpochs_ = 1;
    qint64 runId_ = 0;
    QString lastStatus_;
    double lastLearningRate_ = 0.0;
    bool loading_ = false;
};

} // namespace reclab
