#include "inspection/Attention.h"
#include "inspection/StoredRun.h"
#include "util/Error.h"
#include "data/SampleGenerator.h"

#include "inspect/AttentionView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <algorithm>
#include <cmath>

namespace reclab {

namespace {
constexpr int kCell = 22;
constexpr int kColumnWidth = 64;

QColor diverging(double v, double extent)
{
    // Blue (negative) through white to red (positive), symmetric about zero.
    const double t = extent > 0 ? std::clamp(v / extent, -1.0, 1.0) : 0.0;
    const QColor hot(0xb2182b), cold(0x2166ac);
    const QColor& end = t >= 0 ? hot : cold;
    const double a = std::abs(t);
    return QColor::fromRgbF(static_cast<float>(1 - a + a * end.redF()), static_cast<float>(1 - a + a * end.greenF()),
                            static_cast<float>(1 - a + a * end.blueF()));
}
} // namespace

AttentionHeatmap::AttentionHeatmap(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
}

void AttentionHeatmap::setData(const QStringList& rowLabels, const QStringList& columnLabels,
                               const QVector<double>& values, const QVector<bool>& marked, const QString& valueName,
                               const QVector<double>& colours, const QString& legend)
{
    rowLabels_ = rowLabels;
    columnLabels_ = columnLabels;
    values_ = values;
    marked_ = marked;
    valueName_ = valueName;
    colours_ = colours;
    legend_ = legend;
    const QFontMetrics fm(font());
    labelWidth_ = 120;
    for (const QString& l : rowLabels_)
        labelWidth_ = std::max(labelWidth_, std::min(fm.horizontalAdvance(l) + 12, 420));
    updateGeometry();
    resize(sizeHint());
    update();
}

QSize AttentionHeatmap::sizeHint() const
{
    return {labelWidth_ + kColumnWidth * std::max(1, columns()) + 80, headerHeight_ + kCell * std::max(1, rows()) + 56};
}

QRect AttentionHeatmap::cellRect(int row, int column) const
{
    return {labelWidth_ + column * kColumnWidth, headerHeight_ + row * kCell, kColumnWidth, kCell};
}

void AttentionHeatmap::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    if (rows() == 0 || columns() == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("Pick a DIN run and a user"));
        return;
    }
    double extent = 0;
    for (const double v : values_)
        extent = std::max(extent, std::abs(v));
    const QFontMetrics fm(font());
    // Column headers: candidate titles, rotated.
    for (int c = 0; c < columns(); ++c) {
        p.save();
        p.translate(labelWidth_ + c * kColumnWidth + kColumnWidth / 2 + fm.ascent() / 2, headerHeight_ - 6);
        p.rotate(-60);
        p.setPen(palette().color(QPalette::Text));
        p.drawText(0, 0, fm.elidedText(columnLabels_[c], Qt::ElideRight, static_cast<int>(headerHeight_ * 1.1)));
        p.restore();
    }
    QFont small = font();
    small.setPointSizeF(font().pointSizeF() * 0.85);
    for (int r = 0; r < rows(); ++r) {
        p.setPen(palette().color(QPalette::Text));
        p.setFont(font());
        p.drawText(QRect(4, headerHeight_ + r * kCell, labelWidth_ - 8, kCell), Qt::AlignVCenter | Qt::AlignLeft,
                   fm.elidedText(rowLabels_[r], Qt::ElideMiddle, labelWidth_ - 8));
        p.setFont(small);
        for (int c = 0; c < columns(); ++c) {
            const QRect cell = cellRect(r, c).adjusted(1, 1, -1, -1);
            const double v = value(r, c);
            const double colour = colours_.isEmpty() ? (extent > 0 ? v / extent : 0.0) : colours_[r * columns() + c];
            p.fillRect(cell, diverging(colour, 1.0));
            p.setPen(std::abs(colour) > 0.6 ? Qt::white : Qt::black);
            p.drawText(cell, Qt::AlignCenter, QString::number(v, 'f', std::abs(v) >= 10 ? 1 : 3));
            if (isMarked(r, c)) {
                p.setPen(QPen(Qt::black, 2.5));
                p.setBrush(Qt::NoBrush);
                p.drawRect(cell.adjusted(1, 1, -1, -1));
            }
        }
    }
    p.setFont(font());
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(4, headerHeight_ + rows() * kCell + 6, labelWidth_ + kColumnWidth * columns() + 60, 40),
               Qt::AlignLeft | Qt::TextWordWrap,
               tr("Numbers: %1 · %2 · outlined: each candidate's top contributors · oldest behaviour at the top")
                   .arg(valueName_, legend_));
}

