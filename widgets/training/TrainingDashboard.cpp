#include "training/TrainingDashboard.h"

#include "chart/MetricChart.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <QChart>
#include <QCheckBox>
#include <QLegend>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSaveFile>
#include <QSlider>
#include <QSplitter>
#include <QSvgGenerator>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <algorithm>
#include <functional>

namespace reclab {

namespace {

const QString kBatchLoss = QStringLiteral("batch_loss");

// Epoch figures that are not a model's quality or training state.
bool isChartableMetric(const QString& key)
{
    static const QStringList skipped{kBatchLoss, QStringLiteral("train_seconds"), QStringLiteral("eval_seconds"),
                                     QStringLiteral("samples_per_second"), QStringLiteral("best_epoch")};
    return !skipped.contains(key) && !key.startsWith(QLatin1String("pretrain_"));
}

// The pre-training losses of a stored run ("pretrain_gmf_loss", ...) as its phases: their
// epochs fractional by step within each phase's epochs, then placed before the run's.
void readPhases(RunCurves& r)
{
    QList<QString> keys;
    for (auto it = r.curves.cbegin(); it != r.curves.cend(); ++it)
        if (it.key().startsWith(QLatin1String("pretrain_")) && it.key().endsWith(QLatin1String("_loss")) &&
            !it->isEmpty())
            keys.append(it.key());
    // In the order they ran.
    std::sort(keys.begin(), keys.end(),
              [&](const QString& a, const QString& b) { return r.curves[a].front().step < r.curves[b].front().step; });
    for (const QString& key : keys) {
        const QVector<CurvePoint>& points = r.curves[key];
        std::map<int, double> end, start;
        for (const CurvePoint& c : points) {
            const int e = static_cast<int>(c.epoch);
            end[e] = std::max(end.count(e) ? end[e] : c.step, c.step);
            start[e] = std::min(start.count(e) ? start[e] : c.step, c.step);
        }
        RunCurves& phase = phaseOf(r, key.mid(9, key.size() - 9 - 5));
        QVector<CurvePoint>& out = phase.curves[kBatchLoss];
        for (CurvePoint c : points) {
            const int e = static_cast<int>(c.epoch);
            // The epoch began one report before its first point: start - (first gap) ~ previous end.
            const double from = end.count(e - 1) ? end[e - 1] : start[e] - 1;
            c.epoch = (e - 1) + (end[e] > from ? (c.step - from) / (end[e] - from) : 1.0);
            out.append(c);
        }
    }
    placePhases(r);
}

} // namespace

TrainingDashboard::TrainingDashboard(QWidget* parent)
    : QWidget(parent), loss_(new MetricChart(tr("Training loss"))), metric_(new MetricChart(tr("Evaluation"))),
      charts_(new QSplitter(Qt::Vertical)), metricCombo_(new QComboBox), smoothing_(new QSlider(Qt::Horizontal)),
      smoothingLabel_(new QLabel), xAxis_(new QComboBox), logScale_(new QCheckBox(tr("Log scale"))),
      export_(new QToolButton)
{
    loss_->setKey(kBatchLoss);
    loss_->setShowLearningRates(true);
    // One legend for both charts (the same runs in the same colours): the loss chart's, which
    // also names the pre-training segments. The evaluation chart keeps its height for the plot.
    metric_->chart()->legend()->hide();
    auto* splitter = static_cast<QSplitter*>(charts_);
    splitter->addWidget(loss_);
    splitter->addWidget(metric_);
    splitter->setChildrenCollapsible(false);
    // The loss chart also holds the legend: it gets the larger share (55:45), so its axis labels
    // and title keep their height at 1280×800 instead of being elided to "…".
    splitter->setStretchFactor(0, 11);
    splitter->setStretchFactor(1, 9);
    splitter->setSizes({1100, 900});

    metricCombo_->setMinimumContentsLength(12);
    metricCombo_->setToolTip(tr("The evaluation metric of the lower chart (val_ ones are on the validation part)"));
    smoothing_->setRange(0, 99);
    smoothing_->setValue(60);
    smoothing_->setMaximumWidth(160);
    smoothing_->setToolTip(tr("Exponential moving average of the curves; the raw curve stays faintly behind"));
    xAxis_->addItem(tr("Step"), static_cast<int>(XAxisMode::Step));
    xAxis_->addItem(tr("Epoch"), static_cast<int>(XAxisMode::Epoch));
    xAxis_->addItem(tr("Wall time"), static_cast<int>(XAxisMode::WallTime));
    auto* reset = new QPushButton(tr("Reset view"));
    reset->setToolTip(tr("Back to the whole curves (also: double click or Home in a chart). Drag to zoom, "
                         "right-drag or arrow keys to pan, wheel to zoom about the cursor"));
    export_->setText(tr("Export"));
    export_->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(export_);
    connect(menu->addAction(tr("PNG picture…")), &QAction::triggered, this, [this] { exportAs(QStringLiteral("png")); });
    connect(menu->addAction(tr("SVG drawing…")), &QAction::triggered, this, [this] { exportAs(QStringLiteral("svg")); });
    connect(menu->addAction(tr("CSV of every point…")), &QAction::triggered, this,
            [this] { exportAs(QStringLiteral("csv")); });
    export_->setMenu(menu);
    auto* clear = new QPushButton(tr("Clear finished"));
    clear->setToolTip(tr("Remove the runs that are no longer training from the charts"));

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Metric")));
    bar->addWidget(metricCombo_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("Smoothing")));
    bar->addWidget(smoothing_);
    bar->addWidget(smoothingLabel_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("X axis")));
    bar->addWidget(xAxis_);
    bar->addWidget(logScale_);
    bar->addStretch(1);
    bar->addWidget(reset);
    bar->addWidget(export_);
    bar->addWidget(clear);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(charts_, 1);

    const auto updateSmoothing = [this] {
        const double w = smoothing_->value() / 100.0;
        smoothingLabel_->setText(QString::number(w, 'f', 2));
        loss_->setSmoothing(w);
        metric_->setSmoothing(w);
    };
    connect(smoothing_, &QSlider::valueChanged, this, updateSmoothing);
    updateSmoothing();
    connect(xAxis_, &QComboBox::currentIndexChanged, this, [this] {
        const auto mode = static_cast<XAxisMode>(xAxis_->currentData().toInt());
        loss_->setXMode(mode);
        metric_->setXMode(mode);
    });
    connect(logScale_, &QCheckBox::toggled, this, [this](bool on) {
        loss_->setLogScale(on);
        metric_->setLogScale(on);
    });
    connect(reset, &QPushButton::clicked, this, [this] {
        loss_->resetView();
        metric_->resetView();
    });
    connect(clear, &QPushButton::clicked, this, &TrainingDashboard::clearFinished);
    connect(metricCombo_, &QComboBox::currentIndexChanged, this, &TrainingDashboard::applyMetricKey);
    connect(metricCombo_, &QComboBox::activated, this, [this] { userMetric_ = metricCombo_->currentText(); });

    flushTimer_.setInterval(40); // 25 Hz
    connect(&flushTimer_, &QTimer::timeout, this, &TrainingDashboard::flush);
    flushTimer_.start();
}

