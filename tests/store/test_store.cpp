// The experiment store on real SQLite files: schema, WAL, runs and metrics, refusing files
// that are not RecLab databases or corrupt, migrating older schemas, experiments, names, notes,
// tags, params, per-user metrics, artifacts and deletion, and recovering runs whose process died.
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

using namespace reclab;

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void createsSchemaInWalMode();
    void recordsRunLifecycleAndMetrics();
    void refusesForeignSqliteFile();
    void refusesNonSqliteFile();
    void refusesNewerSchema();
    void undefinedMetricsAreStoredAsNull();
    void migratesVersionOneDatabase();
    void marksDeadRunsInterrupted();
    void defaultPathFollowsXdg();
    void twoConnectionsWriteWithoutLocking();
    void experimentsNamesNotesAndTags();
    void latestMetricsFollowTheHighestStep();
    void paramsAreStoredAsKeysAndValues();
    void userMetricsRoundTrip();
    void deleteRemovesRecordsAndArtifacts();
    void refusesToDeleteARunThatIsTraining();
    void corruptDatabaseGivesAClearMessage();
    void logOfAnotherDatabaseIsRefused();
    void damagedDatabaseRefusesWrites();
    void resumeClaimsTheRunAtomically();
    void uncleanFileIsCheckedOnOpen();
};

namespace {
std::string pragma(const std::string& path, const char* sql)
{
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW)
        out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

RunRecord sampleRun();

// A run with 5,000 metric rows: a file of many pages, some of which a test then damages.
void writeRunWithManyMetrics(const std::string& path)
{
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    std::vector<MetricPoint> points;
    for (int k = 0; k < 5000; ++k)
        points.push_back({"batch_loss", k, 1, 1.0 / (k + 1), 0});
    store.recordMetrics(id, points);
}

RunRecord sampleRun()
{
    RunRecord r;
    r.model = "neumf";
    r.dataset = "sample";
    r.datasetSource = "generated (seed 42)";
    r.datasetFingerprint = "0123456789abcdef";
    r.paramsJson = R"({"epochs":2})";
    r.seed = 42;
    return r;
}
} // namespace

void TestStore::createsSchemaInWalMode()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("sub/folder/runs.db")).toStdString();
    { ExperimentStore store(path); }
    QVERIFY(QFileInfo::exists(QString::fromStdString(path)));
    QCOMPARE(pragma(path, "PRAGMA journal_mode"), std::string("wal"));
    // The schema version in the low 8 bits, the database's own tag above them (SCHEMA.md).
    const long long version = std::stoll(pragma(path, "PRAGMA user_version"));
    QCOMPARE(version & 0xFF, static_cast<long long>(ExperimentStore::kSchemaVersion));
    QVERIFY(version >> 8 != 0);
    QCOMPARE(pragma(path, "PRAGMA integrity_check"), std::string("ok"));
    { ExperimentStore again(path); } // reopening an existing database works
}

void TestStore::recordsRunLifecycleAndMetrics()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    QVERIFY(id > 0);
    auto run = store.findRun(id);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Running);
    QVERIFY(run->endedAt.empty());
    QCOMPARE(run->paramsJson, std::string(R"({"epochs":2})"));
    store.recordMetrics(id, {{"batch_loss", 10, 1, 0.6, 1.0}, {"hr@10", 20, 1, 0.4, 2.0}});
    store.recordMetrics(id, {{"hr@10", 40, 2, 0.5, 3.0}});
    store.finishRun(id, RunStatus::Finished, "");
    run = store.findRun(id);
    QCOMPARE(run->status, RunStatus::Finished);
    QVERIFY(!run->endedAt.empty());
    const auto hr = store.metrics(id, "hr@10");
    QCOMPARE(hr.size(), size_t(2));
    QCOMPARE(hr[0].epoch, 1);
    QCOMPARE(hr[1].value, 0.5);
    QCOMPARE(store.metrics(id).size(), size_t(3));
    const int64_t second = store.beginRun(sampleRun());
    const auto runs = store.listRuns();
    QCOMPARE(runs.size(), size_t(2));
    QCOMPARE(runs.front().id, second); // newest first
    QVERIFY(!store.findRun(9999));
    store.recordMetrics(second, {{"hr@10", 5, 1, 0.25, 4.0}, {"rmse", 5, 1, 0.9, 4.0}});
    const auto latest = store.latestMetrics({"hr@10", "rmse"});
    QCOMPARE(latest.size(), size_t(3));
    QCOMPARE(latest[0].runId, id);
    QCOMPARE(latest[0].key, std::string("hr@10"));
    QCOMPARE(latest[0].value, 0.5); // the value at the highest step, not the first
    QCOMPARE(latest[1].runId, second);
    QCOMPARE(latest[2].key, std::string("rmse"));
}

