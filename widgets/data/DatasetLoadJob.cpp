#include "data/DatasetLoadJob.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

namespace reclab {

bool DatasetLoadJob::start(const QString& spec, const LoadOptions& options)
{
    if (busy_)
        return false;
    busy_ = true;
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, spec] {
        const LoadResult result = watcher->result();
        watcher->deleteLater();
        busy_ = false;
        emit finished(spec, result);
    });
    const std::string s = spec.toStdString();
    watcher->setFuture(QtConcurrent::run([s, options]() -> LoadResult {
        LoadResult r;
        try {
            r.dataset = std::make_shared<const Dataset>(reclab::loadDataset(s, options));
            r.stats = computeStats(*r.dataset);
            r.fingerprint = r.dataset->fingerprint();
        } catch (const std::exception& e) {
            r = LoadResult{};
            r.error = QString::fromUtf8(e.what());
        }
        return r;
    }));
    return true;
}

} // namespace reclab
