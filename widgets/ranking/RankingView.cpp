#include "inspection/StoredRun.h"
#include "rl/BanditRecords.h"

#include "ranking/RankingView.h"

#include "chart/MetricChart.h"
#include "chart/Palette.h"
#include "experiments/RunsTableModel.h"
#include "inspect/RunChoice.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <mutex>

namespace reclab {

// The run a worker advances, kept between Pause and Step; one worker uses it at a time.
struct BanditJob {
    std::mutex mutex;
    BanditConfig config;
    std::shared_ptr<const Dataset> data;
    std::string db;
    int64_t baseRun = 0;
    std::shared_ptr<BanditRun> run;
    std::unique_ptr<BanditRecorder> recorder;
    std::atomic<bool> stop{false}, pause{false};
    bool ended = false;
    std::shared_ptr<const Dataset> runData() const { return run ? std::shared_ptr<const Dataset>(run, &run->data()) : data; }
};

namespace {

const char* policyTitle(PolicyKind k)
{
    switch (k) {
    case PolicyKind::Random: return "Random";
    case PolicyKind::Popularity: return "Popularity";
    case PolicyKind::EpsilonGreedy: return "ε-greedy";
    case PolicyKind::Ucb: return "UCB1";
    case PolicyKind::BayesUcb: return "Bayes-UCB";
    case PolicyKind::Thompson: return "Thompson";
    case PolicyKind::Exp3: return "EXP3";
    case PolicyKind::LinUcb: return "LinUCB";
    case PolicyKind::Reinforce: return "REINFORCE";
    case PolicyKind::Base: return "Base ranking";
    }
    return "";
}

const char* policyTip(PolicyKind k)
{
    switch (k) {
    case PolicyKind::Random: return "A uniform draw each time";
    case PolicyKind::Popularity: return "The items most chosen in the log so far (the simulator: in the data)";
    case PolicyKind::EpsilonGreedy: return "The best mean reward so far; a random slate one time in ten";
    case PolicyKind::Ucb: return "UCB1: mean + √(2 ln t / n)";
    case PolicyKind::BayesUcb: return "The 1 − 1/t quantile of each item's Beta posterior";
    case PolicyKind::Thompson: return "Thompson sampling: a draw from each item's Beta posterior";
    case PolicyKind::Exp3: return "EXP3: exponential weights with γ = 0.1 exploration";
    case PolicyKind::LinUcb: return "LinUCB on the base run's user and item vectors (needs a base run)";
    case PolicyKind::Reinforce: return "REINFORCE re-ranker: a softmax over the base run's candidates, learned by policy gradient (needs a base run)";
    case PolicyKind::Base: return "The base run's own ranking, always the same for a user (needs a base run)";
    }
    return "";
}

// Runs f on the GUI thread while the view lives.
template <typename F> void post(QPointer<RankingView> view, F f)
{
    QMetaObject::invokeMethod(
        qApp, [view, f = std::move(f)] {
            if (view)
                f(*view);
        },
        Qt::QueuedConnection);
}

QTableWidgetItem* cell(const QString& text)
{
    auto* item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}

QString estimateText(const ItemEstimate& e)
{
    return QStringLiteral("%1 (mean %2, n %3)").arg(e.index, 0, 'g', 4).arg(e.mean, 0, 'f', 3).arg(e.observations);
}

} // namespace

RankingView::RankingView(QWidget* parent)
    : RankingPage(parent), environment_(new QComboBox), baseRun_(new QComboBox), stepPolicy_(new QComboBox),
      slate_(new QSpinBox), steps_(new QSpinBox), seed_(new QSpinBox), startButton_(new QPushButton(tr("Start"))),
      pauseButton_(new QPushButton(tr("Pause"))), stepButton_(new QPushButton(tr("Step one decision"))),
      rewardChart_(new MetricChart(tr("Cumulative reward"))), ctrChart_(new MetricChart(tr("CTR (reward per observable item)"))),
      thirdChart_(new MetricChart(tr("Matched events"))), stepTable_(new QTableWidget(0, 5)), stepLabel_(new QLabel),
      status_(new QLabel), progress_(new QProgressBar)
{
    environment_->addItem(tr("Replay of the log"), QStringLiteral("replay"));
    environment_->addItem(tr("Simulator"), QStringLiteral("sim"));
    environment_->setToolTip(tr("Replay: the log's events in time order (Li et al. 2010). Simulator: clicks drawn from "
                                "the base run's scores."));
    baseRun_->setMinimumContentsLength(10);
    baseRun_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    stepPolicy_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    slate_->setRange(1, 50);
    slate_->setValue(5);
    slate_->setPrefix(tr("slate "));
    steps_->setRange(0, 100000000);
    steps_->setSingleStep(1000);
    steps_->setSpecialValueText(tr("all"));
    steps_->setPrefix(tr("decisions "));
    steps_->setToolTip(tr("How many decisions (all: the replay's every event; 20,000 in the simulator)"));
    seed_->setRange(0, 1000000);
    seed_->setValue(42);
    seed_->setPrefix(tr("seed "));
    auto* setup = new QHBoxLayout;
    setup->addWidget(environment_);
    setup->addWidget(new QLabel(tr("Base run")));
    setup->addWidget(baseRun_, 1);
    setup->addWidget(slate_);
    setup->addWidget(steps_);
    setup->addWidget(seed_);
    auto* policyGrid = new QGridLayout;
    int k = 0;
    for (const PolicyKind kind : allPolicies()) {
        auto* box = new QCheckBox(tr(policyTitle(kind)));
        box->setToolTip(tr(policyTip(kind)) + QStringLiteral(" (") + QString::fromLatin1(policyName(kind)) + QLatin1Char(')'));
        box->setChecked(kind == PolicyKind::Random || kind == PolicyKind::EpsilonGreedy || kind == PolicyKind::Thompson);
        policies_.append({kind, box});
        policyGrid->addWidget(box, k / 5, k % 5);
        ++k;
    }
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(startButton_);
    buttons->addWidget(pauseButton_);
    buttons->addSpacing(12);
    buttons->addWidget(new QLabel(tr("Step")));
    buttons->addWidget(stepPolicy_);
    buttons->addWidget(stepButton_);
    buttons->addStretch(1);
    buttons->addWidget(progress_, 1);
    for (auto* chart : {rewardChart_, ctrChart_, thirdChart_})
        chart->setMinimumSize(240, 160); // three side by side in a 1,200-pixel window with the setup dock
    rewardChart_->setKey(QStringLiteral("reward"));
    ctrChart_->setKey(QStringLiteral("ctr"));
    thirdChart_->setKey(QStringLiteral("matched"));
    auto* charts = new QWidget;
    auto* chartRow = new QHBoxLayout(charts);
    chartRow->setContentsMargins(0, 0, 0, 0);
    chartRow->addWidget(rewardChart_);
    chartRow->addWidget(ctrChart_);
    chartRow->addWidget(thirdChart_);
    stepTable_->setHorizontalHeaderLabels({tr("Place"), tr("Item shown"), tr("Estimate before"), tr("What the user did"),
                                           tr("Estimate after")});
    stepTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    stepTable_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    stepTable_->setWordWrap(false);
    stepTable_->verticalHeader()->hide();
    auto* stepPane = new QWidget;
    auto* stepLayout = new QVBoxLayout(stepPane);
    stepLayout->setContentsMargins(0, 0, 0, 0);
    stepLayout->addWidget(stepLabel_);
    stepLayout->addWidget(stepTable_);
    stepLabel_->setWordWrap(true);
    stepLabel_->setText(tr("Pause a run (or start one and pause it), then step: one policy's decision at a time, the "
                           "slate it showed, what the user did and how its estimates of those items moved."));
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(charts);
    split->addWidget(stepPane);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(setup);
    layout->addLayout(policyGrid);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);
    layout->addWidget(status_);
    status_->setWordWrap(true);
    status_->setText(tr("Replay: the log's events in time order; a policy's slate counts when it holds the item the "
                        "user chose, rewarded 1 for a rating of 4 or more. Simulator: clicks drawn from a base run's "
                        "scores with position bias, fatigue and a hidden error of the run, so regret is defined."));
    progress_->setVisible(false);
    connect(startButton_, &QPushButton::clicked, this, [this] { running_ || paused_ ? stop() : start(); });
    connect(pauseButton_, &QPushButton::clicked, this, [this] { setPaused(!paused_); });
    connect(stepButton_, &QPushButton::clicked, this, &RankingView::stepOnce);
    connect(environment_, &QComboBox::currentIndexChanged, this, [this] {
        thirdChart_->setKey(environment_->currentData().toString() == QLatin1String("sim") ? QStringLiteral("regret")
                                                                                             : QStringLiteral("matched"));
        thirdChart_->chart()->setTitle(environment_->currentData().toString() == QLatin1String("sim")
                                           ? tr("Cumulative regret")
                                           : tr("Matched events"));
    });
    updateButtons();
}

