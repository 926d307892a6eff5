// The workbench window: run setup on the left, the training dashboard in the middle (every
// live run overlaid), the stored runs below, the steered run's progress with ETA and
// throughput in the status bar. Data loads and every training run off the GUI thread, each
// run in its own.
#pragma once

#include "data/Dataset.h"
#include "data/DatasetSource.h"
#include "runs/ModelTraits.h"
#include "runs/TrainConfig.h"
#include "runs/TrainingEvents.h"
#include "training/LiveRuns.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMainWindow>
#include <QString>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

class QAction;
class QCheckBox;
class QComboBox;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QProgressBar;
class QSpinBox;
class QTabWidget;
class QTableView;
class QTableWidget;

namespace reclab {

class CompareView;
class InspectPage;
class RankingPage;
class DatasetBrowser;
class ExperimentsView;
class GraphEditor;
struct ModelInfo;
class LessonChooser;
class LessonPanel;
class LessonRunner;
class RunQueue;
class RunsTableModel;
struct LoadResult;
struct RunRecord;
class TrainingController;
class TrainingDashboard;
class TrainingPanel;
class StepPanel;
class DatasetLoadJob;

struct MainWindowOptions {
    MainWindowOptions() = default;
    MainWindowOptions(QString database, QString data = QStringLiteral("sample"), QString settings = {})
        : databasePath(std::move(database)), dataSpec(std::move(data)), settingsPath(std::move(settings))
    {
    }
    QString databasePath; // the experiment database
    QString dataSpec = QStringLiteral("sample"); // dataset loaded at start: "sample", a folder or a file
    // Where the window keeps what it restores next time (an INI file): geometry, docks, last
    // tab, run setup, chart settings, recent files. Empty: nothing is kept (tests).
    QString settingsPath;
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const MainWindowOptions& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // For tests and scripting.
    TrainingDashboard* dashboard() const { return dashboard_; }
    TrainingPanel* panel() const { return panel_; }
    DatasetBrowser* browser() const { return browser_; }
    QTabWidget* centralTabs() const { return centralTabs_; }
    GraphEditor* graphEditor() const { return graphEditor_; }
    RunsTableModel* runsModel() const { return runsModel_; }
    QTableView* runsView() const { return runsView_; }
    ExperimentsView* experimentsView() const { return experiments_; }
    CompareView* compareView() const { return compare_; }
    // The Inspect tab, and the engine's page in it (null until LibTorch's engine is loaded).
    QWidget* inspectTab() const { return inspectTab_; }
    InspectPage* inspectPage() const { return inspect_; }
    QWidget* rankingTab() const { return rankingTab_; }
    RankingPage* rankingPage() const { return ranking_; }
    // Shows the Inspect tab and calls f with its page, now or once the engine has loaded.
    void withInspectPage(std::function<void(InspectPage&)> f);
    RunQueue* runQueue() const { return runQueue_; }
    const Dataset* dataset() const { return dataset_.get(); }
    // Lesson mode: the toolbar's "Lessons" opens the chooser; the runner walks the chosen one.
    QAction* lessonsAction() const { return lessonsAction_; }
    LessonRunner* lessons() const { return lessons_; }
    LessonPanel* lessonPanel() const { return lessonPanel_; }
    // Opens the lesson chooser (non-modal; choosing starts the lesson).
    LessonChooser* showLessons();
    // Opens a stored run in the Inspect tab.
    void inspectRun(qint64 runId);
    QAction* startAction() const { return startAction_; }
    QAction* stopAction() const { return stopAction_; }
    QAction* pauseAction() const { return pauseAction_; }
    QAction* stepAction() const { return stepAction_; }
    QAction* resumeAction() const { return resumeAction_; }
    QComboBox* activeRunCombo() const { return activeRun_; }
    QAction* quitAction() const { return quitAction_; }
    QMenu* editMenu() const { return editMenu_; }
    // Recent datasets ("recent/datasets") and databases ("recent/databases"), newest first.
    QStringList recentList(const char* key) const;
    // Every menu entry with keys, as the Help menu lists them (a new table, caller owns it).
    QTableWidget* shortcutsTable() const;
    QString aboutText() const;
    QString torchVersion() const;
    QString databasePath() const { return options_.databasePath; }
    // The steered run's learning rate: an edit applies to that run from its next epoch.
    QDoubleSpinBox* learningRateSpin() const { return runRate_; }
    QTableWidget* stepTable() const;
    QAction* downloadAction() const { return downloadAction_; }
    QProgressBar* progressBar() const { return progress_; }
    QLabel* speedLabel() const { return speedLabel_; }
    bool isDatasetLoaded() const { return dataset_ != nullptr; }
    bool isTraining() const { return liveRuns_->count() > 0; }
    int liveRunCount() const { return static_cast<int>(liveRuns_->count()); }
    // The run the controls steer (the latest started, or picked in the toolbar); after the last
    // run ends, that run.
    qint64 currentRunId() const;
    QString lastRunStatus() const { return lastStatus_; }

public slots:
    void loadDataset(const QString& spec);
    void loadDataset(const QString& spec, const reclab::LoadOptions& options);
    // Opens a file as a user picked it: a generic delimited file goes through the import
    // dialog (separator, header, column roles, live preview) first; other formats load at once.
    void openFile(const QString& path);
    // Opens the MovieLens download dialog (when built with the downloader).
    void showDownloadDialog();
    // Starts a run with the panel's settings, beside any runs already training.
    void startTraining();
    // Stops the run the controls steer.
    void stopTraining();
    // Continues the stopped or interrupted run selected in the runs table from its checkpoint.
    void resumeSelectedRun();
    // Shows the runs side by side in the Compare tab.
    void compareRuns(const QList<qint64>& runIds);
    // Trains a new run with the stored run's config, seed, graph and split (same data only).
    void cloneRun(qint64 runId);
    // A folder or data file opens as a dataset, a .db/.sqlite file as the experiment database.
    void openPath(const QString& path);
    // Switches to another experiment database (not while runs train); false when refused.
    bool openDatabase(const QString& path);
    void saveSettings() const;

signals:
    void datasetLoaded();
    void trainingFinished(qint64 runId, const QString& status);
    void runStarted(qint64 runId);
    void stepShown(qint64 step);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildActions();
    void buildMenus();
    void buildLessons();
    void restoreSettings();
    void addRecent(const char* key, const QString& path);
    void rememberDataset(const QString& spec);
    void fillRecentMenu(QMenu* menu, const char* key);
    void showGuide();
    void showShortcuts();
    void showAbout();
    void buildRunsDock();
    void buildStepDock();
    void connectLiveRuns();
    LiveRuns::Run* launch(const TrainConfig& config, const QString& label, qint64 resumeRunId, qint64 parentRunId = 0);
    // True (and retry called once it is loaded) until LibTorch's engine has loaded, a moment after start.
    bool waitingForEngine(std::function<void()> retry);
    // The run setup's configuration, checked against the data; false (after saying why) if refused.
    bool checkedPanelConfig(TrainConfig& config);
    LiveRuns::Run* activeRun() const; // the steered one
    void showActiveRun();
    void showElidedStatus(const QString& text);
    void setDataset(const LoadResult& loaded);
    void onDatasetLoaded(const QString& spec, const LoadResult& result);
    void onEpoch(LiveRuns::Run* run, const EpochStats& s);
    void onRunFinished(const QObject* key, qint64 runId, const QString& status, const QString& message,
                       const QString& label, double seconds);
    void updateActions();
    void refreshRuns();
    const RunRecord* selectedRun() const;

