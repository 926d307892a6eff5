#include "experiments/CompareView.h"

#include "training/TrainingDashboard.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <cmath>

namespace reclab {

namespace {

QTableWidget* newTable()
{
    auto* t = new QTableWidget;
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->hide();
    t->setWordWrap(false);
    return t;
}

// Fills a table widget from a text table; numeric-looking cells align right.
void fill(QTableWidget* table, const TextTable& text)
{
    table->clear();
    table->setColumnCount(static_cast<int>(text.header.size()));
    table->setRowCount(static_cast<int>(text.rows.size()));
    QStringList header;
    for (const auto& h : text.header)
        header << QString::fromStdString(h);
    table->setHorizontalHeaderLabels(header);
    for (int r = 0; r < table->rowCount(); ++r)
        for (int c = 0; c < table->columnCount(); ++c) {
            const QString cell = QString::fromStdString(text.rows[static_cast<size_t>(r)][static_cast<size_t>(c)]);
            auto* item = new QTableWidgetItem(cell);
            bool number = false;
            cell.toDouble(&number);
            if (c > 0 && (number || cell == QLatin1String("n/a")))
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (cell == QLatin1String("n/a"))
                item->setForeground(QColor(0x90, 0x90, 0x90));
            table->setItem(r, c, item);
        }
    table->resizeColumnsToContents();
}

} // namespace

CompareView::CompareView(QWidget* parent)
    : QWidget(parent), curves_(new TrainingDashboard), tabs_(new QTabWidget), metrics_(newTable()), params_(newTable()),
      significance_(newTable()), rankPairs_(newTable()), differencesOnly_(new QCheckBox(tr("Differences only"))), banner_(new QLabel),
      significanceNote_(new QLabel), empty_(new QLabel(tr("Select two runs or more in the Runs table and press Compare."))),
      export_(new QPushButton(tr("Export table…"))), copy_(new QPushButton(tr("Copy as Markdown")))
{
    // The curves beside each other: the table below keeps its rows at 800 pixels high.
    curves_->setChartsSideBySide(true);
    banner_->setWordWrap(true);
    banner_->setStyleSheet(QStringLiteral("QLabel { background: #fff4d6; border: 1px solid #e0b84c; padding: 4px; }"));
    banner_->hide();
    significanceNote_->setWordWrap(true);
    empty_->setAlignment(Qt::AlignCenter);
    differencesOnly_->setChecked(true);
    connect(differencesOnly_, &QCheckBox::toggled, this, &CompareView::fillParams);

    auto* paramsPage = new QWidget;
    auto* paramsLayout = new QVBoxLayout(paramsPage);
    paramsLayout->setContentsMargins(0, 4, 0, 0);
    paramsLayout->addWidget(differencesOnly_);
    paramsLayout->addWidget(params_, 1);
    auto* testsPage = new QWidget;
    auto* testsLayout = new QVBoxLayout(testsPage);
    testsLayout->setContentsMargins(0, 4, 0, 0);
    testsLayout->addWidget(significanceNote_);
    testsLayout->addWidget(significance_, 1);
    testsLayout->addWidget(rankPairs_, 1);
    rankPairs_->hide();
    tabs_->addTab(metrics_, tr("Models × metrics"));
    tabs_->addTab(paramsPage, tr("Params"));
    tabs_->addTab(testsPage, tr("Significance"));
    tabs_->setDocumentMode(true);

    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(copy_);
    buttons->addWidget(export_);
    export_->setToolTip(tr("Save the shown table as CSV or Markdown (.md)"));
    connect(export_, &QPushButton::clicked, this, &CompareView::askExport);
    connect(copy_, &QPushButton::clicked, this, &CompareView::copyMarkdown);
    auto* lower = new QWidget;
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(tabs_, 1);
    lowerLayout->addLayout(buttons);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(curves_);
    split->addWidget(lower);
    split->setStretchFactor(0, 3); // the charts need the height for their axes; the table a few rows
    split->setStretchFactor(1, 2);
    lower->setMinimumHeight(150);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(banner_);
    layout->addWidget(empty_);
    layout->addWidget(split, 1);
    split->hide();
    connect(this, &CompareView::compared, split, &QWidget::show);
    connect(this, &CompareView::compared, empty_, &QWidget::hide);
    export_->setEnabled(false);
    copy_->setEnabled(false);
}

void CompareView::compare(const QString& databasePath, const QList<qint64>& runIds)
{
    const int generation = ++generation_;
    ++loading_;
    std::vector<int64_t> ids(runIds.begin(), runIds.end());
    // QtConcurrent passes on only QExceptions: the worker catches and answers with the message.
    using Answer = std::pair<std::shared_ptr<RunComparison>, QString>;
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation, databasePath] {
        watcher->deleteLater();
        --loading_;
        auto [result, error] = watcher->result();
        if (generation != generation_)
            return;
        if (!result) {
            emit failed(error);
            return;
        }
        // The curves: the dashboard reads each run in its own worker.
        for (const qint64 id : curves_->runIds())
            curves_->removeRun(id);
        for (const auto& run : result->runs)
            curves_->showStoredRun(databasePath, run.id);
        present(std::move(result));
    });
    watcher->setFuture(QtConcurrent::run([databasePath, ids]() -> Answer {
        try {
            ExperimentStore store(databasePath.toStdString());
            return {std::make_shared<RunComparison>(compareRuns(store, ids)), QString()};
        } catch (const std::exception& e) {
            return {nullptr, QString::fromUtf8(e.what())};
        }
    }));
}

