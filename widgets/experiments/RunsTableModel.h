// The stored runs as a table: id, name, model, dataset, experiment, status (with an icon),
// start, duration, the usual final metrics as sortable numbers, and tags. Name and tags are
// edited in place and written to the experiment database. RunsFilterProxy sorts it and filters
// it with core's RunFilter (text, model, dataset, experiment, tag, status, any param).
#pragma once

#include "compare/RunFilter.h"
#include "store/ExperimentStore.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>

#include <unordered_map>
#include <vector>

namespace reclab {

// formatMetric (runs/Metrics.h) as a QString: "n/a" where the value is undefined, never 0.
QString metricText(double value);

class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Name, Model, Dataset, Experiment, Status, Started, Duration, FirstMetric };
    // The metric columns after Duration, then Tags.
    static const std::vector<std::string>& metricKeys();
    int tagsColumn() const { return FirstMetric + static_cast<int>(metricKeys().size()); }
    static constexpr int SortRole = Qt::UserRole + 1; // numbers for numeric columns

    explicit RunsTableModel(QObject* parent = nullptr);

    void setDatabasePath(const QString& path);
    const QString& databasePath() const { return path_; }
    // Re-reads the runs; returns false (and keeps the old rows) when the database cannot be read.
    bool refresh(QString* error = nullptr);
    // The same, read in a worker thread (a database of 10,000 runs takes ~100 ms to read) and
    // applied on the GUI thread when read; the latest request wins. refreshFailed on error.
    void refreshAsync();
    const RunRecord* runAt(int row) const;
    int rowOf(qint64 runId) const;
    int runCount() const { return static_cast<int>(runs_.size()); }
    // Every run's params, read once per refresh when a filter needs them.
    const std::vector<std::pair<std::string, std::string>>& paramsOf(qint64 runId);
    // The values the filter combos offer.
    QStringList models() const;
    QStringList datasets() const;
    QStringList experiments() const;
    QStringList tags() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

signals:
    void writeFailed(const QString& error);
    void refreshFailed(const QString& error);

private:
    // What a refresh reads (any thread).
    struct Snapshot {
        std::vector<RunRecord> runs;
        std::vector<QString> models;
        std::vector<std::vector<double>> metrics;
        std::vector<double> durations;
        std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> params;
        bool withParams = false;
        QString error; // empty when read
    };
    // withParams: every run's params too (a param filter is in use).
    static Snapshot read(const QString& path, bool withParams);
    void apply(Snapshot snapshot);

    int generation_ = 0;
    QString path_;
    std::vector<RunRecord> runs_;
    std::vector<QString> modelLabels_;
    std::vector<std::vector<double>> metrics_; // [row][metric column]
    std::vector<double> durations_;            // seconds, NaN while running
    std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> params_;
    bool paramsLoaded_ = false;
};

// Sorting by numbers where a column holds them, filtering with a RunFilter.
class RunsFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RunsFilterProxy(RunsTableModel* source, QObject* parent = nullptr);
    void setFilter(const RunFilter& filter);
    const RunFilter& filter() const { return filter_; }
    const RunRecord* runAt(int proxyRow) const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    // Runs without a value (a metric their task does not have) sort last in either order.
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    RunsTableModel* source_;
    RunFilter filter_;
};

} // namespace reclab