void TestStore::refusesForeignSqliteFile()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("other.db")).toStdString();
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE customers(id INTEGER, name TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    try {
        ExperimentStore store(path);
        QFAIL("a foreign database was accepted");
    } catch (const StoreError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("not a RecLab database")), e.what());
    }
    QCOMPARE(pragma(path, "SELECT count(*) FROM sqlite_master"), std::string("1")); // untouched
}

void TestStore::refusesNonSqliteFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("junk.db"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, '\x5a'));
    f.close();
    try {
        ExperimentStore store(path.toStdString());
        QFAIL("junk was accepted");
    } catch (const StoreError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("not an SQLite database")), e.what());
    }
}

void TestStore::refusesNewerSchema()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("new.db")).toStdString();
    { ExperimentStore store(path); }
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    QVERIFY_THROWS_EXCEPTION(StoreError, ExperimentStore{path});
}

void TestStore::undefinedMetricsAreStoredAsNull()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("nan.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    store.recordMetrics(id, {{"auc", 1, 1, 0.71, 1.0}, {"gauc", 1, 1, nan, 1.0}});
    QCOMPARE(pragma(path, "SELECT count(*) FROM metrics WHERE value IS NULL"), std::string("1"));
    const auto gauc = store.metrics(id, "gauc");
    QCOMPARE(gauc.size(), size_t(1));
    QVERIFY(std::isnan(gauc[0].value)); // not applicable, never 0
    QCOMPARE(store.metrics(id, "auc")[0].value, 0.71);
    const auto latest = store.latestMetrics({"gauc"});
    QCOMPARE(latest.size(), size_t(1));
    QVERIFY(std::isnan(latest[0].value));
}

