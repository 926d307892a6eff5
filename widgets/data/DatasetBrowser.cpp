#include "data/DatasetBrowser.h"
#include "WorkerPool.h"

#include "data/DatasetStatsPanel.h"
#include "data/DatasetTextPanel.h"
#include "data/InteractionTableModel.h"
#include "data/PreparedData.h"
#include "util/Error.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimeZone>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace reclab {

namespace {

QDateTimeEdit* dateEdit(QWidget* parent)
{
    auto* e = new QDateTimeEdit(parent);
    e->setTimeSpec(Qt::UTC);
    e->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    e->setCalendarPopup(true);
    return e;
}

QString countsLine(const DatasetCounts& c)
{
    const QLocale l = QLocale::system();
    const double density = c.users && c.items ? 100.0 * static_cast<double>(c.interactions) / (double(c.users) * c.items) : 0;
    return QObject::tr("%1 users, %2 items, %3 interactions (density %4%)")
        .arg(l.toString(c.users), l.toString(c.items), l.toString(static_cast<qulonglong>(c.interactions)))
        .arg(density, 0, 'g', 3);
}

} // namespace

DatasetBrowser::DatasetBrowser(QWidget* parent)
    : QWidget(parent), tabs_(new QTabWidget(this)), model_(new InteractionTableModel(this)), stats_(new DatasetStatsPanel(this)),
      text_(new DatasetTextPanel(this)),
      queryWatcher_(new QFutureWatcher<std::shared_ptr<const std::vector<uint32_t>>>(this)),
      summaryWatcher_(new QFutureWatcher<DatasetSummary>(this)),
      historyWatcher_(new QFutureWatcher<std::pair<std::shared_ptr<const Dataset>, std::vector<uint32_t>>>(this)),
      prepareWatcher_(new QFutureWatcher<std::pair<bool, QString>>(this))
{
    joinPoolThreadsAtExit();
    tabs_->addTab(buildTableTab(), tr("Interactions"));
    tabs_->addTab(stats_, tr("Statistics"));
    tabs_->addTab(buildHistoryTab(), tr("User history"));
    tabs_->addTab(buildPrepareTab(), tr("Prepare"));
    tabs_->addTab(text_, tr("Text"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tabs_);

    connect(queryWatcher_, &QFutureWatcherBase::finished, this, [this] {
        auto rows = queryWatcher_->result();
        if (!rows) // cancelled by a newer query
            return;
        model_->setRows(rows);
        const qint64 n = static_cast<qint64>(rows->size());
        tableStatus_->setText(tr("%1 of %2 interactions")
                                  .arg(QLocale::system().toString(n),
                                       QLocale::system().toString(static_cast<qulonglong>(dataset_->interactions.size()))));
        emit rowsReady(n);
    });
    connect(historyWatcher_, &QFutureWatcherBase::finished, this, [this] {
        const auto result = historyWatcher_->result();
        if (result.first == dataset_) // not a history of a dataset replaced since
            showHistory(result.second);
    });
    connect(summaryWatcher_, &QFutureWatcherBase::finished, this, [this] {
        if (!dataset_)
            return;
        stats_->setSummary(QString::fromStdString(dataset_->name), summaryWatcher_->result());
        emit summaryReady();
    });
    connect(prepareWatcher_, &QFutureWatcherBase::finished, this, [this] {
        const auto [ok, text] = prepareWatcher_->result();
        previewButton_->setEnabled(true);
        saveButton_->setEnabled(true);
        if (!ok) {
            previewLabel_->setText(tr("<span style='color:#b00020'>%1</span>").arg(text.toHtmlEscaped()));
            emit problem(text);
            return;
        }
        if (saving_) {
            emit preparedSaved(text);
            previewLabel_->setText(previewLabel_->text() + tr("<br>Saved to %1").arg(text.toHtmlEscaped()));
        } else {
            previewLabel_->setText(text);
            emit previewReady(text);
        }
    });
}

DatasetBrowser::~DatasetBrowser()
{
    if (queryCancel_)
        *queryCancel_ = true;
    queryWatcher_->waitForFinished();
    summaryWatcher_->waitForFinished();
    prepareWatcher_->waitForFinished();
}

bool DatasetBrowser::isBusy() const
{
    return queryWatcher_->isRunning() || summaryWatcher_->isRunning() || prepareWatcher_->isRunning() || text_->isBusy();
}

QWidget* DatasetBrowser::buildTableTab()
{
    auto* page = new QWidget(this);
    userEdit_ = new QLineEdit(page);
    userEdit_->setPlaceholderText(tr("user id"));
    itemEdit_ = new QLineEdit(page);
    itemEdit_->setPlaceholderText(tr("item id"));
    titleEdit_ = new QLineEdit(page);
    titleEdit_->setPlaceholderText(tr("search titles"));
    titleEdit_->setClearButtonEnabled(true);
    minRating_ = new QDoubleSpinBox(page);
    maxRating_ = new QDoubleSpinBox(page);
    for (QDoubleSpinBox* s : {minRating_, maxRating_}) {
        s->setRange(0, 1e6);
        s->setDecimals(1);
        s->setSingleStep(0.5);
    }
    minRating_->setPrefix(tr("rating ≥ "));
    maxRating_->setPrefix(tr("≤ "));
    timeCheck_ = new QCheckBox(tr("time"), page);
    fromEdit_ = dateEdit(page);
    toEdit_ = dateEdit(page);
    auto* apply = new QPushButton(tr("Filter"), page);
    apply->setDefault(true);
    auto* reset = new QPushButton(tr("Clear"), page);
    // Two rows (who and what; ratings, time and the buttons), so the filters never make the
    // window wider than a laptop screen.
    auto* bar = new QVBoxLayout;
    auto* who = new QHBoxLayout;
    auto* when = new QHBoxLayout;
    for (QWidget* w : std::initializer_list<QWidget*>{userEdit_, itemEdit_, titleEdit_})
        who->addWidget(w);
    for (QWidget* w : std::initializer_list<QWidget*>{minRating_, maxRating_, timeCheck_, fromEdit_, toEdit_})
        when->addWidget(w);
    when->addStretch(1);
    when->addWidget(apply);
    when->addWidget(reset);
    bar->addLayout(who);
    bar->addLayout(when);
    userEdit_->setMinimumWidth(80);
    itemEdit_->setMinimumWidth(80);
    userEdit_->setMaximumWidth(120);
    itemEdit_->setMaximumWidth(120);
    titleEdit_->setMinimumWidth(180);
    who->setStretchFactor(titleEdit_, 2);

    table_ = new QTableView(page);
    table_->setModel(model_);
    table_->setObjectName(QStringLiteral("interactionTable"));
    table_->setSortingEnabled(false); // sorting runs in a worker; the header only shows the indicator
    table_->horizontalHeader()->setSortIndicatorShown(true);
    table_->horizontalHeader()->setSectionsClickable(true);
    table_->horizontalHeader()->setStretchLastSection(false);
    table_->horizontalHeader()->setSectionResizeMode(InteractionTableModel::TitleColumn, QHeaderView::Stretch);
    // Fixed row heights keep scrolling O(1) however many rows there are.
    table_->horizontalHeader()->resizeSection(InteractionTableModel::TimeColumn,
                                              table_->fontMetrics().horizontalAdvance(QStringLiteral("0000-00-00 00:00")) + 28);
    table_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    tableStatus_ = new QLabel(page);

    connect(table_->horizontalHeader(), &QHeaderView::sectionClicked, this, [this](int column) {
        const Qt::SortOrder order = column == sortColumn_ && sortOrder_ == Qt::AscendingOrder ? Qt::DescendingOrder : Qt::AscendingOrder;
        sortBy(column, order);
    });
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        if (!dataset_)
            return;
        const uint32_t r = model_->datasetRow(index.row());
        showUser(QString::fromStdString(dataset_->userIds[static_cast<size_t>(dataset_->interactions.user[r])]));
    });
    for (QLineEdit* e : {userEdit_, itemEdit_, titleEdit_})
        connect(e, &QLineEdit::returnPressed, this, &DatasetBrowser::applyRowFilter);
    connect(apply, &QPushButton::clicked, this, &DatasetBrowser::applyRowFilter);
    connect(reset, &QPushButton::clicked, this, [this] { setRowFilter({}); });

    auto* layout = new QVBoxLayout(page);
    layout->addLayout(bar);
    layout->addWidget(table_, 1);
    layout->addWidget(tableStatus_);
    return page;
}

