// reclab-cli as a user runs it: help, exit codes, one stderr line for bad input, JSON per
// epoch, the run in the database, and a clean stop on SIGINT.
#include "CliRunner.h"
#include "TestData.h"
#ifdef RECLAB_HAVE_DOWNLOAD
#include "DownloadFixtures.h"
#endif

#include "store/ExperimentStore.h"
#include "runs/TrainFields.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

#include <signal.h>

using namespace reclab;

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void helpDescribesTraining();
    void optionsComeFromTheFieldTable();
    void badInputExitsTwoWithOneLine_data();
    void badInputExitsTwoWithOneLine();
    void trainPrintsJsonPerEpochAndStoresRun();
    void mfReportsRatingMetrics();
    void dinReportsClickMetrics();
    void sequenceModelsTrain();
    void movieLensRun();
    void sigintStopsCleanly();
    void dataStatsJson();
    void dataBadInputExitsTwoWithOneLine_data();
    void dataBadInputExitsTwoWithOneLine();
    void dataPrepareThenTrain();
    void dataTextAndWords();
    void textRunsWordsAndColdItems();
    void dataDownloadFromLocalServer();
    void benchAccuracyTable();
    void benchRankingTimesEveryUser();
    void benchSpeedTimesEachBatchSize();
    void graphCheckTemplateTrainExport();
    void graphBadInput();

private:
    using Result = test::CliResult;
    static Result run(const QStringList& args, int timeoutMs = 120000) { return test::runCli(args, timeoutMs); }
    QTemporaryDir dir_;
    QString db_;
};

void TestCli::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("cli.db"));
}

void TestCli::helpDescribesTraining()
{
    const Result top = run({QStringLiteral("--help")});
    QCOMPARE(top.code, 0);
    QVERIFY(top.out.contains("train"));
    const Result train = run({QStringLiteral("train"), QStringLiteral("--help")});
    QCOMPARE(train.code, 0);
    for (const char* option : {"--data", "--model", "--epochs", "--batch", "--lr", "--seed", "--threads", "--db", "--json"})
        QVERIFY2(train.out.contains(option), option);
    QVERIFY(train.out.contains("neumf") && train.out.contains("mf"));
}

void TestCli::optionsComeFromTheFieldTable()
{
    // Every training option of the table: in the JSON of a configuration, a flag of `train`
    // when it has help, refused beside --resume unless a resumed run may change it.
    const nlohmann::json json = TrainConfig{}.toJson();
    const QByteArray help = run({QStringLiteral("train"), QStringLiteral("--help")}).out;
    int flags = 0;
    for (const auto& field : trainFields()) {
        QVERIFY2(json.contains(field.key), field.key);
        if (!field.flag())
            continue;
        ++flags;
        const QByteArray flag = QByteArray("--") + field.option;
        QVERIFY2(help.contains(flag + ' '), flag.constData());
        // A value the option accepts (the default's), given beside --resume.
        std::string value;
        std::visit([&](auto member) {
            const auto v = TrainConfig{}.*member;
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
                value = v.empty() && !field.choices.empty() ? field.choices.front() : v.empty() ? "x" : v;
            else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
                value = std::to_string(v.front());
            else if constexpr (!std::is_same_v<T, bool>)
                value = nlohmann::json(v).dump();
        }, field.member);
        const Result r = run({QStringLiteral("train"), QStringLiteral("--resume"), QStringLiteral("999"), QString::fromLatin1(flag),
                              QString::fromStdString(value), QStringLiteral("--db"), db_});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("excludes") != field.resumable, (flag + ": " + r.err).constData());
    }
    QVERIFY2(flags >= 20, qPrintable(QString::number(flags)));
    // A configuration read back equals the one written, field by field.
    TrainConfig c;
    c.batchSize = 512;
    c.mlpLayers = {8, 4};
    c.protocol = "full";
    c.seed = 7;
    QCOMPARE(TrainConfig::fromJson(c.toJson()).toJson(), c.toJson());
}

