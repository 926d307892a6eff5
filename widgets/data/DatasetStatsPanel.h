// The statistics panel of the dataset browser: counts and density, the rating histogram, the
// item popularity long tail (log-log), the user activity distribution (log-log) and
// interactions per month, all from a DatasetSummary computed off the GUI thread.
#pragma once

#include "data/DatasetSummary.h"

#include <QWidget>

class QChart;
class QChartView;
class QLabel;

namespace reclab {

class DatasetStatsPanel : public QWidget {
    Q_OBJECT
public:
    explicit DatasetStatsPanel(QWidget* parent = nullptr);
    void setSummary(const QString& name, const DatasetSummary& summary);
    void clear(const QString& message);

    QString summaryText() const;
    QChart* ratingChart() const;
    QChart* popularityChart() const;
    QChart* activityChart() const;
    QChart* timeChart() const;

private:
    QLabel* summary_;
    QChartView* rating_;
    QChartView* popularity_;
    QChartView* activity_;
    QChartView* time_;
};

} // namespace reclab
