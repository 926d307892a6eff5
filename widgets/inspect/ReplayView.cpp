#include "inspection/StoredRun.h"
#include "zoo/ModelRegistry.h"

#include "inspect/ReplayView.h"
#include "inspect/RunChoice.h"

#include <QBarCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QValueAxis>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace reclab {

namespace {

QLineSeries* line(const QString& name, const QColor& colour, bool dashed)
{
    auto* s = new QLineSeries;
    s->setName(name);
    QPen pen(colour, 2);
    if (dashed)
        pen.setStyle(Qt::DashLine);
    s->setPen(pen);
    s->setPointsVisible(true);
    return s;
}

QChartView* chartOf(const QString& title, QLineSeries* a, QLineSeries* b, QBarCategoryAxis* x, QAbstractAxis* y)
{
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->addSeries(a);
    chart->addSeries(b);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (auto* s : {a, b}) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto* view = new QChartView(chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(150);
    return view;
}

} // namespace

ReplayView::ReplayView(std::shared_ptr<InspectionCache> cache, QWidget* parent)
    : QWidget(parent), cache_(std::move(cache)), runs_(new QComboBox), model_(new QComboBox), days_(new QSpinBox),
      epochs_(new QSpinBox), retrain_(new QCheckBox(tr("Retrain from scratch each day too"))),
      startButton_(new QPushButton(tr("Replay"))), progress_(new QProgressBar), status_(new QLabel),
      hitIncremental_(line(tr("updated after each day"), QColor(0x3b7dd8), false)),
      hitRetrained_(line(tr("retrained from scratch"), QColor(0xd8843b), true)),
      costIncremental_(line(tr("update"), QColor(0x3b7dd8), false)),
      costRetrained_(line(tr("retraining"), QColor(0xd8843b), true)), hitDays_(new QBarCategoryAxis),
      costDays_(new QBarCategoryAxis), hitAxis_(new QValueAxis), costAxis_(new QLogValueAxis)
{
    runs_->setMinimumContentsLength(12);
    for (const char* name : {"gmf", "mlp", "neumf", "bpr", "profiles"})
        if (const ModelInfo* info = findModel(name))
            model_->addItem(QString::fromStdString(info->displayName), QString::fromLatin1(name));
    days_->setRange(1, 60);
    days_->setValue(14);
    days_->setSuffix(tr(" days"));
    epochs_->setRange(1, 20);
    epochs_->setValue(2);
    epochs_->setPrefix(tr("update epochs "));
    retrain_->setChecked(true);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Data of")));
    controls->addWidget(runs_, 1);
    controls->addWidget(new QLabel(tr("Model")));
    controls->addWidget(model_);
    auto* settings = new QHBoxLayout;
    settings->addWidget(days_);
    settings->addWidget(epochs_);
    settings->addWidget(retrain_);
    settings->addStretch(1);
    settings->addWidget(startButton_);
    hitAxis_->setRange(0, 1);
    hitAxis_->setTitleText(tr("HR@10"));
    hitAxis_->setLabelFormat(QStringLiteral("%.2f"));
    costAxis_->setBase(10);
    costAxis_->setTitleText(tr("seconds"));
    costAxis_->setLabelFormat(QStringLiteral("%g"));
    costAxis_->setRange(0.01, 100);
    hitView_ = chartOf(tr("HR@10 of each day's interactions (100 sampled negatives), before training on them"),
                       hitIncremental_, hitRetrained_, hitDays_, hitAxis_);
    costView_ = chartOf(tr("Cost of each day's update"), costIncremental_, costRetrained_, costDays_, costAxis_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(settings);
    layout->addWidget(hitView_, 3);
    layout->addWidget(costView_, 2);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    status_->setWordWrap(true);
    status_->setText(tr("Replays the last days of a run's data: each day the models rank that day's interactions, "
                        "then one is updated on the day (tables grow for new users and items, old rows kept) while "
                        "the other is retrained on everything so far."));
    progress_->setVisible(false);
    connect(startButton_, &QPushButton::clicked, this, [this] { running_ ? stop() : start(); });
}

ReplayView::~ReplayView()
{
    if (stop_)
        stop_->store(true);
}

void ReplayView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs)
{
    databasePath_ = databasePath;
    offerRuns(runs_, runs);
}

void ReplayView::stop()
{
    if (stop_)
        stop_->store(true);
    status_->setText(tr("Stopping after the current step…"));
}

void ReplayView::addDay(const ReplayDay& d)
{
    shown_.append(d);
    const QString label = QString::fromStdString(d.date).mid(5);
    const auto x = static_cast<double>(shown_.size() - 1);
    hitDays_->append(label);
    costDays_->append(label);
    hitIncremental_->append(x, d.hrIncremental);
    costIncremental_->append(x, std::max(d.secondsIncremental, 0.001));
    if (retrain_->isChecked()) {
        hitRetrained_->append(x, d.hrRetrained);
        costRetrained_->append(x, std::max(d.secondsRetrained, 0.001));
    }
    double most = 1;
    for (const ReplayDay& day : shown_)
        most = std::max({most, day.secondsIncremental, day.secondsRetrained});
    costAxis_->setRange(0.01, std::pow(10.0, std::ceil(std::log10(most))));
    progress_->setValue(static_cast<int>(shown_.size()));
    status_->setText(tr("%1: %2 interactions, %3 new users, %4 new items; HR@10 updated %5 (%6 s)%7")
                         .arg(QString::fromStdString(d.date))
                         .arg(d.rows)
                         .arg(d.newUsers)
                         .arg(d.newItems)
                         .arg(d.hrIncremental, 0, 'f', 3)
                         .arg(d.secondsIncremental, 0, 'f', 2)
                         .arg(retrain_->isChecked() ? tr(", retrained %1 (%2 s)")
                                                          .arg(d.hrRetrained, 0, 'f', 3)
                                                          .arg(d.secondsRetrained, 0, 'f', 2)
                                                    : QString()));
}

void ReplayView::start()
{
    const qint64 runId = runs_->currentData().toLongLong();
    if (runId <= 0) {
        status_->setText(tr("Pick a run: its data is replayed."));
        emit failed(status_->text());
        return;
    }
    ReplayConfig config;
    config.train = defaultConfigFor(model_->currentData().toString().toStdString());
    config.train.pretrain = false;
    config.days = days_->value();
    config.updateEpochs = epochs_->value();
    config.retrain = retrain_->isChecked();
    shown_.clear();
    for (auto* s : {hitIncremental_, hitRetrained_, costIncremental_, costRetrained_})
        s->clear();
    hitDays_->clear();
    costDays_->clear();
    progress_->setRange(0, config.days);
    progress_->setValue(0);
    progress_->setVisible(true);
    running_ = true;
    startButton_->setText(tr("Stop"));
    status_->setText(tr("Training the first model on the days before the replay…"));
    stop_ = std::make_shared<std::atomic<bool>>(false);
    const int generation = ++generation_;
    auto* watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != generation_)
            return;
        running_ = false;
        startButton_->setText(tr("Replay"));
        progress_->setVisible(false);
        const QString error = watcher->result();
        if (!error.isEmpty()) {
            status_->setText(error);
            emit failed(error);
            return;
        }
        double inc = 0, full = 0, incSeconds = 0, fullSeconds = 0, rows = 0;
        for (const ReplayDay& d : shown_) {
            inc += d.hrIncremental * double(d.rows);
            full += d.hrRetrained * double(d.rows);
            rows += double(d.rows);
            incSeconds += d.secondsIncremental;
            fullSeconds += d.secondsRetrained;
        }
        rows = std::max(rows, 1.0);
        status_->setText(tr("%1 days replayed: HR@10 of all their interactions %2 updated (%3 s in all)%4.")
                             .arg(shown_.size())
                             .arg(inc / rows, 0, 'f', 3)
                             .arg(incSeconds, 0, 'f', 1)
                             .arg(retrain_->isChecked()
                                      ? tr(", %1 retrained (%2 s)").arg(full / rows, 0, 'f', 3).arg(fullSeconds, 0, 'f', 1)
                                      : QString()));
        emit finished();
    });
    const std::string db = databasePath_.toStdString();
    auto cache = cache_;
    auto stop = stop_;
    QPointer<ReplayView> self(this);
    watcher->setFuture(QtConcurrent::run([cache, db, runId, config, stop, self, generation]() -> QString {
        try {
            const auto data = cache->data(db, runId);
            replayDays(*data->dataset, config, [&](const ReplayDay& day) {
                QMetaObject::invokeMethod(
                    qApp, [self, day, generation] {
                        if (self && self->generation_ == generation)
                            self->addDay(day);
                    },
                    Qt::QueuedConnection);
            }, stop.get());
        } catch (const std::exception& e) {
            return QObject::tr("Run %1's data: %2").arg(runId).arg(QString::fromStdString(e.what()));
        }
        return {};
    }));
}

} // namespace reclab