QWidget* DatasetBrowser::buildHistoryTab()
{
    auto* page = new QWidget(this);
    historyUser_ = new QLineEdit(page);
    historyUser_->setPlaceholderText(tr("user id (or double-click a row of the table)"));
    historyLabel_ = new QLabel(page);
    history_ = new QTableWidget(page);
    history_->setColumnCount(5);
    history_->setHorizontalHeaderLabels({tr("Time (UTC)"), tr("Item"), tr("Title"), tr("Genres"), tr("Rating")});
    history_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    history_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    history_->verticalHeader()->setDefaultSectionSize(history_->fontMetrics().height() + 6);
    connect(historyUser_, &QLineEdit::returnPressed, this, [this] { showUser(historyUser_->text().trimmed()); });
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("User"), page));
    top->addWidget(historyUser_, 1);
    auto* layout = new QVBoxLayout(page);
    layout->addLayout(top);
    layout->addWidget(historyLabel_);
    layout->addWidget(history_, 1);
    return page;
}

QWidget* DatasetBrowser::buildPrepareTab()
{
    auto* page = new QWidget(this);
    dedup_ = new QCheckBox(tr("Keep only the latest interaction of each user-item pair"), page);
    thresholdCheck_ = new QCheckBox(tr("Ratings at or above"), page);
    threshold_ = new QDoubleSpinBox(page);
    threshold_->setRange(0, 1e6);
    threshold_->setValue(4);
    threshold_->setDecimals(1);
    auto* thresholdRow = new QHBoxLayout;
    thresholdRow->addWidget(thresholdCheck_);
    thresholdRow->addWidget(threshold_);
    thresholdRow->addWidget(new QLabel(tr("become implicit feedback; the rest are dropped"), page), 1);
    userCore_ = new QSpinBox(page);
    itemCore_ = new QSpinBox(page);
    for (QSpinBox* s : {userCore_, itemCore_}) {
        s->setRange(0, 100000);
        s->setSpecialValueText(tr("off"));
    }
    auto* coreRow = new QHBoxLayout;
    coreRow->addWidget(new QLabel(tr("users"), page));
    coreRow->addWidget(userCore_);
    coreRow->addWidget(new QLabel(tr("items"), page));
    coreRow->addWidget(itemCore_);
    coreRow->addStretch(1);
    windowCheck_ = new QCheckBox(tr("Only"), page);
    windowFrom_ = dateEdit(page);
    windowTo_ = dateEdit(page);
    auto* windowRow = new QHBoxLayout;
    windowRow->addWidget(windowCheck_);
    windowRow->addWidget(windowFrom_);
    windowRow->addWidget(new QLabel(tr("to"), page));
    windowRow->addWidget(windowTo_);
    windowRow->addStretch(1);
    split_ = new QComboBox(page);
    split_->setEditable(true);
    split_->addItems({QStringLiteral("loo"), QStringLiteral("loo:test"), QStringLiteral("ratio:8,1,1"), QStringLiteral("ratio:0.8"),
                      QStringLiteral("temporal:0.8"), QStringLiteral("by-user:0.8")});
    split_->setToolTip(tr("loo: each user's latest item is the test item, the one before it the validation item.\n"
                          "ratio:8,1,1: rows shuffled with the seed.\ntemporal:0.8: the earliest 80% of all rows train.\n"
                          "by-user:0.8: 80% of the users train, the others are held out whole."));
    seed_ = new QSpinBox(page);
    seed_->setRange(0, 1 << 30);
    seed_->setValue(42);
    previewButton_ = new QPushButton(tr("Preview"), page);
    saveButton_ = new QPushButton(tr("Save prepared dataset…"), page);
    previewLabel_ = new QLabel(tr("Set filters and a split, then Preview shows what they do before anything is applied."), page);
    previewLabel_->setObjectName(QStringLiteral("preparePreview"));
    previewLabel_->setWordWrap(true);
    previewLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    previewLabel_->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    auto* form = new QFormLayout;
    form->addRow(tr("Duplicates"), dedup_);
    form->addRow(tr("Threshold"), thresholdRow);
    form->addRow(tr("k-core"), coreRow);
    form->addRow(tr("Time window"), windowRow);
    form->addRow(tr("Split"), split_);
    form->addRow(tr("Seed"), seed_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(previewButton_);
    buttons->addWidget(saveButton_);
    buttons->addStretch(1);
    auto* layout = new QVBoxLayout(page);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(previewLabel_, 1);

    connect(previewButton_, &QPushButton::clicked, this, &DatasetBrowser::previewPreparation);
    connect(saveButton_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save prepared dataset"),
                                                          QString::fromStdString(dataset_ ? dataset_->name : "dataset") + ".rlprep",
                                                          tr("Prepared datasets (*.rlprep)"));
        if (!path.isEmpty())
            savePrepared(path);
    });
    return page;
}

