// The Inspect tab's text and time views on real runs trained here on the sample (and, for
// pictures, on ml-100k): the word projector (words and items on one PCA map, words coloured by
// the genre they lean to, nearest words linked), the bar of the words that moved a
// recommendation's score, and the day-by-day replay chart (incremental against retrained).
// Set RECLAB_SCREENSHOT_DIR to keep pictures.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/MovieLens100kLoader.h"
#include "data/ColdItemSplit.h"
#include "data/SampleGenerator.h"
#include "inspection/StoredRun.h"
#include "inspection/WordMap.h"
#include "train/TrainingSession.h"
#include "zoo/ModelRegistry.h"

#include "TestData.h"
#include "inspect/InspectView.h"
#include <QTabWidget>
#include "inspect/RecommendationsView.h"
#include "inspect/ReplayView.h"
#include "inspect/ScatterPlot.h"
#include "inspect/WordBars.h"
#include "inspect/WordsView.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "Screenshots.h"

using namespace reclab;
using reclab::test::saveShot;

class TestTextViews : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void wordProjectorMapsWordsAndItems();
    void recommendationsShowTheWordsThatMoved();
    void replayChartsIncrementalAgainstRetrained();
    void screenshotsOnMl100k();

private:
    int64_t train(const std::shared_ptr<const Dataset>& data, const std::string& db, TrainConfig c);
    QList<QPair<qint64, QString>> runs() const
    {
        return {{hybrid_, QStringLiteral("hybrid")}, {gmf_, QStringLiteral("gmf")}, {cold_, QStringLiteral("cold")}};
    }

    QTemporaryDir dir_;
    QString db_;
    std::shared_ptr<const Dataset> sample_;
    int64_t hybrid_ = 0, gmf_ = 0, cold_ = 0;
};

int64_t TestTextViews::train(const std::shared_ptr<const Dataset>& data, const std::string& db, TrainConfig c)
{
    c.threads = 2;
    c.pretrain = false;
    TrainingSession session(data, c, db);
    session.setLabels({"text views", "", {}, 0});
    session.run();
    return session.runId();
}

void TestTextViews::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("runs.db"));
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    TrainConfig hybrid = defaultConfigFor("hybrid");
    hybrid.epochs = 1;
    hybrid_ = train(sample_, db_.toStdString(), hybrid);
    hybrid.protocol = "cold";
    hybrid.coldShare = 0.3;
    cold_ = train(sample_, db_.toStdString(), hybrid);
    TrainConfig gmf = defaultConfigFor("gmf");
    gmf.epochs = 1;
    gmf_ = train(sample_, db_.toStdString(), gmf);
}

void TestTextViews::wordProjectorMapsWordsAndItems()
{
    WordsView view(std::make_shared<InspectionCache>());
    view.resize(1100, 700);
    view.show();
    view.setRuns(db_, runs());
    QSignalSpy shown(&view, &WordsView::shown);
    view.showRun(hybrid_);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 30000);
    const WordMap* map = view.map();
    QVERIFY(map && map->words > 20);
    QCOMPARE(view.plot()->pointCount(), static_cast<int>(map->words + size_t(sample_->numItems())));
    // The sample plants its title words by genre (datasets/sample.md): "convoy" is an Action word,
    // "canyon" a Western one, "vampire" a Horror one, so those are the genres they lean to.
    const auto categoryOf = [&](const std::string& word) {
        const auto at = std::find(map->labels.begin(), map->labels.begin() + long(map->words), word);
        return at == map->labels.begin() + long(map->words) ? std::string("(absent)")
                                                             : map->categories.at(size_t(map->category[size_t(at - map->labels.begin())]));
    };
    QCOMPARE(categoryOf("convoy"), std::string("Action"));
    QCOMPARE(categoryOf("canyon"), std::string("Western"));
    QCOMPARE(categoryOf("vampire"), std::string("Horror"));
    // Nearest words: listed best first, linked on the map from the word itself.
    QVERIFY(view.showNear(QStringLiteral("vampire")));
    QCOMPARE(view.nearList()->count(), 12);
    QCOMPARE(map->labels.at(size_t(view.plot()->selected())), std::string("vampire"));
    double previous = 2;
    for (int k = 0; k < view.nearList()->count(); ++k) {
        const double cosine = view.nearList()->item(k)->text().section(QLatin1Char(' '), 0, 0).toDouble();
        QVERIFY(cosine <= previous + 1e-9);
        previous = cosine;
    }
    QVERIFY(!view.showNear(QStringLiteral("qqqzzz")));
    saveShot(&view, "words_sample.png");
    // A run without word vectors says so.
    QSignalSpy failed(&view, &WordsView::failed);
    view.showRun(gmf_);
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 30000);
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("no word vectors")));
}

