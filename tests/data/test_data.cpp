// Loading MovieLens-100K from ../shared, the sample generator, splits, and the messages that
// malformed files produce.
#include "TestData.h"

#include "data/DatasetSource.h"
#include "data/MovieLens100kLoader.h"
#include "data/SampleGenerator.h"
#include "data/Splits.h"
#include "data/UserItemIndex.h"
#include "util/Error.h"
#include "util/Random.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <numeric>
#include <set>

using namespace reclab;

class TestData : public QObject {
    Q_OBJECT
private slots:
    void movieLens100kCounts();
    void movieLens100kSideData();
    void leaveOneOutHoldsOutLatest();
    void ratioSplitIsSeededPartition();
    void userItemIndexMembership();
    void sampleIsDeterministic();
    void sampleHasPlantedStructure();
    void malformedRatingsNameFileLineAndField_data();
    void malformedRatingsNameFileLineAndField();
    void missingFolderIsReported();
    void sampleSpecParsesSeed();
    void repeatedPairsCountedEitherWay();
};

void TestData::movieLens100kCounts()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset ds = loadMovieLens100k(test::ml100kDir().toStdString());
    QCOMPARE(ds.numUsers(), 943);
    QCOMPARE(ds.numItems(), 1682);
    QCOMPARE(ds.interactions.size(), size_t(100000));
    const DatasetStats s = computeStats(ds);
    QCOMPARE(s.ratingMin, 1.f);
    QCOMPARE(s.ratingMax, 5.f);
    QCOMPARE(s.firstTimestamp, int64_t(874724710));
    QCOMPARE(s.lastTimestamp, int64_t(893286638));
    // First row of u.data: 196 242 3 881250949
    QCOMPARE(ds.userIds[static_cast<size_t>(ds.interactions.user[0])], std::string("196"));
    QCOMPARE(ds.itemIds[static_cast<size_t>(ds.interactions.item[0])], std::string("242"));
    QCOMPARE(ds.interactions.rating[0], 3.f);
    QCOMPARE(ds.interactions.timestamp[0], int64_t(881250949));
}

void TestData::movieLens100kSideData()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset ds = loadMovieLens100k(test::ml100kDir().toStdString());
    QCOMPARE(ds.genreNames.size(), size_t(19));
    QCOMPARE(ds.items.title[0], std::string("Toy Story (1995)"));
    QCOMPARE(ds.items.year[0], 1995);
    const auto genres = ds.genresOf(0);
    QCOMPARE(genres, (std::vector<std::string>{"Animation", "Children's", "Comedy"}));
    // Latin-1 titles become UTF-8.
    QCOMPARE(QString::fromStdString(ds.items.title[542]), QStringLiteral("Mis\u00e9rables, Les (1995)"));
    QCOMPARE(ds.users.age[0], 24);
    QCOMPARE(ds.users.gender[0], 'M');
    QCOMPARE(ds.users.occupation[0], std::string("technician"));
    QCOMPARE(ds.fingerprint(), loadMovieLens100k(test::ml100kDir().toStdString()).fingerprint());
}

void TestData::leaveOneOutHoldsOutLatest()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset ds = loadMovieLens100k(test::ml100kDir().toStdString());
    const LeaveOneOutSplit split = makeLeaveOneOutSplit(ds);
    QCOMPARE(split.testUser.size(), size_t(943));
    QCOMPARE(split.train.size(), size_t(100000 - 943));
    std::vector<int64_t> latest(943, -1);
    for (size_t r = 0; r < ds.interactions.size(); ++r) {
        auto& l = latest[static_cast<size_t>(ds.interactions.user[r])];
        l = std::max(l, ds.interactions.timestamp[r]);
    }
    for (size_t k = 0; k < split.testUser.size(); ++k) {
        const int32_t u = split.testUser[k];
        // The held-out item was rated at the user's latest timestamp.
        bool found = false;
        for (size_t r = 0; r < ds.interactions.size() && !found; ++r)
            found = ds.interactions.user[r] == u && ds.interactions.item[r] == split.testItem[k] &&
                    ds.interactions.timestamp[r] == latest[static_cast<size_t>(u)];
        QVERIFY2(found, qPrintable(QStringLiteral("user %1").arg(u)));
        if (k > 40)
            break; // the scan is quadratic; the first users suffice
    }
    for (size_t r = 0; r < split.train.size(); ++r)
        QVERIFY(split.train.timestamp[r] <= latest[static_cast<size_t>(split.train.user[r])]);
}

