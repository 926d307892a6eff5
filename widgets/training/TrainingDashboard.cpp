#include "training/TrainingDashboard.h"

#include "chart/MetricChart.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <QCheckBox>
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

} // namespace

TrainingDashboard::TrainingDashboard(QWidget* parent)
    : QWidget(parent), loss_(new MetricChart(tr("Training loss"))), metric_(new MetricChart(tr("Evaluation"))),
      charts_(new QSplitter(Qt::Vertical)), metricCombo_(new QComboBox), smoothing_(new QSlider(Qt::Horizontal)),
      smoothingLabel_(new QLabel), xAxis_(new QComboBox), logScale_(new QCheckBox(tr("Log scale"))),
      export_(new QToolButton)
{
    loss_->setKey(kBatchLoss);
    loss_->setShowLearningRates(true);
    auto* splitter = static_cast<QSplitter*>(charts_);
    splitter->addWidget(loss_);
    splitter->addWidget(metric_);
    splitter->setChildrenCollapsible(false);

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
    // Asks for a file and writes it; a failure is shown, not only logged.
    const auto exportAs = [this](const QString& filter, const QString& suffix,
                                 std::function<bool(const QString&, QString*)> write) {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export"), QStringLiteral("training.") + suffix, filter);
        QString error;
        if (!path.isEmpty() && !write(path, &error))
            QMessageBox::warning(this, tr("Export"), error);
    };
    connect(menu->addAction(tr("PNG picture…")), &QAction::triggered, this, [this, exportAs] {
        exportAs(tr("PNG (*.png)"), QStringLiteral("png"), [this](const QString& p, QString* e) { return exportPng(p, e); });
    });
    connect(menu->addAction(tr("SVG drawing…")), &QAction::triggered, this, [this, exportAs] {
        exportAs(tr("SVG (*.svg)"), QStringLiteral("svg"), [this](const QString& p, QString* e) { return exportSvg(p, e); });
    });
    connect(menu->addAction(tr("CSV of every point…")), &QAction::triggered, this, [this, exportAs] {
        exportAs(tr("CSV (*.csv)"), QStringLiteral("csv"), [this](const QString& p, QString* e) { return exportCsv(p, e); });
    });
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
    if (it == runs_.end() || !p.phase.empty()) // pre-training phases are not charted
        return;
    const double epoch = (p.epoch - 1) + static_cast<double>(p.batch) / std::max<int64_t>(1, p.batchesPerEpoch);
    it->second.curves[kBatchLoss].append({static_cast<double>(p.step), epoch, p.elapsedSeconds, p.loss});
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
    QVector<const RunCurves*> shown;
    for (const auto& [id, run] : runs_)
        shown.append(&run);
    loss_->setRuns(shown);
    metric_->setRuns(shown);
    fillMetricKeys();
    dirty_ = false;
    emit runsChanged();
}

void TrainingDashboard::fillMetricKeys()
{
    QStringList keys;
    for (const auto& [id, run] : runs_)
        for (auto it = run.curves.cbegin(); it != run.curves.cend(); ++it)
            if (isChartableMetric(it.key()) && !keys.contains(it.key()))
                keys.append(it.key());
    // Validation metrics first (what early stopping watches), then test metrics, then the rest.
    const auto rank = [](const QString& k) {
        if (k.startsWith(QLatin1String("val_")))
            return 0;
        if (k == QLatin1String("loss") || k == QLatin1String("learning_rate"))
            return 2;
        return 1;
    };
    std::sort(keys.begin(), keys.end(), [&](const QString& a, const QString& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
    });
    QStringList present;
    for (int k = 0; k < metricCombo_->count(); ++k)
        present.append(metricCombo_->itemText(k));
    if (present == keys)
        return;
    const QString before = metricCombo_->currentText();
    {
        const QSignalBlocker block(metricCombo_);
        metricCombo_->clear();
        metricCombo_->addItems(keys);
        metricCombo_->setCurrentIndex(std::max(0, static_cast<int>(keys.indexOf(before))));
    }
    applyMetricKey();
}

void TrainingDashboard::applyMetricKey()
{
    metric_->setKey(metricCombo_->currentText());
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