void DatasetBrowser::setDataset(std::shared_ptr<const Dataset> dataset)
{
    const DatasetStats stats = dataset ? computeStats(*dataset) : DatasetStats();
    setDataset(std::move(dataset), stats);
}

void DatasetBrowser::setDataset(std::shared_ptr<const Dataset> dataset, const DatasetStats& stats)
{
    if (queryCancel_)
        *queryCancel_ = true;
    dataset_ = std::move(dataset);
    sortColumn_ = -1;
    table_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    model_->setDataset(dataset_);
    text_->setDataset(dataset_);
    history_->setRowCount(0);
    historyLabel_->clear();
    if (!dataset_) {
        stats_->clear(tr("No dataset"));
        return;
    }
    for (QDateTimeEdit* e : {fromEdit_, windowFrom_})
        e->setDateTime(QDateTime::fromSecsSinceEpoch(stats.firstTimestamp, QTimeZone::utc()));
    for (QDateTimeEdit* e : {toEdit_, windowTo_})
        e->setDateTime(QDateTime::fromSecsSinceEpoch(stats.lastTimestamp + 60, QTimeZone::utc()));
    datasetMaxRating_ = stats.ratingMax;
    minRating_->setValue(0);
    maxRating_->setValue(stats.ratingMax);
    tableStatus_->setText(tr("%1 interactions").arg(QLocale::system().toString(static_cast<qulonglong>(dataset_->interactions.size()))));
    stats_->clear(tr("Computing statistics…"));
    summaryWatcher_->setFuture(QtConcurrent::run([d = dataset_] { return summarize(*d); }));
}