RankingView::~RankingView()
{
    if (job_)
        job_->stop.store(true);
}

QCheckBox* RankingView::policyBox(PolicyKind kind) const
{
    for (const auto& [k, box] : policies_)
        if (k == kind)
            return box;
    return nullptr;
}

void RankingView::offerRuns(const QString& databasePath, const RunsTableModel& runsModel)
{
    databasePath_ = databasePath;
    // Finished runs of a model with scores to re-rank (a bandit run has none, a blend's are two
    // runs'), rebuilt only when they changed (the runs table refreshes every epoch of a training).
    auto base = [](const RunRecord& run) {
        return run.status == RunStatus::Finished && run.model != kBanditModel && run.model != "blend";
    };
    const size_t key = offeredRunsKey(runsModel, base);
    if (key == offeredKey_ && baseRun_->count() > 0)
        return;
    offeredKey_ = key;
    QList<QPair<qint64, QString>> runs;
    for (int row = 0; row < runsModel.runCount(); ++row) {
        const RunRecord* run = runsModel.runAt(row);
        if (!run || !base(*run))
            continue;
        runs.append({run->id, tr("#%1 %2 · %3")
                                  .arg(run->id)
                                  .arg(QString::fromStdString(run->name.empty() ? run->model : run->name))
                                  .arg(QString::fromStdString(run->dataset))});
    }
    reclab::offerRuns(baseRun_, runs, tr("(none)"));
}