void TestData::ratioSplitIsSeededPartition()
{
    const Dataset ds = generateSampleDataset();
    const RatioSplit a = makeRandomRatioSplit(ds, 0.8, 5);
    const RatioSplit b = makeRandomRatioSplit(ds, 0.8, 5);
    const RatioSplit c = makeRandomRatioSplit(ds, 0.8, 6);
    QCOMPARE(a.train.size() + a.test.size(), ds.interactions.size());
    QCOMPARE(a.train.size(), static_cast<size_t>(ds.interactions.size() * 0.8 + 0.5));
    QCOMPARE(a.test.item, b.test.item);
    QVERIFY(a.test.item != c.test.item);
    QVERIFY_THROWS_EXCEPTION(ConfigError, makeRandomRatioSplit(ds, 1.0, 1));
}

void TestData::userItemIndexMembership()
{
    InteractionTable t;
    t.append(0, 5, 1, 0);
    t.append(0, 2, 1, 0);
    t.append(0, 5, 1, 0); // duplicate
    t.append(2, 1, 1, 0);
    const UserItemIndex index(t, 3);
    QVERIFY(index.contains(0, 5));
    QVERIFY(index.contains(0, 2));
    QVERIFY(!index.contains(0, 1));
    QCOMPARE(index.countOf(0), size_t(2));
    QCOMPARE(index.countOf(1), size_t(0));
    QVERIFY(index.contains(2, 1));
}

void TestData::sampleIsDeterministic()
{
    const Dataset a = generateSampleDataset();
    const Dataset b = generateSampleDataset();
    SampleConfig other;
    other.seed = 7;
    const Dataset c = generateSampleDataset(other);
    QCOMPARE(a.fingerprint(), b.fingerprint());
    QCOMPARE(a.items.title, b.items.title);
    QVERIFY(a.fingerprint() != c.fingerprint());
    QCOMPARE(a.numUsers(), 600);
    QCOMPARE(a.numItems(), 400);
    QVERIFY(a.interactions.size() > 15000);
    const std::set<std::string> titles(a.items.title.begin(), a.items.title.end());
    QCOMPARE(titles.size(), size_t(400));
}

void TestData::sampleHasPlantedStructure()
{
    // Each user's items concentrate on its planted genres: early on the start genres, late on
    // the end genres (the drift), far above what the genres' shares alone would give.
    const SampleConfig config;
    const Dataset ds = generateSampleDataset(config);
    const auto planted = plantedInterests(config);
    QCOMPARE(planted.size(), size_t(ds.numUsers()));
    std::vector<std::vector<size_t>> rowsOf(static_cast<size_t>(ds.numUsers()));
    for (size_t r = 0; r < ds.interactions.size(); ++r)
        rowsOf[static_cast<size_t>(ds.interactions.user[r])].push_back(r);
    double earlyStart = 0, lateStart = 0, earlyEnd = 0, lateEnd = 0, n = 0;
    for (size_t u = 0; u < rowsOf.size(); ++u) {
        const auto& rows = rowsOf[u];
        const size_t q = rows.size() / 4;
        const int32_t fading = planted[u].startGenres[1];
        const int32_t growing = planted[u].endGenres[1];
        for (size_t k = 0; k < q; ++k) {
            const int32_t early = ds.interactions.item[rows[k]];
            const int32_t late = ds.interactions.item[rows[rows.size() - 1 - k]];
            earlyStart += ds.items.hasGenre(early, fading) ? 1 : 0;
            lateStart += ds.items.hasGenre(late, fading) ? 1 : 0;
            earlyEnd += ds.items.hasGenre(early, growing) ? 1 : 0;
            lateEnd += ds.items.hasGenre(late, growing) ? 1 : 0;
            n += 1;
        }
    }
    qInfo("fading genre share early %.3f late %.3f; growing genre share early %.3f late %.3f",
          earlyStart / n, lateStart / n, earlyEnd / n, lateEnd / n);
    QVERIFY(earlyStart > 2.0 * lateStart);
    QVERIFY(lateEnd > 2.0 * earlyEnd);
    QVERIFY(lateEnd / n > 0.2);
}

