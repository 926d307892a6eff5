// The experiment store on real SQLite files: schema, WAL, runs and metrics, refusing files
// that are not RecLab databases, and recovering runs whose process died.
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <cmath>
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
    QCOMPARE(pragma(path, "PRAGMA user_version"), std::to_string(ExperimentStore::kSchemaVersion));
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
    sqlite3_close(db);

    ExperimentStore store(path);
    QCOMPARE(pragma(path, "PRAGMA user_version"), std::to_string(ExperimentStore::kSchemaVersion));
    const auto rmse = store.metrics(1, "rmse");
    QCOMPARE(rmse.size(), size_t(2));
    QCOMPARE(rmse[1].value, 0.92);
    store.recordMetrics(1, {{"gauc", 11, 2, std::numeric_limits<double>::quiet_NaN(), 3.0}});
    QVERIFY(std::isnan(store.metrics(1, "gauc")[0].value));
    QCOMPARE(pragma(path, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics_by_run'"), std::string("1"));
    QCOMPARE(pragma(path, "PRAGMA integrity_check"), std::string("ok"));
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
    // A run whose process is gone (pid 0x7ffffffe never exists), and one owned by a live process
    // other than ours (pid 1).
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, ("UPDATE runs SET pid = 2147483646 WHERE id = " + std::to_string(dead)).c_str(), nullptr, nullptr, nullptr);
    sqlite3_exec(db, ("UPDATE runs SET pid = 1 WHERE id = " + std::to_string(alive)).c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    ExperimentStore store(path);
    QCOMPARE(store.recoverInterruptedRuns(), 1);
    QCOMPARE(store.findRun(dead)->status, RunStatus::Interrupted);
    QCOMPARE(store.findRun(alive)->status, RunStatus::Running);
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

QTEST_APPLESS_MAIN(TestStore)
#include "test_store.moc"
