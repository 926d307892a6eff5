// Preparation on real MovieLens-100K: filters (threshold, k-core to the fixed point, duplicates,
// time window), the four splits with their invariants, fixed negatives, and the prepared file
// (round trip, damage detection, and training on it).
// LibTorch headers before Qt's: Qt defines "slots" as a macro.
#include "train/TrainingTask.h"

#include "TestData.h"

#include "data/DatasetSource.h"
#include "data/MovieLens100kLoader.h"
#include "data/PreparedData.h"
#include "data/UserItemIndex.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>
#include <set>

using namespace reclab;

namespace {

const Dataset& ml100k()
{
    static const Dataset ds = loadMovieLens100k(test::ml100kDir().toStdString());
    return ds;
}

std::vector<int32_t> countsPer(const Column<int32_t>& column, int32_t n)
{
    std::vector<int32_t> c(static_cast<size_t>(n));
    for (const int32_t v : column)
        ++c[static_cast<size_t>(v)];
    return c;
}

} // namespace

class TestPrepare : public QObject {
    Q_OBJECT
private slots:
    void thresholdMakesImplicit();
    void kcoreReachesFixedPoint();
    void duplicatesKeepLatest();
    void timeWindowIsHalfOpen();
    void keepRowsCarriesSideData();
    void leaveOneOutHoldsLatestTwo();
    void ratioSplitProportionsAndSeed();
    void temporalSplitOrdersTime();
    void byUserSplitKeepsUsersWhole();
    void negativesAreUnseenDistinctAndFixed();
    void splitSpecParsing();
    void preparedFileRoundTrip();
    void damagedPreparedFileIsRejected();
    void trainingUsesPreparedSplit();
};

void TestPrepare::thresholdMakesImplicit()
{
    RECLAB_REQUIRE_ML100K();
    FilterConfig f;
    f.ratingThreshold = 4.f;
    FilterSummary s;
    const Dataset out = applyFilters(ml100k(), f, &s);
    const auto kept = static_cast<size_t>(std::count_if(ml100k().interactions.rating.begin(), ml100k().interactions.rating.end(),
                                                        [](float r) { return r >= 4.f; }));
    QCOMPARE(out.interactions.size(), kept);
    QCOMPARE(s.belowThreshold, size_t(100000) - kept);
    QVERIFY(std::all_of(out.interactions.rating.begin(), out.interactions.rating.end(), [](float r) { return r == 1.f; }));
    QCOMPARE(s.before.interactions, size_t(100000));
    QCOMPARE(s.after.interactions, kept);
    QCOMPARE(out.numUsers(), s.after.users); // users left without rows are dropped
}

void TestPrepare::kcoreReachesFixedPoint()
{
    RECLAB_REQUIRE_ML100K();
    FilterConfig f;
    f.userCore = f.itemCore = 30;
    FilterSummary s;
    const Dataset out = applyFilters(ml100k(), f, &s);
    QVERIFY(s.kcoreRounds > 1); // removing items lowers user counts, so one pass is not enough
    QVERIFY(out.interactions.size() < 100000);
    const auto users = countsPer(out.interactions.user, out.numUsers());
    const auto items = countsPer(out.interactions.item, out.numItems());
    QCOMPARE(*std::min_element(users.begin(), users.end()) >= 30, true);
    QCOMPARE(*std::min_element(items.begin(), items.end()) >= 30, true);
    // At the fixed point a second application changes nothing.
    FilterSummary again;
    const Dataset twice = applyFilters(out, f, &again);
    QCOMPARE(twice.fingerprint(), out.fingerprint());
    QCOMPARE(again.kcoreRounds, 1);
    // Raw ids survive renumbering.
    const auto& t = out.interactions;
    std::set<std::pair<std::string, std::string>> pairs;
    for (size_t r = 0; r < ml100k().interactions.size(); ++r)
        pairs.emplace(ml100k().userIds[static_cast<size_t>(ml100k().interactions.user[r])],
                      ml100k().itemIds[static_cast<size_t>(ml100k().interactions.item[r])]);
    for (size_t r = 0; r < t.size(); r += 101)
        QVERIFY(pairs.count({out.userIds[static_cast<size_t>(t.user[r])], out.itemIds[static_cast<size_t>(t.item[r])]}));
}

