#include "inspection/EmbeddingExport.h"
#include "train/EmbeddingSnapshots.h"
#include "inspection/Projection.h"
#include "inspection/StoredRun.h"
#include "util/Error.h"

#include "inspect/ProjectorView.h"
#include "inspect/ProjectorState.h"
#include "inspect/ProjectorRows.h"
#include "inspect/ScatterPlot.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QCoreApplication>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <algorithm>
#include <atomic>
#include <map>

namespace reclab {

namespace {

QVector<QPointF> toPoints(const torch::Tensor& coordinates)
{
    const torch::Tensor c = coordinates.to(torch::kDouble).contiguous();
    const double* p = c.data_ptr<double>();
    QVector<QPointF> out(static_cast<int>(c.size(0)));
    for (int i = 0; i < out.size(); ++i)
        out[i] = QPointF(p[2 * i], p[2 * i + 1]);
    return out;
}

} // namespace

ProjectorView::ProjectorView(std::shared_ptr<InspectionCache> cache, QWidget* parent)
    : QWidget(parent), cache_(std::move(cache)), state_(std::make_unique<State>()), plot_(new ScatterPlot),
      run_(new QComboBox), table_(new QComboBox), method_(new QComboBox), colour_(new QComboBox),
      perplexity_(new QSpinBox), iterations_(new QSpinBox), epochSlider_(new QSlider(Qt::Horizontal)),
      epochLabel_(new QLabel), play_(new QPushButton(tr("Play"))), project_(new QPushButton(tr("Project"))),
      stop_(new QPushButton(tr("Stop"))), export_(new QPushButton(tr("Export…"))), search_(new QLineEdit),
      pathUser_(new QLineEdit), neighbours_(new QTreeWidget), status_(new QLabel), progress_(new QProgressBar), playTimer_(new QTimer(this))
{
    run_->setMinimumContentsLength(28);
    method_->addItems({QStringLiteral("PCA"), QStringLiteral("t-SNE")});
    perplexity_->setRange(2, 100);
    perplexity_->setValue(30);
    perplexity_->setPrefix(tr("perplexity "));
    iterations_->setRange(250, 5000);
    iterations_->setSingleStep(250);
    iterations_->setValue(1000);
    iterations_->setPrefix(tr("iterations "));
    play_->setCheckable(true);
    stop_->setEnabled(false);
    search_->setPlaceholderText(tr("Search titles or ids"));
    search_->setClearButtonEnabled(true);
    progress_->setRange(0, 100);
    progress_->setMaximumWidth(160);
    progress_->setVisible(false);
    epochSlider_->setPageStep(1);
    epochSlider_->setMinimumWidth(140);
    neighbours_->setHeaderLabels({tr("Nearest (cosine)"), tr("Similarity")});
    neighbours_->setRootIsDecorated(false);
    neighbours_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    neighbours_->header()->setStretchLastSection(false);
    playTimer_->setInterval(700);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Run")));
    top->addWidget(run_, 2);
    top->addWidget(new QLabel(tr("Table")));
    top->addWidget(table_, 1);
    top->addWidget(new QLabel(tr("Epoch")));
    top->addWidget(epochSlider_, 1);
    top->addWidget(epochLabel_);
    top->addWidget(play_);
    auto* second = new QHBoxLayout;
    second->addWidget(method_);
    second->addWidget(perplexity_);
    second->addWidget(iterations_);
    second->addWidget(project_);
    second->addWidget(stop_);
    second->addWidget(progress_);
    second->addSpacing(12);
    second->addWidget(new QLabel(tr("Colour by")));
    second->addWidget(colour_);
    second->addWidget(search_, 1);
    pathUser_->setPlaceholderText(tr("user path: user id"));
    pathUser_->setClearButtonEnabled(true);
    pathUser_->setMaximumWidth(150);
    pathUser_->setToolTip(tr("A next-item model's state after each of the user's latest 20 behaviours, drawn as a path "
                             "through the item map: each state at the mean of the 10 items it scores highest, "
                             "weighted by their softmax (the run's final model)"));
    second->addWidget(pathUser_);
    second->addWidget(export_);
    auto* splitter = new QSplitter;
    splitter->addWidget(plot_);
    splitter->addWidget(neighbours_);
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({900, 300});
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(second);
    layout->addWidget(splitter, 1);
    layout->addWidget(status_);

    connect(run_, &QComboBox::activated, this, [this](int i) { showRun(run_->itemData(i).toLongLong()); });
    connect(table_, &QComboBox::activated, this, [this] { presentVectors(); });
    connect(epochSlider_, &QSlider::valueChanged, this, [this] { loadEpoch(); });
    connect(colour_, &QComboBox::currentIndexChanged, this, [this] { recolour(); });
    connect(project_, &QPushButton::clicked, this, &ProjectorView::project);
    connect(method_, &QComboBox::activated, this, [this] {
        if (state_->vectors.defined())
            project();
    });
    connect(stop_, &QPushButton::clicked, this, &ProjectorView::stop);
    connect(play_, &QPushButton::toggled, this, &ProjectorView::play);
    connect(search_, &QLineEdit::textChanged, this, &ProjectorView::search);
    connect(pathUser_, &QLineEdit::returnPressed, this, [this] { showUserPath(pathUser_->text().trimmed()); });
    connect(export_, &QPushButton::clicked, this, &ProjectorView::askExport);
    connect(plot_, &ScatterPlot::pointClicked, this, &ProjectorView::selectPoint);
    connect(neighbours_, &QTreeWidget::itemActivated, this,
            [this](QTreeWidgetItem* item) { selectPoint(item->data(0, Qt::UserRole).toInt()); });
    connect(playTimer_, &QTimer::timeout, this, [this] {
        if (state_->busy)
            return;
        if (epochSlider_->value() >= epochSlider_->maximum())
            play_->setChecked(false);
        else
            epochSlider_->setValue(epochSlider_->value() + 1);
    });
    setIdle(tr("Pick a run: every run of a model with user or item embeddings keeps a snapshot per epoch."));
}

ProjectorView::~ProjectorView()
{
    if (state_->stop)
        *state_->stop = true;
}

void ProjectorView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs)
{
    databasePath_ = databasePath;
    const QSignalBlocker block(run_);
    run_->clear();
    for (const auto& [id, label] : runs)
        run_->addItem(label, id);
    const int at = run_->findData(runId_);
    run_->setCurrentIndex(at);
}

