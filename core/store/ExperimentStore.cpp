#include "store/ExperimentStore.h"

#include "store/StoreFile.h"
#include "util/Error.h"
#include "util/Files.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>
#include <set>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace reclab {

namespace {


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

// Version 3: experiments, run names, notes, tags and split fingerprints; params as key/value
// rows; the latest value of every metric per run (so a table of 10,000 runs does not scan
// millions of metric rows); per-user test metrics; artifact files. experiment_id carries no
// REFERENCES clause: SQLite refuses to add one with a non-NULL default while foreign keys are on.
const char* const kSchemaV3 = R"sql(
CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
INSERT INTO experiments (id, name, created_at) VALUES (1, 'Default', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
ALTER TABLE runs ADD COLUMN experiment_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN split_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN parent_run_id INTEGER;
CREATE INDEX runs_by_experiment ON runs(experiment_id);
CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params(key, value);
CREATE TABLE latest_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    step   INTEGER NOT NULL,
    epoch  INTEGER NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO latest_metrics SELECT run_id, key, max(step), epoch, value FROM metrics GROUP BY run_id, key;
CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags(tag);
CREATE TABLE user_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    users  BLOB NOT NULL,
    vals   BLOB NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE artifacts (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
)sql";

// Version 4: the process that owns a RUNNING run is known by its start as well as its pid.
const char* const kSchemaV4 = R"sql(
ALTER TABLE runs ADD COLUMN process TEXT NOT NULL DEFAULT '';
)sql";

// The artifact kind of a file the trainer writes, by name.
std::string artifactKind(const std::string& relativePath)
{
    const std::string name = fs::path(relativePath).filename().string();
    if (name == "last.pt" || name == "best.pt")
        return "checkpoint";
    if (name.rfind("graph", 0) == 0)
        return "graph";
    if (name.rfind("embeddings", 0) == 0 || relativePath.rfind("embeddings/", 0) == 0)
        return "embeddings";
    return "other";
}

// Paths, relative to dir, of the files under it (none when it does not exist).
std::vector<std::string> filesIn(const std::string& folder)
{
    std::vector<std::string> out;
    std::error_code ec;
    const fs::path dir(folder);
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec))
            out.push_back(fs::relative(it->path(), dir, ec).generic_string());
    return out;
}