void TestStore::migratesVersionOneDatabase()
{
    // A database as version 1 wrote it: metrics.value NOT NULL.
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("v1.db")).toStdString();
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    const char* v1 = R"sql(
        CREATE TABLE runs (id INTEGER PRIMARY KEY, model TEXT NOT NULL, dataset TEXT NOT NULL,
            dataset_source TEXT NOT NULL, dataset_fingerprint TEXT NOT NULL, params TEXT NOT NULL,
            seed INTEGER NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
            started_at TEXT NOT NULL, ended_at TEXT, pid INTEGER);
        CREATE TABLE metrics (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            key TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL, value REAL NOT NULL,
            wall_time REAL NOT NULL);
        CREATE INDEX metrics_by_run ON metrics(run_id, key, step);
        INSERT INTO runs VALUES (1, 'mf', 'ml-100k', 'x', 'f', '{}', 42, 'FINISHED', '', '2026-01-01', NULL, NULL);
        INSERT INTO metrics VALUES (1, 'rmse', 5, 1, 0.93, 1.0), (1, 'rmse', 10, 2, 0.92, 2.0);
        PRAGMA application_id = 1382376268;
        PRAGMA user_version = 1;)sql";
    QCOMPARE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_exec(db, R"(UPDATE runs SET params = '{"model":"mf","learning_rate":0.01,"mlp_layers":[64,32]}')", nullptr,
                 nullptr, nullptr);
    sqlite3_close(db);
    // The run's checkpoint, written before artifacts were recorded.
    const QString runDir = QString::fromStdString(runArtifactDir(path, 1));
    QVERIFY(QDir().mkpath(runDir));
    QFile last(runDir + QStringLiteral("/last.pt"));
    QVERIFY(last.open(QIODevice::WriteOnly));
    last.write(QByteArray(1234, 'x'));
    last.close();

    ExperimentStore store(path);
    QCOMPARE(std::stoll(pragma(path, "PRAGMA user_version")) & 0xFF, static_cast<long long>(ExperimentStore::kSchemaVersion));
    const auto rmse = store.metrics(1, "rmse");
    QCOMPARE(rmse.size(), size_t(2));
    QCOMPARE(rmse[1].value, 0.92);
    store.recordMetrics(1, {{"gauc", 11, 2, std::numeric_limits<double>::quiet_NaN(), 3.0}});
    QVERIFY(std::isnan(store.metrics(1, "gauc")[0].value));
    QCOMPARE(pragma(path, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics_by_run'"), std::string("1"));
    QCOMPARE(pragma(path, "PRAGMA integrity_check"), std::string("ok"));
    // Version 3: the run is in the default experiment, its params, latest metric and artifact
    // are there.
    const auto run = store.findRun(1);
    QCOMPARE(run->experimentId, ExperimentStore::kDefaultExperiment);
    QCOMPARE(run->experiment, std::string("Default"));
    QVERIFY(run->name.empty() && run->tags.empty() && run->splitFingerprint.empty());
    const auto params = store.params(1);
    QCOMPARE(params.size(), size_t(3));
    QCOMPARE(params[0], (std::pair<std::string, std::string>{"learning_rate", "0.01"}));
    QCOMPARE(params[1], (std::pair<std::string, std::string>{"mlp_layers", "[64,32]"}));
    const auto latest = store.latestMetricsOf(1);
    QCOMPARE(latest.size(), size_t(2));
    QCOMPARE(latest[1].key, std::string("rmse"));
    QCOMPARE(latest[1].value, 0.92);
    const auto artifacts = store.artifacts(1);
    QCOMPARE(artifacts.size(), size_t(1));
    QCOMPARE(artifacts[0].path, std::string("last.pt"));
    QCOMPARE(artifacts[0].kind, std::string("checkpoint"));
    QCOMPARE(artifacts[0].bytes, int64_t(1234));
    QCOMPARE(pragma(path, "PRAGMA foreign_key_check"), std::string());
}

void TestStore::marksDeadRunsInterrupted()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    int64_t dead = 0, alive = 0;
    {
        ExperimentStore store(path);
        dead = store.beginRun(sampleRun());
        alive = store.beginRun(sampleRun());
    }
    int64_t reused = 0;
    {
        ExperimentStore store(path);
        reused = store.beginRun(sampleRun());
    }
    // A run whose process is gone (pid 0x7ffffffe never exists); one owned by a live process
    // other than ours (pid 1, as it started); and one whose pid is now held by another program
    // (pid 1, but the process that wrote the run started at another time).
    const std::string init = processIdentity(1);
    QVERIFY(!init.empty());
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, ("UPDATE runs SET pid = 2147483646 WHERE id = " + std::to_string(dead)).c_str(), nullptr, nullptr, nullptr);
    sqlite3_exec(db, ("UPDATE runs SET pid = 1, process = '" + init + "' WHERE id = " + std::to_string(alive)).c_str(), nullptr,
                 nullptr, nullptr);
    const std::string otherStart = init.substr(0, init.find('/') + 1) + std::to_string(std::stoll(init.substr(init.find('/') + 1)) + 1);
    sqlite3_exec(db, ("UPDATE runs SET pid = 1, process = '" + otherStart + "' WHERE id = " + std::to_string(reused)).c_str(),
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
    ExperimentStore store(path);
    QCOMPARE(store.recoverInterruptedRuns(), 2);
    QCOMPARE(store.findRun(dead)->status, RunStatus::Interrupted);
    QCOMPARE(store.findRun(alive)->status, RunStatus::Running);
    QCOMPARE(store.findRun(reused)->status, RunStatus::Interrupted); // the pid alone kept it RUNNING before
}

