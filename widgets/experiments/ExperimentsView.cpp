#include "experiments/ExperimentsView.h"

#include "experiments/RunsTableModel.h"
#include "util/Error.h"

#include <QAction>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <filesystem>

#include <set>

namespace reclab {

namespace {

const QString kAll = QObject::tr("all");

QComboBox* filterCombo(const QString& tip)
{
    auto* combo = new QComboBox;
    combo->setToolTip(tip);
    combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    combo->setMinimumContentsLength(6);
    combo->addItem(kAll);
    return combo;
}

// Refills a filter combo, keeping the choice when it still exists.
void refill(QComboBox* combo, const QStringList& values)
{
    const QString current = combo->currentText();
    const QSignalBlocker block(combo);
    combo->clear();
    combo->addItem(kAll);
    combo->addItems(values);
    const int at = combo->findText(current);
    combo->setCurrentIndex(at < 0 ? 0 : at);
}

std::string choice(const QComboBox* combo)
{
    return combo->currentIndex() <= 0 ? std::string() : combo->currentText().toStdString();
}

} // namespace

ExperimentsView::ExperimentsView(RunsTableModel* model, QWidget* parent)
    : QWidget(parent), runs_(model), proxy_(new RunsFilterProxy(model, this)), table_(new QTableView),
      search_(new QLineEdit), params_(new QLineEdit), experiment_(filterCombo(tr("Only the runs of this experiment"))),
      modelFilter_(filterCombo(tr("Only this model"))), dataset_(filterCombo(tr("Only runs on this dataset"))),
      tag_(filterCombo(tr("Only runs with this tag"))), status_(filterCombo(tr("Only runs with this status"))),
      count_(new QLabel)
{
    search_->setPlaceholderText(tr("Search runs…"));
    search_->setClearButtonEnabled(true);
    search_->setToolTip(tr("Words that must all occur in a run's id, name, model, dataset, status, experiment, tags or notes"));
    params_->setPlaceholderText(tr("params, e.g. learning_rate<0.01 optimizer=adam"));
    params_->setClearButtonEnabled(true);
    params_->setToolTip(tr("Conditions on any param, separated by spaces: = != < <= > >= and ~ (contains)"));
    for (const char* s : {"FINISHED", "RUNNING", "STOPPED", "INTERRUPTED", "FAILED"})
        status_->addItem(QString::fromUtf8(s));

    auto* filters = new QHBoxLayout;
    filters->addWidget(search_, 2);
    for (auto [label, combo] : {std::pair{tr("Experiment"), experiment_}, std::pair{tr("Model"), modelFilter_},
                                std::pair{tr("Dataset"), dataset_}, std::pair{tr("Tag"), tag_},
                                std::pair{tr("Status"), status_}}) {
        filters->addWidget(new QLabel(label));
        filters->addWidget(combo);
        connect(combo, &QComboBox::currentIndexChanged, this, &ExperimentsView::applyFilter);
    }
    filters->addWidget(params_, 2);
    connect(search_, &QLineEdit::textChanged, this, &ExperimentsView::applyFilter);
    connect(params_, &QLineEdit::textChanged, this, &ExperimentsView::applyFilter);

    auto* actions = new QToolBar;
    actions->setToolButtonStyle(Qt::ToolButtonTextOnly);
    compare_ = actions->addAction(tr("Compare"));
    compare_->setToolTip(tr("Compare the selected runs: curves, models × metrics, params, and paired tests for two runs"));
    open_ = actions->addAction(tr("Open in chart"));
    open_->setToolTip(tr("Show the selected runs' curves in the Training tab"));
    inspect_ = actions->addAction(tr("Inspect"));
    inspect_->setToolTip(tr("Look inside the run: its embeddings, attention and recommendations"));
    clone_ = actions->addAction(tr("Clone"));
    clone_->setToolTip(tr("Train a new run with this run's config, seed, graph and split (on the same data)"));
    actions->addSeparator();
    notes_ = actions->addAction(tr("Notes…"));
    move_ = actions->addAction(tr("Move to…"));
    move_->setToolTip(tr("File the selected runs under another (or a new) experiment"));
    delete_ = actions->addAction(tr("Delete"));
    delete_->setShortcut(QKeySequence::Delete);
    delete_->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    delete_->setToolTip(tr("Delete the selected runs with their checkpoints and other files"));
    addAction(delete_);
    connect(compare_, &QAction::triggered, this, [this] { emit compareRequested(selectedRunIds()); });
    connect(open_, &QAction::triggered, this, [this] { emit openRequested(selectedRunIds()); });
    connect(inspect_, &QAction::triggered, this, [this] {
        if (const auto ids = selectedRunIds(); ids.size() == 1)
            emit inspectRequested(ids.front());
    });
    connect(clone_, &QAction::triggered, this, [this] {
        if (const RunRecord* run = selectedRun())
            emit cloneRequested(run->id);
    });
    connect(notes_, &QAction::triggered, this, &ExperimentsView::askNotes);
    connect(move_, &QAction::triggered, this, &ExperimentsView::askMove);
    connect(delete_, &QAction::triggered, this, &ExperimentsView::askDelete);

    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(RunsTableModel::Id, Qt::DescendingOrder);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setContextMenuPolicy(Qt::ActionsContextMenu);
    table_->addActions({compare_, open_, inspect_, clone_, notes_, move_, delete_});
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateActions();
        emit selectionChanged();
    });
    connect(runs_, &RunsTableModel::writeFailed, this, &ExperimentsView::problem);
    connect(runs_, &RunsTableModel::refreshFailed, this, &ExperimentsView::problem);
    connect(runs_, &QAbstractItemModel::modelAboutToBeReset, this, [this] { keptSelection_ = selectedRunIds(); });
    connect(runs_, &QAbstractItemModel::modelReset, this, &ExperimentsView::afterReset);

    auto* bottom = new QHBoxLayout;
    bottom->addWidget(actions);
    bottom->addStretch(1);
    bottom->addWidget(count_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(filters);
    layout->addWidget(table_, 1);
    layout->addLayout(bottom);
    updateActions();
}