RowFilter DatasetBrowser::rowFilter() const
{
    RowFilter f;
    f.user = userEdit_->text().trimmed().toStdString();
    f.item = itemEdit_->text().trimmed().toStdString();
    f.title = titleEdit_->text().trimmed().toStdString();
    if (minRating_->value() > 0)
        f.minRating = static_cast<float>(minRating_->value());
    if (dataset_ && maxRating_->value() < datasetMaxRating_)
        f.maxRating = static_cast<float>(maxRating_->value());
    if (timeCheck_->isChecked()) {
        f.from = fromEdit_->dateTime().toSecsSinceEpoch();
        f.to = toEdit_->dateTime().toSecsSinceEpoch();
    }
    return f;
}

void DatasetBrowser::setRowFilter(const RowFilter& f)
{
    userEdit_->setText(QString::fromStdString(f.user));
    itemEdit_->setText(QString::fromStdString(f.item));
    titleEdit_->setText(QString::fromStdString(f.title));
    minRating_->setValue(f.minRating ? *f.minRating : 0);
    maxRating_->setValue(f.maxRating ? *f.maxRating : datasetMaxRating_);
    timeCheck_->setChecked(f.from || f.to);
    if (f.from)
        fromEdit_->setDateTime(QDateTime::fromSecsSinceEpoch(*f.from, QTimeZone::utc()));
    if (f.to)
        toEdit_->setDateTime(QDateTime::fromSecsSinceEpoch(*f.to, QTimeZone::utc()));
    applyRowFilter();
}

void DatasetBrowser::applyRowFilter() { runQuery(); }

void DatasetBrowser::sortBy(int column, Qt::SortOrder order)
{
    sortColumn_ = column;
    sortOrder_ = order;
    table_->horizontalHeader()->setSortIndicator(column, order);
    runQuery();
}