void TestTextViews::recommendationsShowTheWordsThatMoved()
{
    RecommendationsView view(std::make_shared<InspectionCache>());
    view.resize(1200, 700);
    view.show();
    view.setRuns(db_, runs());
    QSignalSpy shown(&view, &RecommendationsView::shown);
    view.showRecommendations(hybrid_, 0, QStringLiteral("3"), 10);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(view.wordBars()->isVisible() && !view.wordBars()->words().isEmpty(), 30000);
    // Largest effect first; the words are the selected item's own.
    const QVector<double>& effects = view.wordBars()->effects();
    for (int k = 1; k < effects.size(); ++k)
        QVERIFY(std::abs(effects[k]) <= std::abs(effects[k - 1]) + 1e-12);
    const QString title = view.table(0)->item(0, 1)->text().toLower();
    const QString genres = view.table(0)->item(0, 2)->text().toLower();
    for (const QString& word : view.wordBars()->words())
        QVERIFY2(title.contains(word) || genres.contains(word) || word.size() == 4, qPrintable(word + " / " + title));
    // Another row, other words.
    const QStringList first = view.wordBars()->words();
    view.table(0)->setCurrentCell(1, 0);
    QTRY_VERIFY_WITH_TIMEOUT(view.wordBars()->words() != first, 30000);
    saveShot(&view, "word_bars_sample.png");
    // A cold-protocol run marks the items its training never saw, and only those.
    view.showRecommendations(cold_, 0, QStringLiteral("3"), 20);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 2, 30000);
    const std::vector<char> cold = makeColdItemSplit(*sample_, 0.3, TrainConfig{}.seed).cold;
    int marked = 0;
    for (int r = 0; r < view.table(0)->rowCount(); ++r) {
        const auto item = static_cast<size_t>(itemIndexOf(*sample_, view.table(0)->item(r, 0)->data(Qt::UserRole).toString().toStdString()));
        const bool shownCold = view.table(0)->item(r, 1)->text().startsWith(QStringLiteral("(cold) "));
        QCOMPARE(shownCold, cold[item] != 0);
        marked += shownCold;
    }
    QVERIFY(marked > 0);
    // An ID-only run has no words to show.
    view.showRecommendations(gmf_, 0, QStringLiteral("3"), 10);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 3, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(!view.wordBars()->isVisible(), 30000);
}

void TestTextViews::replayChartsIncrementalAgainstRetrained()
{
    ReplayView view(std::make_shared<InspectionCache>());
    view.resize(1100, 700);
    view.show();
    view.setRuns(db_, runs());
    view.runCombo()->setCurrentIndex(view.runCombo()->findData(QVariant::fromValue<qint64>(gmf_)));
    view.modelCombo()->setCurrentIndex(view.modelCombo()->findData(QStringLiteral("gmf")));
    view.daysSpin()->setValue(3);
    view.epochsSpin()->setValue(1);
    QSignalSpy finished(&view, &ReplayView::finished);
    view.start();
    QVERIFY(view.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QCOMPARE(view.days().size(), 3);
    const auto series = view.hitChart()->chart()->series();
    QCOMPARE(series.size(), 2);
    for (auto* s : series)
        QCOMPARE(static_cast<QLineSeries*>(s)->count(), 3);
    QCOMPARE(static_cast<QLineSeries*>(series[0])->at(2).y(), view.days()[2].hrIncremental);
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("3 days replayed")));
    QVERIFY(!view.progressBar()->isVisible());
    // Stop ends a long replay early, leaving what it drew.
    view.daysSpin()->setValue(40);
    view.start();
    view.stop();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 120000);
    QVERIFY(view.days().size() < 40);
    QVERIFY(!view.isRunning());
}

