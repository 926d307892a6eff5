// `reclab-cli runs list|show|export|compare` on runs the real CLI trained: JSON and text,
// filters, exports to files, the comparison with its paired tests, and bad input answered with
// one stderr line and a non-zero exit.
#include "CliRunner.h"
#include "data/SampleGenerator.h"
#include "store/ExperimentStore.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include <sqlite3.h>

using namespace reclab;

class TestRunsCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void listFiltersRuns();
    void showGivesEverythingAboutARun();
    void exportWritesCsvAndJson();
    void compareRunsOnOneSplit();
    void exportEmbeddingsForTheProjector();
    void recommendsForAUser();
    void attentionOfADinRun();
    void continueAndReplayOnNewDays();
    void badInputExitsNonZeroWithOneLine_data();
    void badInputExitsNonZeroWithOneLine();

private:
    using Result = test::CliResult;
    static Result cli(const QStringList& args) { return test::runCli(args, 180000); }
    QTemporaryDir dir_;
    QString db_;
    qint64 first_ = 0, second_ = 0, clone_ = 0;
};

namespace {
qint64 runIdOf(const QByteArray& out)
{
    return QJsonDocument::fromJson(out.trimmed().split('\n').back()).object().value("run_id").toInteger();
}
} // namespace

void TestRunsCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("runs.db"));
    Result r = cli({"train", "--data", "sample", "--model", "gmf", "--epochs", "2", "--lr", "0.0001", "--threads", "1",
                    "--experiment", "sample gmf", "--name", "slow", "--tag", "baseline", "--tag", "lr", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    first_ = runIdOf(r.out);
    r = cli({"train", "--data", "sample", "--model", "gmf", "--epochs", "8", "--threads", "1", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    second_ = runIdOf(r.out);
    r = cli({"train", "--data", "sample", "--clone", QString::number(first_), "--epochs", "3", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    clone_ = runIdOf(r.out);
    QVERIFY(first_ > 0 && second_ > first_ && clone_ > second_);
}

void TestRunsCli::listFiltersRuns()
{
    Result r = cli({"runs", "list", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    QJsonArray runs = QJsonDocument::fromJson(r.out).array();
    QCOMPARE(runs.size(), 3);
    const QJsonObject newest = runs[0].toObject();
    QCOMPARE(newest.value("id").toInteger(), clone_);
    QCOMPARE(newest.value("parent_run").toInteger(), first_);
    QCOMPARE(newest.value("experiment").toString(), QStringLiteral("sample gmf")); // the parent's
    QVERIFY(newest.value("metrics").toObject().value("hr@10").toDouble() > 0);
    const QJsonObject first = runs[2].toObject();
    QCOMPARE(first.value("name").toString(), QStringLiteral("slow"));
    QCOMPARE(first.value("tags").toArray().size(), 2);

    auto ids = [&](const QStringList& filter) {
        const Result f = cli(QStringList{"runs", "list", "--json", "--db", db_} + filter);
        QList<qint64> out;
        for (const auto& run : QJsonDocument::fromJson(f.out).array())
            out << run.toObject().value("id").toInteger();
        return out;
    };
    QCOMPARE(ids({"--tag", "baseline"}), QList<qint64>{first_});
    QCOMPARE(ids({"--param", "learning_rate<0.001"}), (QList<qint64>{clone_, first_}));
    QCOMPARE(ids({"--param", "epochs>=8"}), QList<qint64>{second_});
    QCOMPARE(ids({"--experiment", "Default"}), QList<qint64>{second_});
    QCOMPARE(ids({"--search", "SLOW gmf"}), QList<qint64>{first_});
    QCOMPARE(ids({"--model", "mf"}), QList<qint64>{});
    QCOMPARE(ids({"--status", "finished", "--limit", "2"}).size(), 2);
    // The text table names every run.
    r = cli({"runs", "list", "--db", db_});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("#" + QByteArray::number(first_) + " gmf (slow)"));
    QVERIFY(r.out.contains("baseline,lr"));
}

void TestRunsCli::showGivesEverythingAboutARun()
{
    Result r = cli({"runs", "show", QString::number(second_), "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject run = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(run.value("status").toString(), QStringLiteral("FINISHED"));
    QCOMPARE(run.value("params").toObject().value("epochs").toInt(), 8);
    QVERIFY(!run.value("split_fingerprint").toString().isEmpty());
    QVERIFY(run.value("train_seconds").toDouble() > 0);
    bool checkpoint = false;
    for (const auto& a : run.value("artifacts").toArray())
        checkpoint = checkpoint || (a.toObject().value("path").toString() == QStringLiteral("last.pt") &&
                                    a.toObject().value("bytes").toInteger() > 0);
    QVERIFY(checkpoint);
    r = cli({"runs", "show", QString::number(first_), "--db", db_});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("learning_rate = 0.0001"));
    QVERIFY(r.out.contains("hr@10 = "));
    QVERIFY(r.out.contains("last.pt"));
}

void TestRunsCli::exportWritesCsvAndJson()
{
    const QString csv = dir_.filePath(QStringLiteral("history.csv"));
    Result r = cli({"runs", "export", QString::number(first_), QString::number(second_), "--out", csv, "--db", db_});
    QCOMPARE(r.code, 0);
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines[0].trimmed(), QByteArray("run,key,step,epoch,value,wall_time"));
    ExperimentStore store(db_.toStdString());
    QCOMPARE(static_cast<size_t>(lines.size() - 1),
             store.metrics(first_).size() + store.metrics(second_).size());
    r = cli({"runs", "export", QString::number(second_), "--format", "json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject run = QJsonDocument::fromJson(r.out).array()[0].toObject();
    const QJsonObject hr = run.value("user_metrics").toObject().value("hr@10").toObject();
    QVERIFY(hr.value("users").toArray().size() > 50);
    QCOMPARE(hr.value("users").toArray().size(), hr.value("values").toArray().size());
    QCOMPARE(static_cast<size_t>(run.value("metrics").toArray().size()), store.metrics(second_).size());
}

void TestRunsCli::compareRunsOnOneSplit()
{
    Result r = cli({"runs", "compare", QString::number(first_), QString::number(second_), "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject c = QJsonDocument::fromJson(r.out).object();
    QVERIFY(c.value("same_split").toBool());
    QCOMPARE(c.value("best").toObject().value("hr@10").toInteger(), second_);
    QVERIFY(c.value("differing_params").toArray().contains(QStringLiteral("learning_rate")));
    const QJsonArray tests = c.value("significance").toArray();
    QCOMPARE(tests.size(), 3);
    for (const auto& t : tests) {
        const QJsonObject o = t.toObject();
        QVERIFY(o.value("pairs").toInt() > 50);
        QVERIFY(o.value("t_p_value").toDouble() >= 0 && o.value("t_p_value").toDouble() <= 1);
        QVERIFY(o.value("mean_difference").toDouble() < 0); // the slow run is worse
    }
    r = cli({"runs", "compare", QString::number(first_), QString::number(second_), QString::number(clone_), "--format",
             "markdown", "--db", db_});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("| run | hr@10 |"));
    QVERIFY(r.out.contains("- best hr@10: #" + QByteArray::number(second_)));
    const QString params = dir_.filePath(QStringLiteral("params.csv"));
    r = cli({"runs", "compare", QString::number(first_), QString::number(second_), "--params", "--diff-only", "--format",
             "csv", "--out", params, "--db", db_});
    QCOMPARE(r.code, 0);
    QFile f(params);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    QVERIFY(text.contains("learning_rate,0.0001,0.001"));
    QVERIFY(!text.contains("\nmodel,"));
}

void TestRunsCli::exportEmbeddingsForTheProjector()
{
    const QString out = dir_.filePath(QStringLiteral("projector"));
    Result r = cli({"export", "embeddings", "--run", QString::number(second_), "--out", out, "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject written = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(written.value("epoch").toInt(), 8); // the latest snapshot
    QCOMPARE(written.value("tables").toArray().size(), 2); // GMF's user and item tables
    auto lines = [](const QString& path) {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll().trimmed().split('\n') : QList<QByteArray>{};
    };
    const QList<QByteArray> vectors = lines(out + QStringLiteral("/item_gmf/vectors.tsv"));
    const QList<QByteArray> metadata = lines(out + QStringLiteral("/item_gmf/metadata.tsv"));
    const QList<QByteArray> coordinates = lines(out + QStringLiteral("/item_gmf/coordinates.csv"));
    QCOMPARE(vectors.size(), 400); // the sample's items, no header
    QCOMPARE(vectors[0].split('\t').size(), 64);
    QCOMPARE(metadata.size(), 401);
    QCOMPARE(metadata[0], QByteArray("id\ttitle\tgenre\tgenres\tinteractions\tpopularity"));
    QCOMPARE(metadata[1].split('\t').size(), 6);
    QCOMPARE(coordinates.size(), 401);
    QCOMPARE(coordinates[0], QByteArray("id,x1,x2"));
    QCOMPARE(lines(out + QStringLiteral("/user_gmf/metadata.tsv"))[0], QByteArray("id\tinteractions\tactivity"));
    // An earlier epoch, one table, t-SNE.
    r = cli({"export", "embeddings", "--run", QString::number(second_), "--out", out + QStringLiteral("/e1"), "--epoch", "1",
             "--table", "user_gmf", "--project", "tsne", "--iterations", "100", "--db", db_});
    QCOMPARE(r.code, 0);
    QCOMPARE(lines(out + QStringLiteral("/e1/user_gmf/coordinates.csv")).size(), 601);
    QVERIFY(!QFileInfo::exists(out + QStringLiteral("/e1/item_gmf")));
    // What cannot be exported, said in one line.
    struct Bad {
        QStringList args;
        int code;
        const char* needle;
    };
    const QString id = QString::number(second_);
    for (const Bad& bad : {Bad{{"--run", id, "--table", "nope"}, 2, "has no table nope (it has user_gmf, item_gmf)"},
                           Bad{{"--run", id, "--epoch", "99"}, 2, "no embedding snapshot of epoch 99"},
                           Bad{{"--run", "999"}, 2, "has no run 999"}}) {
        r = cli(QStringList{"export", "embeddings", "--out", out + QStringLiteral("/bad"), "--db", db_} + bad.args);
        QCOMPARE(r.code, bad.code);
        QVERIFY2(r.err.contains(bad.needle), r.err.constData());
        QCOMPARE(r.err.trimmed().count('\n'), 0);
    }
    if (QFileInfo::exists(QStringLiteral(RECLAB_ML100K_DIR "/u.data"))) {
        r = cli({"export", "embeddings", "--run", id, "--out", out + QStringLiteral("/bad"), "--data",
                 QStringLiteral(RECLAB_ML100K_DIR), "--db", db_});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is not the data run"), r.err.constData());
    }
}

void TestRunsCli::recommendsForAUser()
{
    // The sample's users are 1 to 600.
    Result r = cli({"recommend", "--run", QString::number(second_), "--user", "1", "--k", "5", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    const QJsonArray items = o.value("items").toArray();
    QCOMPARE(items.size(), 5);
    double previous = INFINITY;
    for (const auto& v : items) {
        const QJsonObject item = v.toObject();
        QVERIFY(!item.value("title").toString().isEmpty());
        QVERIFY(item.value("score").toDouble() <= previous);
        previous = item.value("score").toDouble();
        QCOMPARE(item.value("because").toArray().size(), 3);
    }
    QVERIFY(o.value("milliseconds").toDouble() < 1000);
    r = cli({"recommend", "--run", QString::number(second_), "--user", "nobody", "--db", db_});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("has no user nobody"), r.err.constData());
    r = cli({"recommend", "--run", "999", "--user", "1", "--db", db_});
    QCOMPARE(r.code, 2); // an unknown run is the user's input, as in every command
}

void TestRunsCli::attentionOfADinRun()
{
    const QString db = dir_.filePath(QStringLiteral("din.db"));
    Result r = cli({"train", "--data", "sample", "--model", "din", "--epochs", "1", "--threads", "1", "--json", "--db", db});
    QCOMPARE(r.code, 0);
    const QString run = QString::number(runIdOf(r.out));
    // DIN's recommendations are explained by the behaviours its attention weighed most...
    r = cli({"recommend", "--run", run, "--user", "7", "--k", "3", "--json", "--db", db});
    QCOMPARE(r.code, 0);
    const QJsonObject recs = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(recs.value("because").toString(), QStringLiteral("attention weight"));
    const QJsonObject first = recs.value("items").toArray().at(0).toObject();
    // ...which the attention command, asked about that item and another, shows the same way.
    r = cli({"attention", "--run", run, "--user", "7", "--items", first.value("item").toString() + ",5", "--json", "--db", db});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    const QJsonArray history = o.value("history").toArray();
    const QJsonArray candidates = o.value("candidates").toArray();
    QVERIFY(!history.isEmpty() && history.size() <= 50);
    QCOMPARE(candidates.size(), 2);
    for (const auto& v : candidates) {
        const QJsonObject c = v.toObject();
        const QJsonArray weights = c.value("weights").toArray(), shares = c.value("shares").toArray();
        QCOMPARE(weights.size(), history.size());
        double sum = 0, best = -INFINITY;
        int argmax = -1;
        for (int h = 0; h < weights.size(); ++h) {
            sum += shares.at(h).toDouble();
            if (weights.at(h).toDouble() > best) {
                best = weights.at(h).toDouble();
                argmax = h;
            }
        }
        QVERIFY(std::abs(sum - 1.0) < 1e-4);
        QCOMPARE(c.value("top").toArray().size(), 3);
        QCOMPARE(c.value("top").toArray().at(0).toInt(), argmax);
        QVERIFY(!c.value("genres").toArray().isEmpty());
    }
    const QJsonObject attended = candidates.at(0).toObject();
    QCOMPARE(attended.value("score").toDouble(), first.value("score").toDouble());
    for (int k = 0; k < 3; ++k)
        QCOMPARE(history.at(attended.value("top").toArray().at(k).toInt()).toObject().value("item").toString(),
                 first.value("because").toArray().at(k).toObject().value("item").toString());
    // The text form marks the contributors.
    r = cli({"attention", "--run", run, "--user", "7", "--items", "5,17", "--db", db});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.count('*') >= 6);
    // A model without attention, an unknown item or user: one line, exit 2.
    r = cli({"attention", "--run", QString::number(second_), "--user", "1", "--items", "5", "--db", db_});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("no attention") && r.err.count('\n') == 1, r.err.constData());
    r = cli({"attention", "--run", run, "--user", "7", "--items", "5,99999", "--db", db});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("has no item 99999"), r.err.constData());
    r = cli({"attention", "--run", run, "--user", "nobody", "--items", "5", "--db", db});
    QCOMPARE(r.code, 2);
    r = cli({"attention", "--run", run, "--user", "7", "--db", db});
    QCOMPARE(r.code, 2); // DIN needs candidates
    QVERIFY2(r.err.contains("name candidate items with --items"), r.err.constData());
    // SASRec's attention needs none: a map per layer and head, each behaviour's weights over the
    // ones it sees (itself and those before it), summing to one; its recommendations say what the
    // user just watched.
    r = cli({"train", "--data", "sample", "--model", "sasrec", "--epochs", "1", "--threads", "1", "--json", "--db", db});
    QCOMPARE(r.code, 0);
    const QString sasrec = QString::number(runIdOf(r.out));
    r = cli({"attention", "--run", sasrec, "--user", "7", "--json", "--db", db});
    QCOMPARE(r.code, 0);
    const QJsonObject inside = QJsonDocument::fromJson(r.out).object();
    const int behaviours = static_cast<int>(inside.value("history").toArray().size());
    QVERIFY(behaviours > 1);
    const QJsonArray maps = inside.value("maps").toArray();
    QCOMPARE(maps.size(), 4);
    for (const auto& m : maps) {
        const QJsonArray rows = m.toObject().value("weights").toArray();
        QCOMPARE(rows.size(), behaviours);
        for (int i = 0; i < behaviours; ++i) {
            const QJsonArray w = rows.at(i).toArray();
            double sum = 0;
            for (int j = 0; j < behaviours; ++j) {
                sum += w.at(j).toDouble();
                if (j > i)
                    QCOMPARE(w.at(j).toDouble(), 0.0);
            }
            QVERIFY(std::abs(sum - 1.0) < 1e-4);
        }
    }
    r = cli({"attention", "--run", sasrec, "--user", "7", "--db", db});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("layer2, head 2"), r.out.constData());
    r = cli({"recommend", "--run", sasrec, "--user", "7", "--db", db});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("because you just watched"), r.out.constData());
}

void TestRunsCli::continueAndReplayOnNewDays()
{
    // The sample's rows as two files: those of its first half of time, and all of them.
    const Dataset sample = generateSampleDataset();
    std::vector<int64_t> times(sample.interactions.timestamp.begin(), sample.interactions.timestamp.end());
    std::nth_element(times.begin(), times.begin() + long(times.size() / 2), times.end());
    const int64_t middle = times[times.size() / 2];
    const QString early = dir_.filePath(QStringLiteral("early.csv")), all = dir_.filePath(QStringLiteral("all.csv"));
    QFile a(early), b(all);
    QVERIFY(a.open(QIODevice::WriteOnly) && b.open(QIODevice::WriteOnly));
    a.write("user,item,rating,timestamp\n");
    b.write("user,item,rating,timestamp\n");
    for (size_t r = 0; r < sample.interactions.size(); ++r) {
        const QByteArray line = QByteArray::fromStdString(sample.userIds[size_t(sample.interactions.user[r])] + "," +
                                                          sample.itemIds[size_t(sample.interactions.item[r])]) +
                                "," + QByteArray::number(sample.interactions.rating[r]) + "," +
                                QByteArray::number(qint64(sample.interactions.timestamp[r])) + "\n";
        if (sample.interactions.timestamp[r] < middle)
            a.write(line);
        b.write(line);
    }
    a.close();
    b.close();
    const QString db = dir_.filePath(QStringLiteral("continue.db"));
    Result r = cli({"train", "--data", early, "--model", "gmf", "--epochs", "2", "--threads", "1", "--json", "--db", db});
    QVERIFY2(r.code == 0, r.err.constData());
    const qint64 stored = runIdOf(r.out);
    r = cli({"train", "--data", all, "--continue", QString::number(stored), "--epochs", "1", "--threads", "1", "--json",
             "--db", db});
    QVERIFY2(r.code == 0, r.err.constData());
    const qint64 continued = runIdOf(r.out);
    r = cli({"runs", "show", QString::number(continued), "--json", "--db", db});
    QCOMPARE(r.code, 0);
    QCOMPARE(QJsonDocument::fromJson(r.out).object().value("parent_run").toInteger(), stored);
    // Settings of the stored run only: a model option with --continue is refused.
    r = cli({"train", "--data", all, "--continue", QString::number(stored), "--model", "mlp", "--db", db});
    QCOMPARE(r.code, 2);

    // The replay: a JSON line per day and a summary; a model it cannot update, refused.
    r = cli({"replay", "--data", early, "--model", "gmf", "--days", "2", "--epochs", "1", "--update-epochs", "1",
             "--threads", "1", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    const QJsonObject summary = QJsonDocument::fromJson(lines.last()).object();
    QCOMPARE(summary.value("days").toInt(), 2);
    QVERIFY(summary.value("retrained").toObject().contains("hr@10"));
    r = cli({"replay", "--data", early, "--model", "pop"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("computed from counts") && r.err.count('\n') == 1, r.err.constData());
    QVERIFY2(r.out.isEmpty(), r.out.constData()); // no table header before the refusal
}

void TestRunsCli::badInputExitsNonZeroWithOneLine_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("needle");
    QTest::newRow("unknown run") << QStringList{"runs", "show", "999"} << 2 << "has no run 999";
    QTest::newRow("compare unknown") << QStringList{"runs", "compare", "1", "999"} << 2 << "has no run 999";
    QTest::newRow("bad condition") << QStringList{"runs", "list", "--param", "learning_rate"} << 2 << "not a condition";
    QTest::newRow("order on text") << QStringList{"runs", "list", "--param", "optimizer<adam"} << 2 << "needs a number";
    QTest::newRow("bad status") << QStringList{"runs", "list", "--status", "done"} << 2 << "none of running";
    QTest::newRow("bad format") << QStringList{"runs", "export", "1", "--format", "xml"} << 2 << "csv or json";
    QTest::newRow("one run") << QStringList{"runs", "compare", "1"} << 2 << "";
    QTest::newRow("clone other data") << QStringList{"train", "--data", "__ML100K__", "--clone", "1"} << 2
                                      << "trained on other data";
}

void TestRunsCli::badInputExitsNonZeroWithOneLine()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, needle);
    if (args.contains(QStringLiteral("__ML100K__"))) {
        if (!QFileInfo::exists(QStringLiteral(RECLAB_ML100K_DIR "/u.data")))
            QSKIP("MovieLens-100K not found");
        args.replace(args.indexOf(QStringLiteral("__ML100K__")), QStringLiteral(RECLAB_ML100K_DIR));
    }
    const Result r = cli(args + QStringList{"--db", db_});
    QCOMPARE(r.code, code);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains(needle.toUtf8()), r.err.constData());
    // A foreign SQLite file as the database: a clear message, not a crash.
    const QString foreign = dir_.filePath(QStringLiteral("foreign.db"));
    sqlite3* db = nullptr;
    sqlite3_open(foreign.toUtf8().constData(), &db);
    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS invoices(id INTEGER)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    const Result f = cli({"runs", "list", "--db", foreign});
    QCOMPARE(f.code, 2); // the database the user named, as in train
    QVERIFY2(f.err.contains("not a RecLab database"), f.err.constData());
}

QTEST_GUILESS_MAIN(TestRunsCli)
#include "test_runs_cli.moc"
