// A read-only table over the columnar interaction store. It never copies rows: data() reads the
// columns through an optional row-number view (the result of a filter or sort), so 25M rows cost
// 4 bytes each in the view and nothing otherwise.
#pragma once

#include "data/Dataset.h"

#include <QAbstractTableModel>

#include <memory>
#include <vector>

namespace reclab {

class InteractionTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { UserColumn, ItemColumn, TitleColumn, RatingColumn, TimeColumn, ColumnCount };

    explicit InteractionTableModel(QObject* parent = nullptr);

    // rows: row numbers to show in this order; null shows every row in file order.
    void setDataset(std::shared_ptr<const Dataset> dataset, std::shared_ptr<const std::vector<uint32_t>> rows = {});
    void setRows(std::shared_ptr<const std::vector<uint32_t>> rows);
    const Dataset* dataset() const { return dataset_.get(); }
    // The dataset row behind a model row.
    uint32_t datasetRow(int row) const { return rows_ ? (*rows_)[static_cast<size_t>(row)] : static_cast<uint32_t>(row); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const Dataset> dataset_;
    std::shared_ptr<const std::vector<uint32_t>> rows_;
};

// "2003-01-31 14:05" (UTC) for a Unix time.
QString formatTime(qint64 seconds);

} // namespace reclab
