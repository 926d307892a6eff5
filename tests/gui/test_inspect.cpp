// The Inspect tab on real runs (trained here on the sample and, for pictures, on ml-100k):
// the projector (snapshots per epoch, colours, search, cosine neighbours against the stored
// vectors, t-SNE in a worker with intermediate maps and Stop, export, pan and zoom), the DIN
// attention heatmap (contributors, shares, refusals) and two runs' recommendations side by side.
// Set RECLAB_SCREENSHOT_DIR to keep pictures.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/MovieLens100kLoader.h"
#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "inspection/Attention.h"
#include "train/EmbeddingSnapshots.h"
#include "inspection/Recommendations.h"
#include "inspection/StoredRun.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"

#include "MainWindow.h"
#include "TestData.h"
#include "experiments/ExperimentsView.h"
#include "inspect/AttentionView.h"
#include "InspectOf.h"
#include "inspect/ProjectorView.h"
#include "inspect/RecommendationsView.h"
#include "inspect/ScatterPlot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QTreeWidget>
#include <QtTest>

#include "Screenshots.h"

#include <set>

using namespace reclab;
using reclab::test::saveShot;

class TestInspect : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void projectorShowsEpochsColoursAndNeighbours();
    void projectorRunsTsneInAWorker();
    void projectorRefusesRunsWithoutSnapshots();
    void attentionHeatmapMarksContributors();
    void recommendationsSideBySide();
    void sequenceModelsShowTheirAttentionAndPaths();
    void deletedRunsAreForgotten();
    void windowOpensARunFromTheRunsPanel();
    void customGraphsOpenTheViewTheirBlocksOffer();
    void viewsOpenOnTheNewestRunTheyCanShow();
    void screenshotsOnMl100k();

private:
    int64_t train(const std::shared_ptr<const Dataset>& data, const std::string& db, const std::string& model, int epochs);
    QList<QPair<qint64, QString>> runs() const;

    QTemporaryDir dir_;
    QString db_;
    std::shared_ptr<const Dataset> sample_;
    int64_t gmf_ = 0, din_ = 0, knn_ = 0;
};


int64_t TestInspect::train(const std::shared_ptr<const Dataset>& data, const std::string& db, const std::string& model, int epochs)
{
    TrainConfig c = defaultConfigFor(model);
    c.epochs = epochs;
    c.threads = 1;
    c.pretrain = false;
    TrainingSession session(data, c, db);
    session.setLabels({"inspect", "", {}, 0});
    session.run();
    return session.runId();
}

QList<QPair<qint64, QString>> TestInspect::runs() const
{
    return {{gmf_, QStringLiteral("gmf")}, {din_, QStringLiteral("din")}, {knn_, QStringLiteral("itemknn")}};
}

void TestInspect::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("runs.db"));
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    gmf_ = train(sample_, db_.toStdString(), "gmf", 4);
    din_ = train(sample_, db_.toStdString(), "din", 3);
    knn_ = train(sample_, db_.toStdString(), "itemknn", 1);
}