void TestTextViews::screenshotsOnMl100k()
{
    if (qEnvironmentVariableIsEmpty("RECLAB_SCREENSHOT_DIR"))
        QSKIP("set RECLAB_SCREENSHOT_DIR to take the ml-100k pictures");
    RECLAB_REQUIRE_ML100K();
    const auto ml = std::make_shared<const Dataset>(loadMovieLens100k(test::ml100kDir().toStdString()));
    const std::string db = dir_.filePath(QStringLiteral("ml100k.db")).toStdString();
    TrainConfig hybrid = defaultConfigFor("hybrid");
    hybrid.epochs = 3;
    hybrid.wordVectors = "train";
    const int64_t run = train(ml, db, hybrid);
    TrainConfig cold = defaultConfigFor("hybrid");
    cold.protocol = "cold";
    cold.epochs = 3;
    const int64_t coldRun = train(ml, db, cold);
    InspectView inspect;
    inspect.resize(1400, 860);
    inspect.show();
    const QList<QPair<qint64, QString>> list{{run, QStringLiteral("#%1 hybrid · ml-100k").arg(run)},
                                             {coldRun, QStringLiteral("#%1 hybrid, cold protocol · ml-100k").arg(coldRun)}};
    inspect.setRuns(QString::fromStdString(db), list);
    WordsView* words = inspect.words();
    QSignalSpy shown(words, &WordsView::shown);
    words->nearEdit()->setText(QStringLiteral("horror"));
    inspect.tabs()->setCurrentWidget(words);
    words->showRun(run);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 120000);
    saveShot(&inspect, "words_ml100k.png");
    RecommendationsView* recs = inspect.recommendations();
    inspect.tabs()->setCurrentWidget(recs);
    QSignalSpy recShown(recs, &RecommendationsView::shown);
    // The first user whose top 10 from the cold run holds items its training never saw.
    auto coldRows = [&] {
        int n = 0;
        for (int r = 0; r < recs->table(0)->rowCount(); ++r)
            n += recs->table(0)->item(r, 1)->text().startsWith(QStringLiteral("(cold) "));
        return n;
    };
    for (int user = 1; user <= 100; ++user) {
        recs->showRecommendations(coldRun, run, QString::number(user), 10);
        QTRY_VERIFY_WITH_TIMEOUT(recShown.count() == user, 120000);
        if (coldRows() > 0)
            break;
    }
    QVERIFY(coldRows() > 0);
    for (int r = 0; r < recs->table(0)->rowCount(); ++r)
        if (const QString title = recs->table(0)->item(r, 1)->text(); title.startsWith(QStringLiteral("(cold) "))) {
            recs->table(0)->setCurrentCell(r, 0);
            QTRY_VERIFY_WITH_TIMEOUT(recs->wordBars()->title().contains(title), 60000);
            break;
        }
    QVERIFY(recs->wordBars()->isVisible());
    saveShot(&inspect, "recommendations_cold_ml100k.png");
    ReplayView* replay = inspect.replay();
    inspect.tabs()->setCurrentWidget(replay);
    replay->runCombo()->setCurrentIndex(0);
    replay->modelCombo()->setCurrentIndex(replay->modelCombo()->findData(QStringLiteral("gmf")));
    replay->daysSpin()->setValue(14);
    QSignalSpy done(replay, &ReplayView::finished);
    replay->start();
    QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 900000);
    saveShot(&inspect, "replay_ml100k.png");
}

QTEST_MAIN(TestTextViews)
#include "test_text_views.moc"
