// The Compare tab: selected runs side by side. Their curves overlaid in the training
// dashboard's charts; a models x metrics table with the best run of each column highlighted
// ("n/a" where a metric does not apply) and training times; the params with a differences-only
// toggle; for two runs on one split, the paired t-test and Wilcoxon test on per-user test
// metrics. Runs on different splits may be compared, under a warning. Tables export as CSV and
// Markdown. The comparison is read in a worker thread.
#pragma once

#include "compare/RunComparison.h"

#include <QList>
#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QPushButton;
class QTabWidget;
class QTableWidget;

namespace reclab {

class TrainingDashboard;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    // Reads and shows the runs (asynchronously: compared() or failed() follows).
    void compare(const QString& databasePath, const QList<qint64>& runIds);
    bool isLoading() const { return loading_ > 0; }
    const RunComparison* comparison() const { return comparison_.get(); }

    TrainingDashboard* curves() const { return curves_; }
    QTableWidget* metricsTable() const { return metrics_; }
    QTableWidget* paramsTable() const { return params_; }
    QTableWidget* significanceTable() const { return significance_; }
    // Three runs or more: every pair's post-hoc test below the Friedman table (hidden otherwise).
    QTableWidget* rankPairsTable() const { return rankPairs_; }
    QCheckBox* differencesOnlyCheck() const { return differencesOnly_; }
    QLabel* splitBanner() const { return banner_; }
    QLabel* significanceNote() const { return significanceNote_; }
    QTabWidget* tabs() const { return tabs_; }

    // The shown table (metrics, params or significance) as CSV or Markdown.
    TextTable currentTable() const;
    bool exportTable(const QString& path, QString* error = nullptr) const; // .md: Markdown, else CSV
    // Asks for a file and exports the shown table to it; copies it as Markdown.
    void askExport();
    void copyMarkdown() const;

signals:
    void compared();
    void failed(const QString& error);

private:
    void present(std::shared_ptr<RunComparison> comparison);
    void fillMetrics();
    void fillParams();
    void fillSignificance();

    std::shared_ptr<RunComparison> comparison_;
    int loading_ = 0;
    int generation_ = 0; // the latest request; older answers are dropped
    TrainingDashboard* curves_;
    QTabWidget* tabs_;
    QTableWidget* metrics_;
    QTableWidget* params_;
    QTableWidget* significance_;
    QTableWidget* rankPairs_;
    QCheckBox* differencesOnly_;
    QLabel* banner_;
    QLabel* significanceNote_;
    QLabel* empty_;
    QPushButton* export_;
    QPushButton* copy_;
};

} // namespace reclab