void RankingView::setDataset(std::shared_ptr<const Dataset> dataset) { dataset_ = std::move(dataset); }

void RankingView::updateButtons()
{
    startButton_->setText(running_ || paused_ ? tr("Stop") : tr("Start"));
    pauseButton_->setEnabled(running_ || paused_);
    pauseButton_->setText(paused_ ? tr("Continue") : tr("Pause"));
    stepButton_->setEnabled(paused_);
    for (auto* w : std::initializer_list<QWidget*>{environment_, baseRun_, slate_, steps_, seed_})
        w->setEnabled(!running_ && !paused_);
    for (const auto& p : policies_)
        p.second->setEnabled(!running_ && !paused_);
}

void RankingView::start()
{
    auto job = std::make_shared<BanditJob>();
    job->config.environment = parseEnvironment(environment_->currentData().toString().toStdString());
    for (const auto& [kind, box] : policies_)
        if (box->isChecked())
            job->config.policies.push_back(kind);
    job->config.slate = slate_->value();
    job->config.steps = steps_->value();
    job->config.seed = static_cast<uint64_t>(seed_->value());
    job->db = databasePath_.toStdString();
    job->baseRun = baseRun_->currentData().toLongLong();
    job->data = dataset_;
    if (job->baseRun <= 0 && !job->data) {
        status_->setText(tr("Load a dataset or pick a base run first."));
        emit failed(status_->text());
        return;
    }
    job_ = job;
    shown_.clear();
    runIds_.clear();
    curves_.clear();
    stepPolicy_->clear();
    stepTable_->setRowCount(0);
    for (auto* chart : {rewardChart_, ctrChart_, thirdChart_})
        chart->setRuns({});
    running_ = true;
    paused_ = false;
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->setVisible(true);
    status_->setText(tr("Building the environment…"));
    updateButtons();
    runLoop();
}

void RankingView::stop()
{
    if (!job_)
        return;
    job_->stop.store(true);
    if (paused_) { // no worker is running: end the runs now
        paused_ = false;
        running_ = true;
        runLoop();
    }
    status_->setText(tr("Stopping…"));
}

void RankingView::setPaused(bool paused)
{
    if (!job_)
        return;
    if (paused) {
        job_->pause.store(true);
        status_->setText(tr("Pausing after the current chunk of decisions…"));
        return;
    }
    job_->pause.store(false);
    paused_ = false;
    running_ = true;
    updateButtons();
    runLoop();
}

