// The SQLite record of every run: what was trained on what (model, dataset and its
// fingerprint, hyperparameters as JSON, seed), how it went (status, times, message) and every
// metric with its step, epoch and wall time. One connection per thread; WAL mode lets a
// training write while the GUI reads.
#pragma once

#include "store/SqliteDatabase.h"
#include "train/TrainingEvents.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reclab {

struct RunRecord {
    int64_t id = 0;
    std::string model;
    std::string dataset;       // short name
    std::string datasetSource; // folder or generator description
    std::string datasetFingerprint;
    std::string paramsJson;    // TrainConfig::toJson()
    int64_t seed = 0;
    RunStatus status = RunStatus::Running;
    std::string message;
    std::string startedAt; // ISO 8601 UTC
    std::string endedAt;   // empty while running
};

struct MetricPoint {
    std::string key; // "loss", "batch_loss", "hr@10", "train_seconds", ...
    int64_t step = 0;
    int epoch = 0;
    double value = 0.0;
    double wallTime = 0.0; // seconds since the Unix epoch
};

class ExperimentStore {
public:
    static constexpr int kSchemaVersion = 2;

    // Opens or creates the database (and its folder); refuses files that are not RecLab's.
    explicit ExperimentStore(const std::string& path);

    const std::string& path() const { return db_.path(); }

    int64_t beginRun(const RunRecord& run); // id and status are assigned here
    void recordMetrics(int64_t runId, const std::vector<MetricPoint>& points); // one transaction
    void finishRun(int64_t runId, RunStatus status, const std::string& message);
    // A stopped run continues: in one transaction its metrics after keepThroughEpoch are dropped
    // (they belong to an epoch the checkpoint does not hold), its params replaced (a resumed run
    // may be given more epochs) and it is RUNNING again, owned by this process.
    void reopenRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch);

    std::vector<RunRecord> listRuns();
    std::optional<RunRecord> findRun(int64_t runId);
    // Metrics of a run in step order; all keys when key is empty.
    std::vector<MetricPoint> metrics(int64_t runId, const std::string& key = "");

    // The value at the highest step of each of keys, for every run that has one, in one query:
    // (run id, key, value) rows ordered by run and key.
    struct LatestMetric {
        int64_t runId;
        std::string key;
        double value;
    };
    std::vector<LatestMetric> latestMetrics(const std::vector<std::string>& keys);

    // Marks RUNNING runs whose process is gone as INTERRUPTED; returns how many.
    int recoverInterruptedRuns();

private:
    void migrate();

    SqliteDatabase db_;
};

// Where runs are stored by default: $XDG_DATA_HOME/reclab/reclab.db, else
// ~/.local/share/reclab/reclab.db (what QStandardPaths::AppDataLocation gives the GUI).
std::string defaultDatabasePath();
std::string isoTimestampNow();
double unixTimeNow();

} // namespace reclab