void TestStore::defaultPathFollowsXdg()
{
    const QByteArray old = qgetenv("XDG_DATA_HOME");
    qputenv("XDG_DATA_HOME", "/tmp/reclab-xdg");
    QCOMPARE(defaultDatabasePath(), std::string("/tmp/reclab-xdg/reclab/reclab.db"));
    qunsetenv("XDG_DATA_HOME");
    QCOMPARE(defaultDatabasePath(), std::string(qgetenv("HOME").constData()) + "/.local/share/reclab/reclab.db");
    if (!old.isEmpty())
        qputenv("XDG_DATA_HOME", old);
}

void TestStore::twoConnectionsWriteWithoutLocking()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore a(path);
    ExperimentStore b(path);
    const int64_t ra = a.beginRun(sampleRun());
    const int64_t rb = b.beginRun(sampleRun());
    std::thread writer([&] {
        for (int k = 0; k < 200; ++k)
            a.recordMetrics(ra, {{"loss", k, k, 1.0 / (k + 1), 0}});
    });
    for (int k = 0; k < 200; ++k) {
        b.recordMetrics(rb, {{"loss", k, k, 1.0 / (k + 1), 0}});
        QCOMPARE(b.listRuns().size(), size_t(2));
    }
    writer.join();
    QCOMPARE(a.metrics(rb).size(), size_t(200));
    QCOMPARE(b.metrics(ra).size(), size_t(200));
}

void TestStore::experimentsNamesNotesAndTags()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t cf = store.experimentId("  CF baselines ");
    QCOMPARE(store.experimentId("CF baselines"), cf); // found, not created twice
    QVERIFY(cf != ExperimentStore::kDefaultExperiment);
    QVERIFY_THROWS_EXCEPTION(StoreError, store.experimentId("   "));
    RunRecord r = sampleRun();
    r.experimentId = cf;
    r.name = " first try ";
    r.tags = {"b", "a", " a ", ""};
    const int64_t id = store.beginRun(r);
    const int64_t other = store.beginRun(sampleRun());
    auto run = store.findRun(id);
    QCOMPARE(run->experiment, std::string("CF baselines"));
    QCOMPARE(run->name, std::string("first try"));
    QCOMPARE(run->tags, (std::vector<std::string>{"a", "b"}));
    store.renameRun(id, "tuned");
    store.setNotes(id, "lr from the paper\nsecond line");
    store.setTags(id, {"paper", "neumf", "paper"});
    run = store.findRun(id);
    QCOMPARE(run->name, std::string("tuned"));
    QCOMPARE(run->notes, std::string("lr from the paper\nsecond line"));
    QCOMPARE(run->tags, (std::vector<std::string>{"neumf", "paper"}));
    const auto runs = store.listRuns();
    QCOMPARE(runs[1].tags, run->tags);
    QVERIFY(runs[0].tags.empty());
    const auto experiments = store.listExperiments();
    QCOMPARE(experiments.size(), size_t(2));
    QCOMPARE(experiments[0].runs, int64_t(1));
    QCOMPARE(experiments[1].runs, int64_t(1));
    store.moveRun(other, cf);
    QCOMPARE(store.listExperiments()[1].runs, int64_t(2));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.moveRun(other, 77));
}