void RankingView::runLoop()
{
    auto job = job_;
    QPointer<RankingView> self(this);
    (void)QtConcurrent::run([job, self] {
        std::lock_guard<std::mutex> lock(job->mutex);
        try {
            if (!job->run) {
                std::shared_ptr<StoredModel> base;
                auto data = job->data;
                if (job->baseRun > 0) {
                    base = std::make_shared<StoredModel>(loadStoredModel(job->db, job->baseRun));
                    data = base->data;
                }
                job->run = std::make_shared<BanditRun>(data, base, job->config);
                job->recorder = std::make_unique<BanditRecorder>(job->db, *job->run, job->baseRun);
                QList<qint64> ids(job->recorder->runIds().begin(), job->recorder->runIds().end());
                post(self, [ids, job](RankingView& v) {
                    if (v.job_ != job)
                        return;
                    v.runIds_ = ids;
                    for (const PolicyKind k : job->config.policies)
                        v.stepPolicy_->addItem(v.tr(policyTitle(k)));
                    emit v.runsStored();
                });
            }
            BanditRun& run = *job->run;
            const int64_t chunk = std::max<int64_t>(50, run.totalSteps() / 200);
            while (!run.finished() && !job->stop.load() && !job->pause.load()) {
                run.advance(chunk);
                job->recorder->record(run);
                const auto results = run.results();
                const double done = double(run.stepsDone()) / double(std::max<int64_t>(run.totalSteps(), 1));
                post(self, [job, results, done](RankingView& v) {
                    if (v.job_ != job)
                        return;
                    v.progress_->setValue(static_cast<int>(1000 * done));
                    v.showResults(QVector<PolicyResult>(results.begin(), results.end()));
                });
            }
            const bool finished = run.finished(), stopped = job->stop.load();
            if (finished || stopped) {
                job->recorder->finish(run, finished ? RunStatus::Finished : RunStatus::Stopped,
                                      finished ? "" : "stopped at decision " + std::to_string(run.stepsDone()));
                job->ended = true;
                const auto results = run.results();
                post(self, [job, results, finished](RankingView& v) {
                    if (v.job_ != job)
                        return;
                    v.showResults(QVector<PolicyResult>(results.begin(), results.end()));
                    v.ended({}, finished);
                });
            } else {
                const int64_t at = run.stepsDone(); // read here: a Step may use the run as soon as this posts
                post(self, [job, at](RankingView& v) {
                    if (v.job_ != job)
                        return;
                    v.running_ = false;
                    v.paused_ = true;
                    v.status_->setText(v.tr("Paused at decision %1: step through one policy's decisions, or continue.")
                                           .arg(at));
                    v.updateButtons();
                });
            }
        } catch (const std::exception& e) {
            job->ended = true;
            if (job->recorder && job->run)
                job->recorder->finish(*job->run, RunStatus::Failed, e.what());
            const QString message = QString::fromStdString(e.what());
            post(self, [job, message](RankingView& v) {
                if (v.job_ == job)
                    v.ended(message, false);
            });
        }
    });
}

void RankingView::stepOnce()
{
    if (!job_ || !paused_ || stepPolicy_->currentIndex() < 0)
        return;
    auto job = job_;
    const auto lane = static_cast<size_t>(stepPolicy_->currentIndex());
    QPointer<RankingView> self(this);
    stepButton_->setEnabled(false);
    (void)QtConcurrent::run([job, self, lane] {
        std::lock_guard<std::mutex> lock(job->mutex);
        if (!job->run || job->ended)
            return;
        const BanditStep step = job->run->stepOne(lane);
        job->recorder->record(*job->run);
        const auto results = job->run->results();
        post(self, [job, step, lane, results](RankingView& v) {
            if (v.job_ != job)
                return;
            v.showResults(QVector<PolicyResult>(results.begin(), results.end()));
            v.showStep(step, lane);
            v.status_->setText(v.tr("Paused: %1 stepped to decision %2; Continue runs every policy on from decision %3.")
                                   .arg(v.stepPolicy_->itemText(static_cast<int>(lane)))
                                   .arg(step.step + 1)
                                   .arg(results.empty() ? 0 : results.front().steps));
            v.stepButton_->setEnabled(v.paused_);
            emit v.stepped();
        });
    });
}

