#include "data/ColdItemSplit.h"
#include "inspection/Recommendations.h"
#include "inspection/StoredRun.h"
#include "inspection/TextExplain.h"

#include "inspect/RecommendationsView.h"
#include "inspect/RunChoice.h"
#include "inspect/WordBars.h"

#include <QComboBox>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <chrono>
#include <set>

namespace reclab {

RecommendationsView::RecommendationsView(std::shared_ptr<InspectionCache> cache, QWidget* parent)
    : QWidget(parent), cache_(std::move(cache)), user_(new QLineEdit), k_(new QSpinBox),
      showButton_(new QPushButton(tr("Show"))), status_(new QLabel), bars_(new WordBars)
{
    user_->setPlaceholderText(tr("user id"));
    user_->setMaximumWidth(110);
    k_->setRange(1, 100);
    k_->setValue(10);
    k_->setPrefix(tr("top "));
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("User")));
    controls->addWidget(user_);
    controls->addWidget(k_);
    controls->addWidget(showButton_);
    controls->addStretch(1);
    auto* grid = new QGridLayout;
    for (int side = 0; side < 2; ++side) {
        auto* combo = new QComboBox;
        combo->setMinimumContentsLength(24);
        auto* table = new QTableWidget(0, 5);
        table->setHorizontalHeaderLabels({tr("#"), tr("Title"), tr("Genres"), tr("Score"), tr("Because")});
        table->verticalHeader()->setVisible(false);
        table->setEditTriggers(QAbstractItemView::NoEditTriggers);
        table->setSelectionBehavior(QAbstractItemView::SelectRows);
        table->setWordWrap(false);
        table->horizontalHeader()->setStretchLastSection(true);
        auto* timing = new QLabel;
        auto* head = new QHBoxLayout;
        head->addWidget(new QLabel(side == 0 ? tr("Run A") : tr("Run B")));
        head->addWidget(combo, 1);
        head->addWidget(timing);
        grid->addLayout(head, 0, side);
        grid->addWidget(table, 1, side);
        runs_[static_cast<size_t>(side)] = combo;
        tables_[static_cast<size_t>(side)] = table;
        timings_[static_cast<size_t>(side)] = timing;
    }
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(grid, 1);
    layout->addWidget(bars_);
    bars_->setVisible(false);
    layout->addWidget(status_);
    status_->setWordWrap(true);
    status_->setText(tr("Pick one or two runs and a user: each run's top items the user has not seen, with why."));
    auto go = [this] {
        showRecommendations(runs_[0]->currentData().toLongLong(), runs_[1]->currentData().toLongLong(), user_->text().trimmed(), k_->value());
    };
    connect(showButton_, &QPushButton::clicked, this, go);
    connect(tables_[0], &QTableWidget::currentCellChanged, this, [this](int row) { explainWords(row); });
    connect(user_, &QLineEdit::returnPressed, this, go);
}

void RecommendationsView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs)
{
    databasePath_ = databasePath;
    offerRuns(runs_[0], runs);
    offerRuns(runs_[1], runs, tr("(none)"));
}

void RecommendationsView::showRecommendations(qint64 runA, qint64 runB, const QString& userId, int k)
{
    if (runA <= 0 || userId.isEmpty()) {
        status_->setText(tr("Pick a run and type a user id."));
        emit failed(status_->text());
        return;
    }
    runs_[0]->setCurrentIndex(std::max(0, runs_[0]->findData(runA)));
    runs_[1]->setCurrentIndex(std::max(0, runs_[1]->findData(runB)));
    user_->setText(userId);
    k_->setValue(k);
    const int generation = ++generation_;
    pending_ = 0;
    common_ = 0;
    status_->setText(tr("Recommending for user %1…").arg(userId));
    for (int side = 0; side < 2; ++side) {
        tables_[static_cast<size_t>(side)]->setRowCount(0);
        timings_[static_cast<size_t>(side)]->clear();
    }
    showSide(0, runA, userId, k, generation);
    if (runB > 0)
        showSide(1, runB, userId, k, generation);
}

