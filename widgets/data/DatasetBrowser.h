// The dataset browser: a virtual table of every interaction with sorting and filters, the
// statistics panel, one user's history in time order, and the preparation panel that previews
// filters and a split (before -> after) and saves them as a prepared file. Every query runs in
// a worker thread; a newer query cancels the one still running.
#pragma once

#include "data/Dataset.h"
#include "data/DatasetSummary.h"
#include "data/Preparation.h"

#include <QFutureWatcher>
#include <QWidget>

#include <atomic>
#include <memory>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableView;
class QTableWidget;

namespace reclab {

class DatasetStatsPanel;
class DatasetTextPanel;
class InteractionTableModel;

class DatasetBrowser : public QWidget {
    Q_OBJECT
public:
    explicit DatasetBrowser(QWidget* parent = nullptr);
    ~DatasetBrowser() override;

    // stats: computeStats(*dataset), which the caller has from its load worker (it reads every
    // row, so it is not recomputed on the GUI thread). The one-argument form computes it.
    void setDataset(std::shared_ptr<const Dataset> dataset, const DatasetStats& stats);
    void setDataset(std::shared_ptr<const Dataset> dataset);

    // For tests and the main window.
    QTabWidget* tabs() const { return tabs_; }
    InteractionTableModel* tableModel() const { return model_; }
    QTableView* tableView() const { return table_; }
    DatasetStatsPanel* statsPanel() const { return stats_; }
    DatasetTextPanel* textPanel() const { return text_; }
    QTableWidget* historyTable() const { return history_; }
    QLabel* tableStatus() const { return tableStatus_; }
    QLabel* previewLabel() const { return previewLabel_; }
    bool isBusy() const;

    RowFilter rowFilter() const;
    FilterConfig filterConfig() const;
    SplitConfig splitConfig() const; // throws ConfigError for a bad split text

public slots:
    void setRowFilter(const RowFilter& filter); // fills the filter bar and applies it
    void applyRowFilter();
    void sortBy(int column, Qt::SortOrder order);
    void showUser(const QString& userId);
    void setPreparation(const FilterConfig& filters, const QString& split);
    void previewPreparation();
    void savePrepared(const QString& path);

signals:
    void rowsReady(qint64 rows);
    void historyReady(int rows); // a user's history is on the User history tab
    void summaryReady();
    void previewReady(const QString& text);
    void preparedSaved(const QString& path);
    void problem(const QString& message);

private:
    QWidget* buildTableTab();
    QWidget* buildHistoryTab();
    QWidget* buildPrepareTab();
    void runQuery();

    std::shared_ptr<const Dataset> dataset_;
    QTabWidget* tabs_;
    InteractionTableModel* model_;
    QTableView* table_ = nullptr;
    QLabel* tableStatus_ = nullptr;
    QLineEdit* userEdit_ = nullptr;
    QLineEdit* itemEdit_ = nullptr;
    QLineEdit* titleEdit_ = nullptr;
    QDoubleSpinBox* minRating_ = nullptr;
    QDoubleSpinBox* maxRating_ = nullptr;
    QCheckBox* timeCheck_ = nullptr;
    QDateTimeEdit* fromEdit_ = nullptr;
    QDateTimeEdit* toEdit_ = nullptr;
    DatasetStatsPanel* stats_;
    DatasetTextPanel* text_;
    QLineEdit* historyUser_ = nullptr;
    QLabel* historyLabel_ = nullptr;
    QTableWidget* history_ = nullptr;
    QCheckBox* dedup_ = nullptr;
    QCheckBox* thresholdCheck_ = nullptr;
    QDoubleSpinBox* threshold_ = nullptr;
    QSpinBox* userCore_ = nullptr;
    QSpinBox* itemCore_ = nullptr;
    QCheckBox* windowCheck_ = nullptr;
    QDateTimeEdit* windowFrom_ = nullptr;
    QDateTimeEdit* windowTo_ = nullptr;
    QComboBox* split_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QLabel* previewLabel_ = nullptr;
    QPushButton* previewButton_ = nullptr;
    QPushButton* saveButton_ = nullptr;

    float datasetMaxRating_ = 0;
    int sortColumn_ = -1;
    Qt::SortOrder sortOrder_ = Qt::AscendingOrder;
    std::shared_ptr<std::atomic<bool>> queryCancel_;
    QFutureWatcher<std::shared_ptr<const std::vector<uint32_t>>>* queryWatcher_;
    QFutureWatcher<DatasetSummary>* summaryWatcher_;
    // The dataset it read and the rows of historyUserIndex_ in time order.
    QFutureWatcher<std::pair<std::shared_ptr<const Dataset>, std::vector<uint32_t>>>* historyWatcher_;
    int32_t historyUserIndex_ = -1;
    void showHistory(const std::vector<uint32_t>& rows);
    QFutureWatcher<std::pair<bool, QString>>* prepareWatcher_; // (ok, preview text or path / error)
    bool saving_ = false;
};

} // namespace reclab
