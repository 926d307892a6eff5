// Opening the experiment store: the file checked (a RecLab database, intact after an unclean
// close), then the schema created or migrated to this build's version, one transaction.
// SCHEMA.md describes the tables.
#include "store/ExperimentStore.h"

#include "store/StoreFile.h"
#include "util/Error.h"

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

} // namespace

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

} // namespace reclab
