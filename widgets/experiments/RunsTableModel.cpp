#include "experiments/RunsTableModel.h"

#include "compare/RunComparison.h"
#include "runs/Metrics.h"

#include <QApplication>
#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QIcon>
#include <QStyle>
#include <QFutureWatcher>
#include <QtConcurrent>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace reclab {

QString metricText(double value)
{
    return QString::fromStdString(formatMetric(value));
}

const std::vector<std::string>& RunsTableModel::metricKeys()
{
    static const std::vector<std::string> keys = listedMetricKeys();
    return keys;
}

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent) {}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QDateTime utc(const std::string& iso)
{
    QDateTime t = QDateTime::fromString(QString::fromStdString(iso), Qt::ISODateWithMs);
    t.setTimeSpec(Qt::UTC);
    return t;
}

QString durationText(double seconds)
{
    if (!std::isfinite(seconds))
        return {};
    const auto s = static_cast<qint64>(std::llround(seconds));
    if (s >= 3600)
        return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
    if (s >= 60)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QStringLiteral("%1 s").arg(s);
}

QIcon statusIcon(RunStatus status)
{
    QStyle* style = QApplication::style();
    switch (status) {
    case RunStatus::Finished: return style->standardIcon(QStyle::SP_DialogApplyButton);
    case RunStatus::Failed: return style->standardIcon(QStyle::SP_MessageBoxCritical);
    case RunStatus::Running: return style->standardIcon(QStyle::SP_MediaPlay);
    case RunStatus::Stopped: return style->standardIcon(QStyle::SP_MediaStop);
    case RunStatus::Interrupted: return style->standardIcon(QStyle::SP_MessageBoxWarning);
    }
    return {};
}

QStringList sortedUnique(std::set<QString> values) { return QStringList(values.begin(), values.end()); }

} // namespace

void RunsTableModel::setDatabasePath(const QString& path)
{
    path_ = path;
}

RunsTableModel::Snapshot RunsTableModel::read(const QString& path, bool withParams)
{
    Snapshot s;
    try {
        ExperimentStore store(path.toStdString());
        s.runs = store.listRuns();
        if (withParams) {
            s.params = store.allParams();
            s.withParams = true;
        }
        // Final metrics of every run in one query on latest_metrics (never one per run).
        std::unordered_map<int64_t, std::vector<double>> byRun;
        for (const auto& m : store.latestMetrics(metricKeys())) {
            auto& cells = byRun[m.runId];
            cells.resize(metricKeys().size(), kNaN);
            cells[static_cast<size_t>(std::find(metricKeys().begin(), metricKeys().end(), m.key) - metricKeys().begin())] =
                m.value;
        }
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (const auto& run : s.runs) {
            s.models.push_back(QString::fromStdString(modelLabel(run)));
            auto cells = byRun[run.id];
            cells.resize(metricKeys().size(), kNaN);
            s.metrics.push_back(std::move(cells));
            const QDateTime start = utc(run.startedAt);
            const QDateTime end = run.endedAt.empty() ? now : utc(run.endedAt);
            s.durations.push_back(start.isValid() && end.isValid() ? start.msecsTo(end) / 1000.0 : kNaN);
        }
    } catch (const std::exception& e) {
        s.error = QString::fromUtf8(e.what());
        if (s.error.isEmpty())
            s.error = QStringLiteral("the experiment database cannot be read");
    }
    return s;
}

void RunsTableModel::apply(Snapshot snapshot)
{
    beginResetModel();
    runs_ = std::move(snapshot.runs);
    modelLabels_ = std::move(snapshot.models);
    metrics_ = std::move(snapshot.metrics);
    durations_ = std::move(snapshot.durations);
    params_ = std::move(snapshot.params);
    paramsLoaded_ = snapshot.withParams;
    endResetModel();
}

bool RunsTableModel::refresh(QString* error)
{
    ++generation_; // an older asynchronous read must not overwrite this one
    Snapshot s = read(path_, false);
    if (!s.error.isEmpty()) {
        if (error)
            *error = s.error;
        return false;
    }
    apply(std::move(s));
    return true;
}

