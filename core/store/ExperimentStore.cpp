#include "store/ExperimentStore.h"

#include "util/Error.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>

#include <signal.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace reclab {

namespace {

// PRAGMA application_id marks our files, so a foreign SQLite database is refused.
constexpr int64_t kApplicationId = 0x5265634C; // "RecL"

const char* const kSchemaV1 = R"sql(
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY,
    model               TEXT NOT NULL,
    dataset             TEXT NOT NULL,
    dataset_source      TEXT NOT NULL,
    dataset_fingerprint TEXT NOT NULL,
    params              TEXT NOT NULL,
    seed                INTEGER NOT NULL,
    status              TEXT NOT NULL,
    message             TEXT NOT NULL DEFAULT '',
    started_at          TEXT NOT NULL,
    ended_at            TEXT,
    pid                 INTEGER
);
CREATE TABLE metrics (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    epoch     INTEGER NOT NULL,
    value     REAL NOT NULL,
    wall_time REAL NOT NULL
);
CREATE INDEX metrics_by_run ON metrics(run_id, key, step);
)sql";

// Version 2: a metric's value may be NULL, meaning "undefined here" (an AUC over one class, a
// GAUC with no user holding both), read back as NaN and shown as n/a, never as 0. SQLite
// cannot drop a NOT NULL in place, so the table is rebuilt.
const char* const kSchemaV2 = R"sql(
CREATE TABLE metrics_v2 (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    epoch     INTEGER NOT NULL,
    value     REAL,
    wall_time REAL NOT NULL
);
INSERT INTO metrics_v2 SELECT run_id, key, step, epoch, value, wall_time FROM metrics ORDER BY rowid;
DROP TABLE metrics;
ALTER TABLE metrics_v2 RENAME TO metrics;
CREATE INDEX metrics_by_run ON metrics(run_id, key, step);
)sql";

double valueOrNaN(const SqliteStatement& s, int column)
{
    return s.isNullAt(column) ? std::numeric_limits<double>::quiet_NaN() : s.doubleAt(column);
}

RunRecord readRun(const SqliteStatement& s)
{
    RunRecord r;
    r.id = s.int64At(0);
    r.model = s.textAt(1);
    r.dataset = s.textAt(2);
    r.datasetSource = s.textAt(3);
    r.datasetFingerprint = s.textAt(4);
    r.paramsJson = s.textAt(5);
    r.seed = s.int64At(6);
    r.status = runStatusFromName(s.textAt(7));
    r.message = s.textAt(8);
    r.startedAt = s.textAt(9);
    r.endedAt = s.textAt(10);
    return r;
}

const char* const kRunColumns =
    "SELECT id, model, dataset, dataset_source, dataset_fingerprint, params, seed, status, message, "
    "started_at, ended_at FROM runs";

} // namespace

ExperimentStore::ExperimentStore(const std::string& path)
    : db_([&] {
          const fs::path parent = fs::path(path).parent_path();
          std::error_code ec;
          if (!parent.empty())
              fs::create_directories(parent, ec);
          return path;
      }())
{
    db_.exec("PRAGMA busy_timeout = 10000");
    const int64_t appId = db_.queryInt64("PRAGMA application_id"); // also detects non-SQLite files
    const int64_t tables = db_.queryInt64("SELECT count(*) FROM sqlite_master");
    if (appId != kApplicationId && !(appId == 0 && tables == 0))
        throw StoreError(path + ": this SQLite file is not a RecLab database");
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = NORMAL");
    db_.exec("PRAGMA foreign_keys = ON");
    migrate();
}

void ExperimentStore::migrate()
{
    // Readers (the GUI refreshing its runs table) open the store often: take the write lock
    // only when there is something to migrate.
    if (db_.queryInt64("PRAGMA user_version") == kSchemaVersion)
        return;
    SqliteTransaction tx(db_);
    const int64_t version = db_.queryInt64("PRAGMA user_version");
    if (version > kSchemaVersion)
        throw StoreError(db_.path() + ": written by a newer RecLab (schema " + std::to_string(version) +
                         ", this build knows " + std::to_string(kSchemaVersion) + ")");
    if (version < 1) {
        db_.exec(kSchemaV1);
        db_.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    }
    if (version < 2)
        db_.exec(kSchemaV2);
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
}

