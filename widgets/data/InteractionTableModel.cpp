#include "data/InteractionTableModel.h"

#include <QDateTime>
#include <QTimeZone>

#include <limits>

namespace reclab {

QString formatTime(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, QTimeZone::utc()).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

InteractionTableModel::InteractionTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void InteractionTableModel::setDataset(std::shared_ptr<const Dataset> dataset, std::shared_ptr<const std::vector<uint32_t>> rows)
{
    beginResetModel();
    dataset_ = std::move(dataset);
    rows_ = std::move(rows);
    endResetModel();
}

void InteractionTableModel::setRows(std::shared_ptr<const std::vector<uint32_t>> rows)
{
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
}

int InteractionTableModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid() || !dataset_)
        return 0;
    // QAbstractItemModel counts rows in int; larger tables show their first 2^31 - 1 rows.
    const size_t n = rows_ ? rows_->size() : dataset_->interactions.size();
    return static_cast<int>(std::min<size_t>(n, std::numeric_limits<int>::max()));
}

int InteractionTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant InteractionTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || !dataset_)
        return {};
    const size_t r = datasetRow(index.row());
    const InteractionTable& t = dataset_->interactions;
    const auto item = static_cast<size_t>(t.item[r]);
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case UserColumn: return QString::fromStdString(dataset_->userIds[static_cast<size_t>(t.user[r])]);
        case ItemColumn: return QString::fromStdString(dataset_->itemIds[item]);
        case TitleColumn: return item < dataset_->items.title.size() ? QString::fromStdString(dataset_->items.title[item]) : QString();
        case RatingColumn: return static_cast<double>(t.rating[r]);
        case TimeColumn: return formatTime(t.timestamp[r]);
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == RatingColumn || index.column() == UserColumn || index.column() == ItemColumn))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == TitleColumn) {
        QStringList genres;
        for (const auto& g : dataset_->genresOf(static_cast<int32_t>(item)))
            genres << QString::fromStdString(g);
        return genres.join(QStringLiteral(", "));
    }
    return {};
}

QVariant InteractionTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1;
    switch (section) {
    case UserColumn: return tr("User");
    case ItemColumn: return tr("Item");
    case TitleColumn: return tr("Title");
    case RatingColumn: return tr("Rating");
    case TimeColumn: return tr("Time (UTC)");
    default: return {};
    }
}

} // namespace reclab