void TestInspect::projectorShowsEpochsColoursAndNeighbours()
{
    InspectView inspect;
    inspect.resize(1200, 800);
    inspect.show();
    inspect.setRuns(db_, runs());
    ProjectorView* p = inspect.projector();
    QSignalSpy shown(p, &ProjectorView::shown);
    p->showRun(gmf_);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1 && !p->isBusy(), 30000);
    // Four epochs, the last shown; the first table is GMF's users or items.
    QCOMPARE(p->epochSlider()->maximum(), 3);
    QCOMPARE(p->epoch(), 4);
    QVERIFY(p->tableCombo()->count() >= 2);
    p->setTable(QStringLiteral("item_embedding"));
    if (p->tableCombo()->currentText() != QStringLiteral("item_embedding")) {
        for (int i = 0; i < p->tableCombo()->count(); ++i)
            if (p->tableCombo()->itemData(i).toString() == QStringLiteral("items"))
                p->setTable(p->tableCombo()->itemText(i));
    }
    QTRY_VERIFY(!p->isBusy());
    QCOMPARE(p->plot()->pointCount(), sample_->numItems());
    // Coloured by genre: the legend's categories are the sample's genres.
    QCOMPARE(p->colourCombo()->currentText(), QStringLiteral("genre"));
    // Neighbours: cosine in the stored vectors of that epoch.
    const auto tables = readEmbeddingSnapshot(runArtifactDir(db_.toStdString(), gmf_), 4);
    torch::Tensor items;
    for (const auto& t : tables)
        if (t.name == p->tableCombo()->currentText().toStdString())
            items = t.weights;
    QVERIFY(items.defined());
    p->selectPoint(7);
    QCOMPARE(p->plot()->selected(), 7);
    QCOMPARE(p->neighboursList()->topLevelItemCount(), 11); // the point, then 10 neighbours
    const int nearest = p->neighboursList()->topLevelItem(1)->data(0, Qt::UserRole).toInt();
    const torch::Tensor unit = items / items.norm(2, 1, true);
    torch::Tensor cosine = unit.mv(unit[7]);
    cosine[7] = -2;
    QCOMPARE(nearest, static_cast<int>(cosine.argmax().item<int64_t>()));
    QVERIFY(std::abs(p->neighboursList()->topLevelItem(1)->text(1).toDouble() - cosine.max().item<double>()) < 1e-3);
    // The selected point's and its neighbours' labels overlap neither each other nor the window's edge.
    p->plot()->grab();
    const QVector<QRectF>& boxes = p->plot()->labelBoxes();
    QCOMPARE(boxes.size(), 11);
    QVERIFY(!boxes.front().isEmpty());
    for (int a = 0; a < boxes.size(); ++a) {
        QVERIFY(boxes[a].isEmpty() || QRectF(p->plot()->rect()).contains(boxes[a]));
        for (int b = a + 1; b < boxes.size(); ++b)
            QVERIFY(boxes[a].isEmpty() || boxes[b].isEmpty() || !boxes[a].intersects(boxes[b]));
    }
    // Ten labels round one crowded spot: each placed where it overlaps none placed before.
    const QVector<QPointF> crowd(10, QPointF(200, 150));
    const QVector<QRectF> placed = ScatterPlot::placeLabels(crowd, QVector<QSizeF>(10, QSizeF(90, 16)), QRectF(0, 0, 400, 300));
    int labelled = 0;
    for (int a = 0; a < placed.size(); ++a) {
        labelled += placed[a].isEmpty() ? 0 : 1;
        for (int b = a + 1; b < placed.size(); ++b)
            QVERIFY(placed[a].isEmpty() || placed[b].isEmpty() || !placed[a].intersects(placed[b]));
    }
    QVERIFY(labelled >= 8);
    // Search highlights every title with the word.
    p->search(QStringLiteral("Harbor"));
    int expected = 0;
    for (const auto& t : sample_->items.title)
        expected += QString::fromStdString(t).contains(QStringLiteral("Harbor")) ? 1 : 0;
    QVERIFY(expected > 1);
    QCOMPARE(p->plot()->highlighted().size(), expected);
    // Hover finds the point under the cursor; zoom and pan move the view.
    ScatterPlot* plot = p->plot();
    const QPointF at = plot->toWidget(plot->points()[12]);
    const int hit = plot->pointAt(at.toPoint());
    QVERIFY(hit >= 0);
    QVERIFY(QLineF(plot->toWidget(plot->points()[hit]), at).length() < 6.5);
    const QRectF before = plot->visibleRect();
    plot->zoomBy(2.0, QPointF(plot->width() / 2.0, plot->height() / 2.0));
    QVERIFY(std::abs(plot->visibleRect().width() - before.width() / 2) < 1e-6 * before.width() + 1e-9);
    plot->panBy(QPointF(50, 0));
    QVERIFY(plot->visibleRect().left() < before.left() + before.width() / 4);
    // Another epoch moves the points (same items, earlier weights).
    const QVector<QPointF> last = plot->points();
    p->setEpochIndex(0);
    QTRY_VERIFY(!p->isBusy() && p->epoch() == 1);
    QCOMPARE(plot->pointCount(), sample_->numItems());
    QVERIFY(plot->points() != last);
    // Export: TensorBoard's two TSVs and the map's coordinates, one line per item.
    const QString out = dir_.filePath(QStringLiteral("export"));
    QString error;
    QVERIFY2(p->exportTo(out, &error), qPrintable(error));
    for (const char* name : {"vectors.tsv", "metadata.tsv", "coordinates.csv"}) {
        QFile f(out + QLatin1Char('/') + QLatin1String(name));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const int lines = static_cast<int>(f.readAll().count('\n'));
        QCOMPARE(lines, sample_->numItems() + (QLatin1String(name) == QLatin1String("vectors.tsv") ? 0 : 1));
    }
}

