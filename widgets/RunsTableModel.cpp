#include "RunsTableModel.h"

#include "eval/Metrics.h"

#include <QBrush>
#include <QColor>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>

namespace reclab {

QString metricText(double value)
{
    return QString::fromStdString(formatMetric(value));
}

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent) {}

namespace {

// The model column: a graph run shows its graph's name ("graph: NeuMF").
QString modelLabel(const RunRecord& run)
{
    const QString model = QString::fromStdString(run.model);
    if (run.model != "graph")
        return model;
    const nlohmann::json params = nlohmann::json::parse(run.paramsJson, nullptr, false);
    if (params.is_discarded() || !params.contains("graph") || !params["graph"].is_object())
        return model;
    const auto name = params["graph"].find("name");
    if (name == params["graph"].end() || !name->is_string() || name->get<std::string>().empty())
        return model;
    return QStringLiteral("graph: %1").arg(QString::fromStdString(name->get<std::string>()));
}

} // namespace

void RunsTableModel::setDatabasePath(const QString& path)
{
    path_ = path;
    labelCache_.clear();
}

bool RunsTableModel::refresh(QString* error)
{
    std::vector<RunRecord> runs;
    std::vector<QString> summaries, models;
    try {
        ExperimentStore store(path_.toStdString());
        runs = store.listRuns();
        // Final held-out metrics of every run in one query (never one query per run).
        // The keys in the order people read them: hr before ndcg, rmse before mae, auc before gauc.
        const std::vector<std::string> keys = {"hr@10", "ndcg@10", "rmse", "mae", "auc", "gauc"};
        std::unordered_map<int64_t, std::vector<QString>> parts; // per run, one cell per key
        for (const auto& m : store.latestMetrics(keys)) {
            auto& cells = parts[m.runId];
            cells.resize(keys.size());
            const auto at = static_cast<size_t>(std::find(keys.begin(), keys.end(), m.key) - keys.begin());
            cells[at] = QStringLiteral("%1 %2").arg(QString::fromStdString(m.key), metricText(m.value));
        }
        for (const auto& run : runs) {
            QStringList p;
            for (const QString& text : parts[run.id])
                if (!text.isEmpty())
                    p << text;
            summaries.push_back(p.join(QStringLiteral("  ")));
            // Parsed once per run: a graph run's params hold the whole graph.
            auto label = labelCache_.find(run.id);
            if (label == labelCache_.end())
                label = labelCache_.insert(run.id, modelLabel(run));
            models.push_back(*label);
        }
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromUtf8(e.what());
        return false;
    }
    beginResetModel();
    runs_ = std::move(runs);
    metricSummaries_ = std::move(summaries);
    modelLabels_ = std::move(models);
    endResetModel();
    return true;
}

const RunRecord* RunsTableModel::runAt(int row) const
{
    return row >= 0 && row < runCount() ? &runs_[static_cast<size_t>(row)] : nullptr;
}

int RunsTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : runCount(); }

int RunsTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunsTableModel::data(const QModelIndex& index, int role) const
{
    const RunRecord* run = runAt(index.row());
    if (!run)
        return {};
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id: return QVariant::fromValue(static_cast<qlonglong>(run->id));
        case Model: return modelLabels_[static_cast<size_t>(index.row())];
        case Dataset: return QString::fromStdString(run->dataset);
        case Status: return QString::fromUtf8(runStatusName(run->status));
        case Started: return QString::fromStdString(run->startedAt).left(19).replace(QLatin1Char('T'), QLatin1Char(' '));
        case Metrics: return metricSummaries_[static_cast<size_t>(index.row())];
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Status && !run->message.empty())
        return QString::fromStdString(run->message);
    if (role == Qt::ToolTipRole && index.column() == Dataset)
        return QString::fromStdString(run->datasetSource + "\nfingerprint " + run->datasetFingerprint);
    if (role == Qt::ForegroundRole && index.column() == Status) {
        switch (run->status) {
        case RunStatus::Finished: return QBrush(QColor(0x2c, 0x80, 0x2c));
        case RunStatus::Failed: return QBrush(QColor(0xc0, 0x20, 0x20));
        case RunStatus::Running: return QBrush(QColor(0x1f, 0x5f, 0xb4));
        default: return QBrush(QColor(0x90, 0x70, 0x10));
        }
    }
    return {};
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char* const names[] = {"Run", "Model", "Dataset", "Status", "Started (UTC)", "Final metrics"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace reclab
