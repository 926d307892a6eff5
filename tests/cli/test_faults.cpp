// reclab-cli against the faults a careful user and a hostile environment bring, each found by a
// probe of the real program: a full disk during training, export and prepare (a small tmpfs,
// and an injected write failure), unwritable folders, FIFOs and devices given as files, resumes
// refused or raced, a write-ahead log of another database, a damaged database, data that cannot
// be tested (no test rows, too few items for the negatives, repeated pairs), and the rule for
// messages and exit codes: one short line, escaped names, 2 for the user's input, 1 for
// failures while working.
#include "CliRunner.h"
#include "TestData.h"

#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace reclab;

namespace {

using test::CliResult;

CliResult cli(const QStringList& args, const QStringList& env = {}, int timeoutMs = 120000)
{
    return test::runCli(args, timeoutMs, env);
}

// One value of a query, read without touching the file (immutable: no log, no locks).
QString sqlValue(const QString& db, const QString& query)
{
    sqlite3* handle = nullptr;
    const QByteArray uri = "file:" + db.toUtf8() + "?immutable=1";
    sqlite3_open_v2(uri.constData(), &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    sqlite3_stmt* s = nullptr;
    QString out;
    if (sqlite3_prepare_v2(handle, query.toUtf8().constData(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        out = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    sqlite3_close(handle);
    return out;
}

void sqlExec(const QString& db, const QString& statement)
{
    sqlite3* handle = nullptr;
    sqlite3_open(db.toUtf8().constData(), &handle);
    sqlite3_exec(handle, statement.toUtf8().constData(), nullptr, nullptr, nullptr);
    sqlite3_close(handle);
}

// What resuming must leave exactly as it was when it is refused.
QString runState(const QString& db, int run)
{
    const QString id = QString::number(run);
    return sqlValue(db, "SELECT status || '|' || message || '|' || coalesce(ended_at, '') || '|' || params FROM runs "
                        "WHERE id = " +
                            id) +
           "|" + sqlValue(db, "SELECT count(*) || '/' || coalesce(max(epoch), 0) FROM metrics WHERE run_id = " + id) +
           "|" + sqlValue(db, "SELECT count(*) FROM latest_metrics WHERE run_id = " + id);
}

// Files under dir whose names end with .part or .saving: what a write left half-done.
QStringList partialFiles(const QString& dir)
{
    QStringList out;
    for (QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories); it.hasNext();) {
        const QString f = it.next();
        if (f.endsWith(QLatin1String(".part")) || f.endsWith(QLatin1String(".saving")))
            out << f;
    }
    return out;
}

void oneLine(const CliResult& r)
{
    const QByteArray err = r.err.trimmed();
    QVERIFY2(!err.isEmpty() && !err.contains('\n'), err.constData());
    QVERIFY2(err.size() < 700, err.constData());
    QVERIFY2(!err.contains("Exception raised from") && !err.contains("SELECT ") && !err.contains("INSERT "),
             err.constData());
}

// Whether this machine lets a test mount a small tmpfs in its own user and mount namespace.
bool canMountTmpfs()
{
    QProcess p;
    p.start(
        QStringLiteral("unshare"),
        {"-Urm", "sh", "-c", "mkdir -p /tmp/reclab-ns-probe && mount -t tmpfs -o size=64k tmpfs /tmp/reclab-ns-probe"});
    return p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

// Runs a shell script in a user and mount namespace (root there; mounts stay private to it).
CliResult inNamespace(const QString& script)
{
    QProcess p;
    p.start(QStringLiteral("unshare"), {"-Urm", "bash", "-c", script});
    CliResult r;
    if (!p.waitForFinished(300000))
        p.kill();
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace

class TestFaults : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void fullDiskFailsCleanly();
    void fullTmpfsFailsCleanly();
    void unwritableFoldersAreRefused();
    void fifosAndDevicesAreRefused();
    void refusedResumesLeaveTheRunAsItWas();
    void racingResumesTrainOnce();
    void damagedDatabaseIsNotWritten();
    void untestableDataIsRefused();
    void repeatedPairsAreReportedAndRefused();
    void messagesAreOneShortLine_data();
    void messagesAreOneShortLine();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    // A finished run of model on the sample (one epoch), its id in db.
    int trainOne(const QString& db, const QString& model, const QString& data = QStringLiteral("sample"));
    QTemporaryDir dir_;
};

void TestFaults::initTestCase()
{
    QVERIFY(dir_.isValid());
}

int TestFaults::trainOne(const QString& db, const QString& model, const QString& data)
{
    const CliResult r =
        cli({"train", "--data", data, "--model", model, "--epochs", "1", "--threads", "1", "--json", "--db", db});
    if (r.code != 0)
        qWarning("%s", r.err.constData());
    return QJsonDocument::fromJson(r.out.trimmed().split('\n').last()).object().value("run_id").toInt();
}

// Finding 1: a full disk aborted the process from LibTorch's archive writer (a c10::Error thrown
// from a destructor: terminate, rc 134), left the run RUNNING and a truncated file. Now the
// write fails cleanly: exit 1, "disk full: <path>", the run FAILED with that message, nothing
// half-written. The failure is injected (RECLAB_FAULT_DISK_BYTES, util/Files.cpp) so the test
// runs everywhere; fullTmpfsFailsCleanly does the same on a real 1 MB file system.
void TestFaults::fullDiskFailsCleanly()
{
    const QString db = path("full.db");
    const QStringList full{QStringLiteral("RECLAB_FAULT_DISK_BYTES=4000")};
    CliResult r =
        cli({"train", "--data", "sample", "--model", "gmf", "--epochs", "3", "--threads", "1", "--db", db}, full);
    QCOMPARE(r.code, 1);
    oneLine(r);
    const QString checkpoint = QFileInfo(db).absolutePath() + "/full.db.artifacts/run-1/last.pt";
    QVERIFY2(r.err.contains("disk full: ") && r.err.contains("run-1/last.pt"), r.err.constData());
    QCOMPARE(sqlValue(db, "SELECT status FROM runs WHERE id = 1"), QStringLiteral("FAILED"));
    QVERIFY(sqlValue(db, "SELECT message FROM runs WHERE id = 1").startsWith(QStringLiteral("disk full: ")));
    QVERIFY(!QFile::exists(checkpoint));
    QCOMPARE(partialFiles(db + ".artifacts"), QStringList());

    // Export of a trained graph, and a prepared file: no output and no partial file.
    const int run = trainOne(db, QStringLiteral("gmf"));
    QVERIFY(run > 0);
    r = cli({"graph", "export", "--run", QString::number(run), "--out", path("model.pt"), "--db", db}, full);
    QCOMPARE(r.code, 1);
    oneLine(r);
    QVERIFY2(r.err.contains("disk full: " + path("model.pt").toUtf8()), r.err.constData());
    r = cli({"data", "prepare", "sample", "--out", path("full.rlprep")}, full);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("disk full: " + path("full.rlprep").toUtf8()), r.err.constData());
    QVERIFY(!QFile::exists(path("model.pt")) && !QFile::exists(path("full.rlprep")));
    QCOMPARE(partialFiles(dir_.path()), QStringList());
}

void TestFaults::fullTmpfsFailsCleanly()
{
    if (!canMountTmpfs())
        QSKIP("this machine does not let a test mount a tmpfs in a user namespace (unshare -Urm); fullDiskFailsCleanly "
              "covers the same code with an injected failure");
    // NeuMF's checkpoint (2.8 MB) does not fit in 1 MB; the database does.
    const QString mount = path("tmpfs");
    QDir().mkpath(mount);
    const CliResult r =
        inNamespace(QStringLiteral("mount -t tmpfs -o size=1m tmpfs '%1' && '%2' train --data sample --model neumf "
                                   "--no-pretrain --epochs 2 --threads 1 --db '%1/r.db'; echo rc=$?; '%2' runs show 1 "
                                   "--json --db '%1/r.db'; echo files:; ls -R '%1'")
                        .arg(mount, QStringLiteral(RECLAB_CLI_PATH)));
    QVERIFY2(r.out.contains("rc=1"), r.out + r.err);
    QVERIFY2(r.err.contains("disk full: " + mount.toUtf8() + "/r.db.artifacts/run-1/last.pt"), r.err.constData());
    QVERIFY2(r.out.contains("\"status\": \"FAILED\""), r.out.constData());
    const QByteArray files = r.out.mid(r.out.indexOf("files:"));
    QVERIFY2(!files.contains(".part") && !files.contains("last.pt"), r.out.constData());
}

// Unwritable places are named before anything is half-done: a read-only database, artifact
// folder, export target and prepared file (a read-only tmpfs, which binds root as well).
void TestFaults::unwritableFoldersAreRefused()
{
    if (!canMountTmpfs())
        QSKIP("this machine does not let a test mount a read-only tmpfs in a user namespace (unshare -Urm)");
    const QString mount = path("ro");
    QDir().mkpath(mount);
    const QString cliPath = QStringLiteral(RECLAB_CLI_PATH);
    const CliResult r = inNamespace(
        QStringLiteral(
            "set -u; m='%1'; c='%2'; mount -t tmpfs -o size=8m tmpfs \"$m\" && mkdir \"$m/w\" && "
            "$c train --data sample --model pop --db \"$m/w/r.db\" > /dev/null && "
            "mkdir -p \"$m/w/r.db.artifacts\" && mount -t tmpfs -o ro,size=64k tmpfs \"$m/w/r.db.artifacts\" && "
            "$c train --data sample --model pop --db \"$m/w/r.db\"; echo artifacts=$?; "
            "$c runs list --db \"$m/w/r.db\" | grep -c FINISHED; "
            "umount \"$m/w/r.db.artifacts\"; mount -o remount,ro \"$m\"; "
            "$c train --data sample --model pop --db \"$m/w/r.db\"; echo database=$?; "
            "$c data prepare sample --out \"$m/x.rlprep\"; echo prepare=$?; "
            "$c graph template gmf --out \"$m/g.json\"; echo template=$?")
            .arg(mount, cliPath));
    QVERIFY2(r.out.contains("artifacts=2"), r.out + r.err);
    QVERIFY2(r.err.contains("r.db.artifacts") && r.err.contains("RecLab keeps the runs' checkpoints there"),
             r.err.constData());
    QVERIFY2(r.out.contains("\n1\n"), r.out.constData()); // no run was made for the refused training
    QVERIFY2(r.out.contains("database=2"), r.out + r.err);
    QVERIFY2(r.out.contains("prepare=2") && r.err.contains("x.rlprep: the file system is read-only"),
             r.err.constData());
    QVERIFY2(r.out.contains("template=2"), r.out + r.err);
}

// Finding 2: a FIFO as a data file, side file, graph or graph check's data blocked forever; a
// device was read as an endless or empty file. Each is refused at once, naming what it is.
void TestFaults::fifosAndDevicesAreRefused()
{
    const QString fifo = path("pipe.csv");
    QCOMPARE(::mkfifo(fifo.toUtf8().constData(), 0600), 0);
    const QString graph = path("graph.json");
    QCOMPARE(cli({"graph", "template", "gmf", "--out", graph}).code, 0);
    QElapsedTimer clock;
    clock.start();
    for (const QStringList& args : {QStringList{"data", "stats", fifo}, QStringList{"graph", "check", fifo},
                                    QStringList{"graph", "check", graph, "--data", fifo},
                                    QStringList{"train", "--data", fifo, "--db", path("fifo.db")}}) {
        const CliResult r = cli(args, {}, 20000);
        QCOMPARE(r.code, 2);
        oneLine(r);
        QVERIFY2(r.err.contains("a FIFO (named pipe), not a regular file"), r.err.constData());
    }
    QVERIFY(clock.elapsed() < 30000);
    const CliResult zero = cli({"data", "stats", "/dev/zero"});
    QCOMPARE(zero.code, 2);
    QVERIFY2(zero.err.contains("/dev/zero: a character device, not a regular file"), zero.err.constData());
}

// Findings 3 and 8: a resume found that its checkpoint did not fit only after it had deleted
// the run's later metrics and marked it FAILED; a checkpoint of the same shapes from other data
// resumed silently. Now every refusal (another run's checkpoint, another model's, other data's)
// comes before anything changes, and the run stays exactly as it was, still resumable.
void TestFaults::refusedResumesLeaveTheRunAsItWas()
{
    const QString db = path("resume.db");
    QCOMPARE(trainOne(db, QStringLiteral("gmf")), 1);
    QCOMPARE(trainOne(db, QStringLiteral("mlp")), 2);
    sqlExec(db, "UPDATE runs SET status = 'STOPPED', message = 'stopped by hand' WHERE id = 2");
    const QString before = runState(db, 2);
    QVERIFY(before.startsWith(QStringLiteral("STOPPED|stopped by hand|")));
    const QString own = db + ".artifacts/run-2/last.pt";
    QVERIFY(QFile::copy(own, path("own.pt")));

    auto resumeWith = [&](const QString& checkpoint, const char* needle) {
        QFile::remove(own);
        QVERIFY(QFile::copy(checkpoint, own));
        const CliResult r = cli({"train", "--resume", "2", "--epochs", "2", "--db", db});
        QCOMPARE(r.code, 2);
        oneLine(r);
        QVERIFY2(r.err.contains(needle), r.err.constData());
        QCOMPARE(runState(db, 2), before);
    };
    // Another run's checkpoint (run 1's GMF).
    resumeWith(db + ".artifacts/run-1/last.pt", "belongs to run 1, not run 2");
    // Another model's, written for a run 2 of the same data (GMF's tables where MLP's are).
    const QString other = path("other.db");
    trainOne(other, QStringLiteral("pop"));
    QCOMPARE(trainOne(other, QStringLiteral("gmf")), 2);
    resumeWith(other + ".artifacts/run-2/last.pt", "does not fit this model");
    // The same model on other data (the sample with another seed: the same sizes).
    const QString otherData = path("data.db");
    trainOne(otherData, QStringLiteral("pop"), QStringLiteral("sample:7"));
    QCOMPARE(trainOne(otherData, QStringLiteral("mlp"), QStringLiteral("sample:7")), 2);
    resumeWith(otherData + ".artifacts/run-2/last.pt", "was trained on other data");

    // With its own checkpoint back, the run resumes, and only then changes.
    QFile::remove(own);
    QVERIFY(QFile::copy(path("own.pt"), own));
    const CliResult ok = cli({"train", "--resume", "2", "--epochs", "2", "--threads", "1", "--db", db});
    QCOMPARE(ok.code, 0);
    QCOMPARE(sqlValue(db, "SELECT status FROM runs WHERE id = 2"), QStringLiteral("FINISHED"));
    QCOMPARE(sqlValue(db, "SELECT count(*) FROM metrics WHERE run_id = 2 AND key = 'loss'"), QStringLiteral("2"));
}

// Finding 4: two resumes of one run at the same moment both trained and stored every epoch
// twice. The run is claimed in one transaction; the loser exits 2 naming the winner.
void TestFaults::racingResumesTrainOnce()
{
    const QString db = path("race.db");
    QCOMPARE(trainOne(db, QStringLiteral("gmf")), 1);
    sqlExec(db, "UPDATE runs SET status = 'STOPPED' WHERE id = 1");
    QProcess a, b;
    // Ten epochs (about 3 s) leave the second process time to start and meet the first one
    // training even on a loaded machine; with four, a late start found the run finished.
    const QStringList args{"train", "--resume", "1", "--epochs", "10", "--threads", "1", "--db", db};
    a.start(QStringLiteral(RECLAB_CLI_PATH), args);
    b.start(QStringLiteral(RECLAB_CLI_PATH), args);
    QVERIFY(a.waitForStarted() && b.waitForStarted());
    const qint64 pids[] = {a.processId(), b.processId()};
    QVERIFY(a.waitForFinished(180000) && b.waitForFinished(180000));
    const int codes[] = {a.exitCode(), b.exitCode()};
    QCOMPARE(std::min(codes[0], codes[1]), 0);
    QCOMPARE(std::max(codes[0], codes[1]), 2);
    const QByteArray loser = (codes[0] == 2 ? a : b).readAllStandardError();
    const qint64 winner = codes[0] == 0 ? pids[0] : pids[1];
    QVERIFY2(loser.contains("run 1 is being trained by process " + QByteArray::number(winner)), loser.constData());
    QCOMPARE(
        sqlValue(db, "SELECT count(*) || '/' || count(DISTINCT epoch) FROM metrics WHERE run_id = 1 AND key = 'loss'"),
        QStringLiteral("10/10"));
    QCOMPARE(sqlValue(db, "SELECT status FROM runs WHERE id = 1"), QStringLiteral("FINISHED"));
}

// Finding 7: a training wrote into a database with a damaged page and reported success. The
// file is checked before a run is written and refused, unchanged, with how to recover.
void TestFaults::damagedDatabaseIsNotWritten()
{
    const QString db = path("damaged.db");
    QCOMPARE(trainOne(db, QStringLiteral("gmf")), 1);
    QFile f(db);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.size() >= 8 * 4096);
    f.seek((f.size() / 4096 / 2) * 4096);
    f.write(QByteArray(4096, '\x7f'));
    f.close();
    auto digest = [&] {
        QFile in(db);
        in.open(QIODevice::ReadOnly);
        return QCryptographicHash::hash(in.readAll(), QCryptographicHash::Sha256);
    };
    const QByteArray before = digest();
    const CliResult r = cli({"train", "--data", "sample", "--model", "pop", "--db", db});
    QCOMPARE(r.code, 2);
    oneLine(r);
    QVERIFY2(r.err.contains("the database is corrupt") && r.err.contains(".recover"), r.err.constData());
    QCOMPARE(digest(), before);
}

// Findings 9 and 10: an empty test set was reported as RMSE 0 and MAE 0; more sampled negatives
// than unseen items repeated negatives. Both are refused, the second naming the largest N.
void TestFaults::untestableDataIsRefused()
{
    QFile two(path("two.csv"));
    QVERIFY(two.open(QIODevice::WriteOnly));
    two.write("1,10,4,1600000000\n2,11,3.5,1600000001\n");
    two.close();
    for (const char* model : {"mf", "usercf", "itemcf"}) {
        const CliResult r = cli({"train", "--data", path("two.csv"), "--model", model, "--db", path("empty.db")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("leaves no test ratings"), r.err.constData());
    }
    CliResult r =
        cli({"data", "prepare", "sample", "--split", "loo", "--negatives", "5000", "--out", path("n.rlprep")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("cannot all differ") && r.err.contains("the largest possible here is"), r.err.constData());
    QVERIFY(!QFile::exists(path("n.rlprep")));
    // The largest possible N itself is accepted.
    const QByteArray err = r.err;
    const QString most = QString::fromUtf8(err.mid(err.lastIndexOf(' ') + 1)).trimmed();
    r = cli({"data", "prepare", "sample", "--split", "loo", "--negatives", most, "--out", path("n.rlprep")});
    QCOMPARE(r.code, 0);
}

// Finding 11: every row of a file twice made leave-one-out train on its test items (ItemKNN's
// HR@10 doubled) without a word. Repeated pairs are counted in data stats, and a ranking
// protocol refuses them unless told to keep each pair's latest row or all of them.
void TestFaults::repeatedPairsAreReportedAndRefused()
{
    QByteArray rows;
    for (int u = 1; u <= 40; ++u)
        for (int i = 1; i <= 12; ++i)
            if ((u * 7 + i * 3) % 4 != 0)
                rows += QByteArray::number(u) + "," + QByteArray::number(100 + i) + ",4," +
                        QByteArray::number(1000 + u * 20 + i) + "\n";
    QFile once(path("once.csv")), twice(path("twice.csv"));
    QVERIFY(once.open(QIODevice::WriteOnly) && twice.open(QIODevice::WriteOnly));
    once.write(rows);
    twice.write(rows + rows);
    once.close();
    twice.close();
    const int n = rows.count('\n');
    CliResult r = cli({"data", "stats", path("twice.csv"), "--json"});
    QCOMPARE(r.code, 0);
    QCOMPARE(QJsonDocument::fromJson(r.out).object().value("repeated_pair_rows").toInt(), n);
    r = cli({"data", "stats", path("twice.csv")});
    QVERIFY2(r.out.contains("duplicates    " + QByteArray::number(n) + " rows repeat a (user, item) pair"),
             r.out.constData());
    r = cli({"train", "--data", path("twice.csv"), "--model", "itemknn", "--protocol", "full", "--db", path("dup.db")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QByteArray::number(n) + " rows repeat a (user, item) pair") && r.err.contains("--dedup"),
             r.err.constData());
    auto hr = [&](const QStringList& extra, const QString& data) {
        const CliResult t = cli(QStringList{"train", "--data", data, "--model", "itemknn", "--protocol", "full",
                                            "--json", "--db", path("dup.db")} +
                                extra);
        return QJsonDocument::fromJson(t.out.split('\n').first())
            .object()
            .value("metrics")
            .toObject()
            .value("hr@10")
            .toDouble(-1);
    };
    const double original = hr({}, path("once.csv"));
    QVERIFY(original >= 0);
    QCOMPARE(hr({"--dedup"}, path("twice.csv")), original);
    QVERIFY(hr({"--keep-duplicates"}, path("twice.csv")) >= 0);
}

void TestFaults::messagesAreOneShortLine_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("needle");
    // Set-up shared by the rows: a database with a graph run whose weights are garbage, a run
    // whose checkpoints were deleted, a database whose schema version was reset, and odd paths.
    const QString db = path("messages.db");
    if (!QFile::exists(db)) {
        trainOne(db, QStringLiteral("gmf"));
        QFile garbage(db + ".artifacts/run-1/weights.pt");
        garbage.open(QIODevice::WriteOnly);
        garbage.write(QByteArray(3000, 'g'));
        garbage.close();
        trainOne(db, QStringLiteral("gmf"));
        QDir(db + ".artifacts/run-2").removeRecursively();
        sqlExec(db, "UPDATE runs SET status = 'STOPPED' WHERE id = 2");
        const QString reset = path("reset.db");
        trainOne(reset, QStringLiteral("pop"));
        sqlExec(reset, "PRAGMA user_version = 0");
        QDir().mkpath(path("graph-folder"));
        QDir().mkpath(path("out-folder"));
        ::symlink("loop-b", path("loop-a").toUtf8().constData());
        ::symlink("loop-a", path("loop-b").toUtf8().constData());
    }
    auto row = [&](const char* tag, const QStringList& args, int code, const QString& needle) {
        QTest::newRow(tag) << args << code << needle;
    };
    row("garbage weights", {"graph", "export", "--run", "1", "--out", path("m.pt"), "--db", db}, 2,
        "weights.pt: not the weights of a trained graph");
    row("deleted checkpoints", {"train", "--resume", "2", "--epochs", "3", "--db", db}, 2,
        "run 2 has no checkpoint (" + db + ".artifacts/run-2/last.pt is missing)");
    row("schema version reset", {"runs", "list", "--db", path("reset.db")}, 2,
        "its schema version (PRAGMA user_version) is 0");
    row("graph is a folder", {"graph", "check", path("graph-folder")}, 2, "graph-folder: a folder, not a regular file");
    row("symbolic link loop", {"data", "stats", path("loop-a")}, 2, "loop-a: a loop of symbolic links");
    row("prepare into a folder", {"data", "prepare", "sample", "--out", path("out-folder")}, 2,
        "out-folder: a folder is in the way");
    row("out of range", {"train", "--l2", "-1", "--db", db}, 2, "--l2: expected a number 0 or more, got -1");
    row("infinite", {"train", "--lr", "inf", "--db", db}, 2,
        "--lr: expected a finite number above 0 and up to 10, got 'inf'");
    row("escaped name", {"data", "stats", path("bad\nname\x1b[31m.csv")}, 2,
        "bad\\nname\\x1b[31m.csv: no such file or folder");
    for (const auto& args : {QStringList{"runs", "show", "99"}, QStringList{"runs", "export", "99"},
                             QStringList{"recommend", "--run", "99", "--user", "1"},
                             QStringList{"graph", "export", "--run", "99", "--out", path("x.pt")},
                             QStringList{"export", "embeddings", "--run", "99", "--out", path("x")},
                             QStringList{"train", "--resume", "99"}})
        row(qPrintable("unknown run: " + args.first() + " " + args[1]), args + QStringList{"--db", db}, 2, "no run 99");
}

void TestFaults::messagesAreOneShortLine()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, needle);
    const CliResult r = cli(args);
    QCOMPARE(r.code, code);
    oneLine(r);
    QVERIFY2(r.err.contains(needle.toUtf8()), r.err.constData());
}

QTEST_GUILESS_MAIN(TestFaults)
#include "test_faults.moc"