void ProjectorView::setDefaultRun(qint64 runId)
{
    defaultRun_ = runId;
    if (runId_ == 0 && runId > 0) {
        const QSignalBlocker block(run_);
        run_->setCurrentIndex(run_->findData(runId));
        if (isVisible())
            showRun(runId);
    }
}

void ProjectorView::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    // Opened with nothing picked: the default run, so the run, table and colour lists are filled.
    if (runId_ == 0 && defaultRun_ > 0 && run_->findData(defaultRun_) >= 0)
        showRun(defaultRun_);
}

bool ProjectorView::isBusy() const { return state_->busy; }

int ProjectorView::epoch() const
{
    const int i = epochSlider_->value();
    return i >= 0 && i < static_cast<int>(state_->snapshots.size()) ? state_->snapshots[static_cast<size_t>(i)].epoch : 0;
}

QString ProjectorView::method() const { return method_->currentText(); }

void ProjectorView::setBusy(const QString& message)
{
    state_->busy = true;
    status_->setText(message);
    progress_->setVisible(true);
    stop_->setEnabled(true);
    project_->setEnabled(false);
}

void ProjectorView::setIdle(const QString& message)
{
    state_->busy = false;
    status_->setText(message);
    progress_->setVisible(false);
    stop_->setEnabled(false);
    project_->setEnabled(state_->vectors.defined());
    export_->setEnabled(state_->vectors.defined());
}