    MainWindowOptions options_;
    std::shared_ptr<const Dataset> dataset_;
    // How another process loads the window's data (reclab-train train --data), for runs on
    // several processes: the spec of a load with the usual options; empty after an import with
    // options of its own. loadingSpec_ is the load in progress's.
    QString dataSpec_, loadingSpec_;
    TrainingDashboard* dashboard_;
    DatasetBrowser* browser_;
    QTabWidget* centralTabs_;
    RunsTableModel* runsModel_;
    GraphEditor* graphEditor_;
    TrainingPanel* panel_;
    LiveRuns* liveRuns_;
    DatasetLoadJob* loader_;
    QTableView* runsView_ = nullptr;
    ExperimentsView* experiments_ = nullptr;
    CompareView* compare_ = nullptr;
    QWidget* inspectTab_ = nullptr;
    QLabel* engineNote_ = nullptr; // in the Inspect tab while the engine loads, or why it did not
    InspectPage* inspect_ = nullptr;
    QWidget* rankingTab_ = nullptr; // the Ranking tab's page comes with the engine too
    QLabel* rankingNote_ = nullptr;
    RankingPage* ranking_ = nullptr;
    void onEngineReady();
    void onEngineFailed(const QString& message);
    void offerRunsToInspect();
    QAction* openAction_ = nullptr;
    QAction* sampleAction_ = nullptr;
    QAction* openFileAction_ = nullptr;
    QAction* downloadAction_ = nullptr;
    QAction* startAction_ = nullptr;
    QAction* stopAction_ = nullptr;
    QAction* pauseAction_ = nullptr;
    QAction* stepAction_ = nullptr;
    QAction* resumeAction_ = nullptr;
    QComboBox* activeRun_ = nullptr; // data: the run's key (LiveRuns::find)
    QAction* quitAction_ = nullptr;
    QMenu* editMenu_ = nullptr;
    QMenu* recentDataMenu_ = nullptr;
    QMenu* recentDbMenu_ = nullptr;
    QHash<QString, QStringList> recent_;
    RunQueue* runQueue_ = nullptr;
    QAction* lessonsAction_ = nullptr;
    LessonRunner* lessons_ = nullptr;
    LessonPanel* lessonPanel_ = nullptr;
    QDockWidget* lessonDock_ = nullptr;
    const QObject* queueKey_ = nullptr; // the queue's running entry (its controller)
    QDoubleSpinBox* runRate_ = nullptr;
    StepPanel* stepPanel_ = nullptr;
    QDockWidget* runsDock_ = nullptr;
    QDockWidget* stepDock_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* etaLabel_ = nullptr;
    QLabel* speedLabel_ = nullptr;
    QString datasetHtml_, datasetTip_; // what the panel shows of the loaded dataset
    QTimer refreshTimer_; // coalesces runs-table refreshes while runs train
    qint64 lastRunId_ = 0;
    QString lastStatus_;
    bool loading_ = false;
};

} // namespace reclab