void RankingView::showResults(const QVector<PolicyResult>& results)
{
    shown_ = results;
    const bool sim = job_ && job_->config.environment == BanditEnvironmentKind::Simulator;
    const BanditConfig config = job_ ? job_->config : BanditConfig{};
    curves_.resize(results.size());
    QVector<const RunCurves*> runs;
    for (int p = 0; p < results.size(); ++p) {
        RunCurves& c = curves_[p];
        c.runId = p < runIds_.size() ? runIds_[p] : p + 1;
        c.label = QString::fromStdString(results[p].policy);
        c.colour = categoryColour(p);
        c.live = true;
        c.curves.clear();
        for (const BanditPoint& b : results[p].curve) {
            const auto step = static_cast<double>(b.step);
            c.curves[QStringLiteral("reward")].append({step, 0, 0, b.reward});
            c.curves[QStringLiteral("ctr")].append({step, 0, 0, ctrOf(b, config)});
            c.curves[QStringLiteral("matched")].append({step, 0, 0, double(b.matched)});
            c.curves[QStringLiteral("regret")].append({step, 0, 0, b.regret});
        }
        runs.append(&c);
    }
    for (auto* chart : {rewardChart_, ctrChart_, thirdChart_}) {
        chart->setRuns(runs);
        chart->refresh();
    }
    QStringList lines;
    for (const PolicyResult& r : results)
        lines << (sim ? tr("%1 %2 clicks per slate (regret %3)").arg(QString::fromStdString(r.policy)).arg(r.meanReward, 0, 'f', 3).arg(r.regret, 0, 'f', 0)
                      : tr("%1 %2 (%3 matched)").arg(QString::fromStdString(r.policy)).arg(r.meanReward, 0, 'f', 3).arg(r.matched));
    if (running_)
        status_->setText(tr("Decision %1: ").arg(results.isEmpty() ? 0 : results.front().steps) + lines.join(QStringLiteral(" · ")));
}

void RankingView::showStep(const BanditStep& s, size_t lane)
{
    const auto data = job_->runData();
    auto title = [&](int32_t item) { return QString::fromStdString(itemTitle(*data, item)); };
    const QString policy = stepPolicy_->itemText(static_cast<int>(lane));
    const QString user = QString::fromStdString(data->userIds[static_cast<size_t>(s.user)]);
    if (s.logged >= 0)
        stepLabel_->setText(s.counted ? tr("%1, decision %2: user %3 chose %4, which the slate held: it counts.")
                                            .arg(policy).arg(s.step + 1).arg(user).arg(title(s.logged))
                                      : tr("%1, decision %2: user %3 chose %4, which the slate did not hold: the event "
                                           "does not count and the policy learns nothing from it.")
                                            .arg(policy).arg(s.step + 1).arg(user).arg(title(s.logged)));
    else
        stepLabel_->setText(tr("%1, decision %2: user %3 was shown %4 items (expected regret of this slate %5).")
                                .arg(policy).arg(s.step + 1).arg(user).arg(s.slate.size()).arg(s.regret, 0, 'f', 3));
    stepTable_->setRowCount(static_cast<int>(s.slate.size()));
    for (size_t k = 0; k < s.slate.size(); ++k) {
        const auto row = static_cast<int>(k);
        QString did = QStringLiteral("—");
        for (const Observation& o : s.seen)
            if (o.position == row)
                did = s.logged >= 0 ? (o.reward > 0 ? tr("chose it, liked it") : tr("chose it, did not like it"))
                                    : (o.reward > 0 ? tr("clicked") : tr("not clicked"));
        stepTable_->setItem(row, 0, cell(QString::number(k + 1)));
        stepTable_->setItem(row, 1, cell(title(s.slate[k])));
        stepTable_->setItem(row, 2, cell(k < s.before.size() ? estimateText(s.before[k]) : QString()));
        stepTable_->setItem(row, 3, cell(did));
        stepTable_->setItem(row, 4, cell(k < s.after.size() ? estimateText(s.after[k]) : QString()));
    }
}

void RankingView::ended(const QString& error, bool done)
{
    running_ = false;
    paused_ = false;
    progress_->setVisible(false);
    updateButtons();
    emit runsStored();
    if (!error.isEmpty()) {
        status_->setText(error);
        emit failed(error);
        return;
    }
    QStringList lines;
    for (const PolicyResult& r : shown_)
        lines << tr("%1 %2").arg(QString::fromStdString(r.policy)).arg(r.meanReward, 0, 'f', 3);
    status_->setText((done ? tr("Done, %1 decisions; mean reward: ") : tr("Stopped at decision %1; mean reward: "))
                         .arg(shown_.isEmpty() ? 0 : shown_.front().steps) +
                     lines.join(QStringLiteral(" · ")) + tr(". Each policy is stored as a run."));
    emit finished();
}

} // namespace reclab