void ProjectorView::fail(const QString& error)
{
    setIdle(error);
    play_->setChecked(false);
    emit failed(error);
}

void ProjectorView::showRun(qint64 runId)
{
    stop();
    runId_ = runId;
    run_->setCurrentIndex(run_->findData(runId));
    const int generation = ++generation_;
    setBusy(tr("Reading run %1's snapshots and data…").arg(runId));
    progress_->setRange(0, 0);
    struct Answer {
        std::shared_ptr<InspectionCache::Data> data;
        std::string runDir;
        std::vector<EmbeddingSnapshotInfo> snapshots;
        std::map<std::string, ProjectorRows> rows;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation, runId] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        Answer a = watcher->result();
        progress_->setRange(0, 100);
        if (!a.error.isEmpty())
            return fail(a.error);
        if (a.snapshots.empty())
            return fail(tr("Run %1 has no embedding snapshots: its model has no user or item embedding tables (e.g. "
                           "KNN, popularity), or it stopped before its first epoch ended.")
                            .arg(runId));
        state_->data = std::move(a.data);
        state_->rows = std::move(a.rows);
        state_->runDir = std::move(a.runDir);
        state_->snapshots = std::move(a.snapshots);
        state_->coordinates = torch::Tensor();
        state_->vectors = torch::Tensor();
        {
            const QSignalBlocker block(epochSlider_);
            epochSlider_->setRange(0, static_cast<int>(state_->snapshots.size()) - 1);
            epochSlider_->setValue(epochSlider_->maximum());
        }
        loadEpoch();
    });
    const std::string db = databasePath_.toStdString();
    auto cache = cache_;
    watcher->setFuture(QtConcurrent::run([cache, db, runId]() -> Answer {
        Answer a;
        try {
            a.runDir = runArtifactDir(db, runId);
            a.snapshots = listEmbeddingSnapshots(a.runDir);
            if (!a.snapshots.empty()) {
                a.data = cache->data(db, runId);
                for (const char* kind : {"users", "items"})
                    a.rows.emplace(kind, describeProjectorRows(*a.data->dataset, kind));
            }
        } catch (const std::exception& e) {
            a.error = QString::fromStdString(e.what());
        }
        return a;
    }));
}

void ProjectorView::setEpochIndex(int index) { epochSlider_->setValue(index); }

void ProjectorView::setTable(const QString& name)
{
    table_->setCurrentIndex(table_->findText(name));
    presentVectors();
}

void ProjectorView::loadEpoch()
{
    if (state_->snapshots.empty())
        return;
    const int epoch = this->epoch();
    epochLabel_->setText(tr("%1 of %2").arg(epoch).arg(state_->snapshots.back().epoch));
    const int generation = ++generation_;
    if (state_->stop)
        *state_->stop = true;
    setBusy(tr("Reading epoch %1…").arg(epoch));
    struct Answer {
        std::vector<EmbeddingTable> tables;
        std::vector<torch::Tensor> maps;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        Answer a = watcher->result();
        if (!a.error.isEmpty())
            return fail(a.error);
        state_->tables = std::move(a.tables);
        state_->maps = std::move(a.maps);
        const QString current = table_->currentText();
        {
            const QSignalBlocker block(table_);
            table_->clear();
            for (const auto& t : state_->tables)
                table_->addItem(QString::fromStdString(t.name), QString::fromStdString(t.kind));
            // The table shown before, else the first item table: items carry genres, the
            // structure a learned embedding shows best.
            const int keep = table_->findText(current);
            const int items = table_->findData(QStringLiteral("items"));
            table_->setCurrentIndex(keep >= 0 ? keep : std::max(0, items));
        }
        presentVectors();
    });
    const std::string dir = state_->runDir;
    watcher->setFuture(QtConcurrent::run([dir, epoch]() -> Answer {
        Answer a;
        try {
            a.tables = readEmbeddingSnapshot(dir, epoch);
            for (const auto& t : a.tables) // PCA here, off the GUI thread (30 ms for 10,000 x 64)
                a.maps.push_back(t.weights.size(0) >= 3 ? pca(t.weights, 2).coordinates : torch::Tensor());
        } catch (const std::exception& e) {
            a.error = QString::fromStdString(e.what());
        }
        return a;
    }));
}

