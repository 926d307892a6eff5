// New items over time, as a chart: the last days of a run's data replayed one by one (core
// train/Replay.h) in a worker, HR@10 per day of the model updated after each day against one
// retrained from scratch, and what each update cost. Start and Stop; the charts grow as days end.
#pragma once

#include "train/Replay.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QVector>
#include <QWidget>

#include <atomic>
#include <memory>

class QCheckBox;
class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QBarCategoryAxis;
class QValueAxis;
class QLogValueAxis;

namespace reclab {

class InspectionCache;

class ReplayView : public QWidget {
    Q_OBJECT
public:
    explicit ReplayView(std::shared_ptr<InspectionCache> cache, QWidget* parent = nullptr);
    ~ReplayView() override;

    void setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs);
    // Replays the chosen run's data with the chosen model (finished() or failed()).
    void start();
    void stop();
    bool isRunning() const { return running_; }

    QComboBox* runCombo() const { return runs_; }
    QComboBox* modelCombo() const { return model_; }
    QSpinBox* daysSpin() const { return days_; }
    QSpinBox* epochsSpin() const { return epochs_; }
    QCheckBox* retrainBox() const { return retrain_; }
    QPushButton* startButton() const { return startButton_; }
    QProgressBar* progressBar() const { return progress_; }
    QLabel* statusLabel() const { return status_; }
    QChartView* hitChart() const { return hitView_; }
    QChartView* costChart() const { return costView_; }
    const QVector<ReplayDay>& days() const { return shown_; }

signals:
    void finished();
    void failed(const QString& error);

private:
    void addDay(const ReplayDay& day);

    std::shared_ptr<InspectionCache> cache_;
    QString databasePath_;
    std::shared_ptr<std::atomic<bool>> stop_;
    bool running_ = false;
    int generation_ = 0;
    QVector<ReplayDay> shown_;
    QComboBox *runs_, *model_;
    QSpinBox *days_, *epochs_;
    QCheckBox* retrain_;
    QPushButton* startButton_;
    QProgressBar* progress_;
    QLabel* status_;
    QChartView *hitView_, *costView_;
    QLineSeries *hitIncremental_, *hitRetrained_, *costIncremental_, *costRetrained_;
    QBarCategoryAxis *hitDays_, *costDays_;
    QValueAxis* hitAxis_;
    QLogValueAxis* costAxis_;
};

} // namespace reclab
