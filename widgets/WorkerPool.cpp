#include "WorkerPool.h"

#include <QCoreApplication>
#include <QThreadPool>

namespace reclab {

namespace {

void joinPoolThreads()
{
    // Waits for the running jobs, then stops and joins every pool thread, idle ones included.
    QThreadPool::globalInstance()->waitForDone();
}

} // namespace

void joinPoolThreadsAtExit()
{
    static bool installed = false;
    if (installed || !QCoreApplication::instance())
        return;
    installed = true;
    qAddPostRoutine(joinPoolThreads);
}

} // namespace reclab