void TestInspect::projectorRunsTsneInAWorker()
{
    ProjectorView p(std::make_shared<InspectionCache>());
    p.resize(900, 600);
    p.show();
    p.setRuns(db_, runs());
    QSignalSpy shown(&p, &ProjectorView::shown);
    p.showRun(gmf_);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1 && !p.isBusy(), 30000);
    const QVector<QPointF> pcaMap = p.plot()->points();
    QSignalSpy projected(&p, &ProjectorView::projected);
    p.perplexitySpin()->setValue(20);
    p.iterationsSpin()->setValue(500);
    p.methodCombo()->setCurrentIndex(1);
    p.project();
    QVERIFY(p.isBusy());
    // The map is redrawn as t-SNE converges, while the event loop runs.
    int redraws = 0;
    QVector<QPointF> seen = p.plot()->points();
    QElapsedTimer clock;
    clock.start();
    while (projected.isEmpty() && clock.elapsed() < 60000) {
        QTest::qWait(20);
        if (p.plot()->points() != seen) {
            ++redraws;
            seen = p.plot()->points();
        }
    }
    QCOMPARE(projected.count(), 1);
    QVERIFY2(redraws >= 3, qPrintable(QString::number(redraws)));
    QVERIFY(p.plot()->points() != pcaMap);
    QVERIFY(p.statusLabel()->text().contains(QStringLiteral("t-SNE")));
    // Stop ends a long run early, keeping the map so far.
    p.iterationsSpin()->setValue(5000);
    p.project();
    QTRY_VERIFY(p.progressBar()->value() > 0);
    p.stop();
    QTRY_COMPARE_WITH_TIMEOUT(projected.count(), 2, 10000);
    QVERIFY(p.statusLabel()->text().contains(QStringLiteral("stopped early")));
    // Too high a perplexity for the points: a message, no crash.
    QSignalSpy failed(&p, &ProjectorView::failed);
    p.perplexitySpin()->setValue(100);
    p.setTable(QStringLiteral("user_embedding"));
    QTRY_VERIFY_WITH_TIMEOUT(!p.isBusy(), 30000); // a loaded machine, or a sanitizer build, is slow
    p.setTable(p.tableCombo()->itemText(0));
    QTRY_VERIFY_WITH_TIMEOUT(!p.isBusy(), 30000);
    if (p.plot()->pointCount() <= 300) {
        p.project();
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.front().front().toString().contains(QStringLiteral("perplexity")));
    }
    // A view closed while its t-SNE runs: the worker stops, and maps it had posted find no view.
    auto* closing = new ProjectorView(std::make_shared<InspectionCache>());
    closing->setRuns(db_, runs());
    QSignalSpy closingShown(closing, &ProjectorView::shown);
    closing->showRun(gmf_);
    QTRY_VERIFY_WITH_TIMEOUT(closingShown.count() >= 1 && !closing->isBusy(), 30000);
    closing->iterationsSpin()->setValue(5000);
    closing->methodCombo()->setCurrentIndex(1);
    closing->project();
    QTRY_VERIFY(closing->progressBar()->value() > 0);
    delete closing;
    QTest::qWait(500); // posted maps arrive to nothing
    QThreadPool::globalInstance()->waitForDone(10000);
    QVERIFY(QThreadPool::globalInstance()->activeThreadCount() == 0);
}

void TestInspect::projectorRefusesRunsWithoutSnapshots()
{
    ProjectorView p(std::make_shared<InspectionCache>());
    p.setRuns(db_, runs());
    QSignalSpy failed(&p, &ProjectorView::failed);
    p.showRun(knn_);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 30000);
    QVERIFY(failed.front().front().toString().contains(QStringLiteral("no embedding snapshots")));
    QCOMPARE(p.plot()->pointCount(), 0);
    p.showRun(999);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 30000);
}