int64_t ExperimentStore::beginRun(const RunRecord& run)
{
    auto s = db_.prepare("INSERT INTO runs (model, dataset, dataset_source, dataset_fingerprint, params, "
                         "seed, status, started_at, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, run.model)
        .bind(2, run.dataset)
        .bind(3, run.datasetSource)
        .bind(4, run.datasetFingerprint)
        .bind(5, run.paramsJson)
        .bind(6, run.seed)
        .bind(7, std::string(runStatusName(RunStatus::Running)))
        .bind(8, run.startedAt.empty() ? isoTimestampNow() : run.startedAt)
        .bind(9, static_cast<int64_t>(::getpid()));
    s.step();
    return db_.lastInsertRowId();
}

void ExperimentStore::recordMetrics(int64_t runId, const std::vector<MetricPoint>& points)
{
    SqliteTransaction tx(db_);
    auto s = db_.prepare("INSERT INTO metrics (run_id, key, step, epoch, value, wall_time) VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& p : points) {
        s.bind(1, runId).bind(2, p.key).bind(3, p.step).bind(4, static_cast<int64_t>(p.epoch));
        if (std::isnan(p.value))
            s.bindNull(5);
        else
            s.bind(5, p.value);
        s.bind(6, p.wallTime);
        s.step();
        s.reset();
    }
    tx.commit();
}

void ExperimentStore::finishRun(int64_t runId, RunStatus status, const std::string& message)
{
    auto s = db_.prepare("UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?");
    s.bind(1, std::string(runStatusName(status))).bind(2, message).bind(3, isoTimestampNow()).bind(4, runId);
    s.step();
}

std::vector<RunRecord> ExperimentStore::listRuns()
{
    auto s = db_.prepare(std::string(kRunColumns) + " ORDER BY id DESC");
    std::vector<RunRecord> out;
    while (s.step())
        out.push_back(readRun(s));
    return out;
}

std::optional<RunRecord> ExperimentStore::findRun(int64_t runId)
{
    auto s = db_.prepare(std::string(kRunColumns) + " WHERE id = ?");
    s.bind(1, runId);
    if (!s.step())
        return std::nullopt;
    return readRun(s);
}

std::vector<MetricPoint> ExperimentStore::metrics(int64_t runId, const std::string& key)
{
    auto s = db_.prepare("SELECT key, step, epoch, value, wall_time FROM metrics WHERE run_id = ?" +
                         std::string(key.empty() ? "" : " AND key = ?") + " ORDER BY step, rowid");
    s.bind(1, runId);
    if (!key.empty())
        s.bind(2, key);
    std::vector<MetricPoint> out;
    while (s.step())
        out.push_back({s.textAt(0), s.int64At(1), static_cast<int>(s.int64At(2)), valueOrNaN(s, 3), s.doubleAt(4)});
    return out;
}

std::vector<ExperimentStore::LatestMetric> ExperimentStore::latestMetrics(const std::vector<std::string>& keys)
{
    std::vector<LatestMetric> out;
    if (keys.empty())
        return out;
    std::string placeholders;
    for (size_t k = 0; k < keys.size(); ++k)
        placeholders += k ? ", ?" : "?";
    // SQLite takes the bare column `value` from the row holding max(step).
    auto s = db_.prepare("SELECT run_id, key, value, max(step) FROM metrics WHERE key IN (" + placeholders +
                         ") GROUP BY run_id, key ORDER BY run_id, key");
    for (size_t k = 0; k < keys.size(); ++k)
        s.bind(static_cast<int>(k) + 1, keys[k]);
    while (s.step())
        out.push_back({s.int64At(0), s.textAt(1), valueOrNaN(s, 2)});
    return out;
}

void ExperimentStore::reopenRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch)
{
    SqliteTransaction tx(db_);
    // Pre-training curves count their own epochs and stay.
    auto drop = db_.prepare("DELETE FROM metrics WHERE run_id = ? AND epoch > ? AND key NOT LIKE 'pretrain\_%' ESCAPE '\\'");
    drop.bind(1, runId).bind(2, static_cast<int64_t>(keepThroughEpoch));
    drop.step();
    auto s = db_.prepare("UPDATE runs SET status = ?, message = '', ended_at = NULL, params = ?, pid = ? WHERE id = ?");
    s.bind(1, std::string(runStatusName(RunStatus::Running)))
        .bind(2, paramsJson)
        .bind(3, static_cast<int64_t>(::getpid()))
        .bind(4, runId);
    s.step();
    tx.commit();
}

int ExperimentStore::recoverInterruptedRuns()
{
    std::vector<int64_t> gone;
    {
        auto s = db_.prepare("SELECT id, pid FROM runs WHERE status = 'RUNNING'");
        while (s.step()) {
            const auto pid = static_cast<pid_t>(s.int64At(1));
            const bool alive = pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
            if (!alive || pid == ::getpid())
                gone.push_back(s.int64At(0));
        }
    }
    for (const int64_t id : gone)
        finishRun(id, RunStatus::Interrupted, "the process ended while the run was in progress");
    return static_cast<int>(gone.size());
}

std::string defaultDatabasePath()
{
    const char* xdg = std::getenv("XDG_DATA_HOME");
    fs::path base;
    if (xdg && *xdg && fs::path(xdg).is_absolute())
        base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = fs::path(home) / ".local" / "share";
    else
        base = fs::temp_directory_path();
    return (base / "reclab" / "reclab.db").string();
}

std::string isoTimestampNow()
{
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
    return out;
}

double unixTimeNow()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace reclab
