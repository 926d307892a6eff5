#include "compiled/GraphModule.h"
#include "inspection/StoredRun.h"
#include "inspection/WordMap.h"

#include "inspect/RunChoice.h"
#include "inspect/ScatterPlot.h"
#include "inspect/WordsView.h"

#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace reclab {

WordsView::WordsView(std::shared_ptr<InspectionCache> cache, QWidget* parent)
    : QWidget(parent), cache_(std::move(cache)), runs_(new QComboBox), near_(new QLineEdit), plot_(new ScatterPlot),
      list_(new QListWidget), status_(new QLabel)
{
    runs_->setMinimumContentsLength(12);
    near_->setPlaceholderText(tr("a word"));
    near_->setMaximumWidth(160);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Run")));
    controls->addWidget(runs_, 1);
    controls->addWidget(new QLabel(tr("Nearest words to")));
    controls->addWidget(near_);
    auto* split = new QSplitter;
    split->addWidget(plot_);
    split->addWidget(list_);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    list_->setMinimumWidth(150);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
    layout->addWidget(status_);
    status_->setWordWrap(true);
    status_->setText(tr("Pick a run of a text model (hybrid, DeepCoNN, a graph with a Word embedding): its words "
                        "and items on one map."));
    connect(runs_, &QComboBox::activated, this, [this] { showRun(runs_->currentData().toLongLong()); });
    connect(near_, &QLineEdit::returnPressed, this, [this] { showNear(near_->text().trimmed()); });
    connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        near_->setText(item->data(Qt::UserRole).toString());
        showNear(near_->text());
    });
}

WordsView::~WordsView() = default;

void WordsView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs)
{
    databasePath_ = databasePath;
    offerRuns(runs_, runs);
}

void WordsView::showRun(qint64 runId)
{
    struct Answer {
        std::shared_ptr<const WordMap> map;
        QString error;
    };
    runs_->setCurrentIndex(std::max(0, runs_->findData(runId)));
    const int generation = ++generation_;
    status_->setText(tr("Mapping the words of run %1…").arg(runId));
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation, runId] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        Answer a = watcher->result();
        if (!a.error.isEmpty()) {
            status_->setText(a.error);
            emit failed(a.error);
            return;
        }
        map_ = a.map;
        const WordMap& m = *map_;
        QVector<QPointF> points;
        QVector<int> category;
        QStringList labels, names;
        for (size_t k = 0; k < m.labels.size(); ++k) {
            points.append({m.xy[2 * k], m.xy[2 * k + 1]});
            category.append(m.category[k]);
            labels << (k < m.words ? tr("word “%1”").arg(QString::fromStdString(m.labels[k]))
                                   : tr("item: %1").arg(QString::fromStdString(m.labels[k])));
        }
        for (const auto& c : m.categories)
            names << QString::fromStdString(c);
        plot_->setPoints(points, category, names, labels);
        plot_->fitAll();
        list_->clear();
        status_->setText(tr("Run %1: %2 words and %3 items (each the mean of its words), PCA of %4-d vectors "
                            "(%5% of the variance). Words take the colour of the genre whose items use them most "
                            "for the genre's size, items of their first genre. Type a word for its neighbours.")
                             .arg(runId)
                             .arg(m.words)
                             .arg(m.labels.size() - m.words)
                             .arg(m.vectors.dim)
                             .arg(100.0 * m.explained, 0, 'f', 0));
        emit shown();
        if (!near_->text().trimmed().isEmpty())
            showNear(near_->text().trimmed());
    });
    const std::string db = databasePath_.toStdString();
    auto cache = cache_;
    watcher->setFuture(QtConcurrent::run([cache, db, runId]() -> Answer {
        Answer a;
        try {
            const auto entry = cache->model(db, runId);
            const auto* graph = dynamic_cast<const GraphModelImpl*>(entry->stored.model.get());
            if (!graph)
                throw std::runtime_error("its model (" + entry->stored.run.model +
                                         ") has no word vectors; train hybrid, deepconn or a graph with a Word embedding");
            std::lock_guard lock(entry->use);
            a.map = std::make_shared<const WordMap>(wordMap(*graph, *entry->data->dataset));
        } catch (const std::exception& e) {
            a.error = QObject::tr("Run %1: %2").arg(runId).arg(QString::fromStdString(e.what()));
        }
        return a;
    }));
}

bool WordsView::showNear(const QString& word)
{
    list_->clear();
    if (!map_ || word.isEmpty())
        return false;
    const std::string w = word.toLower().toStdString();
    const auto near = nearestWords(map_->vectors, w, 12);
    if (near.empty()) {
        status_->setText(tr("The run has no vector for “%1”.").arg(word));
        plot_->setSelected(-1);
        return false;
    }
    auto indexOf = [&](const std::string& label) {
        for (size_t k = 0; k < map_->words; ++k)
            if (map_->labels[k] == label)
                return static_cast<int>(k);
        return -1;
    };
    QVector<int> onMap;
    for (const auto& [other, cosine] : near) {
        auto* item = new QListWidgetItem(tr("%1  %2").arg(cosine, 0, 'f', 3).arg(QString::fromStdString(other)));
        item->setData(Qt::UserRole, QString::fromStdString(other));
        list_->addItem(item);
        if (const int k = indexOf(other); k >= 0)
            onMap.append(k);
    }
    plot_->setHighlighted(onMap);
    plot_->setSelected(indexOf(w), onMap);
    status_->setText(tr("Nearest words to “%1” by cosine of the run's vectors (%2 of them on the map, linked).")
                         .arg(word)
                         .arg(onMap.size()));
    return true;
}

} // namespace reclab