void ProjectorView::presentVectors()
{
    ++pathGeneration_;
    plot_->setPath({}, {}); // a path belongs to the map it was drawn on
    const int t = table_->currentIndex();
    if (t < 0 || t >= static_cast<int>(state_->tables.size()))
        return;
    const EmbeddingTable& table = state_->tables[static_cast<size_t>(t)];
    if (table.weights.size(0) < 3) {
        fail(tr("Table %1 at epoch %2 has %3 rows: too few to project.")
                 .arg(QString::fromStdString(table.name))
                 .arg(epoch())
                 .arg(table.weights.size(0)));
        return;
    }
    const bool newTable = !state_->vectors.defined() || state_->kind != table.kind ||
                          state_->vectors.size(0) != table.weights.size(0) ||
                          table_->property("shown").toString() != table_->currentText();
    table_->setProperty("shown", table_->currentText());
    state_->vectors = table.weights;
    state_->unit = unitRows(table.weights);
    if (newTable) {
        state_->kind = table.kind;
        const QString keep = colour_->currentText();
        const QSignalBlocker block(colour_);
        colour_->clear();
        colour_->addItem(tr("none"));
        for (const auto& c : state_->shown().metadata.columns)
            if (c == "genre" || c == "popularity" || c == "activity")
                colour_->addItem(QString::fromStdString(c));
        const int at = colour_->findText(keep);
        colour_->setCurrentIndex(at >= 0 ? at : std::min(1, colour_->count() - 1));
    }
    // PCA first, always, rotated onto the previous frame of this table; with t-SNE chosen, its
    // map then replaces it as it converges.
    torch::Tensor coordinates = state_->maps[static_cast<size_t>(t)];
    if (!newTable)
        coordinates = procrustesAlign(coordinates, state_->coordinates);
    state_->coordinates = coordinates;
    if (newTable)
        recolour();
    else
        plot_->setPositions(toPoints(coordinates));
    setIdle(tr("Run %1, %2 (%3 × %4), epoch %5, PCA")
                .arg(runId_)
                .arg(table_->currentText())
                .arg(state_->vectors.size(0))
                .arg(state_->vectors.size(1))
                .arg(epoch()));
    emit shown();
    if (method_->currentIndex() == 1 && !play_->isChecked())
        project();
}

void ProjectorView::recolour()
{
    if (!state_->coordinates.defined())
        return;
    const ProjectorRows& rows = state_->shown();
    const auto& meta = rows.metadata;
    const auto column = std::find(meta.columns.begin(), meta.columns.end(), colour_->currentText().toStdString());
    QVector<int> category(static_cast<int>(meta.rows.size()), -1);
    QStringList names;
    if (column != meta.columns.end()) {
        const auto c = static_cast<size_t>(column - meta.columns.begin());
        std::map<std::string, int> counts;
        for (const auto& row : meta.rows)
            ++counts[row[c]];
        std::vector<std::pair<int, std::string>> order;
        for (const auto& [value, n] : counts)
            order.emplace_back(-n, value);
        std::sort(order.begin(), order.end()); // the most common value first
        std::map<std::string, int> index;
        for (const auto& [n, value] : order) {
            index[value] = static_cast<int>(names.size());
            names << QString::fromStdString(value.empty() ? std::string("(none)") : value);
        }
        for (size_t r = 0; r < meta.rows.size(); ++r)
            category[static_cast<int>(r)] = index[meta.rows[r][c]];
    }
    const int selected = plot_->selected();
    plot_->setPoints(toPoints(state_->coordinates), category, names, rows.labels);
    if (!search_->text().isEmpty())
        search(search_->text());
    if (selected >= 0)
        selectPoint(selected);
}