void RecommendationsView::showSide(int side, qint64 runId, const QString& userId, int k, int generation)
{
    struct Row {
        QString title, genres, because, itemId;
        double score;
        bool cold = false; // held out of a cold-protocol run's training with all its interactions
    };
    struct Answer {
        QList<Row> rows;
        QString error, measure, model;
        double milliseconds = 0;
    };
    ++pending_;
    showButton_->setEnabled(false);
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation, side, runId] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        --pending_;
        showButton_->setEnabled(pending_ == 0);
        Answer a = watcher->result();
        QTableWidget* table = tables_[static_cast<size_t>(side)];
        if (!a.error.isEmpty()) {
            status_->setText(a.error);
            emit failed(a.error);
            return;
        }
        table->setRowCount(static_cast<int>(a.rows.size()));
        table->horizontalHeaderItem(4)->setText(tr("Because (%1)").arg(a.measure));
        for (int r = 0; r < a.rows.size(); ++r) {
            const Row& row = a.rows[r];
            auto* rank = new QTableWidgetItem(QString::number(r + 1));
            rank->setData(Qt::UserRole, row.itemId);
            table->setItem(r, 0, rank);
            auto* title = new QTableWidgetItem(row.cold ? tr("(cold) %1").arg(row.title) : row.title);
            if (row.cold)
                title->setToolTip(tr("A cold item: held out of this run's training with all its interactions, so "
                                     "only its text placed it here."));
            table->setItem(r, 1, title);
            table->setItem(r, 2, new QTableWidgetItem(row.genres));
            auto* score = new QTableWidgetItem(QString::number(row.score, 'f', 4));
            score->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            table->setItem(r, 3, score);
            table->setItem(r, 4, new QTableWidgetItem(row.because));
            table->item(r, 4)->setToolTip(row.because);
        }
        table->resizeColumnsToContents();
        table->setColumnWidth(1, std::min(table->columnWidth(1), 210));
        table->setColumnWidth(2, std::min(table->columnWidth(2), 120));
        timings_[static_cast<size_t>(side)]->setText(tr("%1 · %2 ms").arg(a.model).arg(a.milliseconds, 0, 'f', 1));
        if (side == 0) {
            shownRun_ = runId;
            shownUser_ = user_->text().trimmed();
            if (table->rowCount() > 0)
                table->setCurrentCell(0, 0);
        }
        if (pending_ == 0) {
            markCommon();
            emit shown();
        }
    });
    const std::string db = databasePath_.toStdString(), user = userId.toStdString();
    auto cache = cache_;
    watcher->setFuture(QtConcurrent::run([cache, db, runId, user, k]() -> Answer {
        Answer a;
        try {
            const auto entry = cache->model(db, runId);
            const Dataset& data = *entry->data->dataset;
            const int32_t u = userIndexOf(data, user);
            RecommendOptions o;
            o.k = k;
            o.historyLength = entry->stored.config.historyLength;
            std::lock_guard lock(entry->use);
            const auto start = std::chrono::steady_clock::now();
            const auto recs = recommend(*entry->stored.model, *entry->data->index, u, o);
            const TrainConfig& config = entry->stored.config;
            const std::vector<char> cold =
                config.protocol == "cold" ? coldItemFlags(static_cast<size_t>(data.numItems()), config.coldShare, config.seed)
                                          : std::vector<char>();
            a.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            a.measure = QString::fromLatin1(becauseMeasure(*entry->stored.model, data));
            a.model = QStringLiteral("run %1, %2").arg(runId).arg(QString::fromStdString(entry->stored.run.model));
            auto title = [&](int32_t item) { return QString::fromStdString(itemTitle(data, item)); };
            for (const auto& r : recs) {
                Row row;
                row.itemId = QString::fromStdString(data.itemIds[static_cast<size_t>(r.item)]);
                row.title = title(r.item);
                QStringList genres;
                for (const auto& g : data.genresOf(r.item))
                    genres << QString::fromStdString(g);
                row.genres = genres.join(QStringLiteral(", "));
                row.score = r.score;
                row.cold = !cold.empty() && cold[static_cast<size_t>(r.item)] != 0;
                QStringList because;
                for (const auto& [item, value] : r.because)
                    because << QStringLiteral("%1 (%2)").arg(title(item)).arg(value, 0, 'f', 2);
                row.because = because.join(QStringLiteral("; "));
                a.rows << row;
            }
        } catch (const std::exception& e) {
            a.error = QObject::tr("Run %1: %2").arg(runId).arg(QString::fromStdString(e.what()));
        }
        return a;
    }));
}