void RunsTableModel::refreshAsync()
{
    const int generation = ++generation_;
    auto* watcher = new QFutureWatcher<Snapshot>(this);
    connect(watcher, &QFutureWatcher<Snapshot>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        Snapshot s = watcher->result();
        if (generation != generation_)
            return;
        if (!s.error.isEmpty())
            emit refreshFailed(s.error);
        else
            apply(std::move(s));
    });
    // While a param filter is in use (its params were read), the worker reads them too.
    watcher->setFuture(QtConcurrent::run(&RunsTableModel::read, path_, paramsLoaded_));
}

const std::vector<std::pair<std::string, std::string>>& RunsTableModel::paramsOf(qint64 runId)
{
    if (!paramsLoaded_) {
        paramsLoaded_ = true;
        try {
            ExperimentStore store(path_.toStdString());
            params_ = store.allParams();
        } catch (const std::exception& e) {
            emit writeFailed(QString::fromUtf8(e.what()));
        }
    }
    static const std::vector<std::pair<std::string, std::string>> none;
    const auto it = params_.find(runId);
    return it == params_.end() ? none : it->second;
}

const RunRecord* RunsTableModel::runAt(int row) const
{
    return row >= 0 && row < runCount() ? &runs_[static_cast<size_t>(row)] : nullptr;
}

int RunsTableModel::rowOf(qint64 runId) const
{
    for (int r = 0; r < runCount(); ++r)
        if (runs_[static_cast<size_t>(r)].id == runId)
            return r;
    return -1;
}

QStringList RunsTableModel::models() const { return sortedUnique({modelLabels_.begin(), modelLabels_.end()}); }

QStringList RunsTableModel::datasets() const
{
    std::set<QString> out;
    for (const auto& run : runs_)
        out.insert(QString::fromStdString(run.dataset));
    return sortedUnique(out);
}

QStringList RunsTableModel::experiments() const
{
    std::set<QString> out;
    for (const auto& run : runs_)
        out.insert(QString::fromStdString(run.experiment));
    return sortedUnique(out);
}

QStringList RunsTableModel::tags() const
{
    std::set<QString> out;
    for (const auto& run : runs_)
        for (const auto& tag : run.tags)
            out.insert(QString::fromStdString(tag));
    return sortedUnique(out);
}

int RunsTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : runCount(); }

int RunsTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : tagsColumn() + 1; }

QVariant RunsTableModel::data(const QModelIndex& index, int role) const
{
    const RunRecord* run = runAt(index.row());
    if (!run)
        return {};
    const auto row = static_cast<size_t>(index.row());
    const int column = index.column();
    const bool metric = column >= FirstMetric && column < tagsColumn();
    const double metricValue = metric ? metrics_[row][static_cast<size_t>(column - FirstMetric)] : kNaN;
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        if (metric)
            return std::isnan(metricValue) ? QString() : metricText(metricValue);
        switch (column) {
        case Id: return QVariant::fromValue(static_cast<qlonglong>(run->id));
        case Name: return QString::fromStdString(run->name);
        case Model: return modelLabels_[row];
        case Dataset: return QString::fromStdString(run->dataset);
        case Experiment: return QString::fromStdString(run->experiment);
        case Status: return QString::fromUtf8(runStatusName(run->status));
        case Started: return QString::fromStdString(run->startedAt).left(19).replace(QLatin1Char('T'), QLatin1Char(' '));
        case Duration: return durationText(durations_[row]);
        default: {
            QStringList tags;
            for (const auto& t : run->tags)
                tags << QString::fromStdString(t);
            return tags.join(QStringLiteral(", "));
        }
        }
    }
    if (role == SortRole) {
        if (metric) // runs without the metric sort last either way
            return std::isnan(metricValue) ? QVariant() : QVariant(metricValue);
        if (column == Id)
            return QVariant::fromValue(static_cast<qlonglong>(run->id));
        if (column == Duration)
            return std::isnan(durations_[row]) ? QVariant() : QVariant(durations_[row]);
        return data(index, Qt::DisplayRole);
    }
    if (role == Qt::DecorationRole && column == Status)
        return statusIcon(run->status);
    if (role == Qt::TextAlignmentRole && (metric || column == Id || column == Duration))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        if (column == Status && !run->message.empty())
            return QString::fromStdString(run->message);
        if (column == Dataset)
            return QString::fromStdString(run->datasetSource + "\nfingerprint " + run->datasetFingerprint +
                                          (run->splitFingerprint.empty() ? "" : "\nsplit " + run->splitFingerprint));
        if (!run->notes.empty())
            return QString::fromStdString(run->notes);
    }
    if (role == Qt::ForegroundRole && column == Status) {
        switch (run->status) {
        case RunStatus::Finished: return QBrush(QColor(0x2c, 0x80, 0x2c));
        case RunStatus::Failed: return QBrush(QColor(0xc0, 0x20, 0x20));
        case RunStatus::Running: return QBrush(QColor(0x1f, 0x5f, 0xb4));
        default: return QBrush(QColor(0x90, 0x70, 0x10));
        }
    }
    return {};
}