void DatasetBrowser::runQuery()
{
    if (!dataset_)
        return;
    if (queryCancel_)
        *queryCancel_ = true;
    queryCancel_ = std::make_shared<std::atomic<bool>>(false);
    static const RowOrder kOrder[] = {RowOrder::User, RowOrder::Item, RowOrder::Title, RowOrder::Rating, RowOrder::Time};
    const RowOrder order = sortColumn_ >= 0 && sortColumn_ < 5 ? kOrder[sortColumn_] : RowOrder::File;
    tableStatus_->setText(tr("Filtering and sorting…"));
    queryWatcher_->setFuture(QtConcurrent::run(
        [d = dataset_, f = rowFilter(), order, desc = sortOrder_ == Qt::DescendingOrder, cancel = queryCancel_]()
            -> std::shared_ptr<const std::vector<uint32_t>> {
            auto rows = selectRows(*d, f, order, desc, cancel.get());
            if (!rows)
                return nullptr;
            return std::make_shared<const std::vector<uint32_t>>(std::move(*rows));
        }));
}

void DatasetBrowser::showUser(const QString& userId)
{
    if (!dataset_)
        return;
    tabs_->setCurrentIndex(2);
    historyUser_->setText(userId);
    const auto it = std::find(dataset_->userIds.begin(), dataset_->userIds.end(), userId.toStdString());
    history_->setRowCount(0);
    if (it == dataset_->userIds.end()) {
        historyLabel_->setText(tr("No user '%1' in this dataset").arg(userId));
        return;
    }
    historyUserIndex_ = static_cast<int32_t>(it - dataset_->userIds.begin());
    historyLabel_->setText(tr("Reading the history of user %1…").arg(userId));
    // A scan of every row: off the GUI thread, so 25M rows do not stall it.
    historyWatcher_->setFuture(
        QtConcurrent::run([d = dataset_, user = historyUserIndex_] { return std::make_pair(d, userHistory(*d, user)); }));
}

void DatasetBrowser::showHistory(const std::vector<uint32_t>& rows)
{
    const int32_t user = historyUserIndex_;
    QString about = tr("%1 interactions").arg(rows.size());
    if (static_cast<size_t>(user) < dataset_->users.age.size())
        about += tr(" · age %1 · %2 · %3")
                     .arg(dataset_->users.age[static_cast<size_t>(user)])
                     .arg(QChar(dataset_->users.gender[static_cast<size_t>(user)]))
                     .arg(QString::fromStdString(dataset_->users.occupation[static_cast<size_t>(user)]));
    historyLabel_->setText(about);
    history_->setRowCount(static_cast<int>(rows.size()));
    const InteractionTable& t = dataset_->interactions;
    for (int k = 0; k < static_cast<int>(rows.size()); ++k) {
        const uint32_t r = rows[static_cast<size_t>(k)];
        const auto item = static_cast<size_t>(t.item[r]);
        QStringList genres;
        for (const auto& g : dataset_->genresOf(t.item[r]))
            genres << QString::fromStdString(g);
        history_->setItem(k, 0, new QTableWidgetItem(formatTime(t.timestamp[r])));
        history_->setItem(k, 1, new QTableWidgetItem(QString::fromStdString(dataset_->itemIds[item])));
        history_->setItem(k, 2, new QTableWidgetItem(item < dataset_->items.title.size() ? QString::fromStdString(dataset_->items.title[item]) : QString()));
        history_->setItem(k, 3, new QTableWidgetItem(genres.join(QStringLiteral(", "))));
        history_->setItem(k, 4, new QTableWidgetItem(QString::number(static_cast<double>(t.rating[r]))));
    }
    history_->resizeColumnToContents(0);
    history_->resizeColumnToContents(3);
    emit historyReady(static_cast<int>(rows.size()));
}

FilterConfig DatasetBrowser::filterConfig() const
{
    FilterConfig f;
    f.removeDuplicates = dedup_->isChecked();
    if (thresholdCheck_->isChecked())
        f.ratingThreshold = static_cast<float>(threshold_->value());
    f.userCore = userCore_->value();
    f.itemCore = itemCore_->value();
    if (windowCheck_->isChecked()) {
        f.timeFrom = windowFrom_->dateTime().toSecsSinceEpoch();
        f.timeTo = windowTo_->dateTime().toSecsSinceEpoch();
    }
    return f;
}

SplitConfig DatasetBrowser::splitConfig() const
{
    SplitConfig c = parseSplitSpec(split_->currentText().trimmed().toStdString());
    c.seed = static_cast<uint64_t>(seed_->value());
    return c;
}