void TestInspect::attentionHeatmapMarksContributors()
{
    AttentionView view(std::make_shared<InspectionCache>());
    view.resize(1200, 900);
    view.show();
    view.setRuns(db_, runs());
    QSignalSpy shown(&view, &AttentionView::shown), failed(&view, &AttentionView::failed);
    view.showAttention(din_, QStringLiteral("3"));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 60000);
    AttentionHeatmap* map = view.heatmap();
    QCOMPARE(map->columns(), 6); // the user's top 6 recommendations
    QVERIFY(map->rows() > 5 && map->rows() <= 50);
    QCOMPARE(map->rows(), view.historyIds().size());
    // Each candidate's three largest raw weights are outlined.
    for (int c = 0; c < map->columns(); ++c) {
        int marked = 0;
        double smallestMarked = INFINITY, largestUnmarked = -INFINITY;
        for (int r = 0; r < map->rows(); ++r) {
            if (map->isMarked(r, c)) {
                ++marked;
                smallestMarked = std::min(smallestMarked, map->value(r, c));
            } else {
                largestUnmarked = std::max(largestUnmarked, map->value(r, c));
            }
        }
        QCOMPARE(marked, 3);
        QVERIFY(smallestMarked >= largestUnmarked);
    }
    // The cells are the stored model's own attention weights (loaded here independently).
    const StoredModel stored = loadStoredModel(db_.toStdString(), din_, sample_);
    std::vector<int32_t> candidates;
    for (const QString& id : view.candidateIds())
        candidates.push_back(itemIndexOf(*sample_, id.toStdString()));
    const AttentionMap direct = attentionMap(*stored.model, InteractionIndex(*sample_), userIndexOf(*sample_, "3"), candidates,
                                             stored.config.historyLength);
    QCOMPARE(static_cast<int>(direct.history.size()), map->rows());
    for (int c = 0; c < map->columns(); ++c)
        for (int r = 0; r < map->rows(); ++r)
            QVERIFY(std::abs(direct.weights[c][r].item<double>() - map->value(r, c)) < 1e-5);
    // Shares: each candidate's column sums to one.
    view.setShowShares(true);
    for (int c = 0; c < map->columns(); ++c) {
        double sum = 0;
        for (int r = 0; r < map->rows(); ++r)
            sum += map->value(r, c);
        QVERIFY(std::abs(sum - 1.0) < 1e-4);
    }
    // Chosen candidates.
    view.showAttention(din_, QStringLiteral("3"), {QStringLiteral("5"), QStringLiteral("17")});
    QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 2, 30000);
    QCOMPARE(view.candidateIds(), (QStringList{QStringLiteral("5"), QStringLiteral("17")}));
    // Refusals, as messages.
    view.showAttention(gmf_, QStringLiteral("3"));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 30000);
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("no attention")));
    view.showAttention(din_, QStringLiteral("nobody"));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 30000);
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("has no user nobody")));
    view.showAttention(din_, QStringLiteral("3"), {QStringLiteral("99999")});
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 3, 30000);
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("has no item 99999")));
}