bool RunsTableModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    RunRecord* run = role == Qt::EditRole && index.row() >= 0 && index.row() < runCount() ? &runs_[static_cast<size_t>(index.row())]
                                                                                            : nullptr;
    if (!run || (index.column() != Name && index.column() != tagsColumn()))
        return false;
    try {
        ExperimentStore store(path_.toStdString());
        if (index.column() == Name) {
            store.renameRun(run->id, value.toString().toStdString());
        } else {
            std::vector<std::string> tags;
            for (const QString& t : value.toString().split(QLatin1Char(','), Qt::SkipEmptyParts))
                tags.push_back(t.trimmed().toStdString());
            store.setTags(run->id, tags);
        }
        *run = *store.findRun(run->id); // what the store made of it (trimmed, sorted)
    } catch (const std::exception& e) {
        emit writeFailed(QString::fromUtf8(e.what()));
        return false;
    }
    emit dataChanged(this->index(index.row(), 0), this->index(index.row(), columnCount() - 1));
    return true;
}

Qt::ItemFlags RunsTableModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.column() == Name || index.column() == tagsColumn())
        f |= Qt::ItemIsEditable;
    return f;
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && (section == Name || section == tagsColumn()))
        return tr("Double-click to edit; tags are separated by commas");
    if (role != Qt::DisplayRole)
        return {};
    if (section >= FirstMetric && section < tagsColumn())
        return QString::fromStdString(metricKeys()[static_cast<size_t>(section - FirstMetric)]);
    static const char* const names[] = {"Run", "Name", "Model", "Dataset", "Experiment", "Status", "Started (UTC)", "Duration"};
    if (section >= 0 && section < FirstMetric)
        return tr(names[section]);
    return section == tagsColumn() ? tr("Tags") : QVariant();
}

RunsFilterProxy::RunsFilterProxy(RunsTableModel* source, QObject* parent) : QSortFilterProxyModel(parent), source_(source)
{
    setSourceModel(source);
    setSortRole(RunsTableModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

void RunsFilterProxy::setFilter(const RunFilter& filter)
{
    filter_ = filter;
    invalidateFilter();
}

const RunRecord* RunsFilterProxy::runAt(int proxyRow) const
{
    return source_->runAt(mapToSource(index(proxyRow, 0)).row());
}

bool RunsFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    const QVariant l = left.data(sortRole()), r = right.data(sortRole());
    if (l.isValid() && r.isValid())
        return QSortFilterProxyModel::lessThan(left, right);
    if (l.isValid() == r.isValid())
        return left.row() < right.row();
    return sortOrder() == Qt::AscendingOrder ? l.isValid() : !l.isValid();
}

bool RunsFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex&) const
{
    const RunRecord* run = source_->runAt(sourceRow);
    if (!run)
        return false;
    if (!filter_.needsParams())
        return filter_.matches(*run);
    return filter_.matches(*run, source_->paramsOf(run->id));
}

} // namespace reclab