void TestData::malformedRatingsNameFileLineAndField_data()
{
    QTest::addColumn<QByteArray>("ratings");
    QTest::addColumn<QString>("expected");
    QTest::newRow("field count") << QByteArray("1\t1\t5\t100\n1\t2\t4\n") << QStringLiteral("u.data:2: expected 4 fields");
    QTest::newRow("rating text") << QByteArray("1\t1\tfive\t100\n") << QStringLiteral("u.data:1: field 'rating'");
    QTest::newRow("timestamp") << QByteArray("1\t1\t5\t100\n2\t1\t5\tnoon\n") << QStringLiteral("u.data:2: field 'timestamp'");
    QTest::newRow("unknown item") << QByteArray("1\t9\t5\t100\n") << QStringLiteral("u.data:1: field 'item id': item 9 is not in u.item");
    QTest::newRow("negative rating") << QByteArray("1\t1\t-2\t100\n") << QStringLiteral("u.data:1: field 'rating'");
    QTest::newRow("empty") << QByteArray("") << QStringLiteral("u.data: the file holds no ratings");
    QTest::newRow("id overflow") << QByteArray("99999999999999999999999\t1\t5\t1\n") << QStringLiteral("u.data:1: field 'user id'");
}

void TestData::malformedRatingsNameFileLineAndField()
{
    QFETCH(QByteArray, ratings);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto write = [&](const char* name, const QByteArray& content) {
        QFile f(dir.filePath(QString::fromLatin1(name)));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    };
    write("u.genre", "unknown|0\nDrama|1\n");
    write("u.item", "1|A (1990)|01-Jan-1990||url|0|1\n2|B (1991)|01-Jan-1991||url|1|0\n");
    write("u.user", "1|30|F|artist|12345\n2|40|M|doctor|54321\n");
    write("u.data", ratings);
    try {
        loadDataset(dir.path().toStdString());
        QFAIL("a malformed file was accepted");
    } catch (const DataError& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY2(message.startsWith(dir.path()), qPrintable(message));
    }
}

void TestData::missingFolderIsReported()
{
    try {
        loadDataset("/nonexistent/ml-100k");
        QFAIL("no error");
    } catch (const DataError& e) {
        QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("/nonexistent/ml-100k: no such file or folder")));
    }
    QTemporaryDir empty;
    QVERIFY_THROWS_EXCEPTION(DataError, loadDataset(empty.path().toStdString()));
}

void TestData::sampleSpecParsesSeed()
{
    QCOMPARE(loadDataset("sample:7").fingerprint(), generateSampleDataset(SampleConfig{7}).fingerprint());
    QVERIFY_THROWS_EXCEPTION(DataError, loadDataset("sample:x"));
}

// Rows that repeat a (user, item) pair: counted in one pass when each user's rows are together,
// by a counting sort otherwise; both agree with a set of the pairs, and the example is a repeat.
void TestData::repeatedPairsCountedEitherWay()
{
    const Dataset sample = generateSampleDataset(SampleConfig{});
    QCOMPARE(findRepeatedPairs(sample).rows, size_t(0));
    InteractionTable t = sample.interactions;
    const size_t n = t.size();
    for (size_t r = 0; r < n; r += 7) // every 7th row again
        t.append(t.user[r], t.item[r], 1.f, 0);
    std::vector<size_t> order(t.size());
    std::iota(order.begin(), order.end(), size_t{0});
    Random rng(3);
    rng.shuffle(order.begin(), order.end());
    Dataset shuffled = sample, grouped = sample;
    shuffled.interactions = InteractionTable();
    for (const size_t r : order)
        shuffled.interactions.appendRow(t, r);
    // Each user's rows together (in shuffled order within the user).
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return t.user[a] < t.user[b]; });
    grouped.interactions = InteractionTable();
    for (const size_t r : order)
        grouped.interactions.appendRow(t, r);
    for (const Dataset* d : {&grouped, &shuffled}) {
        std::set<std::pair<int32_t, int32_t>> pairs;
        for (size_t r = 0; r < d->interactions.size(); ++r)
            pairs.emplace(d->interactions.user[r], d->interactions.item[r]);
        const RepeatedPairs found = findRepeatedPairs(*d);
        QCOMPARE(found.rows, d->interactions.size() - pairs.size());
        QVERIFY(found.rows > 0);
        const auto row = static_cast<size_t>(found.exampleRow);
        size_t copies = 0;
        for (size_t r = 0; r < d->interactions.size(); ++r)
            copies += d->interactions.user[r] == d->interactions.user[row] && d->interactions.item[r] == d->interactions.item[row];
        QVERIFY(copies >= 2);
        QCOMPARE(computeStats(*d).repeatedRows, found.rows);
    }
}

QTEST_APPLESS_MAIN(TestData)
#include "test_data.moc"