void TestPrepare::duplicatesKeepLatest()
{
    Dataset ds;
    ds.userIds = {"a", "b"};
    ds.itemIds = {"x", "y"};
    ds.interactions.append(0, 0, 1.f, 100);
    ds.interactions.append(0, 0, 5.f, 300);
    ds.interactions.append(0, 1, 2.f, 200);
    ds.interactions.append(1, 0, 3.f, 50);
    ds.interactions.append(0, 0, 4.f, 250);
    FilterConfig f;
    f.removeDuplicates = true;
    FilterSummary s;
    const Dataset out = applyFilters(ds, f, &s);
    QCOMPARE(s.duplicates, size_t(2));
    QCOMPARE(out.interactions.size(), size_t(3));
    QCOMPARE(out.interactions.rating, (Column<float>{5.f, 2.f, 3.f})); // the latest (a, x) is kept, in file order
}

void TestPrepare::timeWindowIsHalfOpen()
{
    RECLAB_REQUIRE_ML100K();
    FilterConfig f;
    f.timeFrom = 880000000;
    f.timeTo = 885000000;
    const Dataset out = applyFilters(ml100k(), f);
    const auto& t = ml100k().interactions.timestamp;
    const auto expected = static_cast<size_t>(std::count_if(t.begin(), t.end(), [](int64_t v) { return v >= 880000000 && v < 885000000; }));
    QCOMPARE(out.interactions.size(), expected);
    QVERIFY(std::all_of(out.interactions.timestamp.begin(), out.interactions.timestamp.end(),
                        [](int64_t v) { return v >= 880000000 && v < 885000000; }));
    f.timeTo = 870000000;
    QVERIFY_THROWS_EXCEPTION(ConfigError, applyFilters(ml100k(), f));
}

void TestPrepare::keepRowsCarriesSideData()
{
    RECLAB_REQUIRE_ML100K();
    std::vector<char> keep(100000, 0);
    const auto& src = ml100k();
    for (size_t r = 0; r < keep.size(); ++r)
        keep[r] = src.itemIds[static_cast<size_t>(src.interactions.item[r])] == "543" || src.interactions.user[r] == 0;
    const Dataset out = keepRows(src, keep);
    const auto it = std::find(out.itemIds.begin(), out.itemIds.end(), "543");
    QVERIFY(it != out.itemIds.end());
    const auto i = static_cast<size_t>(it - out.itemIds.begin());
    QCOMPARE(QString::fromStdString(out.items.title[i]), QStringLiteral("Mis\u00e9rables, Les (1995)"));
    QCOMPARE(out.genresOf(static_cast<int32_t>(i)), src.genresOf(542));
    QCOMPARE(out.items.genreStart.size(), out.itemIds.size() + 1);
    QCOMPARE(out.users.age.size(), out.userIds.size());
}

void TestPrepare::leaveOneOutHoldsLatestTwo()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& ds = ml100k();
    const SplitAssignment s = makeSplit(ds, parseSplitSpec("loo"));
    QCOMPARE(s.count(TestPart), size_t(943));
    QCOMPARE(s.count(ValidPart), size_t(943)); // every ML-100K user has at least 20 ratings
    std::vector<int64_t> latestTrain(943, 0), valid(943, -1), test(943, -1);
    for (size_t r = 0; r < ds.interactions.size(); ++r) {
        const auto u = static_cast<size_t>(ds.interactions.user[r]);
        const int64_t t = ds.interactions.timestamp[r];
        if (s.part[r] == TrainPart)
            latestTrain[u] = std::max(latestTrain[u], t);
        else if (s.part[r] == ValidPart)
            valid[u] = t;
        else
            test[u] = t;
    }
    for (size_t u = 0; u < 943; ++u) {
        QVERIFY(valid[u] >= latestTrain[u]);
        QVERIFY(test[u] >= valid[u]);
    }
    const SplitAssignment noValid = makeSplit(ds, parseSplitSpec("loo:test"));
    QCOMPARE(noValid.count(ValidPart), size_t(0));
    QCOMPARE(noValid.count(TestPart), size_t(943));
}