QList<qint64> ExperimentsView::selectedRunIds() const
{
    QList<qint64> ids;
    QModelIndexList rows = table_->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    for (const QModelIndex& row : rows)
        if (const RunRecord* run = proxy_->runAt(row.row()))
            ids << run->id;
    return ids;
}

const RunRecord* ExperimentsView::selectedRun() const
{
    const QList<qint64> ids = selectedRunIds();
    return ids.isEmpty() ? nullptr : runs_->runAt(runs_->rowOf(ids.front()));
}

void ExperimentsView::selectRuns(const QList<qint64>& runIds)
{
    QItemSelection selection;
    for (const qint64 id : runIds) {
        const QModelIndex at = proxy_->mapFromSource(runs_->index(runs_->rowOf(id), 0));
        if (at.isValid())
            selection.select(at, at.siblingAtColumn(proxy_->columnCount() - 1));
    }
    table_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

bool ExperimentsView::refresh(QString* error)
{
    return runs_->refresh(error); // afterReset() restores the view
}

void ExperimentsView::refreshAsync()
{
    runs_->refreshAsync();
}

void ExperimentsView::afterReset()
{
    fillCombos();
    applyFilter();
    selectRuns(keptSelection_);
    if (!table_->property("sized").toBool() && runs_->rowCount() > 0) {
        table_->resizeColumnsToContents(); // once: later widths are the user's
        table_->setProperty("sized", true);
    } else if (runs_->rowCount() > 0) {
        // A column that was empty when sized (no run had the metric yet) grows to its values
        // instead of cutting them ("0.80…").
        const QAbstractItemView* view = table_; // sizeHintForColumn is public there
        for (int c = 0; c < runs_->columnCount(); ++c)
            if (!table_->isColumnHidden(c) && table_->columnWidth(c) < view->sizeHintForColumn(c))
                table_->setColumnWidth(c, view->sizeHintForColumn(c));
    }
}

void ExperimentsView::fillCombos()
{
    refill(experiment_, runs_->experiments());
    refill(modelFilter_, runs_->models());
    refill(dataset_, runs_->datasets());
    refill(tag_, runs_->tags());
}

void ExperimentsView::applyFilter()
{
    RunFilter filter;
    filter.text = search_->text().toStdString();
    filter.experiment = choice(experiment_);
    filter.model = choice(modelFilter_);
    filter.dataset = choice(dataset_);
    filter.tag = choice(tag_);
    if (status_->currentIndex() > 0)
        filter.status = runStatusFromName(status_->currentText().toStdString());
    QString paramProblem;
    for (const QString& condition : params_->text().split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        try {
            filter.params.push_back(parseParamCondition(condition.toStdString()));
        } catch (const Error& e) {
            paramProblem = QString::fromUtf8(e.what());
        }
    }
    params_->setStyleSheet(paramProblem.isEmpty() ? QString() : QStringLiteral("QLineEdit { background: #fde2e2; }"));
    params_->setToolTip(paramProblem.isEmpty()
                            ? tr("Conditions on any param, separated by spaces: = != < <= > >= and ~ (contains)")
                            : paramProblem);
    proxy_->setFilter(filter);
    const int all = runs_->rowCount(), shown = proxy_->rowCount();
    const QString runs = all == 1 ? tr("1 run") : tr("%1 runs").arg(all);
    count_->setText(shown == all ? runs : tr("%1 of %2").arg(shown).arg(runs));
    updateActions();
}

void ExperimentsView::updateActions()
{
    const int n = static_cast<int>(selectedRunIds().size());
    compare_->setEnabled(n >= 2);
    open_->setEnabled(n >= 1);
    inspect_->setEnabled(n == 1);
    clone_->setEnabled(n == 1);
    notes_->setEnabled(n == 1);
    move_->setEnabled(n >= 1);
    delete_->setEnabled(n >= 1);
}

bool ExperimentsView::deleteRuns(const QList<qint64>& runIds, QString* error)
{
    bool ok = true;
    std::vector<std::string> folders;
    try {
        ExperimentStore store(runs_->databasePath().toStdString());
        for (const qint64 id : runIds) {
            std::string aside;
            store.deleteRun(id, &aside);
            if (!aside.empty())
                folders.push_back(aside);
        }
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromUtf8(e.what());
        ok = false;
    }
    // The runs are gone from the database; their files (snapshots, checkpoints) go in a worker.
    if (!folders.empty())
        (void)QtConcurrent::run([folders] {
            std::error_code ec;
            for (const auto& folder : folders)
                std::filesystem::remove_all(folder, ec);
        });
    refresh();
    return ok;
}

bool ExperimentsView::setNotes(qint64 runId, const QString& notes, QString* error)
{
    try {
        ExperimentStore(runs_->databasePath().toStdString()).setNotes(runId, notes.toStdString());
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromUtf8(e.what());
        return false;
    }
    return refresh(error);
}

bool ExperimentsView::moveRuns(const QList<qint64>& runIds, const QString& experiment, QString* error)
{
    try {
        ExperimentStore store(runs_->databasePath().toStdString());
        const int64_t to = store.experimentId(experiment.toStdString());
        for (const qint64 id : runIds)
            store.moveRun(id, to);
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromUtf8(e.what());
        return false;
    }
    return refresh(error);
}

void ExperimentsView::askDelete()
{
    const QList<qint64> ids = selectedRunIds();
    if (ids.isEmpty())
        return;
    QStringList names;
    for (const qint64 id : ids)
        names << QStringLiteral("#%1").arg(id);
    if (QMessageBox::question(this, tr("Delete runs"),
                              tr("Delete %n run(s) (%1) with their metrics, checkpoints and other files? This cannot be "
                                 "undone.", nullptr, static_cast<int>(ids.size()))
                                  .arg(names.join(QStringLiteral(", "))),
                              QMessageBox::Yes | QMessageBox::No, QMessageBox::No) != QMessageBox::Yes)
        return;
    QString error;
    if (!deleteRuns(ids, &error))
        QMessageBox::warning(this, tr("Delete runs"), error);
}

void ExperimentsView::askNotes()
{
    const RunRecord* run = selectedRun();
    if (!run)
        return;
    const qint64 id = run->id;
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Notes on run #%1").arg(id));
    auto* edit = new QPlainTextEdit(QString::fromStdString(run->notes));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    auto* layout = new QVBoxLayout(&dialog);
    layout->addWidget(edit);
    layout->addWidget(buttons);
    dialog.resize(420, 260);
    QString error;
    if (dialog.exec() == QDialog::Accepted && !setNotes(id, edit->toPlainText(), &error))
        QMessageBox::warning(this, tr("Notes"), error);
}

void ExperimentsView::askMove()
{
    const QList<qint64> ids = selectedRunIds();
    if (ids.isEmpty())
        return;
    bool ok = false;
    const QString name = QInputDialog::getItem(this, tr("Move to experiment"), tr("Experiment (type a new name to create one):"),
                                               runs_->experiments(), 0, true, &ok);
    QString error;
    if (ok && !name.trimmed().isEmpty() && !moveRuns(ids, name, &error))
        QMessageBox::warning(this, tr("Move to experiment"), error);
}

} // namespace reclab