void TestCli::badInputExitsTwoWithOneLine_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("no subcommand") << QStringList{} << QStringLiteral("subcommand");
    QTest::newRow("unknown option") << QStringList{"train", "--bogus"} << QStringLiteral("--bogus");
    QTest::newRow("unknown model") << QStringList{"train", "--model", "lightgcn"} << QStringLiteral("lightgcn");
    QTest::newRow("zero epochs") << QStringList{"train", "--epochs", "0"} << QStringLiteral("epochs");
    QTest::newRow("text batch") << QStringList{"train", "--batch", "many"} << QStringLiteral("batch");
    QTest::newRow("negative lr") << QStringList{"train", "--lr", "-1"} << QStringLiteral("lr");
    QTest::newRow("missing data") << QStringList{"train", "--data", "/no/such/dir"} << QStringLiteral("/no/such/dir");
    QTest::newRow("bad device") << QStringList{"train", "--device", "tpu"} << QStringLiteral("device");
    QTest::newRow("odd mlp layers") << QStringList{"train", "--model", "mlp", "--mlp-layers", "3,2"} << QStringLiteral("mlp-layers");
    QTest::newRow("pretrain both ways") << QStringList{"train", "--pretrain", "--no-pretrain"} << QStringLiteral("excludes");
    QTest::newRow("pretrain gmf") << QStringList{"train", "--model", "gmf", "--pretrain"} << QStringLiteral("pre-training applies to neumf");
    QTest::newRow("rating protocol for ranking") << QStringList{"train", "--model", "bpr", "--protocol", "folds"}
                                                 << QStringLiteral("ranking models use loo, full, common or cold");
    QTest::newRow("unknown protocol") << QStringList{"train", "--protocol", "kfold"} << QStringLiteral("protocol");
    QTest::newRow("ranking protocol for din") << QStringList{"train", "--model", "din", "--protocol", "loo"}
                                              << QStringLiteral("base, din, gru4rec, sasrec, caser, narm, seq2seq and cnn_lstm use the din or common protocol");
    QTest::newRow("din protocol for mf") << QStringList{"train", "--model", "mf", "--protocol", "din"}
                                         << QStringLiteral("rating models use holdout, folds, common or cold");
    QTest::newRow("bad activation") << QStringList{"train", "--model", "din", "--activation", "relu"} << QStringLiteral("activation");
    QTest::newRow("empty attention size") << QStringList{"train", "--model", "din", "--attention-layers", "0"}
                                          << QStringLiteral("attention-layers");
    QTest::newRow("unknown optimizer") << QStringList{"train", "--optimizer", "rmsprop"} << QStringLiteral("optimizer");
    QTest::newRow("momentum with adam") << QStringList{"train", "--model", "gmf", "--momentum", "0.9"}
                                        << QStringLiteral("momentum");
    QTest::newRow("label smoothing with bce") << QStringList{"train", "--model", "sasrec", "--loss", "bce", "--label-smoothing", "0.1"}
                                              << QStringLiteral("option 'label-smoothing': applies to the cross-entropy loss");
    QTest::newRow("next-item loss for gmf") << QStringList{"train", "--model", "gmf", "--loss", "bpr"}
                                            << QStringLiteral("option 'loss': applies to models that predict the next item (gru4rec");
    QTest::newRow("label smoothing for mf") << QStringList{"train", "--model", "mf", "--label-smoothing", "0.1"}
                                            << QStringLiteral("option 'label-smoothing': applies to models that predict the next item");
    QTest::newRow("label smoothing of 1") << QStringList{"train", "--model", "sasrec", "--label-smoothing", "1"}
                                          << QStringLiteral("--label-smoothing: expected");
    QTest::newRow("validation metric of another task") << QStringList{"train", "--model", "gmf", "--validation-metric", "rmse"}
                                                      << QStringLiteral("validation-metric");
    QTest::newRow("resume with new settings") << QStringList{"train", "--resume", "1", "--lr", "0.1"} << QStringLiteral("excludes");
    QTest::newRow("resume an unknown run") << QStringList{"train", "--resume", "999"} << QStringLiteral("no run 999");
    QTest::newRow("model too big for memory") << QStringList{"train", "--model", "mlp", "--mlp-layers", "65536,65536,65536"}
                                              << QStringLiteral("memory");
    QTest::newRow("bad similarity") << QStringList{"train", "--model", "itemknn", "--similarity", "jaccard"}
                                    << QStringLiteral("similarity");
    // Numbers are checked the same way everywhere: NaN and infinities never replace a default.
    QTest::newRow("l2 nan") << QStringList{"train", "--l2", "nan"} << QStringLiteral("--l2: expected a finite number 0 or more, got 'nan'");
    QTest::newRow("shrink nan") << QStringList{"train", "--model", "itemknn", "--shrink", "nan"} << QStringLiteral("--shrink: expected a finite");
    QTest::newRow("validation fraction nan") << QStringList{"train", "--validation-fraction", "nan"}
                                             << QStringLiteral("--validation-fraction: expected a finite number above 0 and up to 0.9");
    QTest::newRow("positive rating nan") << QStringList{"train", "--model", "din", "--positive-rating", "nan"}
                                         << QStringLiteral("--positive-rating: expected a finite number, got 'nan'");
    QTest::newRow("seed beyond 64 bits") << QStringList{"train", "--seed", "18446744073709551616"}
                                         << QStringLiteral("--seed: expected a whole number from 0 to 18446744073709551615");
    QTest::newRow("run id beyond 64 bits") << QStringList{"train", "--resume", "99999999999999999999"}
                                           << QStringLiteral("--resume: expected a whole number");
    QTest::newRow("one class") << QStringList{"train", "--model", "din", "--positive-rating", "6", "--epochs", "1"}
                               << QStringLiteral("a positive rating of 6 labels every training sample negative");
}

void TestCli::badInputExitsTwoWithOneLine()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    if (!args.isEmpty())
        args << QStringLiteral("--db") << db_;
    const Result r = run(args);
    QCOMPARE(r.code, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(!err.isEmpty() && !err.contains(QLatin1Char('\n')), qPrintable(err));
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY(r.out.isEmpty());
}