void TestStore::latestMetricsFollowTheHighestStep()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    store.recordMetrics(id, {{"hr@10", 20, 2, 0.5, 1.0}, {"loss", 20, 2, 0.3, 1.0}});
    store.recordMetrics(id, {{"hr@10", 10, 1, 0.4, 1.0}}); // an older step arriving later
    QCOMPARE(store.latestMetricsOf(id)[0].value, 0.5);
    store.recordMetrics(id, {{"hr@10", 20, 2, 0.55, 1.0}}); // the best epoch's test metric, same step
    QCOMPARE(store.latestMetricsOf(id)[0].value, 0.55);
    QCOMPARE(store.metricKeys(), (std::vector<std::string>{"hr@10", "loss"}));
    // Reopening for a resume from epoch 1 drops epoch 2 and its latest values.
    store.finishRun(id, RunStatus::Stopped, "");
    store.reopenRun(id, R"({"epochs":5})", 1);
    const auto latest = store.latestMetricsOf(id);
    QCOMPARE(latest.size(), size_t(1));
    QCOMPARE(latest[0].value, 0.4);
    QCOMPARE(store.params(id)[0].second, std::string("5"));
}

void TestStore::paramsAreStoredAsKeysAndValues()
{
    const auto p = flattenParams(R"({"model":"graph","learning_rate":0.001,"pretrain":false,
        "graph":{"name":"NeuMF","nodes":[]},"optimizer":"adam"})");
    QCOMPARE(p.size(), size_t(5));
    QCOMPARE(p[0], (std::pair<std::string, std::string>{"graph", "NeuMF"}));
    QCOMPARE(p[1], (std::pair<std::string, std::string>{"learning_rate", "0.001"}));
    QCOMPARE(p[4], (std::pair<std::string, std::string>{"pretrain", "false"}));
    QVERIFY(flattenParams("not json").empty());
}

void TestStore::userMetricsRoundTrip()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    UserMetrics m{{"auc", {0, 3, 9}, {0.5, nan, 0.75}}, {"logloss", {0, 3, 9}, {0.6, 0.7, 0.1}}};
    store.recordUserMetrics(id, m);
    UserMetrics back = store.userMetrics(id);
    QCOMPARE(back.size(), size_t(2));
    QCOMPARE(back[0].users, m[0].users);
    QCOMPARE(back[0].values[0], 0.5);
    QVERIFY(std::isnan(back[0].values[1]));
    QCOMPARE(back[1].values, m[1].values);
    store.recordUserMetrics(id, {{"auc", {1}, {0.9}}}); // replaces, not appends
    QCOMPARE(store.userMetrics(id).size(), size_t(1));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.recordUserMetrics(id, {{"auc", {1, 2}, {0.9}}}));
    QCOMPARE(store.userMetrics(id)[0].values, std::vector<double>{0.9}); // the refused write left nothing
}

void TestStore::deleteRemovesRecordsAndArtifacts()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    const int64_t keep = store.beginRun(sampleRun());
    store.recordMetrics(id, {{"loss", 1, 1, 0.5, 1.0}});
    store.recordUserMetrics(id, {{"hr@10", {1}, {1.0}}});
    store.setTags(id, {"x"});
    const QString runDir = QString::fromStdString(runArtifactDir(path, id));
    QVERIFY(QDir().mkpath(runDir + QStringLiteral("/embeddings")));
    for (const char* name : {"/last.pt", "/graph.json", "/embeddings/epoch-1.bin", "/last.pt.part"}) {
        QFile f(runDir + QString::fromUtf8(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("data");
    }
    store.syncArtifacts(id);
    const auto artifacts = store.artifacts(id);
    QCOMPARE(artifacts.size(), size_t(3)); // the half-written .part is not one
    QCOMPARE(artifacts[0].path, std::string("embeddings/epoch-1.bin"));
    QCOMPARE(artifacts[0].kind, std::string("embeddings"));
    QCOMPARE(artifacts[1].kind, std::string("graph"));
    store.finishRun(id, RunStatus::Finished, "");
    store.deleteRun(id);
    QVERIFY(!store.findRun(id));
    QVERIFY(store.findRun(keep));
    QVERIFY(!QFileInfo::exists(runDir));
    QVERIFY(!QFileInfo::exists(runDir + QStringLiteral(".deleting")));
    for (const char* table : {"metrics", "latest_metrics", "user_metrics", "tags", "params", "artifacts"})
        QCOMPARE(pragma(path, (std::string("SELECT count(*) FROM ") + table + " WHERE run_id = " + std::to_string(id)).c_str()),
                 std::string("0"));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.deleteRun(id));
}

