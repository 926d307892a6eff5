#include "training/TrainingController.h"

#include <algorithm>

#ifdef Q_OS_LINUX
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace reclab {

namespace {

// The training thread, and the LibTorch and evaluation threads it creates (they inherit it),
// yield to the GUI thread when both want a core: a niceness of 5 weighs about a third of the
// GUI thread's in Linux's scheduler. Alone on the machine they run as fast as before.
void yieldToTheGuiThread()
{
#ifdef Q_OS_LINUX
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    ::setpriority(PRIO_PROCESS, tid, std::max(5, ::getpriority(PRIO_PROCESS, tid)));
#endif
}

} // namespace

TrainingController::TrainingController(QObject* parent) : QObject(parent), worker_(new TrainingWorker)
{
    registerCoreMetaTypes();
    qRegisterMetaType<std::shared_ptr<const reclab::Dataset>>();
    qRegisterMetaType<reclab::TrainConfig>();
    thread_.setObjectName(QStringLiteral("reclab-training"));
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::started, worker_, &yieldToTheGuiThread, Qt::DirectConnection);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(this, &TrainingController::requestRun, worker_, &TrainingWorker::run, Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::runStarted, this, &TrainingController::runStarted, Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::batchProgress, this, &TrainingController::batchProgress, Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::epochFinished, this, &TrainingController::epochFinished, Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::stepReported, this, &TrainingController::stepReported, Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::noted, this, &TrainingController::noted, Qt::QueuedConnection);
    connect(worker_, &TrainingWorker::runFinished, this,
            [this](qint64 runId, const QString& status, const QString& message) {
                running_ = false;
                emit runFinished(runId, status, message);
            },
            Qt::QueuedConnection);
    thread_.start();
}

TrainingController::~TrainingController() { shutdown(); }

bool TrainingController::start(std::shared_ptr<const Dataset> dataset, const TrainConfig& config,
                               const QString& databasePath, qint64 resumeRunId, qint64 parentRunId,
                               const QString& dataSpec)
{
    if (running_ || !thread_.isRunning())
        return false;
    running_ = true;
    worker_->clearStop();
    emit requestRun(std::move(dataset), config, databasePath, resumeRunId, parentRunId, dataSpec);
    return true;
}

void TrainingController::stop()
{
    if (running_)
        worker_->stop();
}

void TrainingController::setPaused(bool paused)
{
    if (running_)
        worker_->setPaused(paused);
}

void TrainingController::requestStep()
{
    if (running_)
        worker_->requestStep();
}

bool TrainingController::setLearningRate(double learningRate)
{
    return running_ && worker_->setLearningRate(learningRate);
}

void TrainingController::shutdown()
{
    if (!thread_.isRunning())
        return;
    worker_->stop();
    thread_.quit();
    thread_.wait();
    running_ = false;
}

} // namespace reclab