void TrainingDashboard::addLiveRun(qint64 runId, const QString& label)
{
    RunCurves& r = runs_[runId];
    r.runId = runId;
    r.label = label;
    r.colour = runColour(runId);
    r.live = true;
    r.curves.clear();
    r.learningRateChanges.clear();
    r.phases.clear();
    r.phasesPlaced = false;
    lastLearningRate_.remove(runId);
    showRuns();
}

void TrainingDashboard::finishRun(qint64 runId)
{
    const auto it = runs_.find(runId);
    if (it != runs_.end())
        it->second.live = false;
    flush();
}

void TrainingDashboard::continueRun(qint64 runId, const QString& label)
{
    const auto it = runs_.find(runId);
    if (it == runs_.end()) {
        addLiveRun(runId, label);
        return;
    }
    RunCurves& r = it->second;
    r.live = true;
    r.label = label;
    const QVector<CurvePoint>& rates = r.curves[QStringLiteral("learning_rate")];
    if (!rates.isEmpty())
        lastLearningRate_[runId] = rates.back().value;
    showRuns();
}

RunCurves TrainingDashboard::readStoredRun(const QString& databasePath, qint64 runId)
{
    ExperimentStore store(databasePath.toStdString());
    const auto record = store.findRun(runId);
    if (!record)
        throw Error(tr("%1 has no run %2").arg(databasePath).arg(runId).toStdString());
    const auto points = store.metrics(runId);
    RunCurves r;
    r.runId = runId;
    r.label = QStringLiteral("#%1 %2").arg(runId).arg(QString::fromStdString(record->model));
    r.colour = runColour(runId);
    const double start =
        QDateTime::fromString(QString::fromStdString(record->startedAt), Qt::ISODate).toMSecsSinceEpoch() / 1000.0;
    // Each epoch's last step, to place batch points at fractional epochs.
    std::map<int, double> epochEnd;
    for (const auto& p : points)
        if (p.key == "loss")
            epochEnd[p.epoch] = static_cast<double>(p.step);
    double previousRate = 0;
    for (const auto& p : points) {
        CurvePoint c{static_cast<double>(p.step), static_cast<double>(p.epoch), p.wallTime - start, p.value};
        if (p.key == "batch_loss" && epochEnd.count(p.epoch)) {
            const double from = epochEnd.count(p.epoch - 1) ? epochEnd[p.epoch - 1] : 0.0;
            const double to = epochEnd[p.epoch];
            c.epoch = (p.epoch - 1) + (to > from ? (c.step - from) / (to - from) : 1.0);
        }
        if (p.key == "learning_rate") {
            if (previousRate > 0 && p.value != previousRate) {
                const double from = epochEnd.count(p.epoch - 1) ? epochEnd[p.epoch - 1] : 0.0;
                r.learningRateChanges.append({from, static_cast<double>(p.epoch - 1), c.seconds, p.value});
            }
            previousRate = p.value;
        }
        r.curves[QString::fromStdString(p.key)].append(c);
    }
    readPhases(r);
    return r;
}