void TestPrepare::ratioSplitProportionsAndSeed()
{
    RECLAB_REQUIRE_ML100K();
    SplitConfig c = parseSplitSpec("ratio:8,1,1");
    c.seed = 7;
    const SplitAssignment a = makeSplit(ml100k(), c);
    QCOMPARE(a.count(TrainPart), size_t(80000));
    QCOMPARE(a.count(ValidPart), size_t(10000));
    QCOMPARE(a.count(TestPart), size_t(10000));
    QCOMPARE(makeSplit(ml100k(), c).part, a.part);
    c.seed = 8;
    QVERIFY(makeSplit(ml100k(), c).part != a.part);
    QCOMPARE(a.config.effectiveNegatives(), 0); // full ranking needs none
}

void TestPrepare::temporalSplitOrdersTime()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& ds = ml100k();
    const SplitAssignment s = makeSplit(ds, parseSplitSpec("temporal:0.8"));
    QCOMPARE(s.count(TrainPart), size_t(80000));
    int64_t lastTrain = 0, firstTest = INT64_MAX;
    for (size_t r = 0; r < ds.interactions.size(); ++r)
        if (s.part[r] == TrainPart)
            lastTrain = std::max(lastTrain, ds.interactions.timestamp[r]);
        else
            firstTest = std::min(firstTest, ds.interactions.timestamp[r]);
    QVERIFY(lastTrain <= firstTest);
}

void TestPrepare::byUserSplitKeepsUsersWhole()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& ds = ml100k();
    const SplitAssignment s = makeSplit(ds, parseSplitSpec("by-user:0.8"));
    std::map<int32_t, std::set<uint8_t>> parts;
    for (size_t r = 0; r < ds.interactions.size(); ++r)
        parts[ds.interactions.user[r]].insert(s.part[r]);
    size_t trainUsers = 0;
    for (const auto& [u, p] : parts) {
        QCOMPARE(p.size(), size_t(1));
        trainUsers += *p.begin() == TrainPart;
    }
    QCOMPARE(trainUsers, size_t(754)); // round(0.8 * 943)
}

void TestPrepare::negativesAreUnseenDistinctAndFixed()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& ds = ml100k();
    const SplitAssignment s = makeSplit(ds, parseSplitSpec("loo"));
    QCOMPARE(s.config.effectiveNegatives(), 99);
    QCOMPARE(s.evalRows.size(), size_t(2 * 943));
    QCOMPARE(s.negatives.size(), size_t(2 * 943 * 99));
    const UserItemIndex seen(ds.interactions, ds.numUsers());
    for (size_t k = 0; k < s.evalRows.size(); ++k) {
        const int32_t user = ds.interactions.user[s.evalRows[k]];
        std::set<int32_t> distinct;
        for (int j = 0; j < 99; ++j) {
            const int32_t item = s.negatives[k * 99 + static_cast<size_t>(j)];
            QVERIFY(!seen.contains(user, item));
            distinct.insert(item);
        }
        QCOMPARE(distinct.size(), size_t(99));
    }
    QCOMPARE(makeSplit(ds, parseSplitSpec("loo")).negatives, s.negatives);
}

void TestPrepare::splitSpecParsing()
{
    const SplitConfig r = parseSplitSpec("ratio:8,1,1");
    QCOMPARE(r.kind, SplitKind::Ratio);
    QCOMPARE(r.train, 0.8);
    QCOMPARE(r.valid, 0.1);
    const SplitConfig t = parseSplitSpec("temporal:0.7");
    QCOMPARE(t.valid, 0.0);
    QVERIFY(std::abs(t.test - 0.3) < 1e-12);
    QCOMPARE(parseSplitSpec("by-user:8,2").kind, SplitKind::ByUser);
    for (const char* bad : {"random", "ratio", "ratio:1.5", "ratio:8,x,1", "ratio:0,1,1", "temporal:1,2,3,4", "loo:maybe"})
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseSplitSpec(bad));
}