// Files being written (renamed into place when whole) are not artifacts yet.
bool isPartialFile(const std::string& path)
{
    for (const char* suffix : {".part", ".saving"})
        if (path.size() >= std::strlen(suffix) && path.compare(path.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
            return true;
    return false;
}

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
    r.experimentId = s.int64At(11);
    r.experiment = s.textAt(12);
    r.name = s.textAt(13);
    r.notes = s.textAt(14);
    r.splitFingerprint = s.textAt(15);
    r.parentRunId = s.int64At(16);
    return r;
}

const char* const kRunColumns =
    "SELECT r.id, r.model, r.dataset, r.dataset_source, r.dataset_fingerprint, r.params, r.seed, r.status, "
    "r.message, r.started_at, r.ended_at, r.experiment_id, coalesce(e.name, ''), r.name, r.notes, "
    "r.split_fingerprint, coalesce(r.parent_run_id, 0) FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id";

std::string trimmed(const std::string& text)
{
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return {};
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

} // namespace

// Every write of the store: one IMMEDIATE transaction that also rewrites page 1 (the
// user_version carrying this database's tag), refused while the file is known to be damaged.
class ExperimentStore::Write {
public:
    explicit Write(ExperimentStore& store) : store_(store)
    {
        if (!store_.damage_.empty())
            store_.throwDamaged(store_.damage_);
        tx_.emplace(store_.db_);
    }
    void commit()
    {
        store_.db_.exec("PRAGMA user_version = " + std::to_string(store_.userVersion_));
        tx_->commit();
    }

private:
    ExperimentStore& store_;
    std::optional<SqliteTransaction> tx_;
};

namespace {
thread_local bool uncleanOpen = false; // set by preparedStorePath for the constructor that called it
}

ExperimentStore::ExperimentStore(const std::string& path) : db_(preparedStorePath(path, uncleanOpen))
{
    const bool unclean = uncleanOpen;
    db_.exec("PRAGMA busy_timeout = 10000");
    const int64_t appId = db_.queryInt64("PRAGMA application_id"); // also detects non-SQLite files
    const int64_t tables = db_.queryInt64("SELECT count(*) FROM sqlite_master");
    if (appId != kApplicationId && !(appId == 0 && tables == 0))
        throw StoreError(path + ": this SQLite file is not a RecLab database");
    if (appId == kApplicationId && db_.queryInt64("PRAGMA user_version") == 0 && tables > 0)
        throw StoreError(path + ": its schema version (PRAGMA user_version) is 0 although it holds RecLab's tables; it "
                                "was changed outside RecLab. Restore a copy, or set the version back with the sqlite3 tool");
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = NORMAL");
    db_.exec("PRAGMA foreign_keys = ON");
    if (unclean) { // the last process to have it open did not close it: check before writing
        try {
            requireIntact();
        } catch (const DamagedStoreError&) {
            // damage_ is set: what is readable can still be read; every write is refused
        }
    }
    migrate();
    noteStoreOpened(path);
}

ExperimentStore::~ExperimentStore()
{
    noteStoreClosed(db_.path());
}

void ExperimentStore::throwDamaged(const std::string& problem)
{
    damage_ = problem;
    throw DamagedStoreError(damagedDatabaseMessage(db_.path(), problem));
}

void ExperimentStore::requireIntact()
{
    std::string problem;
    try {
        auto s = db_.prepare("PRAGMA quick_check(1)");
        if (s.step())
            problem = s.textAt(0);
    } catch (const DamagedStoreError&) {
        problem = db_.damage();
    }
    if (problem == "ok")
        return;
    // quick_check's report, on one line, without its "*** in database main ***" heading.
    const std::string heading = "*** in database main ***";
    if (problem.rfind(heading, 0) == 0)
        problem.erase(0, heading.size());
    for (char& c : problem)
        if (c == '\n')
            c = ' ';
    const size_t first = problem.find_first_not_of(' ');
    throwDamaged(first == std::string::npos ? "the integrity check failed" : problem.substr(first));
}

void ExperimentStore::migrate()
{
    // Readers (the GUI refreshing its runs table) open the store often: take the write lock
    // only when there is something to migrate.
    userVersion_ = db_.queryInt64("PRAGMA user_version");
    if (schemaOf(userVersion_) == kSchemaVersion && tagOf(userVersion_) != 0)
        return;
    if (schemaOf(userVersion_) > kSchemaVersion)
        throw StoreError(db_.path() + ": written by a newer RecLab (schema " + std::to_string(schemaOf(userVersion_)) +
                         ", this build knows " + std::to_string(kSchemaVersion) + ")");
    if (!damage_.empty())
        throwDamaged(damage_);
    {
        SqliteTransaction tx(db_);
        userVersion_ = db_.queryInt64("PRAGMA user_version");
        const int version = schemaOf(userVersion_);
        if (version < 1) {
            db_.exec(kSchemaV1);
            db_.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
        }
        if (version < 2)
            db_.exec(kSchemaV2);
        if (version < 3)
            migrateToVersion3();
        if (version < 4)
            db_.exec(kSchemaV4);
        const int64_t tag = tagOf(userVersion_) != 0 ? tagOf(userVersion_) : newDatabaseTag();
        userVersion_ = (tag << kSchemaBits) | kSchemaVersion;
        db_.exec("PRAGMA user_version = " + std::to_string(userVersion_));
        tx.commit();
    }
    // The tag reaches the file itself now, not at the next checkpoint, so a log left beside it
    // later can be told apart (requireOwnLog).
    db_.exec("PRAGMA wal_checkpoint(PASSIVE)");
}

void ExperimentStore::migrateToVersion3()
{
    db_.exec(kSchemaV3);
    // Params and artifacts of the runs recorded so far, from their JSON and their folders.
    std::vector<std::pair<int64_t, std::string>> runs;
    {
        auto s = db_.prepare("SELECT id, params FROM runs");
        while (s.step())
            runs.emplace_back(s.int64At(0), s.textAt(1));
    }
    for (const auto& [id, params] : runs) {
        writeParams(id, params);
        for (const auto& file : filesIn(runArtifactDir(db_.path(), id)))
            if (!isPartialFile(file))
                recordArtifact(id, file, "");
    }
}

std::vector<std::pair<std::string, std::string>> flattenParams(const std::string& paramsJson)
{
    std::vector<std::pair<std::string, std::string>> out;
    const nlohmann::json params = nlohmann::json::parse(paramsJson, nullptr, false);
    if (params.is_discarded() || !params.is_object())
        return out;
    for (auto it = params.begin(); it != params.end(); ++it) {
        const nlohmann::json& v = it.value();
        if (it.key() == "graph" && v.is_object()) {
            const auto name = v.find("name");
            out.emplace_back("graph", name != v.end() && name->is_string() ? name->get<std::string>() : "unnamed");
        } else {
            out.emplace_back(it.key(), v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    return out;
}

void ExperimentStore::writeParams(int64_t runId, const std::string& paramsJson)
{
    auto drop = db_.prepare("DELETE FROM params WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    auto s = db_.prepare("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)");
    for (const auto& [key, value] : flattenParams(paramsJson)) {
        s.bind(1, runId).bind(2, key).bind(3, value);
        s.step();
        s.reset();
    }
}

int64_t ExperimentStore::experimentId(const std::string& name)
{
    const std::string clean = trimmed(name);
    if (clean.empty())
        throw StoreError(db_.path() + ": an experiment needs a name");
    {
        auto s = db_.prepare("SELECT id FROM experiments WHERE name = ?");
        s.bind(1, clean);
        if (s.step())
            return s.int64At(0);
    }
    Write write(*this);
    auto insert = db_.prepare("INSERT INTO experiments (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING");
    insert.bind(1, clean).bind(2, isoTimestampNow());
    insert.step();
    auto s = db_.prepare("SELECT id FROM experiments WHERE name = ?");
    s.bind(1, clean);
    s.step();
    const int64_t id = s.int64At(0);
    write.commit();
    return id;
}

std::vector<ExperimentRecord> ExperimentStore::listExperiments()
{
    auto s = db_.prepare("SELECT e.id, e.name, e.description, e.created_at, "
                         "(SELECT count(*) FROM runs r WHERE r.experiment_id = e.id) FROM experiments e ORDER BY e.id");
    std::vector<ExperimentRecord> out;
    while (s.step())
        out.push_back({s.int64At(0), s.textAt(1), s.textAt(2), s.textAt(3), s.int64At(4)});
    return out;
}

void ExperimentStore::moveRun(int64_t runId, int64_t experimentId)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET experiment_id = ? WHERE id = ? AND EXISTS (SELECT 1 FROM experiments WHERE id = ?)");
    s.bind(1, experimentId).bind(2, runId).bind(3, experimentId);
    s.step();
    if (db_.changes() == 0)
        throw StoreError(db_.path() + ": no run " + std::to_string(runId) + " or no experiment " + std::to_string(experimentId));
    write.commit();
}

int64_t ExperimentStore::beginRun(const RunRecord& run)
{
    Write write(*this);
    auto s = db_.prepare("INSERT INTO runs (model, dataset, dataset_source, dataset_fingerprint, params, "
                         "seed, status, started_at, pid, experiment_id, name, notes, split_fingerprint, parent_run_id, "
                         "process) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, run.model)
        .bind(2, run.dataset)
        .bind(3, run.datasetSource)
        .bind(4, run.datasetFingerprint)
        .bind(5, run.paramsJson)
        .bind(6, run.seed)
        .bind(7, std::string(runStatusName(RunStatus::Running)))
        .bind(8, run.startedAt.empty() ? isoTimestampNow() : run.startedAt)
        .bind(9, static_cast<int64_t>(::getpid()))
        .bind(10, run.experimentId > 0 ? run.experimentId : kDefaultExperiment)
        .bind(11, trimmed(run.name))
        .bind(12, run.notes)
        .bind(13, run.splitFingerprint);
    if (run.parentRunId > 0)
        s.bind(14, run.parentRunId);
    else
        s.bindNull(14);
    s.bind(15, processIdentity(::getpid()));
    s.step();
    const int64_t id = db_.lastInsertRowId();
    writeParams(id, run.paramsJson);
    if (!run.tags.empty()) {
        auto tag = db_.prepare("INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)");
        for (const auto& t : run.tags)
            if (const std::string clean = trimmed(t); !clean.empty()) {
                tag.bind(1, id).bind(2, clean);
                tag.step();
                tag.reset();
            }
    }
    write.commit();
    return id;
}

void ExperimentStore::setSplitFingerprint(int64_t runId, const std::string& fingerprint)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET split_fingerprint = ? WHERE id = ?");
    s.bind(1, fingerprint).bind(2, runId);
    s.step();
    write.commit();
}

void ExperimentStore::recordMetrics(int64_t runId, const std::vector<MetricPoint>& points)
{
    Write write(*this);
    auto s = db_.prepare("INSERT INTO metrics (run_id, key, step, epoch, value, wall_time) VALUES (?, ?, ?, ?, ?, ?)");
    auto latest = db_.prepare(
        "INSERT INTO latest_metrics (run_id, key, step, epoch, value) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, epoch = excluded.epoch, value = excluded.value "
        "WHERE excluded.step >= latest_metrics.step");
    for (const auto& p : points) {
        s.bind(1, runId).bind(2, p.key).bind(3, p.step).bind(4, static_cast<int64_t>(p.epoch));
        latest.bind(1, runId).bind(2, p.key).bind(3, p.step).bind(4, static_cast<int64_t>(p.epoch));
        if (std::isnan(p.value)) {
            s.bindNull(5);
            latest.bindNull(5);
        } else {
            s.bind(5, p.value);
            latest.bind(5, p.value);
        }
        s.bind(6, p.wallTime);
        s.step();
        s.reset();
        latest.step();
        latest.reset();
    }
    write.commit();
}

void ExperimentStore::recordUserMetrics(int64_t runId, const UserMetrics& metrics)
{
    Write write(*this);
    auto drop = db_.prepare("DELETE FROM user_metrics WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    auto s = db_.prepare("INSERT INTO user_metrics (run_id, key, users, vals) VALUES (?, ?, ?, ?)");
    for (const auto& m : metrics) {
        if (m.users.size() != m.values.size())
            throw StoreError(db_.path() + ": per-user metric " + m.name + " has " + std::to_string(m.users.size()) +
                             " users but " + std::to_string(m.values.size()) + " values");
        s.bind(1, runId).bind(2, m.name);
        s.bindBlob(3, m.users.data(), m.users.size() * sizeof(int32_t));
        s.bindBlob(4, m.values.data(), m.values.size() * sizeof(double));
        s.step();
        s.reset();
    }
    write.commit();
}

UserMetrics ExperimentStore::userMetrics(int64_t runId)
{
    auto s = db_.prepare("SELECT key, users, vals FROM user_metrics WHERE run_id = ? ORDER BY key");
    s.bind(1, runId);
    UserMetrics out;
    while (s.step()) {
        const std::string users = s.blobAt(1), values = s.blobAt(2);
        UserMetric m{s.textAt(0), std::vector<int32_t>(users.size() / sizeof(int32_t)),
                     std::vector<double>(values.size() / sizeof(double))};
        if (m.users.size() != m.values.size())
            throw StoreError(db_.path() + ": run " + std::to_string(runId) + ": per-user metric " + m.name +
                             " is damaged (" + std::to_string(m.users.size()) + " users, " +
                             std::to_string(m.values.size()) + " values)");
        std::memcpy(m.users.data(), users.data(), m.users.size() * sizeof(int32_t));
        std::memcpy(m.values.data(), values.data(), m.values.size() * sizeof(double));
        out.push_back(std::move(m));
    }
    return out;
}

void ExperimentStore::finishRun(int64_t runId, RunStatus status, const std::string& message)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?");
    s.bind(1, std::string(runStatusName(status))).bind(2, message).bind(3, isoTimestampNow()).bind(4, runId);
    s.step();
    write.commit();
}

std::vector<RunRecord> ExperimentStore::listRuns()
{
    // One read transaction, so the runs and their tags are of one moment.
    db_.exec("BEGIN");
    try {
        auto s = db_.prepare(std::string(kRunColumns) + " ORDER BY r.id DESC");
        std::vector<RunRecord> out;
        std::unordered_map<int64_t, size_t> row;
        while (s.step()) {
            out.push_back(readRun(s));
            row.emplace(out.back().id, out.size() - 1);
        }
        auto tags = db_.prepare("SELECT run_id, tag FROM tags ORDER BY run_id, tag");
        while (tags.step())
            if (const auto it = row.find(tags.int64At(0)); it != row.end())
                out[it->second].tags.push_back(tags.textAt(1));
        db_.exec("COMMIT");
        return out;
    } catch (...) {
        db_.exec("ROLLBACK");
        throw;
    }
}

std::optional<RunRecord> ExperimentStore::findRun(int64_t runId)
{
    auto s = db_.prepare(std::string(kRunColumns) + " WHERE r.id = ?");
    s.bind(1, runId);
    if (!s.step())
        return std::nullopt;
    return withTags(readRun(s));
}

RunRecord ExperimentStore::withTags(RunRecord run)
{
    auto s = db_.prepare("SELECT tag FROM tags WHERE run_id = ? ORDER BY tag");
    s.bind(1, run.id);
    while (s.step())
        run.tags.push_back(s.textAt(0));
    return run;
}

std::vector<std::pair<std::string, std::string>> ExperimentStore::params(int64_t runId)
{
    auto s = db_.prepare("SELECT key, value FROM params WHERE run_id = ? ORDER BY key");
    s.bind(1, runId);
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step())
        out.emplace_back(s.textAt(0), s.textAt(1));
    return out;
}

std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> ExperimentStore::allParams()
{
    auto s = db_.prepare("SELECT run_id, key, value FROM params ORDER BY run_id, key");
    std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> out;
    while (s.step())
        out[s.int64At(0)].emplace_back(s.textAt(1), s.textAt(2));
    return out;
}

double ExperimentStore::trainingSeconds(int64_t runId)
{
    auto s = db_.prepare("SELECT coalesce(sum(value), 0) FROM metrics WHERE run_id = ? AND key = 'train_seconds'");
    s.bind(1, runId);
    s.step();
    return s.doubleAt(0);
}

void ExperimentStore::renameRun(int64_t runId, const std::string& name)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET name = ? WHERE id = ?");
    s.bind(1, trimmed(name)).bind(2, runId);
    s.step();
    write.commit();
}

void ExperimentStore::setNotes(int64_t runId, const std::string& notes)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET notes = ? WHERE id = ?");
    s.bind(1, notes).bind(2, runId);
    s.step();
    write.commit();
}