bool TrainingDashboard::addStoredRun(const QString& databasePath, qint64 runId, QString* error)
{
    try {
        runs_[runId] = readStoredRun(databasePath, runId);
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromUtf8(e.what());
        return false;
    }
    showRuns();
    return true;
}

void TrainingDashboard::showStoredRun(const QString& databasePath, qint64 runId)
{
    if (hasRun(runId) || !loading_.insert(runId).second)
        return;
    struct Read {
        RunCurves curves;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Read>(this);
    connect(watcher, &QFutureWatcher<Read>::finished, this, [this, watcher, runId] {
        Read read = watcher->result();
        watcher->deleteLater();
        loading_.erase(runId);
        if (!read.error.isEmpty()) {
            emit storedRunFailed(runId, read.error);
            return;
        }
        if (hasRun(runId))
            return; // it started training again (resumed) or was added meanwhile
        runs_[runId] = std::move(read.curves);
        showRuns();
        emit storedRunShown(runId);
    });
    watcher->setFuture(QtConcurrent::run([databasePath, runId] {
        Read read;
        try {
            read.curves = readStoredRun(databasePath, runId);
        } catch (const std::exception& e) {
            read.error = QString::fromUtf8(e.what());
        }
        return read;
    }));
}

void TrainingDashboard::removeRun(qint64 runId)
{
    runs_.erase(runId);
    showRuns();
}

void TrainingDashboard::clearFinished()
{
    for (auto it = runs_.begin(); it != runs_.end();)
        it = it->second.live ? std::next(it) : runs_.erase(it);
    showRuns();
}

QList<qint64> TrainingDashboard::runIds() const
{
    QList<qint64> ids;
    for (const auto& [id, run] : runs_)
        ids.append(id);
    return ids;
}

const RunCurves* TrainingDashboard::run(qint64 runId) const
{
    const auto it = runs_.find(runId);
    return it == runs_.end() ? nullptr : &it->second;
}

int TrainingDashboard::pointCount(qint64 runId, const QString& key) const
{
    const RunCurves* r = run(runId);
    return r ? static_cast<int>(r->curves.value(key).size()) : 0;
}

void TrainingDashboard::addBatch(qint64 runId, const BatchProgress& p)
{
    const auto it = runs_.find(runId);
    if (it == runs_.end())
        return;
    RunCurves& r = it->second;
    const double epoch = (p.epoch - 1) + static_cast<double>(p.batch) / std::max<int64_t>(1, p.batchesPerEpoch);
    const CurvePoint point{static_cast<double>(p.step), epoch, p.elapsedSeconds, p.loss};
    if (!p.phase.empty()) {
        // A pre-training phase: its own dashed segment of the loss chart.
        const size_t phases = r.phases.size();
        phaseOf(r, QString::fromStdString(p.phase)).curves[kBatchLoss].append(point);
        if (r.phases.size() != phases)
            showRuns(); // a new series (and the phases moved in memory)
        dirty_ = true;
        return;
    }
    if (!r.phases.empty() && !r.phasesPlaced) {
        placePhases(r); // the run's own epochs begin: the phases' epochs go before 0
        showRuns();
    }
    r.curves[kBatchLoss].append(point);
    dirty_ = true;
}

void TrainingDashboard::addEpoch(qint64 runId, const EpochStats& s)
{
    const auto it = runs_.find(runId);
    if (it == runs_.end())
        return;
    RunCurves& r = it->second;
    const auto at = [&](double value) {
        return CurvePoint{static_cast<double>(s.step), static_cast<double>(s.epoch), s.elapsedSeconds, value};
    };
    // A new learning rate took effect where this epoch began: where the previous one ended.
    if (lastLearningRate_.contains(runId) && lastLearningRate_.value(runId) != s.learningRate) {
        const QVector<CurvePoint>& losses = r.curves[QStringLiteral("loss")];
        const CurvePoint start = losses.isEmpty() ? CurvePoint{} : losses.back();
        r.learningRateChanges.append({start.step, start.epoch, start.seconds, s.learningRate});
    }
    lastLearningRate_[runId] = s.learningRate;
    r.curves[QStringLiteral("loss")].append(at(s.loss));
    if (s.learningRate > 0)
        r.curves[QStringLiteral("learning_rate")].append(at(s.learningRate));
    for (const auto& m : s.metrics) {
        const QString key = QString::fromStdString(m.name);
        if (!r.curves.contains(key))
            keysDirty_ = true;
        r.curves[key].append(at(m.value));
    }
    dirty_ = true;
}

void TrainingDashboard::flush()
{
    if (keysDirty_) {
        keysDirty_ = false;
        fillMetricKeys();
    }
    if (!dirty_)
        return;
    dirty_ = false;
    loss_->refresh();
    metric_->refresh();
}

void TrainingDashboard::showRuns()
{
    QVector<const RunCurves*> shown, withPhases;
    for (const auto& [id, run] : runs_) {
        shown.append(&run);
        for (const RunCurves& phase : run.phases)
            withPhases.append(&phase);
        withPhases.append(&run);
    }
    loss_->setRuns(withPhases);
    metric_->setRuns(shown);
    fillMetricKeys();
    dirty_ = false;
    emit runsChanged();
}

void TrainingDashboard::fillMetricKeys()
{
    QStringList keys;
    QHash<QString, int> runsWith;
    for (const auto& [id, run] : runs_)
        for (auto it = run.curves.cbegin(); it != run.curves.cend(); ++it)
            if (isChartableMetric(it.key()) && !it->isEmpty() && runsWith[it.key()]++ == 0)
                keys.append(it.key());
    // Validation metrics first (what early stopping watches), then test metrics, then the rest;
    // within each, the usual headline metrics first.
    const auto rank = [](const QString& k) {
        if (k.startsWith(QLatin1String("val_")))
            return 0;
        if (k == QLatin1String("loss") || k == QLatin1String("learning_rate"))
            return 2;
        return 1;
    };
    static const QStringList headline{QStringLiteral("hr@10"), QStringLiteral("ndcg@10"), QStringLiteral("auc"),
                                      QStringLiteral("gauc"), QStringLiteral("rmse")};
    const auto order = [&](const QString& k) {
        const qsizetype h = headline.indexOf(k.startsWith(QLatin1String("val_")) ? k.mid(4) : k);
        return h < 0 ? headline.size() : h;
    };
    std::sort(keys.begin(), keys.end(), [&](const QString& a, const QString& b) {
        if (rank(a) != rank(b))
            return rank(a) < rank(b);
        return order(a) != order(b) ? order(a) < order(b) : a < b;
    });
    // The default: what the user picked, else the first metric every shown run has (a chart of
    // one run out of three compares nothing), else the one shown before.
    const int runs = static_cast<int>(runs_.size());
    QString wanted = keys.contains(userMetric_) ? userMetric_ : QString();
    for (const QString& k : std::as_const(keys))
        if (wanted.isEmpty() && runsWith.value(k) == runs && rank(k) < 2)
            wanted = k;
    if (wanted.isEmpty())
        wanted = keys.contains(metricCombo_->currentText()) ? metricCombo_->currentText() : keys.value(0);
    QStringList present;
    for (int k = 0; k < metricCombo_->count(); ++k)
        present.append(metricCombo_->itemText(k));
    {
        const QSignalBlocker block(metricCombo_);
        if (present != keys) {
            metricCombo_->clear();
            metricCombo_->addItems(keys);
        }
        for (int k = 0; k < keys.size(); ++k)
            metricCombo_->setItemData(k,
                                      runsWith.value(keys[k]) == runs
                                          ? tr("every shown run has %1").arg(keys[k])
                                          : tr("%1 of the %2 shown runs have %3").arg(runsWith.value(keys[k])).arg(runs).arg(keys[k]),
                                      Qt::ToolTipRole);
        metricCombo_->setCurrentIndex(std::max(0, static_cast<int>(keys.indexOf(wanted))));
    }
    applyMetricKey();
}

void TrainingDashboard::applyMetricKey()
{
    metric_->setKey(metricCombo_->currentText());
}

void TrainingDashboard::setChartsSideBySide(bool on)
{
    static_cast<QSplitter*>(charts_)->setOrientation(on ? Qt::Horizontal : Qt::Vertical);
    // Beside each other the charts are short: the legend goes to the side, not below.
    loss_->chart()->legend()->setAlignment(on ? Qt::AlignRight : Qt::AlignBottom);
}

void TrainingDashboard::exportAs(const QString& suffix)
{
    const QString filter = suffix == QLatin1String("png")   ? tr("PNG (*.png)")
                           : suffix == QLatin1String("svg") ? tr("SVG (*.svg)")
                                                            : tr("CSV (*.csv)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export"), QStringLiteral("training.") + suffix, filter);
    if (path.isEmpty())
        return;
    QString error;
    const bool ok = suffix == QLatin1String("png")   ? exportPng(path, &error)
                    : suffix == QLatin1String("svg") ? exportSvg(path, &error)
                                                     : exportCsv(path, &error);
    if (!ok) // a failure is shown, not only logged
        QMessageBox::warning(this, tr("Export"), error);
}

bool TrainingDashboard::exportPng(const QString& path, QString* error)
{
    flush();
    if (charts_->grab().save(path, "PNG"))
        return true;
    if (error)
        *error = tr("Cannot write %1").arg(path);
    return false;
}

bool TrainingDashboard::exportSvg(const QString& path, QString* error)
{
    flush();
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(charts_->size());
    svg.setViewBox(QRect(QPoint(0, 0), charts_->size()));
    svg.setTitle(tr("RecLab training"));
    QPainter painter;
    if (!painter.begin(&svg)) {
        if (error)
            *error = tr("Cannot write %1").arg(path);
        return false;
    }
    charts_->render(&painter);
    painter.end();
    return true;
}

bool TrainingDashboard::exportCsv(const QString& path, QString* error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    out << "run_id,run,metric,step,epoch,seconds,value,smoothed\n";
    loss_->writeCsv(out);
    if (metric_->key() != loss_->key())
        metric_->writeCsv(out);
    out.flush();
    if (!file.commit()) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace reclab