void DatasetBrowser::setPreparation(const FilterConfig& f, const QString& split)
{
    dedup_->setChecked(f.removeDuplicates);
    thresholdCheck_->setChecked(f.ratingThreshold.has_value());
    if (f.ratingThreshold)
        threshold_->setValue(*f.ratingThreshold);
    userCore_->setValue(f.userCore);
    itemCore_->setValue(f.itemCore);
    windowCheck_->setChecked(f.timeFrom || f.timeTo);
    if (f.timeFrom)
        windowFrom_->setDateTime(QDateTime::fromSecsSinceEpoch(*f.timeFrom, QTimeZone::utc()));
    if (f.timeTo)
        windowTo_->setDateTime(QDateTime::fromSecsSinceEpoch(*f.timeTo, QTimeZone::utc()));
    split_->setCurrentText(split);
}

void DatasetBrowser::previewPreparation()
{
    if (!dataset_ || prepareWatcher_->isRunning())
        return;
    saving_ = false;
    previewButton_->setEnabled(false);
    saveButton_->setEnabled(false);
    previewLabel_->setText(tr("Computing…"));
    prepareWatcher_->setFuture(QtConcurrent::run([d = dataset_, f = filterConfig(), splitText = split_->currentText(),
                                                  seed = seed_->value()]() -> std::pair<bool, QString> {
        try {
            SplitConfig c = parseSplitSpec(splitText.trimmed().toStdString());
            c.seed = static_cast<uint64_t>(seed);
            FilterSummary s;
            const Dataset out = applyFilters(*d, f, &s);
            if (out.interactions.size() == 0)
                return {false, QObject::tr("These filters leave no interactions.")};
            const SplitAssignment split = makeSplit(out, c);
            const QLocale l = QLocale::system();
            QString text = QObject::tr("<b>%1</b><br>before: %2<br>after: &nbsp;%3")
                               .arg(QString::fromStdString(f.describe()).toHtmlEscaped(), countsLine(s.before), countsLine(s.after));
            QStringList removed;
            if (s.duplicates)
                removed << QObject::tr("%1 duplicates").arg(l.toString(static_cast<qulonglong>(s.duplicates)));
            if (s.belowThreshold)
                removed << QObject::tr("%1 below the threshold").arg(l.toString(static_cast<qulonglong>(s.belowThreshold)));
            if (s.outsideWindow)
                removed << QObject::tr("%1 outside the time window").arg(l.toString(static_cast<qulonglong>(s.outsideWindow)));
            if (s.kcoreRounds)
                removed << QObject::tr("k-core reached its fixed point in %1 passes").arg(s.kcoreRounds);
            if (!removed.isEmpty())
                text += QObject::tr("<br>removed: %1").arg(removed.join(QStringLiteral(", ")));
            text += QObject::tr("<br><b>%1</b><br>train %2 · validation %3 · test %4 · %5 fixed negatives per evaluation row")
                        .arg(QString::fromStdString(c.describe()).toHtmlEscaped(),
                             l.toString(static_cast<qulonglong>(split.count(TrainPart))),
                             l.toString(static_cast<qulonglong>(split.count(ValidPart))),
                             l.toString(static_cast<qulonglong>(split.count(TestPart))))
                        .arg(c.effectiveNegatives());
            return {true, text};
        } catch (const std::exception& e) {
            return {false, QString::fromUtf8(e.what())};
        }
    }));
}

void DatasetBrowser::savePrepared(const QString& path)
{
    if (!dataset_ || prepareWatcher_->isRunning())
        return;
    saving_ = true;
    previewButton_->setEnabled(false);
    saveButton_->setEnabled(false);
    prepareWatcher_->setFuture(QtConcurrent::run([d = dataset_, f = filterConfig(), splitText = split_->currentText(),
                                                  seed = seed_->value(), path]() -> std::pair<bool, QString> {
        try {
            SplitConfig c = parseSplitSpec(splitText.trimmed().toStdString());
            c.seed = static_cast<uint64_t>(seed);
            const PreparedData p = prepareDataset(*d, d->source, f, c);
            writePreparedData(p, path.toStdString());
            return {true, path};
        } catch (const std::exception& e) {
            return {false, QString::fromUtf8(e.what())};
        }
    }));
}

} // namespace reclab
