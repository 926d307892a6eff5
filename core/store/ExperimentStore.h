// The SQLite record of every run (schema: core/store/SCHEMA.md): experiments grouping runs; what
// was trained on what (model, dataset and split fingerprints, hyperparameters as JSON and as
// key/value params, seed); how it went (status, times, message); every metric with its step,
// epoch and wall time, the latest value per metric for fast tables, and the test metrics per
// user for paired comparisons; names, notes and tags; artifact files beside the database.
// One connection per thread; WAL mode lets trainings write while the GUI reads.
#pragma once

#include "runs/Metrics.h"
#include "store/SqliteDatabase.h"
#include "runs/TrainingEvents.h"
#include "util/Clock.h" // isoTimestampNow, unixTimeNow for the records

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

// A stopped or interrupted run taken over by this process for a resume, and what it was before,
// so a resume that is refused can give it back exactly as it was.
struct RunClaim {
    int64_t runId = 0;
    RunStatus status = RunStatus::Stopped;
    std::string message;
    std::string endedAt;
    int64_t pid = 0;
    std::string process;
};

class ExperimentStore {
public:
    static constexpr int kSchemaVersion = 4;
    static constexpr int64_t kDefaultExperiment = 1;

    // Opens or creates the database (and its folder), migrating older schemas; refuses files
    // that are not RecLab's, newer schemas, and a write-ahead log left beside the file by another
    // database, with a StoreError naming the file and what to do. A file that was not closed
    // cleanly (its log holds changes and no process has it open) is checked with PRAGMA
    // quick_check; a damaged file can be read, but every write is refused (DamagedStoreError).
    explicit ExperimentStore(const std::string& path);
    ~ExperimentStore();
    ExperimentStore(const ExperimentStore&) = delete;
    ExperimentStore& operator=(const ExperimentStore&) = delete;

    // PRAGMA quick_check now (a training calls it before it writes a run); throws
    // DamagedStoreError, and refuses writes from then on, when the file is damaged.
    void requireIntact();

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
    // Resuming, in steps so that a refused resume leaves the run exactly as it was:
    // claimRun atomically (one transaction that checks and sets the status) makes a STOPPED or
    // INTERRUPTED run RUNNING and owned by this process; it throws StoreError naming the process
    // when another live process has the run. releaseClaim gives it back as it was. Once the
    // checkpoint has been found to fit, resumeRun drops in one transaction the metrics after
    // keepThroughEpoch (they belong to an epoch the checkpoint does not hold) and replaces the
    // params (a resumed run may be given more epochs).
    RunClaim claimRun(int64_t runId);
    void releaseClaim(const RunClaim& claim);
    void resumeRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch);
    // claimRun then resumeRun.
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
    // Sum of the run's train_seconds and pretrain_seconds: its training time, pre-training
    // included, evaluation and set-up excluded.
    double trainingSeconds(int64_t runId);
    // From the run's start to its end, set-up, pre-training and evaluation included (what the
    // runs table's Duration shows); NaN while it runs.
    double wallSeconds(int64_t runId);

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

    // Marks RUNNING runs whose process is gone as INTERRUPTED; returns how many. A process is
    // known by its pid and its start (boot id and start time), so a pid reused by another
    // program does not keep a run RUNNING.
    int recoverInterruptedRuns();

private:
    // One statement with its values bound in order, as one write.
    template <typename... Values> void writeStatement(const char* sql, const Values&... values);
    class Write;
    void migrate();
    void migrateToVersion3();
    void migrateToVersion4();
    [[noreturn]] void throwDamaged(const std::string& problem);
    RunRecord withTags(RunRecord run);
    static std::vector<LatestMetric> readLatest(SqliteStatement& s); // (run id, key, value, epoch) rows
    void writeParams(int64_t runId, const std::string& paramsJson);

    SqliteDatabase db_;
    int64_t userVersion_ = 0; // the schema version with this database's tag (SCHEMA.md)
    std::string damage_;      // why writes are refused; empty while the file is intact
};

// An identity of a live process: its boot and start time ("<boot id>/<start ticks>"), empty
// where /proc cannot tell. A pid alone is reused by the system.
std::string processIdentity(int64_t pid);

// Where a run's files live: <database>.artifacts/run-<id>.
std::string runArtifactDir(const std::string& databasePath, int64_t runId);
// Where runs are stored by default: $XDG_DATA_HOME/reclab/reclab.db, else
// ~/.local/share/reclab/reclab.db (what QStandardPaths::AppDataLocation gives the GUI).
std::string defaultDatabasePath();

} // namespace reclab