void TestInspect::sequenceModelsShowTheirAttentionAndPaths()
{
    const std::string db = dir_.filePath(QStringLiteral("sequence.db")).toStdString();
    const int64_t sasrec = train(sample_, db, "sasrec", 2), seq2seq = train(sample_, db, "seq2seq", 1);
    const QList<QPair<qint64, QString>> runs{{sasrec, QStringLiteral("sasrec")}, {seq2seq, QStringLiteral("seq2seq")}};
    const StoredModel stored = loadStoredModel(db, sasrec, sample_);
    const InteractionIndex index(*sample_);
    const int32_t user = userIndexOf(*sample_, "3");
    // SASRec: a map per layer and head, each behaviour (a column) attending to itself and those before it.
    AttentionView view(std::make_shared<InspectionCache>());
    view.resize(1300, 900);
    view.show();
    view.setRuns(QString::fromStdString(db), runs);
    QSignalSpy shown(&view, &AttentionView::shown);
    view.showAttention(sasrec, QStringLiteral("3"));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 60000);
    QVERIFY(view.mapCombo()->isVisible());
    QCOMPARE(view.mapCombo()->count(), 4); // two layers of two heads
    QCOMPARE(view.mapCombo()->itemText(0), QStringLiteral("layer1 · head 1"));
    const SequenceAttentionMaps direct = sequenceAttention(*stored.model, index, user, stored.config.historyLength);
    AttentionHeatmap* map = view.heatmap();
    for (const int k : {0, 3}) {
        view.mapCombo()->setCurrentIndex(k);
        const int n = map->rows();
        QCOMPARE(n, static_cast<int>(direct.history.size()));
        QCOMPARE(map->columns(), n);
        for (int c = 0; c < n; ++c) {
            double sum = 0;
            for (int r = 0; r < n; ++r) {
                sum += map->value(r, c);
                QVERIFY(std::abs(map->value(r, c) - direct.maps[static_cast<size_t>(k)].weights[c][r].item<double>()) < 1e-5);
                if (r > c) // later behaviours are never seen
                    QCOMPARE(map->value(r, c), 0.0);
            }
            QVERIFY(std::abs(sum - 1.0) < 1e-4);
        }
    }
    QTest::qWait(100);
    saveShot(&view, "sasrec-attention.png");
    // Seq2seq: one map, a column per decoder step.
    view.showAttention(seq2seq, QStringLiteral("3"));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 2, 60000);
    QCOMPARE(view.mapCombo()->count(), 1);
    QCOMPARE(map->columns(), 3);
    QVERIFY(map->columnLabel(0).startsWith(QStringLiteral("step 1")));
    QTest::qWait(100);
    saveShot(&view, "seq2seq-attention.png");

    // The user's path over SASRec's item map: a step per latest behaviour, each at its anchors' mean.
    InspectView inspect;
    inspect.resize(1300, 850);
    inspect.show();
    inspect.setRuns(QString::fromStdString(db), runs);
    ProjectorView* p = inspect.projector();
    QSignalSpy loaded(p, &ProjectorView::shown), path(p, &ProjectorView::pathShown);
    p->showRun(sasrec);
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 1 && !p->isBusy(), 30000);
    const auto showItems = [p] {
        for (int i = 0; i < p->tableCombo()->count(); ++i)
            if (p->tableCombo()->itemData(i).toString() == QStringLiteral("items"))
                p->setTable(p->tableCombo()->itemText(i));
    };
    showItems();
    QTRY_VERIFY(!p->isBusy());
    QCOMPARE(p->plot()->pointCount(), sample_->numItems());
    p->showUserPath(QStringLiteral("3"));
    QTRY_VERIFY_WITH_TIMEOUT(path.count() == 1, 60000);
    const UserPath expected = userPath(*stored.model, index, user, stored.config.historyLength);
    const QVector<QPointF> steps = p->plot()->pathPoints();
    QCOMPARE(steps.size(), static_cast<int>(expected.items.size()));
    QVERIFY(steps.size() >= 2 && steps.size() <= 20);
    for (int t = 0; t < steps.size(); ++t) {
        QPointF mean;
        for (const auto& [item, weight] : expected.anchors[static_cast<size_t>(t)])
            mean += weight * p->plot()->points()[item];
        QVERIFY(QLineF(mean, steps[t]).length() < 1e-4);
    }
    QVERIFY(steps.front() != steps.back()); // the state moves as the user watches
    QTest::qWait(100);
    saveShot(&inspect, "sasrec-user-path.png");
    // A model that does not predict the next item has no path.
    QSignalSpy failed(p, &ProjectorView::failed);
    inspect.setRuns(db_, this->runs());
    p->showRun(gmf_);
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 2 && !p->isBusy(), 30000);
    showItems();
    QTRY_VERIFY(!p->isBusy());
    p->showUserPath(QStringLiteral("3"));
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() >= 1, 30000);
    QVERIFY2(p->statusLabel()->text().contains(QStringLiteral("predicts the next item")), qPrintable(p->statusLabel()->text()));
    QVERIFY(p->plot()->pathPoints().isEmpty());
}