void TestStore::refusesToDeleteARunThatIsTraining()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun()); // RUNNING, owned by this live process
    QVERIFY(QDir().mkpath(QString::fromStdString(runArtifactDir(path, id))));
    try {
        store.deleteRun(id);
        QFAIL("a training run was deleted");
    } catch (const StoreError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("still training")), e.what());
    }
    QVERIFY(store.findRun(id));
    QVERIFY(QFileInfo::exists(QString::fromStdString(runArtifactDir(path, id))));
}

void TestStore::corruptDatabaseGivesAClearMessage()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    writeRunWithManyMetrics(path);
    { // checkpoint the WAL into the main file, then scribble over its middle pages
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.size() > 16 * 4096);
    f.seek(4096);
    f.write(QByteArray(8 * 4096, '\x7f'));
    f.close();
    try {
        ExperimentStore store(path);
        for (const auto& run : store.listRuns())
            store.metrics(run.id);
        QFAIL("a corrupt database was read without complaint");
    } catch (const StoreError& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.startsWith(QString::fromStdString(path)), e.what());
        QVERIFY2(message.contains(QStringLiteral("corrupt")), e.what());
    }
}

namespace {
std::string readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
void writeBytes(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}
} // namespace

// Finding 5: a -wal file left beside the database by another database was replayed by SQLite
// and replaced the content. The log is read before SQLite opens the file: one whose page 1
// carries another database's tag, or that RecLab did not write, is refused; the database's own
// log (a crash before its checkpoint) is replayed as SQLite would.
void TestStore::logOfAnotherDatabaseIsRefused()
{
    QTemporaryDir dir;
    const std::string a = dir.filePath(QStringLiteral("a.db")).toStdString();
    const std::string b = dir.filePath(QStringLiteral("b.db")).toStdString();
    std::string ownLog, foreignLog;
    {
        ExperimentStore sa(a), sb(b);
        sa.beginRun(sampleRun());
        RunRecord other = sampleRun();
        other.model = "from b";
        sb.beginRun(other);
        sb.renameRun(1, "renamed in b");
        sa.renameRun(1, "renamed in a");
        // The logs while both are open, as a crash would leave them.
        foreignLog = readBytes(b + "-wal");
        ownLog = readBytes(a + "-wal");
    }
    QVERIFY(foreignLog.size() > 32 && ownLog.size() > 32);
    QVERIFY(!QFile::exists(QString::fromStdString(a + "-wal"))); // a clean close checkpoints it away
    const std::string before = readBytes(a);

    writeBytes(a + "-wal", foreignLog);
    try {
        ExperimentStore store(a);
        QFAIL("a log of another database was replayed");
    } catch (const StoreError& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.contains(QString::fromStdString(a + "-wal does not belong to " + a)), e.what());
        QVERIFY2(message.contains("another RecLab database") && message.contains("Move it aside"), e.what());
    }
    QCOMPARE(readBytes(a), before);
    QCOMPARE(readBytes(a + "-wal"), foreignLog);

    // A log of changes RecLab did not write (no page 1 with the tag): refused too.
    {
        sqlite3* db = nullptr;
        sqlite3_open(b.c_str(), &db);
        sqlite3_exec(db, "PRAGMA wal_autocheckpoint = 0; UPDATE runs SET name = 'by hand'", nullptr, nullptr, nullptr);
        writeBytes(a + "-wal", readBytes(b + "-wal"));
        sqlite3_close(db);
    }
    try {
        ExperimentStore store(a);
        QFAIL("a log RecLab did not write was replayed");
    } catch (const StoreError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains("changes that RecLab did not write"), e.what());
    }

    // Its own log is replayed: the rename that was only in the log is there.
    writeBytes(a + "-wal", ownLog);
    QFile::remove(QString::fromStdString(a + "-shm"));
    {
        ExperimentStore store(a);
        QCOMPARE(store.findRun(1)->name, std::string("renamed in a"));
        QCOMPARE(store.findRun(1)->model, std::string("neumf"));
    }
    // A FIFO in the log's place is refused, not read (reading it would block forever).
    QFile::remove(QString::fromStdString(a + "-wal"));
    QCOMPARE(::mkfifo((a + "-wal").c_str(), 0600), 0);
    QVERIFY_THROWS_EXCEPTION(DataError, ExperimentStore{a});
}

