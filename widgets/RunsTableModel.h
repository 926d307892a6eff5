// The stored runs as a table (id, model, dataset, status, started, final metrics), read from
// the experiment database on refresh().
#pragma once

#include "store/ExperimentStore.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QString>

#include <vector>

namespace reclab {

// formatMetric (eval/Metrics.h) as a QString: "n/a" where the value is undefined, never 0.
QString metricText(double value);

class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Model, Dataset, Status, Started, Metrics, ColumnCount };

    explicit RunsTableModel(QObject* parent = nullptr);

    void setDatabasePath(const QString& path);
    // Re-reads the runs; returns false (and keeps the old rows) when the database cannot be read.
    bool refresh(QString* error = nullptr);
    const RunRecord* runAt(int row) const;
    int runCount() const { return static_cast<int>(runs_.size()); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QString path_;
    std::vector<RunRecord> runs_;
    std::vector<QString> modelLabels_;
    QHash<qint64, QString> labelCache_; // run id -> model column (a run's params never change)
    std::vector<QString> metricSummaries_;
};

} // namespace reclab