void ExperimentStore::setTags(int64_t runId, const std::vector<std::string>& tags)
{
    std::set<std::string> clean;
    for (const auto& t : tags)
        if (std::string c = trimmed(t); !c.empty())
            clean.insert(std::move(c));
    Write write(*this);
    auto drop = db_.prepare("DELETE FROM tags WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    auto s = db_.prepare("INSERT INTO tags (run_id, tag) VALUES (?, ?)");
    for (const auto& t : clean) {
        s.bind(1, runId).bind(2, t);
        s.step();
        s.reset();
    }
    write.commit();
}

void ExperimentStore::deleteRun(int64_t runId, std::string* movedAside)
{
    if (movedAside)
        movedAside->clear();
    const auto run = findRun(runId);
    if (!run)
        throw StoreError(db_.path() + " has no run " + std::to_string(runId));
    if (!damage_.empty())
        throwDamaged(damage_);
    if (run->status == RunStatus::Running) {
        auto s = db_.prepare("SELECT coalesce(pid, 0), process FROM runs WHERE id = ?");
        s.bind(1, runId);
        s.step();
        if (processAlive(static_cast<pid_t>(s.int64At(0)), s.textAt(1)))
            throw StoreError("run " + std::to_string(runId) + " is still training; stop it before deleting it");
    }
    const fs::path dir(runArtifactDir(db_.path(), runId));
    const fs::path aside = dir.string() + ".deleting";
    std::error_code ec;
    fs::remove_all(aside, ec);
    const bool moved = fs::exists(dir, ec) && (fs::rename(dir, aside, ec), !ec);
    if (fs::exists(dir) && !moved)
        throw StoreError(dir.string() + ": cannot move the run's files aside: " + ec.message());
    try {
        Write write(*this);
        auto s = db_.prepare("DELETE FROM runs WHERE id = ?");
        s.bind(1, runId);
        s.step();
        write.commit();
    } catch (...) {
        if (moved)
            fs::rename(aside, dir, ec);
        throw;
    }
    if (moved && movedAside)
        *movedAside = aside.string();
    else if (moved)
        fs::remove_all(aside, ec);
}

void ExperimentStore::recordArtifact(int64_t runId, const std::string& relativePath, const std::string& kind)
{
    std::error_code ec;
    const auto size = fs::file_size(fs::path(runArtifactDir(db_.path(), runId)) / relativePath, ec);
    auto s = db_.prepare("INSERT INTO artifacts (run_id, path, kind, bytes, created_at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT(run_id, path) DO UPDATE SET bytes = excluded.bytes, kind = excluded.kind");
    s.bind(1, runId)
        .bind(2, relativePath)
        .bind(3, kind.empty() ? artifactKind(relativePath) : kind)
        .bind(4, static_cast<int64_t>(ec ? 0 : size))
        .bind(5, isoTimestampNow());
    s.step();
}

void ExperimentStore::syncArtifacts(int64_t runId)
{
    const std::vector<std::string> files = filesIn(runArtifactDir(db_.path(), runId));
    Write write(*this);
    auto drop = db_.prepare("DELETE FROM artifacts WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    for (const auto& file : files)
        if (!isPartialFile(file))
            recordArtifact(runId, file, "");
    write.commit();
}

std::vector<ArtifactRecord> ExperimentStore::artifacts(int64_t runId)
{
    auto s = db_.prepare("SELECT path, kind, bytes, created_at FROM artifacts WHERE run_id = ? ORDER BY path");
    s.bind(1, runId);
    std::vector<ArtifactRecord> out;
    while (s.step())
        out.push_back({s.textAt(0), s.textAt(1), s.int64At(2), s.textAt(3)});
    return out;
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

std::vector<ExperimentStore::LatestMetric> ExperimentStore::readLatest(SqliteStatement& s)
{
    std::vector<LatestMetric> out;
    while (s.step())
        out.push_back({s.int64At(0), s.textAt(1), valueOrNaN(s, 2), static_cast<int>(s.int64At(3))});
    return out;
}

std::vector<ExperimentStore::LatestMetric> ExperimentStore::latestMetrics(const std::vector<std::string>& keys)
{
    std::string placeholders;
    for (size_t k = 0; k < keys.size(); ++k)
        placeholders += k ? ", ?" : "?";
    auto s = db_.prepare("SELECT run_id, key, value, epoch FROM latest_metrics" +
                         (keys.empty() ? std::string() : " WHERE key IN (" + placeholders + ")") + " ORDER BY run_id, key");
    for (size_t k = 0; k < keys.size(); ++k)
        s.bind(static_cast<int>(k) + 1, keys[k]);
    return readLatest(s);
}

std::vector<ExperimentStore::LatestMetric> ExperimentStore::latestMetricsOf(int64_t runId)
{
    auto s = db_.prepare("SELECT run_id, key, value, epoch FROM latest_metrics WHERE run_id = ? ORDER BY key");
    s.bind(1, runId);
    return readLatest(s);
}

std::vector<std::string> ExperimentStore::metricKeys()
{
    auto s = db_.prepare("SELECT DISTINCT key FROM latest_metrics ORDER BY key");
    std::vector<std::string> out;
    while (s.step())
        out.push_back(s.textAt(0));
    return out;
}

RunClaim ExperimentStore::claimRun(int64_t runId)
{
    Write write(*this);
    auto s = db_.prepare("SELECT status, message, coalesce(ended_at, ''), coalesce(pid, 0), process FROM runs WHERE id = ?");
    s.bind(1, runId);
    const std::string run = "run " + std::to_string(runId);
    if (!s.step())
        throw StoreError(db_.path() + " has no " + run);
    RunClaim claim{runId, runStatusFromName(s.textAt(0)), s.textAt(1), s.textAt(2), s.int64At(3), s.textAt(4)};
    if (claim.status == RunStatus::Running && processAlive(static_cast<pid_t>(claim.pid), claim.process))
        throw StoreError(run + " is being trained by process " + std::to_string(claim.pid) +
                         (claim.pid == ::getpid() ? " (this one)" : "") + "; wait for it to end or stop it");
    if (claim.status != RunStatus::Stopped && claim.status != RunStatus::Interrupted && claim.status != RunStatus::Running)
        throw StoreError(run + " is " + runStatusName(claim.status) + "; only a stopped or interrupted run can be resumed");
    if (claim.status == RunStatus::Running) { // its process is gone: it was interrupted
        claim.status = RunStatus::Interrupted;
        claim.message = "the process ended while the run was in progress";
        claim.endedAt = isoTimestampNow();
    }
    auto set = db_.prepare("UPDATE runs SET status = ?, message = '', ended_at = NULL, pid = ?, process = ? WHERE id = ?");
    set.bind(1, std::string(runStatusName(RunStatus::Running)))
        .bind(2, static_cast<int64_t>(::getpid()))
        .bind(3, processIdentity(::getpid()))
        .bind(4, runId);
    set.step();
    write.commit();
    return claim;
}

void ExperimentStore::releaseClaim(const RunClaim& claim)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET status = ?, message = ?, ended_at = ?, pid = ?, process = ? "
                         "WHERE id = ? AND status = 'RUNNING' AND pid = ?");
    s.bind(1, std::string(runStatusName(claim.status))).bind(2, claim.message);
    if (claim.endedAt.empty())
        s.bindNull(3);
    else
        s.bind(3, claim.endedAt);
    s.bind(4, claim.pid).bind(5, claim.process).bind(6, claim.runId).bind(7, static_cast<int64_t>(::getpid()));
    s.step();
    write.commit();
}

void ExperimentStore::resumeRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch)
{
    Write write(*this);
    // Pre-training curves count their own epochs and stay.
    auto drop = db_.prepare("DELETE FROM metrics WHERE run_id = ? AND epoch > ? AND key NOT LIKE 'pretrain\\_%' ESCAPE '\\'");
    drop.bind(1, runId).bind(2, static_cast<int64_t>(keepThroughEpoch));
    drop.step();
    for (const char* sql : {"DELETE FROM latest_metrics WHERE run_id = ?", "DELETE FROM user_metrics WHERE run_id = ?",
                            "INSERT INTO latest_metrics SELECT run_id, key, max(step), epoch, value FROM metrics "
                            "WHERE run_id = ? GROUP BY key"}) {
        auto q = db_.prepare(sql);
        q.bind(1, runId);
        q.step();
    }
    writeParams(runId, paramsJson);
    auto s = db_.prepare("UPDATE runs SET params = ? WHERE id = ?");
    s.bind(1, paramsJson).bind(2, runId);
    s.step();
    write.commit();
}

void ExperimentStore::reopenRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch)
{
    claimRun(runId);
    resumeRun(runId, paramsJson, keepThroughEpoch);
}

int ExperimentStore::recoverInterruptedRuns()
{
    std::vector<int64_t> gone;
    {
        auto s = db_.prepare("SELECT id, coalesce(pid, 0), process FROM runs WHERE status = 'RUNNING'");
        while (s.step()) {
            const auto pid = static_cast<pid_t>(s.int64At(1));
            const std::string process = s.textAt(2);
            // Without a process identity (runs of older versions), this process's own RUNNING
            // rows at start-up are left from an earlier process that had the same pid.
            if (!processAlive(pid, process) || (process.empty() && pid == ::getpid()))
                gone.push_back(s.int64At(0));
        }
    }
    for (const int64_t id : gone) {
        finishRun(id, RunStatus::Interrupted, "the process ended while the run was in progress");
        syncArtifacts(id); // the checkpoint written after its last recorded epoch
    }
    return static_cast<int>(gone.size());
}

std::string runArtifactDir(const std::string& databasePath, int64_t runId)
{
    return databasePath + ".artifacts/run-" + std::to_string(runId);
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

} // namespace reclab