void TestPrepare::preparedFileRoundTrip()
{
    RECLAB_REQUIRE_ML100K();
    QTemporaryDir dir;
    FilterConfig f;
    f.ratingThreshold = 4.f;
    f.userCore = f.itemCore = 5;
    const PreparedData p = prepareDataset(ml100k(), "ml-100k", f, parseSplitSpec("loo"));
    const std::string file = dir.filePath("p.rlprep").toStdString();
    writePreparedData(p, file);
    const PreparedData q = readPreparedData(file);
    QCOMPARE(q.fingerprint, p.fingerprint);
    QCOMPARE(q.dataset.fingerprint(), p.fingerprint);
    QCOMPARE(q.sourceFingerprint, ml100k().fingerprint());
    QCOMPARE(q.dataset.items.title, p.dataset.items.title);
    QCOMPARE(q.dataset.presplit->negatives, p.dataset.presplit->negatives);
    QCOMPARE(q.summary.after.interactions, p.summary.after.interactions);
    QCOMPARE(q.filters.userCore, 5);
    QCOMPARE(*q.filters.ratingThreshold, 4.f);
    // Loading it as a dataset keeps the split.
    const Dataset ds = loadDataset(file);
    QVERIFY(ds.presplit);
    QCOMPARE(ds.fingerprint(), p.fingerprint);
    QVERIFY(QDir(dir.path()).entryList(QDir::Files).size() == 1); // no temporary file left behind
}

void TestPrepare::damagedPreparedFileIsRejected()
{
    RECLAB_REQUIRE_ML100K();
    QTemporaryDir dir;
    const PreparedData p = prepareDataset(ml100k(), "ml-100k", {}, parseSplitSpec("ratio:0.8"));
    const std::string file = dir.filePath("p.rlprep").toStdString();
    writePreparedData(p, file);
    std::string bytes;
    {
        std::ifstream in(file, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto messageFor = [&](const std::string& content) {
        std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
        try {
            readPreparedData(file);
        } catch (const DataError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    std::string flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x40;
    QVERIFY(messageFor(flipped).find("checksum mismatch") != std::string::npos);
    QVERIFY(messageFor(bytes.substr(0, bytes.size() / 3)).find("not a valid prepared dataset") != std::string::npos);
    QVERIFY(messageFor(bytes.substr(0, 5)).find("truncated") != std::string::npos);
    QCOMPARE(messageFor(bytes), std::string("accepted"));
}

void TestPrepare::trainingUsesPreparedSplit()
{
    RECLAB_REQUIRE_ML100K();
    QTemporaryDir dir;
    FilterConfig f;
    f.userCore = f.itemCore = 10;
    const PreparedData p = prepareDataset(ml100k(), "ml-100k", f, parseSplitSpec("loo"));
    const std::string file = dir.filePath("p.rlprep").toStdString();
    writePreparedData(p, file);
    auto data = std::make_shared<const Dataset>(loadDataset(file));
    const std::string db = dir.filePath("runs.db").toStdString();
    TrainConfig c = defaultConfigFor("neumf");
    c.epochs = 1;
    std::vector<std::string> fingerprints;
    for (int k = 0; k < 2; ++k) {
        TrainingSession session(data, c, db);
        const RunOutcome o = session.run();
        QCOMPARE(o.status, RunStatus::Finished);
        ExperimentStore store(db);
        fingerprints.push_back(store.findRun(session.runId())->datasetFingerprint);
    }
    QCOMPARE(fingerprints[0], p.fingerprint);
    QCOMPARE(fingerprints[1], p.fingerprint);
    // The task evaluates exactly the saved test rows with the saved negatives.
    const ImplicitRankingTask task(*data, c);
    QCOMPARE(task.split().testUser.size(), p.dataset.presplit->count(TestPart));
    QCOMPARE(task.split().train.size(), p.dataset.presplit->count(TrainPart));
    QVERIFY(task.sampledEvaluator());
    const auto candidates = task.sampledEvaluator()->candidates();
    const SplitAssignment& s = *p.dataset.presplit;
    size_t firstTest = 0;
    while (s.part[s.evalRows[firstTest]] != TestPart)
        ++firstTest;
    QCOMPARE(candidates[0][1].item<int64_t>(), int64_t(s.negatives[firstTest * 99]));
}

QTEST_GUILESS_MAIN(TestPrepare)
#include "test_prepare.moc"