void CompareView::present(std::shared_ptr<RunComparison> comparison)
{
    comparison_ = std::move(comparison);
    banner_->setVisible(!comparison_->sameSplit);
    banner_->setText(tr("These runs were not evaluated on the same split: %1.")
                         .arg(QString::fromStdString(comparison_->splitNote)));
    fillMetrics();
    fillParams();
    fillSignificance();
    export_->setEnabled(true);
    copy_->setEnabled(true);
    emit compared();
}

void CompareView::fillMetrics()
{
    fill(metrics_, ::reclab::metricsTable(*comparison_));
    // The best run of each metric column: bold on green.
    QFont bold = metrics_->font();
    bold.setBold(true);
    for (size_t k = 0; k < comparison_->metricKeys.size(); ++k) {
        const int best = comparison_->bestRun[k];
        if (best < 0)
            continue;
        QTableWidgetItem* item = metrics_->item(best, static_cast<int>(k) + 1);
        item->setFont(bold);
        item->setBackground(QColor(0xd4, 0xf0, 0xd4));
        item->setToolTip(tr("best %1 (%2 is better)")
                             .arg(QString::fromStdString(comparison_->metricKeys[k]),
                                  lowerIsBetter(comparison_->metricKeys[k]) ? tr("lower") : tr("higher")));
    }
    metrics_->resizeColumnsToContents(); // bold text is wider
}

void CompareView::fillParams()
{
    if (!comparison_)
        return;
    fill(params_, ::reclab::paramsTable(*comparison_, differencesOnly_->isChecked()));
    if (differencesOnly_->isChecked())
        return;
    // With every param shown, the differing rows stand out.
    size_t shown = 0;
    for (size_t k = 0; k < comparison_->paramKeys.size(); ++k, ++shown)
        if (comparison_->paramDiffers[k])
            for (int c = 0; c < params_->columnCount(); ++c)
                params_->item(static_cast<int>(shown), c)->setBackground(QColor(0xff, 0xf4, 0xd6));
}

void CompareView::fillSignificance()
{
    const auto markBelow = [](QTableWidget* table, int row, int column, double p) {
        if (std::isfinite(p) && p < 0.05)
            table->item(row, column)->setBackground(QColor(0xd4, 0xf0, 0xd4));
    };
    rankPairs_->setVisible(!comparison_->rankTests.empty());
    if (!comparison_->rankTests.empty()) {
        fill(significance_, ::reclab::rankTestTable(*comparison_));
        fill(rankPairs_, ::reclab::rankPairsTable(*comparison_));
        significanceNote_->setText(
            tr("Friedman test on the %1 test users every run scored: each user's runs ranked, 1 = best, ties "
               "averaged; mean ranks further apart than CD (Nemenyi, 0.05) differ. Below, every pair: z of the "
               "mean-rank difference with its Holm-adjusted p. p < 0.05 is marked.")
                .arg(comparison_->rankTests.front().result.users));
        int row = 0;
        for (const auto& t : comparison_->rankTests) {
            markBelow(significance_, static_cast<int>(&t - comparison_->rankTests.data()), 3, t.result.pValue);
            for (const auto& pair : t.result.pairs)
                markBelow(rankPairs_, row++, 5, pair.holmP);
        }
        return;
    }
    fill(significance_, ::reclab::significanceTable(*comparison_));
    if (comparison_->significance.empty()) {
        significanceNote_->setText(tr("No paired test: %1.").arg(QString::fromStdString(comparison_->significanceNote)));
        return;
    }
    significanceNote_->setText(
        tr("A = %1, B = %2, on the %3 test users both runs scored. Paired t-test and Wilcoxon signed-rank test, "
           "two-sided; d_z = mean difference / SD of the differences; r = matched-pairs rank-biserial correlation. "
           "p < 0.05 is marked.")
            .arg(QString::fromStdString(comparison_->runLabels[0]), QString::fromStdString(comparison_->runLabels[1]))
            .arg(comparison_->significance.front().result.pairs));
    for (size_t r = 0; r < comparison_->significance.size(); ++r) {
        const PairedTestResult& t = comparison_->significance[r].result;
        for (const auto& [column, p] : {std::pair{7, t.tPValue}, std::pair{10, t.wilcoxonPValue}})
            markBelow(significance_, static_cast<int>(r), column, p);
    }
}

TextTable CompareView::currentTable() const
{
    if (!comparison_)
        return {};
    switch (tabs_->currentIndex()) {
    case 1: return ::reclab::paramsTable(*comparison_, differencesOnly_->isChecked());
    case 2:
        return comparison_->rankTests.empty() ? ::reclab::significanceTable(*comparison_)
                                              : ::reclab::rankTestTable(*comparison_);
    default: return ::reclab::metricsTable(*comparison_);
    }
}

bool CompareView::exportTable(const QString& path, QString* error) const
{
    const TextTable table = currentTable();
    const bool markdown = QFileInfo(path).suffix().compare(QLatin1String("md"), Qt::CaseInsensitive) == 0;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = tr("%1: %2").arg(path, file.errorString());
        return false;
    }
    file.write(QByteArray::fromStdString(markdown ? toMarkdown(table) : toCsv(table)));
    if (!file.commit()) {
        if (error)
            *error = tr("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void CompareView::copyMarkdown() const
{
    QApplication::clipboard()->setText(QString::fromStdString(toMarkdown(currentTable())));
}

void CompareView::askExport()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export table"), QStringLiteral("comparison.csv"),
                                                      tr("CSV (*.csv);;Markdown (*.md)"));
    QString error;
    if (!path.isEmpty() && !exportTable(path, &error))
        QMessageBox::warning(this, tr("Export table"), error);
}

} // namespace reclab