bool AttentionHeatmap::event(QEvent* e)
{
    if (e->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(e);
        const QPoint at = help->pos();
        const int c = (at.x() - labelWidth_) / kColumnWidth, r = (at.y() - headerHeight_) / kCell;
        if (at.x() >= labelWidth_ && at.y() >= headerHeight_ && c < columns() && r < rows()) {
            QToolTip::showText(help->globalPos(),
                               tr("%1\nfor %2\n%3 %4%5")
                                   .arg(rowLabels_[r], columnLabels_[c], valueName_)
                                   .arg(value(r, c), 0, 'f', 4)
                                   .arg(isMarked(r, c) ? tr(" (top contributor)") : QString()),
                               this);
        } else if (at.y() < headerHeight_ && at.x() >= labelWidth_ && c < columns()) {
            // A column's header is elided to its slant: the whole label here.
            QToolTip::showText(help->globalPos(), columnLabels_[c], this);
        } else {
            QToolTip::hideText();
        }
        return true;
    }
    return QWidget::event(e);
}

AttentionView::AttentionView(std::shared_ptr<InspectionCache> cache, QWidget* parent)
    : QWidget(parent), cache_(std::move(cache)), heatmap_(new AttentionHeatmap), run_(new QComboBox),
      user_(new QLineEdit), items_(new QLineEdit), top_(new QSpinBox), shares_(new QCheckBox(tr("Shares"))),
      relative_(new QCheckBox(tr("Relative colour"))), suggested_(new QComboBox), map_(new QComboBox),
      showButton_(new QPushButton(tr("Show"))), status_(new QLabel)
{
    run_->setMinimumContentsLength(20);
    run_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    user_->setPlaceholderText(tr("user id"));
    user_->setMaximumWidth(110);
    items_->setPlaceholderText(tr("candidate item ids, comma-separated (empty: the user's top 6 recommendations)"));
    top_->setRange(1, 20);
    top_->setValue(3);
    top_->setPrefix(tr("top "));
    shares_->setToolTip(tr("Each weight as a share of its candidate's total instead of the raw activation weight"));
    // Two rows: which run and user; which candidates and how to show them.
    auto* who = new QHBoxLayout;
    who->addWidget(new QLabel(tr("Run")));
    who->addWidget(run_, 2);
    who->addWidget(new QLabel(tr("User")));
    who->addWidget(user_);
    who->addWidget(suggested_, 1);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Items")));
    controls->addWidget(items_, 3);
    controls->addWidget(map_);
    controls->addWidget(top_);
    controls->addWidget(shares_);
    controls->addWidget(relative_);
    controls->addWidget(showButton_);
    relative_->setChecked(true);
    relative_->setToolTip(tr("Colour each candidate's column from its least (white) to its most attended behaviour "
                             "(dark red). Off: the raw weight on a scale about zero (red above, blue below); DIN's "
                             "weights are not a softmax and can all be negative"));
    suggested_->setToolTip(tr("Users whose planted favourite genre drifts over their timeline: there attention has "
                              "something to find (the sample only)"));
    suggested_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    suggested_->setMinimumContentsLength(14);
    suggested_->hide();
    map_->setToolTip(tr("Which attention to show: a self-attention layer's head (each behaviour attending to those before "
                        "it) or the decoder (each step attending to the history)"));
    map_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    map_->hide();
    auto* scroll = new QScrollArea;
    scroll->setWidget(heatmap_);
    scroll->setWidgetResizable(false);
    scroll->setBackgroundRole(QPalette::Base);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(who);
    layout->addLayout(controls);
    layout->addWidget(scroll, 1);
    layout->addWidget(status_);
    status_->setWordWrap(true);
    status_->setText(tr("DIN weighs each of a user's behaviours by its relevance to a candidate item; SASRec and seq2seq "
                        "attend within the sequence. Pick a run and a user."));
    auto go = [this] {
        QStringList ids;
        for (const QString& part : items_->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
            ids << part.trimmed();
        showAttention(run_->currentData().toLongLong(), user_->text().trimmed(), ids);
    };
    connect(showButton_, &QPushButton::clicked, this, go);
    connect(user_, &QLineEdit::returnPressed, this, go);
    connect(items_, &QLineEdit::returnPressed, this, go);
    connect(shares_, &QCheckBox::toggled, this, [this] { refill(); });
    connect(relative_, &QCheckBox::toggled, this, [this] { refill(); });
    connect(run_, &QComboBox::currentIndexChanged, this, &AttentionView::runChanged);
    connect(suggested_, &QComboBox::activated, this, [this, go](int k) {
        if (k > 0) {
            user_->setText(suggested_->itemData(k).toString());
            go();
        }
    });
    connect(top_, &QSpinBox::valueChanged, this, [this] { refill(); });
    connect(map_, &QComboBox::currentIndexChanged, this, &AttentionView::showMap);
}

void AttentionView::showMap(int k)
{
    if (k < 0 || k >= maps_.size())
        return;
    weights_ = shareValues_ = maps_[k];
    candidateLabels_ = mapColumns_[k];
    refill();
}

void AttentionView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs)
{
    databasePath_ = databasePath;
    const qint64 current = run_->currentData().toLongLong();
    {
        const QSignalBlocker block(run_);
        run_->clear();
        for (const auto& [id, label] : runs)
            run_->addItem(label, id);
        run_->setCurrentIndex(std::max(0, run_->findData(current))); // else the newest
    }
    if (run_->currentData().toLongLong() != current)
        runChanged();
}