void TestInspect::recommendationsSideBySide()
{
    RecommendationsView view(std::make_shared<InspectionCache>());
    view.resize(1400, 600);
    view.show();
    view.setRuns(db_, runs());
    QSignalSpy shown(&view, &RecommendationsView::shown);
    view.showRecommendations(gmf_, knn_, QStringLiteral("1"), 10);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 60000);
    std::set<QString> seen;
    for (size_t r = 0; r < sample_->interactions.size(); ++r)
        if (sample_->interactions.user[r] == 0)
            seen.insert(QString::fromStdString(sample_->itemIds[static_cast<size_t>(sample_->interactions.item[r])]));
    std::set<QString> lists[2];
    for (int side = 0; side < 2; ++side) {
        QTableWidget* t = view.table(side);
        QCOMPARE(t->rowCount(), 10);
        for (int r = 0; r < 10; ++r) {
            const QString id = t->item(r, 0)->data(Qt::UserRole).toString();
            QVERIFY(!seen.count(id));
            lists[side].insert(id);
            QVERIFY(!t->item(r, 4)->text().isEmpty());
            if (r)
                QVERIFY(t->item(r - 1, 3)->text().toDouble() >= t->item(r, 3)->text().toDouble());
        }
    }
    int common = 0;
    for (const auto& id : lists[0])
        common += static_cast<int>(lists[1].count(id));
    QCOMPARE(view.commonCount(), common);
    QVERIFY(view.table(0)->horizontalHeaderItem(4)->text().contains(QStringLiteral("item-embedding cosine")));
    QVERIFY(view.table(1)->horizontalHeaderItem(4)->text().contains(QStringLiteral("co-rater cosine")));
    // DIN explains by attention; one side alone works too.
    view.showRecommendations(din_, 0, QStringLiteral("1"), 5);
    QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 2, 60000);
    QCOMPARE(view.table(0)->rowCount(), 5);
    QCOMPARE(view.table(1)->rowCount(), 0);
    QVERIFY(view.table(0)->horizontalHeaderItem(4)->text().contains(QStringLiteral("attention weight")));
}

void TestInspect::deletedRunsAreForgotten()
{
    // SQLite gives a deleted run's id to the next run: the model the views loaded for the old
    // run must not be served for the new one once the run list no longer has it.
    const QString db = dir_.filePath(QStringLiteral("reuse.db"));
    const int64_t first = train(sample_, db.toStdString(), "itemknn", 1);
    InspectView inspect;
    inspect.setRuns(db, {{first, QStringLiteral("itemknn")}});
    RecommendationsView* view = inspect.recommendations();
    QSignalSpy shown(view, &RecommendationsView::shown);
    view->showRecommendations(first, 0, QStringLiteral("1"), 5);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 1, 60000);
    QVERIFY(view->table(0)->horizontalHeaderItem(4)->text().contains(QStringLiteral("co-rater cosine")));
    ExperimentStore(db.toStdString()).deleteRun(first);
    inspect.setRuns(db, {}); // the window's refresh after a delete
    const int64_t second = train(sample_, db.toStdString(), "gmf", 1);
    QCOMPARE(second, first);
    inspect.setRuns(db, {{second, QStringLiteral("gmf")}});
    view->showRecommendations(second, 0, QStringLiteral("1"), 5);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() == 2, 60000);
    QVERIFY2(view->table(0)->horizontalHeaderItem(4)->text().contains(QStringLiteral("item-embedding cosine")),
             qPrintable(view->table(0)->horizontalHeaderItem(4)->text()));
}

void TestInspect::windowOpensARunFromTheRunsPanel()
{
    MainWindow w({db_, QStringLiteral("sample")});
    w.resize(1400, 950);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 60000);
    QTRY_VERIFY(inspectView(w)->projector()->runCombo()->count() == 3);
    QSignalSpy shown(inspectView(w)->projector(), &ProjectorView::shown);
    w.inspectRun(gmf_);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1, 30000);
    QCOMPARE(inspectView(w)->tabs()->currentWidget(), inspectView(w)->projector());
    QTest::qWait(200);
    saveShot(&w, "sample-projector.png");
    w.inspectRun(din_);
    QCOMPARE(inspectView(w)->tabs()->currentWidget(), inspectView(w)->attention());
    QSignalSpy attended(inspectView(w)->attention(), &AttentionView::shown);
    inspectView(w)->attention()->showAttention(din_, QStringLiteral("3"));
    QTRY_VERIFY_WITH_TIMEOUT(attended.count() == 1, 30000);
    QTest::qWait(200);
    saveShot(&w, "sample-attention.png");
    inspectView(w)->tabs()->setCurrentWidget(inspectView(w)->recommendations());
    QSignalSpy listed(inspectView(w)->recommendations(), &RecommendationsView::shown);
    inspectView(w)->recommendations()->showRecommendations(gmf_, din_, QStringLiteral("3"), 10);
    QTRY_VERIFY_WITH_TIMEOUT(listed.count() == 1, 30000);
    QTest::qWait(200);
    saveShot(&w, "sample-recommendations.png");
}