// Finding 7: a database with a damaged page took new runs. A failed integrity check, or a
// statement that meets a malformed page, makes the store refuse every write, saying how to
// recover what is readable; the file is left as it was.
void TestStore::damagedDatabaseRefusesWrites()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    writeRunWithManyMetrics(path);
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(8 * 4096);
    f.write(QByteArray(4096, '\x7f'));
    f.close();
    const std::string before = readBytes(path);
    ExperimentStore store(path);
    try {
        store.requireIntact();
        QFAIL("a damaged file passed the check");
    } catch (const DamagedStoreError& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.contains("the database is corrupt") && message.contains(".recover"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(DamagedStoreError, store.beginRun(sampleRun()));
    QVERIFY_THROWS_EXCEPTION(DamagedStoreError, store.renameRun(1, "x"));
    QCOMPARE(readBytes(path), before);
}

// Finding 4 at the store: two claims of one stopped run, the second while the first holds it,
// and a claim given back leaves the run exactly as it was.
void TestStore::resumeClaimsTheRunAtomically()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    ExperimentStore store(path);
    const int64_t id = store.beginRun(sampleRun());
    store.recordMetrics(id, {{"loss", 10, 1, 0.5, 1.0}, {"loss", 20, 2, 0.4, 2.0}});
    store.finishRun(id, RunStatus::Stopped, "stopped by hand");
    const RunRecord before = *store.findRun(id);
    const RunClaim claim = store.claimRun(id);
    QCOMPARE(claim.status, RunStatus::Stopped);
    QCOMPARE(store.findRun(id)->status, RunStatus::Running);
    ExperimentStore other(path);
    try {
        other.claimRun(id);
        QFAIL("a run was claimed twice");
    } catch (const StoreError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains("is being trained by process " + QString::number(::getpid())), e.what());
    }
    store.releaseClaim(claim);
    const RunRecord after = *store.findRun(id);
    QCOMPARE(after.status, before.status);
    QCOMPARE(after.message, before.message);
    QCOMPARE(after.endedAt, before.endedAt);
    QCOMPARE(store.metrics(id, "loss").size(), size_t(2));
}

// A file whose last user crashed (its log holds changes and no process has it open) is checked
// on open: damaged, it is still read but not written; intact, it takes writes as before.
void TestStore::uncleanFileIsCheckedOnOpen()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.db")).toStdString();
    writeRunWithManyMetrics(path);
    std::string file, log;
    {
        ExperimentStore store(path);
        store.renameRun(1, "in the log only");
        file = readBytes(path); // as a killed process leaves them
        log = readBytes(path + "-wal");
    }
    const std::string crashed = dir.filePath(QStringLiteral("crashed.db")).toStdString();
    writeBytes(crashed, file);
    writeBytes(crashed + "-wal", log);
    {
        ExperimentStore store(crashed);
        QCOMPARE(store.findRun(1)->name, std::string("in the log only"));
        store.beginRun(sampleRun());
    }
    const std::string damaged = dir.filePath(QStringLiteral("damaged.db")).toStdString();
    std::string bad = file;
    bad.replace(8 * 4096, 4096, std::string(4096, '\x7f'));
    writeBytes(damaged, bad);
    writeBytes(damaged + "-wal", log);
    ExperimentStore store(damaged);
    QCOMPARE(store.findRun(1)->name, std::string("in the log only")); // read as far as it goes
    QVERIFY_THROWS_EXCEPTION(DamagedStoreError, store.beginRun(sampleRun()));
}

QTEST_APPLESS_MAIN(TestStore)
#include "test_store.moc"