void AttentionView::setShowShares(bool shares) { shares_->setChecked(shares); }

void AttentionView::showAttention(qint64 runId, const QString& userId, const QStringList& itemIds)
{
    if (runId <= 0 || userId.isEmpty()) {
        status_->setText(tr("Pick a run and type a user id."));
        emit failed(status_->text());
        return;
    }
    run_->setCurrentIndex(std::max(0, run_->findData(runId)));
    user_->setText(userId);
    if (!itemIds.isEmpty())
        items_->setText(itemIds.join(QStringLiteral(",")));
    const int generation = ++generation_;
    busy_ = true;
    showButton_->setEnabled(false);
    status_->setText(tr("Computing run %1's attention for user %2…").arg(runId).arg(userId));
    struct Answer {
        QStringList historyLabels, candidateLabels, candidateIds, historyIds;
        QList<QStringList> historyGenres, candidateGenres;
        QVector<double> weights, shares;
        QStringList mapNames;
        QList<QVector<double>> maps;
        QList<QStringList> mapColumns;
        QString error, note;
    };
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        busy_ = false;
        showButton_->setEnabled(true);
        Answer a = watcher->result();
        if (!a.error.isEmpty()) {
            status_->setText(a.error);
            emit failed(a.error);
            return;
        }
        historyLabels_ = a.historyLabels;
        candidateLabels_ = a.candidateLabels;
        candidateIds_ = a.candidateIds;
        historyIds_ = a.historyIds;
        historyGenres_ = a.historyGenres;
        candidateGenres_ = a.candidateGenres;
        weights_ = a.weights;
        shareValues_ = a.shares;
        maps_ = a.maps;
        mapColumns_ = a.mapColumns;
        const bool sequence = !a.mapNames.isEmpty();
        {
            const QSignalBlocker block(map_);
            const int current = map_->currentIndex();
            map_->clear();
            map_->addItems(a.mapNames);
            map_->setCurrentIndex(current >= 0 && current < map_->count() ? current : 0);
        }
        map_->setVisible(sequence);
        shares_->setEnabled(!sequence);
        if (sequence)
            showMap(map_->currentIndex());
        else
            refill();
        status_->setText(a.note);
        emit shown();
    });
    const std::string db = databasePath_.toStdString(), user = userId.toStdString();
    std::vector<std::string> items;
    for (const QString& id : itemIds)
        items.push_back(id.toStdString());
    auto cache = cache_;
    watcher->setFuture(QtConcurrent::run([cache, db, runId, user, items]() -> Answer {
        Answer a;
        try {
            const auto entry = cache->model(db, runId);
            const Dataset& data = *entry->data->dataset;
            const InteractionIndex& index = *entry->data->index;
            const int32_t u = userIndexOf(data, user);
            std::lock_guard lock(entry->use);
            std::vector<int32_t> candidates;
            for (const auto& id : items)
                candidates.push_back(itemIndexOf(data, id));
            const int historyLength = entry->stored.config.historyLength;
            auto title = [&](int32_t item) { return QString::fromStdString(itemTitle(data, item)); };
            auto genres = [&](int32_t item) {
                QStringList out;
                for (const auto& g : data.genresOf(item))
                    out << QString::fromStdString(g);
                return out;
            };
            auto addHistory = [&](const std::vector<int32_t>& history) {
                for (const int32_t h : history) {
                    a.historyGenres << genres(h);
                    a.historyIds << QString::fromStdString(data.itemIds[static_cast<size_t>(h)]);
                    a.historyLabels << title(h) + QStringLiteral(" — ") + a.historyGenres.back().join(QStringLiteral(", "));
                }
            };
            const auto* graph = dynamic_cast<const GraphModelImpl*>(entry->stored.model.get());
            if (graph && !graph->analysis().weighsBehaviours) {
                // A sequence model: its own maps, no candidates.
                const SequenceAttentionMaps m = sequenceAttention(*entry->stored.model, index, u, historyLength);
                addHistory(m.history);
                for (const auto& map : m.maps) {
                    const bool decoder = map.label == "decoder";
                    a.mapNames << QString::fromStdString(map.block + " · " + (decoder ? "each step over the history" : map.label));
                    QStringList columns;
                    for (int64_t r = 0; r < map.weights.size(0); ++r)
                        columns << (decoder ? QObject::tr("step %1 · %2").arg(r + 1).arg(r == 0 ? QObject::tr("the next item")
                                                                                            : QObject::tr("%1 after it").arg(r))
                                            : QStringLiteral("%1. %2").arg(r + 1).arg(title(m.history[static_cast<size_t>(r)])));
                    a.mapColumns << columns;
                    const torch::Tensor w = map.weights.t().contiguous().to(torch::kDouble);
                    a.maps << QVector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
                }
                a.note = QObject::tr("Run %1 (%2), user %3: %4 behaviours. Each column is what attends: a behaviour under "
                                     "a self-attention head (it sees itself and those before it) or a decoder step; each "
                                     "cell the weight it gives the behaviour of that row (the column sums to 1).")
                             .arg(runId)
                             .arg(QString::fromStdString(entry->stored.run.model))
                             .arg(QString::fromStdString(user))
                             .arg(m.history.size());
                return a;
            }
            if (candidates.empty()) {
                RecommendOptions o;
                o.k = 6;
                o.explain = 0;
                o.historyLength = historyLength;
                for (const auto& r : recommend(*entry->stored.model, index, u, o))
                    candidates.push_back(r.item);
            }
            const AttentionMap map = attentionMap(*entry->stored.model, index, u, candidates, historyLength);
            addHistory(map.history);
            for (size_t c = 0; c < map.candidates.size(); ++c) {
                const int32_t item = map.candidates[c];
                a.candidateGenres << genres(item);
                a.candidateIds << QString::fromStdString(data.itemIds[static_cast<size_t>(item)]);
                // The genre first: a long title is cut, the genre never.
                a.candidateLabels << QStringLiteral("%1 · %2 (%3)")
                                         .arg(a.candidateGenres.back().join(QStringLiteral(", ")), title(item))
                                         .arg(map.scores[c], 0, 'f', 2);
            }
            // Row-major history x candidates, as the heatmap draws them.
            const torch::Tensor w = map.weights.t().contiguous().to(torch::kDouble);
            const torch::Tensor s = map.shares.t().contiguous().to(torch::kDouble);
            a.weights = QVector<double>(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
            a.shares = QVector<double>(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
            a.note = QObject::tr("Run %1 (%2), user %3: %4 behaviours × %5 candidates%6. Scores are the model's logits.")
                         .arg(runId)
                         .arg(QString::fromStdString(entry->stored.run.model))
                         .arg(QString::fromStdString(user))
                         .arg(map.history.size())
                         .arg(map.candidates.size())
                         .arg(items.empty() ? QObject::tr(" (the user's top recommendations)") : QString());
        } catch (const std::exception& e) {
            a.error = QObject::tr("Run %1: %2").arg(runId).arg(QString::fromStdString(e.what()));
        }
        return a;
    }));
}

void AttentionView::refill()
{
    const QVector<double>& values = shares_->isChecked() ? shareValues_ : weights_;
    const int rows = static_cast<int>(historyLabels_.size()), columns = static_cast<int>(candidateLabels_.size());
    QVector<bool> marked(rows * columns, false);
    // Top contributors by raw weight, per candidate.
    for (int c = 0; c < columns; ++c) {
        std::vector<int> order(static_cast<size_t>(rows));
        for (int r = 0; r < rows; ++r)
            order[static_cast<size_t>(r)] = r;
        const int k = std::min(top_->value(), rows);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int a, int b) { return weights_[a * columns + c] > weights_[b * columns + c]; });
        for (int j = 0; j < k; ++j)
            marked[order[static_cast<size_t>(j)] * columns + c] = true;
    }
    // Colour: within each candidate from its lowest weight (0) to its highest (1), or the raw
    // weights about zero.
    QVector<double> colours(values.size(), 0.0);
    double extent = 0;
    for (const double v : weights_)
        extent = std::max(extent, std::abs(v));
    for (int c = 0; c < columns; ++c) {
        double lo = 0, hi = 0;
        for (int r = 0; r < rows; ++r) {
            const double v = weights_[r * columns + c];
            lo = r == 0 ? v : std::min(lo, v);
            hi = r == 0 ? v : std::max(hi, v);
        }
        for (int r = 0; r < rows; ++r) {
            const double v = weights_[r * columns + c];
            colours[r * columns + c] = relative_->isChecked() ? (hi > lo ? (v - lo) / (hi - lo) : 0.0)
                                                              : (extent > 0 ? v / extent : 0.0);
        }
    }
    const bool sequence = !maps_.isEmpty();
    heatmap_->setData(historyLabels_, candidateLabels_, values, marked,
                      sequence ? tr("attention weight") : shares_->isChecked() ? tr("share of the candidate's total weight")
                                                                           : tr("raw activation weight"),
                      colours,
                      relative_->isChecked()
                          ? tr("colour: within each %1, white = its least attended behaviour, dark red = its "
                               "most attended").arg(sequence ? tr("column") : tr("candidate"))
                          : tr("colour: raw weight, red above zero, blue below, white near zero (the weights are not "
                               "a softmax and may all be negative)"));
}