void TestInspect::customGraphsOpenTheViewTheirBlocksOffer()
{
    // Custom graphs (model "graph", any name): one with DIN's attention block opens in the
    // Attention view, one without opens in the projector; their names say nothing.
    const std::string db = dir_.filePath(QStringLiteral("custom.db")).toStdString();
    auto trainGraph = [&](const char* templateModel, const char* name) -> int64_t {
        TrainConfig c = defaultConfigFor(templateModel);
        GraphSpec graph = graphFor(c);
        graph.name = name;
        c.model = kCustomGraphModel;
        c.graph = graph.toJson();
        c.epochs = 1;
        c.threads = 1;
        c.pretrain = false;
        TrainingSession session(sample_, c, db);
        return session.run().status == RunStatus::Finished ? session.runId() : 0;
    };
    const int64_t attending = trainGraph("din", "weighted history");
    const int64_t plain = trainGraph("gmf", "products");
    QVERIFY(attending > 0 && plain > 0);
    QCOMPARE(abilitiesOfRun(ExperimentStore(db).findRun(attending)->paramsJson)->weighsBehaviours, true);
    QCOMPARE(abilitiesOfRun(ExperimentStore(db).findRun(plain)->paramsJson)->weighsBehaviours, false);
    MainWindow w({QString::fromStdString(db), QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 60000);
    // Only the run with attention is offered in the Attention view; the projector offers both.
    QTRY_VERIFY(inspectView(w)->projector()->runCombo()->count() == 2);
    QCOMPARE(inspectView(w)->attention()->runCombo()->count(), 1);
    w.inspectRun(attending);
    QCOMPARE(inspectView(w)->tabs()->currentWidget(), inspectView(w)->attention());
    QCOMPARE(inspectView(w)->attention()->runCombo()->currentData().toLongLong(), attending);
    w.inspectRun(plain);
    QCOMPARE(inspectView(w)->tabs()->currentWidget(), inspectView(w)->projector());
}

// Opened with nothing picked, the projector shows the newest run that has embeddings (here DIN:
// the newer ItemKNN has none), its item table coloured by genre; the Attention view lists DIN only.
void TestInspect::viewsOpenOnTheNewestRunTheyCanShow()
{
    MainWindow w({db_, QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 60000);
    QTRY_VERIFY(inspectView(w)->projector()->runCombo()->count() == 3);
    QCOMPARE(inspectView(w)->attention()->runCombo()->count(), 1);
    QCOMPARE(inspectView(w)->attention()->runCombo()->currentData().toLongLong(), qint64(din_));
    ProjectorView* projector = inspectView(w)->projector();
    QCOMPARE(projector->runId(), qint64(0)); // nothing read before it shows
    w.centralTabs()->setCurrentWidget(w.inspectTab());
    inspectView(w)->tabs()->setCurrentWidget(projector);
    QTRY_VERIFY_WITH_TIMEOUT(projector->runId() == din_ && !projector->isBusy() && projector->plot()->pointCount() > 0,
                             60000);
    QCOMPARE(projector->runCombo()->currentData().toLongLong(), qint64(din_));
    QVERIFY(projector->tableCombo()->currentText().startsWith(QStringLiteral("item")));
    QCOMPARE(projector->colourCombo()->currentText(), QStringLiteral("genre"));
}

void TestInspect::screenshotsOnMl100k()
{
    if (qEnvironmentVariableIsEmpty("RECLAB_SCREENSHOT_DIR"))
        QSKIP("set RECLAB_SCREENSHOT_DIR to take the ml-100k pictures");
    RECLAB_REQUIRE_ML100K();
    const auto ml = std::make_shared<const Dataset>(loadMovieLens100k(test::ml100kDir().toStdString()));
    const std::string db = dir_.filePath(QStringLiteral("ml100k.db")).toStdString();
    const int64_t neumf = train(ml, db, "neumf", 3), din = train(ml, db, "din", 2), knn = train(ml, db, "itemknn", 1),
                  sasrec = train(ml, db, "sasrec", 10);
    MainWindow w({QString::fromStdString(db), test::ml100kDir()});
    w.resize(1500, 1000);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 60000);
    QTRY_VERIFY(inspectView(w)->projector()->runCombo()->count() == 4);
    ProjectorView* p = inspectView(w)->projector();
    QSignalSpy shown(p, &ProjectorView::shown), projected(p, &ProjectorView::projected);
    w.inspectRun(neumf);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() >= 1 && !p->isBusy(), 60000);
    for (int i = 0; i < p->tableCombo()->count(); ++i)
        if (p->tableCombo()->itemText(i).contains(QStringLiteral("item")) && p->tableCombo()->itemText(i).contains(QStringLiteral("mlp")))
            p->setTable(p->tableCombo()->itemText(i));
    QTRY_VERIFY(!p->isBusy());
    p->methodCombo()->setCurrentIndex(1);
    p->project();
    QTRY_VERIFY_WITH_TIMEOUT(projected.count() >= 1, 120000);
    p->search(QStringLiteral("Star Wars"));
    QTest::qWait(200);
    saveShot(&w, "ml100k-projector-tsne.png");
    w.inspectRun(din);
    QSignalSpy attended(inspectView(w)->attention(), &AttentionView::shown);
    inspectView(w)->attention()->showAttention(din, QStringLiteral("196"));
    QTRY_VERIFY_WITH_TIMEOUT(attended.count() == 1, 60000);
    QTest::qWait(200);
    saveShot(&w, "ml100k-attention.png");
    inspectView(w)->tabs()->setCurrentWidget(inspectView(w)->recommendations());
    QSignalSpy listed(inspectView(w)->recommendations(), &RecommendationsView::shown);
    inspectView(w)->recommendations()->showRecommendations(neumf, knn, QStringLiteral("196"), 10);
    QTRY_VERIFY_WITH_TIMEOUT(listed.count() == 1, 60000);
    QTest::qWait(200);
    saveShot(&w, "ml100k-recommendations.png");
    inspectView(w)->recommendations()->showRecommendations(din, neumf, QStringLiteral("196"), 10);
    QTRY_VERIFY_WITH_TIMEOUT(listed.count() == 2, 60000);
    QTest::qWait(200);
    saveShot(&w, "ml100k-recommendations-din.png");
    // SASRec: a head's map and user 196's path over its item map.
    w.inspectRun(sasrec);
    inspectView(w)->attention()->showAttention(sasrec, QStringLiteral("196"));
    QTRY_VERIFY_WITH_TIMEOUT(attended.count() == 2, 60000);
    inspectView(w)->attention()->mapCombo()->setCurrentIndex(3);
    QTest::qWait(200);
    saveShot(&w, "ml100k-sasrec-attention.png");
    inspectView(w)->tabs()->setCurrentWidget(p);
    p->showRun(sasrec);
    QTRY_VERIFY_WITH_TIMEOUT(!p->isBusy() && p->runId() == sasrec, 60000);
    for (int i = 0; i < p->tableCombo()->count(); ++i)
        if (p->tableCombo()->itemData(i).toString() == QStringLiteral("items"))
            p->setTable(p->tableCombo()->itemText(i));
    QTRY_VERIFY(!p->isBusy());
    QSignalSpy path(p, &ProjectorView::pathShown);
    p->showUserPath(QStringLiteral("196"));
    QTRY_VERIFY_WITH_TIMEOUT(path.count() == 1, 60000);
    QTest::qWait(200);
    saveShot(&w, "ml100k-sasrec-user-path.png");
}

QTEST_MAIN(TestInspect)
#include "test_inspect.moc"
