// The Ranking tab: ranking policies (core rl/BanditRun.h) run side by side on the replay of the
// log or on a simulator built from a stored run, in a worker. Cumulative reward, CTR and regret
// (matched events on the replay) per policy grow live on the dashboard's charts; Pause, then
// Step, shows one decision of one policy at a time: the slate, what the user did, and how the
// policy's estimates of the shown items moved. Every policy is stored as a run (model
// "bandit") that the runs table, the dashboard and the Compare tab read like training runs.
#pragma once

#include "ranking/RankingPage.h"
#include "rl/BanditRun.h"

#include "chart/RunCurves.h"

#include <QList>
#include <QVector>

#include <atomic>
#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace reclab {

class MetricChart;
struct BanditJob;

class RankingView : public RankingPage {
    Q_OBJECT
public:
    explicit RankingView(QWidget* parent = nullptr);
    ~RankingView() override;

    void offerRuns(const QString& databasePath, const RunsTableModel& runsModel) override;
    void setDataset(std::shared_ptr<const Dataset> dataset) override;

    // Starts the chosen policies (finished() at the end, failed() when refused).
    void start();
    void stop();
    void setPaused(bool paused);
    // One decision of the policy chosen in the step list (while paused or before the end).
    void stepOnce();
    bool isRunning() const { return running_; }

    QComboBox* environmentCombo() const { return environment_; }
    QComboBox* baseRunCombo() const { return baseRun_; }
    QSpinBox* slateSpin() const { return slate_; }
    QSpinBox* stepsSpin() const { return steps_; }
    QCheckBox* policyBox(PolicyKind kind) const;
    QPushButton* startButton() const { return startButton_; }
    QPushButton* pauseButton() const { return pauseButton_; }
    QPushButton* stepButton() const { return stepButton_; }
    QComboBox* stepPolicyCombo() const { return stepPolicy_; }
    QTableWidget* stepTable() const { return stepTable_; }
    QLabel* stepLabel() const { return stepLabel_; }
    QLabel* statusLabel() const { return status_; }
    MetricChart* rewardChart() const { return rewardChart_; }
    MetricChart* ctrChart() const { return ctrChart_; }
    MetricChart* thirdChart() const { return thirdChart_; }
    const QVector<PolicyResult>& results() const { return shown_; }
    const QList<qint64>& storedRuns() const { return runIds_; }

signals:
    void finished();
    void failed(const QString& error);
    void stepped();

private:
    void runLoop();
    void showResults(const QVector<PolicyResult>& results);
    void showStep(const BanditStep& step, size_t lane);
    void ended(const QString& error, bool done);
    void updateButtons();

    QString databasePath_;
    size_t offeredKey_ = 0; // a hash of the base runs offered (inspect/RunChoice.h)
    std::shared_ptr<const Dataset> dataset_;
    std::shared_ptr<BanditJob> job_;
    bool running_ = false, paused_ = false;
    QVector<PolicyResult> shown_;
    QList<qint64> runIds_;
    QVector<RunCurves> curves_;
    QComboBox *environment_, *baseRun_, *stepPolicy_;
    QSpinBox *slate_, *steps_, *seed_;
    QList<QPair<PolicyKind, QCheckBox*>> policies_;
    QPushButton *startButton_, *pauseButton_, *stepButton_;
    MetricChart *rewardChart_, *ctrChart_, *thirdChart_;
    QTableWidget* stepTable_;
    QLabel *stepLabel_, *status_;
    QProgressBar* progress_;
};

} // namespace reclab
