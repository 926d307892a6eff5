// The SQLite record of every run (schema: core/store/SCHEMA.md): experiments grouping runs; what
// was trained on what (model, dataset and split fingerprints, hyperparameters as JSON and as
// key/value params, seed); how it went (status, times, message); every metric with its step,
// epoch and wall time, the latest value per metric for fast tables, and the test metrics per
// user for paired comparisons; names, notes and tags; artifact files beside the database.
// One connection per thread; WAL mode lets trainings write while the GUI reads.
#pragma once

#include "eval/Metrics.h"
#include "store/SqliteDatabase.h"
#include "train/TrainingEvents.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace reclab {

struct ExperimentRecord {
    int64_t id = 0;
    std::string name;
    std::string description;
    std::string createdAt;
    int64_t runs = 0; // listExperiments() only
};

struct RunRecord {
    int64_t id = 0;
    int64_t experimentId = 1;  // the "Default" experiment unless given
    std::string experiment;    // its name (read back only)
    std::string name;          // user-given, may be empty
    std::string model;
    std::string dataset;       // short name
    std::string datasetSource; // folder or generator description
    std::string datasetFingerprint;
    std::string splitFingerprint; // TrainingTask::splitFingerprint(), empty until the data is split
    std::string paramsJson;       // TrainConfig::toJson()
    int64_t seed = 0;
    int64_t parentRunId = 0;      // the run this one was cloned from, 0 if none
    RunStatus status = RunStatus::Running;
    std::string message;
    std::string notes;
    std::string startedAt; // ISO 8601 UTC
    std::string endedAt;   // empty while running
    std::vector<std::string> tags; // sorted
};

struct MetricPoint {
    std::string key; // "loss", "batch_loss", "hr@10", "train_seconds", ...
    int64_t step = 0;
    int epoch = 0;
    double value = 0.0;
    double wallTime = 0.0; // seconds since the Unix epoch
};

// A file in the run's artifact folder (runArtifactDir), by path relative to it.
struct ArtifactRecord {
    std::string path;
    std::string kind; // "checkpoint", "graph", "embeddings", "other"
    int64_t bytes = 0;
    std::string createdAt;
};

// A run's params as key/value text: the top-level entries of its params JSON, strings as they
// are and other values as JSON; a graph model's "graph" becomes the graph's name.
std::vector<std::pair<std::string, std::string>> flattenParams(const std::string& paramsJson);

class ExperimentStore {
public:
    static constexpr int kSchemaVersion = 3;
    static constexpr int64_t kDefaultExperiment = 1;

    // Opens or creates the database (and its folder), migrating older schemas; refuses files
    // that are not RecLab's, corrupt files and newer schemas with a StoreError naming the file.
    explicit ExperimentStore(const std::string& path);

    const std::string& path() const { return db_.path(); }

    // Experiments. experimentId() creates the experiment when it does not exist.
    int64_t experimentId(const std::string& name);
    std::vector<ExperimentRecord> listExperiments();
    void moveRun(int64_t runId, int64_t experimentId);

    int64_t beginRun(const RunRecord& run); // id and status are assigned here; params stored too
    void setSplitFingerprint(int64_t runId, const std::string& fingerprint);
    // One transaction; also keeps latest_metrics current.
    void recordMetrics(int64_t runId, const std::vector<MetricPoint>& points);
    // Replaces the run's per-user test metrics (one transaction).
    void recordUserMetrics(int64_t runId, const UserMetrics& metrics);
    void finishRun(int64_t runId, RunStatus status, const std::string& message);
    // A stopped run continues: in one transaction its metrics after keepThroughEpoch are dropped
    // (they belong to an epoch the checkpoint does not hold), its params replaced (a resumed run
    // may be given more epochs) and it is RUNNING again, owned by this process.
    void reopenRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch);

    // What people edit. Tags are trimmed, deduplicated and sorted; empty ones are dropped.
    void renameRun(int64_t runId, const std::string& name);
    void setNotes(int64_t runId, const std::string& notes);
    void setTags(int64_t runId, const std::vector<std::string>& tags);
    // Deletes the run, its records and its artifact folder; the folder is moved aside first and
    // put back if the database refuses, so nothing is left half-deleted. With `movedAside`, the
    // folder's files are left in the returned place (empty: none) for the caller to remove, off
    // a GUI thread (a run's snapshots can take hundreds of MB). Throws StoreError for a RUNNING
    // run of a live process.
    void deleteRun(int64_t runId, std::string* movedAside = nullptr);

    std::vector<RunRecord> listRuns(); // newest first
    std::optional<RunRecord> findRun(int64_t runId);
    // Metrics of a run in step order; all keys when key is empty.
    std::vector<MetricPoint> metrics(int64_t runId, const std::string& key = "");
    std::vector<std::pair<std::string, std::string>> params(int64_t runId);
    // Every run's params in one query (for filtering a whole table by param).
    std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> allParams();
    UserMetrics userMetrics(int64_t runId);
    // Sum of the run's train_seconds (its training time, evaluation excluded).
    double trainingSeconds(int64_t runId);

    // The value at the highest step of each of keys (all keys when empty), for every run that
    // has one, from latest_metrics: (run id, key, value) rows ordered by run and key.
    struct LatestMetric {
        int64_t runId;
        std::string key;
        double value;
        int epoch = 0; // of that highest step
    };
    std::vector<LatestMetric> latestMetrics(const std::vector<std::string>& keys);
    std::vector<LatestMetric> latestMetricsOf(int64_t runId);
    // Every metric key any run has, sorted.
    std::vector<std::string> metricKeys();

    // Registers (or refreshes the size of) a file in the run's artifact folder.
    void recordArtifact(int64_t runId, const std::string& relativePath, const std::string& kind);
    std::vector<ArtifactRecord> artifacts(int64_t runId);
    // Makes the artifacts table list exactly the files in the run's folder (one transaction).
    void syncArtifacts(int64_t runId);

    // Marks RUNNING runs whose process is gone as INTERRUPTED; returns how many.
    int recoverInterruptedRuns();

private:
    void migrate();
    void migrateToVersion3();
    RunRecord withTags(RunRecord run);
    static std::vector<LatestMetric> readLatest(SqliteStatement& s); // (run id, key, value, epoch) rows
    void writeParams(int64_t runId, const std::string& paramsJson);

    SqliteDatabase db_;
};

// Where a run's files live: <database>.artifacts/run-<id>.
std::string runArtifactDir(const std::string& databasePath, int64_t runId);
// Where runs are stored by default: $XDG_DATA_HOME/reclab/reclab.db, else
// ~/.local/share/reclab/reclab.db (what QStandardPaths::AppDataLocation gives the GUI).
std::string defaultDatabasePath();
std::string isoTimestampNow();
double unixTimeNow();

} // namespace reclab