void TestCli::trainPrintsJsonPerEpochAndStoresRun()
{
    const Result r = run({"train", "--data", "sample", "--model", "neumf", "--epochs", "2", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    for (int e = 0; e < 2; ++e) {
        const QJsonObject o = QJsonDocument::fromJson(lines[e]).object();
        QCOMPARE(o.value("epoch").toInt(), e + 1);
        QVERIFY(o.value("loss").toDouble() > 0);
        QVERIFY(o.value("train_seconds").toDouble() > 0);
        QVERIFY(o.value("samples_per_second").toDouble() > 1000);
        const QJsonObject m = o.value("metrics").toObject();
        QVERIFY(m.contains("hr@10") && m.contains("ndcg@10"));
        QVERIFY(m.value("hr@10").toDouble() > 0 && m.value("hr@10").toDouble() <= 1);
    }
    const QJsonObject last = QJsonDocument::fromJson(lines[2]).object();
    const qint64 runId = last.value("run_id").toInteger();
    QVERIFY(runId > 0);
    QCOMPARE(last.value("status").toString(), QStringLiteral("FINISHED"));
    ExperimentStore store(db_.toStdString());
    const auto stored = store.findRun(runId);
    QVERIFY(stored);
    QCOMPARE(stored->status, RunStatus::Finished);
    QCOMPARE(store.metrics(runId, "hr@10").size(), size_t(2));
    QCOMPARE(store.metrics(runId, "hr@10").back().value,
             QJsonDocument::fromJson(lines[1]).object().value("metrics").toObject().value("hr@10").toDouble());
}

void TestCli::mfReportsRatingMetrics()
{
    const Result r = run({"train", "--data", "sample", "--model", "mf", "--epochs", "1", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject m = QJsonDocument::fromJson(r.out.split('\n').first()).object().value("metrics").toObject();
    QVERIFY(m.contains("rmse") && m.contains("mae"));
    QVERIFY(!m.contains("hr@10"));
}

void TestCli::dinReportsClickMetrics()
{
    const Result r = run({"train", "--data", "sample", "--model", "din", "--epochs", "1", "--activation", "prelu",
                          "--history", "20", "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    const QJsonObject m = QJsonDocument::fromJson(lines[0]).object().value("metrics").toObject();
    QVERIFY(m.contains("auc") && m.contains("gauc") && m.contains("logloss"));
    QVERIFY(!m.contains("hr@10") && !m.contains("rmse"));
    QVERIFY2(m.value("auc").toDouble() > 0.5, qPrintable(QString::number(m.value("auc").toDouble())));
    // The options reach the stored parameters, so the run can be reproduced.
    const qint64 runId = QJsonDocument::fromJson(lines[1]).object().value("run_id").toInteger();
    ExperimentStore store(db_.toStdString());
    const QJsonObject params = QJsonDocument::fromJson(QByteArray::fromStdString(store.findRun(runId)->paramsJson)).object();
    QCOMPARE(params.value("activation").toString(), QStringLiteral("prelu"));
    QCOMPARE(params.value("history_length").toInt(), 20);
    QCOMPARE(params.value("protocol").toString(), QStringLiteral("din"));
}

// Sequence models from the command line: next-item windows of --max-length (the --history
// option's other name), the common protocol's metrics, and the BCE variant.
void TestCli::sequenceModelsTrain()
{
    const Result r = run({"train", "--data", "sample", "--model", "sasrec", "--epochs", "1", "--max-length", "12",
                          "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    const QJsonObject epoch = QJsonDocument::fromJson(lines[0]).object();
    const QJsonObject m = epoch.value("metrics").toObject();
    for (const char* key : {"hr@10", "ndcg@10", "full_ndcg@10", "auc", "gauc"})
        QVERIFY2(m.contains(key), key);
    QVERIFY(epoch.value("samples_per_second").toDouble() > 0);
    const qint64 runId = QJsonDocument::fromJson(lines[1]).object().value("run_id").toInteger();
    ExperimentStore store(db_.toStdString());
    const QJsonObject params = QJsonDocument::fromJson(QByteArray::fromStdString(store.findRun(runId)->paramsJson)).object();
    QCOMPARE(params.value("history_length").toInt(), 12);
    QCOMPARE(params.value("loss").toString(), QStringLiteral("ce"));
    QCOMPARE(params.value("protocol").toString(), QStringLiteral("common"));
    for (const char* loss : {"bce", "bpr"}) {
        // SASRec smooths its cross-entropy's labels by default; a sampled loss goes without.
        const char* model = std::string(loss) == "bpr" ? "sasrec" : "gru4rec";
        const Result sampled = run({"train", "--data", "sample", "--model", model, "--epochs", "1", "--loss", loss,
                                    "--negatives", "1", "--max-length", "4", "--json", "--db", db_});
        QVERIFY2(sampled.code == 0, sampled.err.constData());
        const qint64 id = QJsonDocument::fromJson(sampled.out.trimmed().split('\n').last()).object().value("run_id").toInteger();
        QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(store.findRun(id)->paramsJson)).object().value("label_smoothing").toDouble(), 0.0);
    }
    const Result bad = run({"train", "--data", "sample", "--model", "gru4rec", "--loss", "mse", "--db", db_});
    QCOMPARE(bad.code, 2);
    // Caser, NARM and Seq2seq (a state per history: a row per target) and the course's CNN + LSTM (clicks).
    for (const char* model : {"caser", "narm", "seq2seq", "cnn_lstm"}) {
        const Result other = run({"train", "--data", "sample", "--model", model, "--epochs", "1", "--max-length", "6",
                                  "--json", "--db", db_});
        QVERIFY2(other.code == 0, other.err.constData());
        const QJsonObject o = QJsonDocument::fromJson(other.out.split('\n').first()).object();
        QVERIFY2(o.value("metrics").toObject().value("full_ndcg@10").toDouble() > 0, model);
    }
}

void TestCli::movieLensRun()
{
    RECLAB_REQUIRE_ML100K();
    const Result r = run({"train", "--data", test::ml100kDir(), "--model", "neumf", "--epochs", "1", "--threads", "1",
                          "--json", "--db", db_});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out.split('\n').first()).object();
    QVERIFY(o.value("metrics").toObject().value("hr@10").toDouble() >= 0.45);
}

void TestCli::sigintStopsCleanly()
{
    QProcess p;
    p.start(QStringLiteral(RECLAB_CLI_PATH),
            {"train", "--data", "sample", "--epochs", "500", "--no-pretrain", "--json", "--db", db_});
    QVERIFY(p.waitForStarted());
    // Wait for the first epoch line so the run is in the database, then interrupt.
    QTRY_VERIFY_WITH_TIMEOUT(p.canReadLine() || p.state() == QProcess::NotRunning, 60000);
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 130);
    const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
    const QJsonObject last = QJsonDocument::fromJson(lines.back()).object();
    QCOMPARE(last.value("status").toString(), QStringLiteral("STOPPED"));
    ExperimentStore store(db_.toStdString());
    const auto run = store.findRun(last.value("run_id").toInteger());
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Stopped);
    const int done = last.value("epochs").toInt();
    QCOMPARE(store.metrics(run->id, "hr@10").size(), static_cast<size_t>(done));

    // The stopped run continues from its checkpoint for two more epochs, under the same id.
    const Result resumed = this->run({"train", "--resume", QString::number(run->id), "--epochs", QString::number(done + 2),
                                "--json", "--db", db_});
    QCOMPARE(resumed.code, 0);
    const QList<QByteArray> more = resumed.out.trimmed().split('\n');
    QCOMPARE(more.size(), 3);
    QCOMPARE(QJsonDocument::fromJson(more[0]).object().value("epoch").toInt(), done + 1);
    QCOMPARE(QJsonDocument::fromJson(more[2]).object().value("run_id").toInteger(), run->id);
    QCOMPARE(store.findRun(run->id)->status, RunStatus::Finished);
    QCOMPARE(store.metrics(run->id, "hr@10").size(), static_cast<size_t>(done + 2));
}

void TestCli::dataStatsJson()
{
    RECLAB_REQUIRE_ML100K();
    const Result r = run({"data", "stats", test::ml100kDir(), "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(o.value("users").toInt(), 943);
    QCOMPARE(o.value("items").toInt(), 1682);
    QCOMPARE(o.value("interactions").toInt(), 100000);
    QCOMPARE(o.value("rating_min").toDouble(), 1.0);
    QCOMPARE(o.value("rating_max").toDouble(), 5.0);
    QCOMPARE(o.value("first_timestamp").toInteger(), 874724710);
    QCOMPARE(o.value("last_timestamp").toInteger(), 893286638);
    QVERIFY(std::abs(o.value("density").toDouble() - 100000.0 / (943.0 * 1682.0)) < 1e-12);
    QVERIFY(o.value("load_seconds").toDouble() > 0);
    // The same file through the generic CSV path, with explicit separator and columns.
    const Result g = run({"data", "stats", test::ml100kDir() + "/u.data", "--format", "csv", "--sep", "tab",
                          "--columns", "user,item,rating,timestamp", "--json"});
    QCOMPARE(g.code, 0);
    QCOMPARE(QJsonDocument::fromJson(g.out).object().value("users").toInt(), 943);
}

void TestCli::textRunsWordsAndColdItems()
{
    // A hybrid run with fastText vectors on the cold protocol: its notes, its metrics, its words.
    const QString db = dir_.filePath("text.db");
    const Result h = run({"train", "--model", "hybrid", "--data", "sample", "--epochs", "1", "--protocol", "cold",
                          "--cold-share", "0.3", "--word-vectors", "train", "--word-dim", "16", "--db", db, "--json"});
    QVERIFY2(h.code == 0, h.err.constData());
    QVERIFY2(h.err.contains("items are cold") && h.err.contains("word vectors trained by fastText"), h.err.constData());
    const QList<QByteArray> lines = h.out.trimmed().split('\n');
    QVERIFY(QJsonDocument::fromJson(lines.last()).object().value("metrics").toObject().contains("full_hr@10"));
    const Result w = run({"words", "--run", "1", "--db", db, "--near", "bullet", "-k", "5", "--json"});
    QVERIFY2(w.code == 0, w.err.constData());
    const QJsonArray near = QJsonDocument::fromJson(w.out).object().value("nearest").toArray();
    QCOMPARE(near.size(), 5);
    QVERIFY(near.at(0).toObject().value("cosine").toDouble() >= near.at(4).toObject().value("cosine").toDouble());
    const QString vec = dir_.filePath("run-words.vec");
    QCOMPARE(run({"words", "--run", "1", "--db", db, "--out", vec}).code, 0);
    QFile file(vec);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readLine().endsWith(" 16\n"));
    // A word the run does not know, and a run without a word embedding: one line each, exit 2.
    const Result unknown = run({"words", "--run", "1", "--db", db, "--near", "zyzzyva"});
    QCOMPARE(unknown.code, 2);
    QVERIFY2(unknown.err.contains("'zyzzyva' is not in run 1's vocabulary"), unknown.err.constData());
    QCOMPARE(run({"train", "--model", "content", "--data", "sample", "--db", db}).code, 0);
    const Result content = run({"words", "--run", "2", "--db", db, "--near", "bullet"});
    QCOMPARE(content.code, 2);
    QVERIFY2(content.err.contains("not a graph model"), content.err.constData());

    // A blend of a CF run and a content run of one split with a validation part: the weight is
    // the validation curve's best, and the blend is a run that lists and recommends.
    const QString bdb = dir_.filePath("blend.db");
    for (const char* model : {"neumf", "content"})
        QCOMPARE(run({"train", "--model", model, "--no-pretrain", "--epochs", "2", "--validation-metric", "ndcg", "--data",
                      "sample", "--db", bdb})
                     .code,
                 0);
    const Result b = run({"blend", "--runs", "1,2", "--db", bdb, "--json"});
    QVERIFY2(b.code == 0, b.err.constData());
    const QJsonObject blend = QJsonDocument::fromJson(b.out).object();
    const QJsonArray curve = blend.value("validation").toArray();
    QCOMPARE(curve.size(), 11);
    double best = -1, bestWeight = -1;
    for (const auto& point : curve)
        if (point.toObject().value("val_ndcg@10").toDouble() > best) {
            best = point.toObject().value("val_ndcg@10").toDouble();
            bestWeight = point.toObject().value("weight").toDouble();
        }
    QCOMPARE(blend.value("weight").toDouble(), bestWeight);
    QVERIFY(curve.first().toObject().value("val_ndcg@10").toDouble() != curve.last().toObject().value("val_ndcg@10").toDouble());
    QCOMPARE(blend.value("run_id").toInt(), 3);
    const Result listed = run({"runs", "list", "--db", bdb});
    QVERIFY2(listed.out.contains("blend (neumf + content)"), listed.out.constData());
    QCOMPARE(run({"recommend", "--run", "3", "--user", "1", "--db", bdb}).code, 0);
    // Runs without a validation part, or of other splits, are refused naming why.
    QCOMPARE(run({"train", "--model", "content", "--data", "sample", "--db", bdb}).code, 0);
    const Result other = run({"blend", "--runs", "1,4", "--db", bdb});
    QCOMPARE(other.code, 2);
    QVERIFY2(other.err.contains("were split differently"), other.err.constData());
    // Two rating predictors mix as ratings: by the convexity of squared error the blend's RMSE is
    // at most the worse run's (scaled as rankings are, it was 2.6 on this data).
    const QString rdb = dir_.filePath("ratings.db");
    double worst = 0;
    for (const char* model : {"mf", "itemcf"}) {
        const Result r = run({"train", "--model", model, "--epochs", "3", "--validation-metric", "rmse", "--data",
                              "sample", "--db", rdb, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto last = r.out.trimmed().split('\n').last();
        worst = std::max(worst, QJsonDocument::fromJson(last).object().value("metrics").toObject().value("rmse").toDouble());
    }
    const Result rb = run({"blend", "--runs", "1,2", "--db", rdb, "--json"});
    QVERIFY2(rb.code == 0, rb.err.constData());
    const double blended = QJsonDocument::fromJson(rb.out).object().value("metrics").toObject().value("rmse").toDouble();
    QVERIFY2(blended > 0 && blended <= worst + 1e-9, qPrintable(QString("%1 vs %2").arg(blended).arg(worst)));
}

void TestCli::dataTextAndWords()
{
    RECLAB_REQUIRE_ML100K();
    const Result t = run({"data", "text", test::ml100kDir(), "--item", "1", "--top", "3", "--json"});
    QCOMPARE(t.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(t.out).object();
    QCOMPARE(o.value("fields").toString(), QStringLiteral("title, genres, year"));
    QCOMPARE(o.value("items").toInt(), 1682);
    QVERIFY(o.value("vocabulary").toInt() > 300);
    QCOMPARE(o.value("top").toArray().size(), 3);
    QCOMPARE(o.value("top").toArray().at(0).toObject().value("word").toString(), QStringLiteral("drama"));
    // Item 1 is Toy Story (1995): "toy" is in no other title, so the minimum count of 2 drops it.
    QCOMPARE(o.value("item").toObject().value("words").toArray(), QJsonArray({"story", "1995", "animation", "childrens", "comedy"}));

    const QString out = dir_.filePath("words.vec");
    const Result w = run({"data", "words", "sample", "--vectors", "train", "--word-dim", "16", "--near", "bullet", "-k", "8",
                          "--out", out, "--json"});
    QCOMPARE(w.code, 0);
    const QJsonObject j = QJsonDocument::fromJson(w.out).object();
    QCOMPARE(j.value("dim").toInt(), 16);
    QCOMPARE(j.value("unknown").toInt(), 0);
    const QJsonArray near = j.value("near").toObject().value("nearest").toArray();
    QCOMPARE(near.size(), 8);
    // The sample's action titles take their nouns from Bullet, Chase, Heist ...: words that share
    // the genre word as context come out near each other (by chance about 1 in 18 of 125 words).
    const QStringList actionWords{"chase", "heist", "mercenary", "showdown", "rampage", "convoy", "commando"};
    int action = 0;
    for (const auto& n : near)
        action += actionWords.contains(n.toObject().value("word").toString());
    QVERIFY2(action >= 2, w.out.constData());

    // The cold-start baselines on the sample, whose title words follow the genres: content far
    // above popularity among the cold items (measured 0.514 against 0.175) and chance (0.103).
    const Result c = run({"data", "cold", "sample", "--share", "0.3", "--seeds", "5", "--json"});
    QCOMPARE(c.code, 0);
    std::map<QString, double> hr;
    for (const QByteArray& line : c.out.trimmed().split('\n')) {
        const QJsonObject row = QJsonDocument::fromJson(line).object();
        QCOMPARE(row.value("cold_items").toInt(), 120);
        hr[row.value("scorer").toString()] = row.value("hr10_full").toDouble();
    }
    QCOMPARE(hr.size(), size_t(3));
    QVERIFY2(hr["content"] > 2 * hr["popularity"] && hr["popularity"] > hr["random"], c.out.constData());

    // The written vectors read back as a file: the vocabulary, none unknown.
    const Result back = run({"data", "words", "sample", "--vectors", out, "--json"});
    QCOMPARE(back.code, 0);
    QCOMPARE(QJsonDocument::fromJson(back.out).object().value("unknown").toInt(), 0);
    QCOMPARE(QJsonDocument::fromJson(back.out).object().value("vocabulary").toInt(), j.value("vocabulary").toInt());
}

void TestCli::dataBadInputExitsTwoWithOneLine_data()
{
    const QString bad = dir_.filePath("bad.csv");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("1,10,4,1600000000\n2,11,x,1600000001\n");
    f.close();
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("malformed row") << QStringList{"data", "stats", bad} << bad + ":2: field 'rating (column 3)'";
    QTest::newRow("missing file") << QStringList{"data", "stats", "/no/such.csv"} << QStringLiteral("/no/such.csv: no such file");
    QTest::newRow("unknown format") << QStringList{"data", "stats", bad, "--format", "xlsx"} << QStringLiteral("format");
    QTest::newRow("bad columns") << QStringList{"data", "stats", bad, "--columns", "user,price"} << QStringLiteral("price");
    QTest::newRow("bad split") << QStringList{"data", "prepare", "sample", "--split", "ratio:9", "--out", dir_.filePath("x.rlprep")}
                               << QStringLiteral("split");
    QTest::newRow("threshold inf") << QStringList{"data", "prepare", "sample", "--threshold", "inf", "--out", dir_.filePath("x.rlprep")}
                                   << QStringLiteral("--threshold: expected a finite number");
    const QString vectors = dir_.filePath("bad.vec");
    QFile v(vectors);
    QVERIFY(v.open(QIODevice::WriteOnly));
    v.write("drama 0.1 0.2\ncomedy 0.3\n");
    v.close();
    QTest::newRow("vectors change dimension") << QStringList{"data", "words", "sample", "--vectors", vectors}
                                              << vectors + ":2: field 'vector': expected 2 numbers as on the first row, found 1";
    const QString plain = dir_.filePath("plain.csv");
    QFile p(plain);
    QVERIFY(p.open(QIODevice::WriteOnly));
    p.write("1,10,4,1600000000\n2,11,3,1600000001\n");
    p.close();
    QTest::newRow("no item text") << QStringList{"data", "text", plain} << QStringLiteral("has no item text");
    QTest::newRow("bad cold seeds") << QStringList{"data", "cold", "sample", "--seeds", "1,x"} << QStringLiteral("'seeds'");
    QTest::newRow("vectors scorer without vectors") << QStringList{"data", "cold", "sample", "--scorers", "content-vectors"}
                                                    << QStringLiteral("needs --vectors");
    QTest::newRow("unknown text field") << QStringList{"data", "text", "sample", "--fields", "title,plot"} << QStringLiteral("'plot'");
    QTest::newRow("filters leave nothing") << QStringList{"data", "prepare", "sample", "--kcore", "100000", "--out", dir_.filePath("x.rlprep")}
                                           << QStringLiteral("no interactions");
}

void TestCli::dataBadInputExitsTwoWithOneLine()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const Result r = run(args);
    QCOMPARE(r.code, 2);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(!err.isEmpty() && !err.contains(QLatin1Char('\n')), qPrintable(err));
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY(!QFile::exists(dir_.filePath("x.rlprep")));
}

void TestCli::dataPrepareThenTrain()
{
    RECLAB_REQUIRE_ML100K();
    const QString out = dir_.filePath("ml.rlprep");
    const Result p = run({"data", "prepare", test::ml100kDir(), "--threshold", "4", "--kcore", "5", "--split", "loo", "--seed", "3",
                          "--out", out, "--json"});
    QCOMPARE(p.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(p.out).object();
    QCOMPARE(o.value("before").toObject().value("interactions").toInt(), 100000);
    const int after = o.value("after").toObject().value("interactions").toInt();
    QVERIFY(after > 40000 && after < 55376); // 55,375 ratings are >= 4; the 5-core drops some more
    QCOMPARE(o.value("train").toInt() + o.value("valid").toInt() + o.value("test").toInt(), after);
    QCOMPARE(o.value("negatives").toInt(), 99);
    const QString fingerprint = o.value("fingerprint").toString();
    QCOMPARE(fingerprint.size(), 16);

    const Result t = run({"train", "--data", out, "--epochs", "1", "--json", "--db", db_});
    QCOMPARE(t.code, 0);
    const QList<QByteArray> lines = t.out.trimmed().split('\n');
    const qint64 runId = QJsonDocument::fromJson(lines.last()).object().value("run_id").toInteger();
    ExperimentStore store(db_.toStdString());
    QCOMPARE(QString::fromStdString(store.findRun(runId)->datasetFingerprint), fingerprint);
}

void TestCli::dataDownloadFromLocalServer()
{
#ifndef RECLAB_HAVE_DOWNLOAD
    QSKIP("built without the downloader (libcurl, OpenSSL, libzip)");
#else
    RECLAB_REQUIRE_ML100K();
    test::ServedMl100k served(dir_.filePath("served-ml-100k.zip").toStdString(), test::ml100kDir().toStdString());
    test::LocalHttpServer& server = served.server;
    const QString md5 = QString::fromStdString(served.md5);
    const QString url = QString::fromStdString(server.url("/ml-100k.zip"));

    const Result list = run({"data", "download", "--list", "--json"});
    QCOMPARE(list.code, 0);
    QCOMPARE(QJsonDocument::fromJson(list.out).array().size(), 6);

    // The catalogue's digest of the real archive does not match the one served here.
    const QString to = dir_.filePath("downloads");
    Result r = run({"data", "download", "ml-100k", "--to", to, "--url", url});
    QCOMPARE(r.code, 1);
    QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.contains("checksum mismatch: expected MD5 0e33842e24a9c977be4e0107933c0723") && !err.contains('\n'),
             qPrintable(err));
    QVERIFY(QDir(to).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());

    r = run({"data", "download", "ml-100k", "--to", to, "--url", url, "--md5", md5, "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(o.value("md5").toString(), md5);
    QCOMPARE(o.value("already_present").toBool(), false);
    const QString folder = o.value("folder").toString();
    QCOMPARE(folder, to + "/ml-100k");
    const Result stats = run({"data", "stats", folder, "--json"});
    QCOMPARE(stats.code, 0);
    QCOMPARE(QJsonDocument::fromJson(stats.out).object().value("interactions").toInt(), 100000);

    // SIGINT mid-transfer: exit 130, one line, nothing left in the target folder.
    const QString other = dir_.filePath("cancelled");
    QProcess p;
    p.start(QStringLiteral(RECLAB_CLI_PATH), {"data", "download", "ml-100k", "--to", other, "--md5", md5, "--url",
                                              QString::fromStdString(server.url("/slow/ml-100k.zip"))});
    QVERIFY(p.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(server.hits("/slow/ml-100k.zip") > 0, 30000);
    QTest::qWait(300);
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 130);
    err = QString::fromUtf8(p.readAllStandardError()).trimmed();
    QVERIFY2(err.contains("cancelled") && !err.contains('\n'), qPrintable(err));
    QVERIFY(QDir(other).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot).isEmpty());
#endif
}

// The timing itself is reported by the benchmark, not asserted; the test checks what it times.
void TestCli::benchRankingTimesEveryUser()
{
    RECLAB_REQUIRE_ML100K();
    const Result r = run({"bench", "ranking", "--data", test::ml100kDir(), "--repeat", "3", "--threads", "2", "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(o.value("users").toInt(), 943);
    QCOMPARE(o.value("items").toInt(), 1682);
    QCOMPARE(o.value("threads").toInt(), 2);
    QVERIFY(o.value("median_ms").toDouble() > 0);
    QVERIFY(o.value("min_ms").toDouble() <= o.value("median_ms").toDouble());
    const Result bad = run({"bench", "ranking", "--model", "mf"});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains("does not rank"), bad.err.constData());
}

void TestCli::benchSpeedTimesEachBatchSize()
{
    const Result r = run({"bench", "speed", "--batch", "256,1024", "--seconds", "0.5", "--threads", "2", "--json"});
    QCOMPARE(r.code, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    for (int k = 0; k < 2; ++k) {
        const QJsonObject o = QJsonDocument::fromJson(lines[k]).object();
        QCOMPARE(o.value("batch").toInt(), k == 0 ? 256 : 1024);
        QCOMPARE(o.value("device").toString(), QString("cpu"));
        QCOMPARE(o.value("users").toInt(), 600); // the sample
        QCOMPARE(o.value("items").toInt(), 400);
        QVERIFY(o.value("timed_seconds").toDouble() >= 0.5);
        QVERIFY(o.value("samples_per_second").toDouble() > 0);
        QVERIFY(o.value("setup_seconds").toDouble() > 0);
    }
    const Result notRanking = run({"bench", "speed", "--model", "mf"});
    QCOMPARE(notRanking.code, 2);
    QVERIFY2(notRanking.err.contains("does not rank"), notRanking.err.constData());
    const Result noGpu = run({"bench", "speed", "--device", "cuda:7", "--seconds", "0.5"});
    QCOMPARE(noGpu.code, 2);
    QVERIFY2(noGpu.err.contains("cuda:7") && noGpu.err.count('\n') == 1, noGpu.err.constData());
}

void TestCli::benchAccuracyTable()
{
    RECLAB_REQUIRE_ML100K();
    const QString out = dir_.filePath("bench.md");
    const Result j = run({"bench", "accuracy", "--data", test::ml100kDir(), "--seeds", "2", "--models", "pop,mf", "--epochs",
                          "1", "--json", "--out", out});
    QCOMPARE(j.code, 0);
    const QJsonArray rows = QJsonDocument::fromJson(j.out).array();
    QCOMPARE(rows.size(), 2);
    const QJsonObject pop = rows[0].toObject();
    QCOMPARE(pop.value("model").toString(), QStringLiteral("pop"));
    QCOMPARE(pop.value("protocol").toString(), QStringLiteral("loo"));
    const QJsonArray hr = pop.value("metrics").toObject().value("hr@10").toObject().value("values").toArray();
    QCOMPARE(hr.size(), 2); // one per seed; the seeds draw different negatives
    const double mean = (hr[0].toDouble() + hr[1].toDouble()) / 2;
    QVERIFY(std::abs(pop.value("metrics").toObject().value("hr@10").toObject().value("mean").toDouble() - mean) < 1e-12);
    QVERIFY(!pop.value("metrics").toObject().contains("rmse"));
    const QJsonObject mf = rows[1].toObject();
    QCOMPARE(mf.value("protocol").toString(), QStringLiteral("folds")); // ml-100k's u1..u5
    const double rmse = mf.value("metrics").toObject().value("rmse").toObject().value("mean").toDouble();
    QVERIFY2(rmse > 0.9 && rmse < 1.2, qPrintable(QString::number(rmse)));

    // The Markdown table: rating metrics are n/a for popularity, ranking metrics for MF.
    QFile md(out);
    QVERIFY(md.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(md.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QVERIFY(lines[0].startsWith("| model | protocol | seeds | hr@10 | ndcg@10 | mrr@10 | rmse | mae |"));
    QVERIFY2(lines[2].startsWith("| Popularity | loo | 2 |") && lines[2].contains("| n/a | n/a |"), qPrintable(lines[2]));
    QVERIFY2(lines[3].startsWith("| Biased MF | folds | 2 | n/a | n/a | n/a |"), qPrintable(lines[3]));

    const Result bad = run({"bench", "accuracy", "--data", test::ml100kDir(), "--models", "pop,svd"});
    QCOMPARE(bad.code, 2);
    QVERIFY(QString::fromUtf8(bad.err).contains("svd"));
}


void TestCli::graphCheckTemplateTrainExport()
{
    // A template written out and checked against the sample's sizes.
    const QString file = dir_.filePath("mine.json");
    Result r = run({"graph", "template", "neumf", "--out", file});
    QCOMPARE(r.code, 0);
    r = run({"graph", "check", file});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("tower (MLP) -> B×64"), r.out.constData());
    QVERIFY(r.out.contains("against sample (600 users, 400 items, 12 categories)"));
    QVERIFY(r.out.contains("task: implicit ranking"));
    r = run({"graph", "check", file, "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out).object();
    QVERIFY(o.value("valid").toBool());
    // (600 + 400) users and items x (64 + 128) plus the tower and the output layer.
    QCOMPARE(o.value("total_parameters").toInteger(), qint64(1000 * 192 + 41152 + 129));

    // Trained from the file; the run keeps its graph and weights; exported for Python.
    r = run({"train", "--graph", file, "--data", "sample", "--epochs", "1", "--json", "--db", db_});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject last = QJsonDocument::fromJson(r.out.trimmed().split('\n').last()).object();
    const qint64 runId = last.value("run_id").toInteger();
    ExperimentStore store(db_.toStdString());
    QCOMPARE(store.findRun(runId)->model, std::string("graph"));
    QVERIFY(QFile::exists(db_ + QString(".artifacts/run-%1/weights.pt").arg(runId)));
    const QString pt = dir_.filePath("neumf.pt");
    r = run({"graph", "export", "--run", QString::number(runId), "--out", pt, "--db", db_});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(r.out.contains("forward(users, items)"));
    QVERIFY(QFileInfo(pt).size() > 100000);
    // Exporting a run without a trained graph (a KNN run) says so.
    r = run({"train", "--model", "itemknn", "--data", "sample", "--json", "--db", db_});
    const qint64 knn = QJsonDocument::fromJson(r.out.trimmed().split('\n').last()).object().value("run_id").toInteger();
    r = run({"graph", "export", "--run", QString::number(knn), "--out", pt, "--db", db_});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("no trained graph here"));
    QCOMPARE(r.err.count('\n'), 1);
}

void TestCli::graphBadInput()
{
    const QString broken = dir_.filePath("broken.json"), invalid = dir_.filePath("invalid.json");
    auto write = [](const QString& path, const QByteArray& bytes) {
        QFile f(path);
        return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
    };
    QVERIFY(write(broken, "{\"version\": 1, \"nodes\": [{\"id\": \"a\"}]}"));
    Result r = run({"graph", "check", broken});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("broken.json: nodes[0]: missing field 'type'"), r.err.constData());
    QCOMPARE(r.err.count('\n'), 1);
    r = run({"train", "--graph", broken, "--data", "sample", "--db", db_});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("missing field 'type'"));

    // Valid JSON, invalid graph: the analysis, one line on stderr, exit 1; training refuses it.
    QVERIFY(run({"graph", "template", "gmf", "--out", invalid}).code == 0);
    QFile g(invalid);
    QVERIFY(g.open(QIODevice::ReadOnly));
    QByteArray text = g.readAll();
    g.close();
    text.replace("\"to\": \"gmf.b\"", "\"to\": \"gmf.a\"");
    QVERIFY(write(invalid, text));
    r = run({"graph", "check", invalid});
    QCOMPARE(r.code, 2); // two edges into one port: refused when read
    QVERIFY2(r.err.contains("input gmf.a is already connected"), r.err.constData());
    text.replace("{\n      \"from\": \"item_gmf.out\",\n      \"to\": \"gmf.a\"\n    },", "");
    QVERIFY(write(invalid, text));
    r = run({"graph", "check", invalid});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.out.contains("error: block 'gmf', port 'b': input 'b' is not connected"), r.out.constData());
    QCOMPARE(r.err.count('\n'), 1);
    r = run({"train", "--graph", invalid, "--data", "sample", "--db", db_});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("port 'b': input 'b' is not connected"));
    r = run({"train", "--graph", invalid, "--factors", "8", "--data", "sample", "--db", db_});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("set in the graph itself"));
    r = run({"train", "--graph", invalid, "--model", "gmf"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("excludes"));
}
QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