void AttentionView::runChanged()
{
    // A new run: nothing of the last one's answer stays on screen.
    ++generation_;
    busy_ = false;
    showButton_->setEnabled(true);
    historyLabels_.clear();
    candidateLabels_.clear();
    weights_.clear();
    shareValues_.clear();
    maps_.clear();
    mapColumns_.clear();
    map_->hide();
    shares_->setEnabled(true);
    heatmap_->setData({}, {}, {}, {}, QString());
    status_->setText(tr("DIN weighs each of a user's behaviours by its relevance to a candidate item; SASRec and "
                        "seq2seq attend within the sequence. Pick a user and press Show."));
    // On the sample: the users whose planted interest drifts.
    const bool sample = run_->currentText().endsWith(QStringLiteral(" · sample"));
    suggested_->setVisible(sample);
    if (sample && suggested_->count() == 0) {
        suggested_->addItem(tr("suggested users…"));
        const auto& names = sampleGenreNames();
        const auto planted = plantedInterests();
        const auto genreList = [&](const std::vector<int32_t>& genres) {
            QStringList out;
            for (const int32_t g : genres)
                out << QString::fromStdString(names[static_cast<size_t>(g)]);
            return out.join(QLatin1Char('+'));
        };
        for (size_t u = 0; u < planted.size() && suggested_->count() <= 12; ++u)
            if (!planted[u].endGenres.empty() && planted[u].startGenres != planted[u].endGenres)
                suggested_->addItem(tr("user %1: %2 → %3")
                                        .arg(u + 1)
                                        .arg(genreList(planted[u].startGenres), genreList(planted[u].endGenres)),
                                    QString::number(u + 1));
    }
    if (sample && user_->text().isEmpty() && suggested_->count() > 1)
        user_->setText(suggested_->itemData(1).toString());
}

} // namespace reclab
