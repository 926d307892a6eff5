// Loading a dataset off the GUI thread, with the figures the window shows (computed in the
// worker too, since they read every row).
#pragma once

#include "data/Dataset.h"
#include "data/DatasetSource.h"

#include <QObject>
#include <QString>

#include <memory>
#include <string>

namespace reclab {

struct LoadResult {
    std::shared_ptr<const Dataset> dataset; // empty when the load failed
    DatasetStats stats;
    std::string fingerprint;
    QString error;
};

class DatasetLoadJob : public QObject {
    Q_OBJECT
public:
    explicit DatasetLoadJob(QObject* parent = nullptr) : QObject(parent) {}
    bool busy() const { return busy_; }
    // Starts loading spec (a folder, a file, "sample"); refused (false) while a load runs.
    bool start(const QString& spec, const LoadOptions& options);

signals:
    void finished(const QString& spec, const reclab::LoadResult& result);

private:
    bool busy_ = false;
};

} // namespace reclab