void ProjectorView::project()
{
    if (!state_->vectors.defined() || play_->isChecked())
        return;
    if (method_->currentIndex() == 0) {
        state_->coordinates = state_->maps[static_cast<size_t>(table_->currentIndex())];
        plot_->setPositions(toPoints(state_->coordinates));
        emit projected();
        return;
    }
    TsneOptions options;
    options.perplexity = perplexity_->value();
    options.iterations = iterations_->value();
    const int64_t n = state_->vectors.size(0);
    if (n <= 3 * options.perplexity) {
        fail(tr("t-SNE needs more than 3 × perplexity points: %1 has %2; lower the perplexity below %3.")
                 .arg(table_->currentText())
                 .arg(n)
                 .arg(n / 3.0, 0, 'f', 1));
        return;
    }
    if (state_->stop)
        *state_->stop = true;
    auto stopFlag = std::make_shared<std::atomic<bool>>(false);
    state_->stop = stopFlag;
    const int generation = ++generation_;
    setBusy(tr("t-SNE of %1 points…").arg(n));
    progress_->setValue(0);
    // The worker posts its maps to the application object, and `self` is checked there, on the
    // GUI thread: reading a QPointer on another thread races with the view's destruction.
    QPointer<ProjectorView> self(this);
    const torch::Tensor vectors = state_->vectors;
    auto* watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, generation, stopFlag, options] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        const QString error = watcher->result();
        if (!error.isEmpty())
            return fail(error);
        setIdle(tr("Run %1, %2, epoch %3, t-SNE (perplexity %4, %5 iterations)%6")
                    .arg(runId_)
                    .arg(table_->currentText())
                    .arg(epoch())
                    .arg(options.perplexity)
                    .arg(options.iterations)
                    .arg(*stopFlag ? tr(", stopped early") : QString()));
        emit projected();
    });
    watcher->setFuture(QtConcurrent::run([self, vectors, options, stopFlag, generation]() -> QString {
        try {
            const torch::Tensor map = tsne(
                vectors, options,
                [&](const TsneProgress& p) {
                    const QVector<QPointF> points = toPoints(p.coordinates);
                    const int percent = 100 * p.iteration / options.iterations;
                    const double kl = p.klDivergence;
                    const torch::Tensor coordinates = p.coordinates.clone();
                    QMetaObject::invokeMethod(
                        QCoreApplication::instance(),
                        [self, points, percent, kl, coordinates, generation] {
                            if (!self || generation != self->generation_)
                                return;
                            self->state_->coordinates = coordinates;
                            self->plot_->setPositions(points);
                            self->progress_->setValue(percent);
                            self->status_->setText(tr("t-SNE: %1%, KL divergence %2").arg(percent).arg(kl, 0, 'f', 3));
                        },
                        Qt::QueuedConnection);
                },
                stopFlag.get());
            QMetaObject::invokeMethod(
                QCoreApplication::instance(),
                [self, map, generation] {
                    if (!self || generation != self->generation_)
                        return;
                    self->state_->coordinates = map;
                    self->plot_->setPositions(toPoints(map));
                },
                Qt::QueuedConnection);
            return {};
        } catch (const std::exception& e) {
            return QString::fromStdString(e.what());
        }
    }));
}

void ProjectorView::stop()
{
    if (state_->stop)
        *state_->stop = true;
}

void ProjectorView::play(bool on)
{
    if (on) {
        if (state_->snapshots.size() < 2) {
            play_->setChecked(false);
            status_->setText(tr("This run has one snapshot: nothing to play."));
            return;
        }
        stop();
        method_->setCurrentIndex(0); // each frame by PCA, rotated onto the previous one
        if (epochSlider_->value() >= epochSlider_->maximum())
            epochSlider_->setValue(0);
        playTimer_->start();
    } else {
        playTimer_->stop();
    }
    if (play_->isChecked() != on)
        play_->setChecked(on);
    play_->setText(on ? tr("Pause") : tr("Play"));
}

} // namespace reclab