void RecommendationsView::explainWords(int row)
{
    struct Answer {
        QStringList words;
        QVector<double> effects;
        QString measure, error;
    };
    const int generation = ++wordsGeneration_;
    QTableWidgetItem* cell = row >= 0 ? tables_[0]->item(row, 0) : nullptr;
    if (!cell || shownRun_ <= 0) {
        bars_->setVisible(false);
        return;
    }
    const QString title = tables_[0]->item(row, 1) ? tables_[0]->item(row, 1)->text() : QString();
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation, title] {
        watcher->deleteLater();
        if (generation != wordsGeneration_)
            return;
        const Answer a = watcher->result();
        bars_->setVisible(!a.words.isEmpty());
        if (!a.words.isEmpty())
            bars_->setEffects(tr("Words of “%1” that moved the score most").arg(title), a.words, a.effects, a.measure);
    });
    const std::string db = databasePath_.toStdString(), user = shownUser_.toStdString();
    const std::string item = cell->data(Qt::UserRole).toString().toStdString();
    auto cache = cache_;
    const qint64 runId = shownRun_;
    watcher->setFuture(QtConcurrent::run([cache, db, runId, user, item]() -> Answer {
        Answer a;
        try {
            const auto entry = cache->model(db, runId);
            const Dataset& data = *entry->data->dataset;
            std::lock_guard lock(entry->use);
            const auto effects = wordEffects(*entry->stored.model, userIndexOf(data, user), itemIndexOf(data, item));
            for (size_t k = 0; k < effects.size() && k < 10; ++k) {
                a.words << QString::fromStdString(effects[k].word);
                a.effects << effects[k].effect;
            }
            a.measure = QString::fromLatin1(wordEffectMeasure(*entry->stored.model));
        } catch (const std::exception& e) {
            a.error = QString::fromStdString(e.what());
        }
        return a;
    }));
}

void RecommendationsView::markCommon()
{
    std::set<QString> a, b;
    for (int r = 0; r < tables_[0]->rowCount(); ++r)
        a.insert(tables_[0]->item(r, 0)->data(Qt::UserRole).toString());
    for (int r = 0; r < tables_[1]->rowCount(); ++r)
        b.insert(tables_[1]->item(r, 0)->data(Qt::UserRole).toString());
    common_ = 0;
    for (int side = 0; side < 2; ++side) {
        QTableWidget* table = tables_[static_cast<size_t>(side)];
        const auto& other = side == 0 ? b : a;
        for (int r = 0; r < table->rowCount(); ++r) {
            const bool shared = other.count(table->item(r, 0)->data(Qt::UserRole).toString()) > 0;
            common_ += side == 0 && shared ? 1 : 0;
            for (int c = 0; c < table->columnCount(); ++c)
                table->item(r, c)->setBackground(shared ? QColor(0xdff0d8) : QBrush());
        }
    }
    status_->setText(tables_[1]->rowCount() > 0
                         ? tr("User %1: %2 of the items are in both lists (shaded).").arg(user_->text()).arg(common_)
                         : tr("User %1: the items the user has already seen are left out.").arg(user_->text()));
}

} // namespace reclab
