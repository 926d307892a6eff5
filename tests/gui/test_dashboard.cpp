// The training dashboard's charts on real widgets (offscreen): TensorBoard's debiased EMA,
// decimation that keeps spikes and stays within the plot's width, x by step/epoch/wall time,
// log scale, zoom/pan/reset, the hover read-out, stored runs (with their learning-rate marks)
// read back from a real database written by a real training, and PNG/SVG/CSV export. The
// 100k-points-per-run figure is printed (a benchmark, not a timed assertion).
#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"

#include "training/TrainingDashboard.h"
#include "chart/CurveMath.h"
#include "chart/MetricChart.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QSlider>
#include <QTemporaryDir>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using namespace reclab;

class TestDashboard : public QObject {
    Q_OBJECT
private slots:
    void emaMatchesTensorBoard();
    void decimationKeepsExtremesWithinTheView();
    void liveCurvesAxesAndScales();
    void zoomPanResetAndReadout();
    void storedRunWithLearningRateMarks();
    void exportsPngSvgCsv();
    void hundredThousandPointsPerRun();
    void preTrainingPhasesAndSharedMetric();
};

namespace {

BatchProgress batch(int epoch, int64_t b, int64_t perEpoch, double loss, double seconds)
{
    BatchProgress p;
    p.epoch = epoch;
    p.batch = b;
    p.batchesPerEpoch = perEpoch;
    p.loss = loss;
    p.step = (epoch - 1) * perEpoch + b;
    p.elapsedSeconds = seconds;
    return p;
}

} // namespace

void TestDashboard::emaMatchesTensorBoard()
{
    // Debiased: the first smoothed value is the first value, not (1 - w) times it.
    const QVector<double> v{10, 0, 10, 0};
    const QVector<double> s = smoothEma(v, 0.5);
    QCOMPARE(s[0], 10.0);
    // last = 0.5*5 + 0 = 2.5 ... by hand: l1 = 5, l2 = 2.5, s2 = 2.5 / 0.75
    QVERIFY(std::abs(s[1] - 2.5 / 0.75) < 1e-12);
    const double l3 = 2.5 * 0.5 + 5;
    QVERIFY(std::abs(s[2] - l3 / 0.875) < 1e-12);
    QCOMPARE(smoothEma(v, 0.0), v);
    // A NaN passes through without poisoning the average.
    const QVector<double> withNaN = smoothEma({1, NAN, 1}, 0.9);
    QVERIFY(std::isnan(withNaN[1]));
    QVERIFY(std::abs(withNaN[2] - 1.0) < 1e-12);
}

void TestDashboard::decimationKeepsExtremesWithinTheView()
{
    QVector<double> xs, ys;
    for (int k = 0; k < 100000; ++k) {
        xs.append(k);
        ys.append(std::sin(k * 0.001));
    }
    ys[54321] = 50;  // a spike
    ys[77777] = -50; // and a dip
    const QVector<QPointF> all = decimateForView(xs, ys, 0, 99999, 500);
    QVERIFY(all.size() <= 1002);
    bool spike = false, dip = false;
    for (const QPointF& p : all) {
        spike |= p.y() == 50;
        dip |= p.y() == -50;
    }
    QVERIFY(spike && dip);
    for (int k = 1; k < all.size(); ++k)
        QVERIFY(all[k].x() > all[k - 1].x()); // still a function of x
    // A zoomed view: only its slice (plus one point each side), at full resolution.
    const QVector<QPointF> slice = decimateForView(xs, ys, 1000, 1100, 500);
    QCOMPARE(slice.size(), 103);
    QCOMPARE(slice.front().x(), 999.0);
    QCOMPARE(slice.back().x(), 1101.0);
    QCOMPARE(nearestIndex(xs, 10.4), 10);
    QCOMPARE(nearestIndex(xs, -5), 0);
    QCOMPARE(nearestIndex({}, 1), -1);
}

void TestDashboard::liveCurvesAxesAndScales()
{
    TrainingDashboard d;
    d.resize(1000, 700);
    d.show();
    d.addLiveRun(3, QStringLiteral("#3 GMF"));
    d.addLiveRun(4, QStringLiteral("#4 MLP"));
    for (int e = 1; e <= 3; ++e) {
        for (int b = 1; b <= 10; ++b)
            d.addBatch(3, batch(e, b, 10, 1.0 / (e * 10 + b), e * 2.0 + b * 0.1));
        EpochStats s;
        s.epoch = e;
        s.step = e * 10;
        s.elapsedSeconds = e * 2.0 + 1.0;
        s.learningRate = e == 3 ? 0.01 : 0.001;
        s.loss = 1.0 / e;
        s.metrics = {{"val_ndcg@10", 0.1 * e}, {"val_hr@10", 0.2 * e}};
        d.addEpoch(3, s);
    }
    BatchProgress pre = batch(1, 1, 10, 9.0, 0.1);
    pre.phase = "gmf";
    d.addBatch(4, pre); // pre-training is its own segment, not the run's curve
    d.addBatch(99, batch(1, 1, 10, 1.0, 0.1)); // an unknown run is ignored
    d.flush();
    QCOMPARE(d.pointCount(3, QStringLiteral("batch_loss")), 30);
    QCOMPARE(d.pointCount(4, QStringLiteral("batch_loss")), 0);
    QCOMPARE(d.run(3)->learningRateChanges.size(), 1); // epoch 3 trained with a new rate
    QCOMPARE(d.run(3)->learningRateChanges.front().epoch, 2.0);
    QCOMPARE(d.run(3)->colour, runColour(3));
    QVERIFY(runColour(3) != runColour(4));
    // Validation metrics come first in the metric list.
    QCOMPARE(d.metricCombo()->itemText(0), QStringLiteral("val_hr@10"));
    QCOMPARE(d.metricChart()->key(), QStringLiteral("val_hr@10"));
    QCOMPARE(d.metricChart()->drawnPoints(3), 3);

    // x by step, epoch and wall time: the same points at other x.
    MetricChart* loss = d.lossChart();
    QVERIFY(loss->view().right() >= 30);
    d.xAxisCombo()->setCurrentIndex(1); // epoch
    d.flush();
    QVERIFY(loss->view().right() >= 3 && loss->view().right() < 10);
    d.xAxisCombo()->setCurrentIndex(2); // wall time
    QVERIFY(loss->view().right() >= 7 && loss->view().right() < 20);
    d.xAxisCombo()->setCurrentIndex(0);

    // Log scale: a positive range spanning the losses.
    d.logScaleCheck()->setChecked(true);
    QVERIFY(loss->logScale());
    QVERIFY(loss->view().top() > 0 && loss->view().top() < 1.0 / 31);
    d.logScaleCheck()->setChecked(false);

    // Smoothing 0 draws the raw curve only; finishing and clearing drops the run.
    d.smoothingSlider()->setValue(0);
    QCOMPARE(loss->drawnPoints(3), 30);
    d.finishRun(3);
    d.clearFinished();
    QCOMPARE(d.runIds(), QList<qint64>{4});
}

void TestDashboard::zoomPanResetAndReadout()
{
    TrainingDashboard d;
    d.resize(1000, 700);
    d.show();
    d.addLiveRun(1, QStringLiteral("#1 GMF"));
    for (int b = 1; b <= 1000; ++b)
        d.addBatch(1, batch(1, b, 1000, 1.0 + (b % 7) * 0.01, b * 0.01));
    d.flush();
    MetricChart* chart = d.lossChart();
    QVERIFY(chart->isAutoRange());
    QCOMPARE(chart->rawPoints(1), 1000);

    chart->zoomTo(QRectF(QPointF(100, 0.9), QPointF(200, 1.2)));
    QVERIFY(!chart->isAutoRange());
    QCOMPARE(chart->view().left(), 100.0);
    QVERIFY(chart->drawnPoints(1) <= 103); // only the visible slice is handed to the series
    // New data does not move a view the user chose.
    d.addBatch(1, batch(2, 1, 1000, 1.0, 11));
    d.flush();
    QCOMPARE(chart->view().left(), 100.0);
    chart->panBy(0.5, 0);
    QVERIFY(chart->view().left() > 140 && chart->view().left() < 160);
    QTest::keyClick(chart, Qt::Key_Home);
    QVERIFY(chart->isAutoRange());
    QVERIFY(chart->view().left() <= 1 && chart->view().right() >= 1001); // every point in view again,
    QVERIFY(chart->drawnPoints(1) > 400);                                 // drawn as a min/max pair per
    QVERIFY(chart->drawnPoints(1) <= chart->chart()->plotArea().width() + 2); // two pixel columns
    // The wheel zooms about the cursor.
    const QRectF before = chart->view();
    const QPoint centre = chart->chart()->mapToScene(chart->chart()->plotArea().center()).toPoint();
    QWheelEvent wheel(centre, chart->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(chart->viewport(), &wheel);
    QVERIFY(chart->view().width() < before.width() * 0.9);

    // The read-out names each run with its smoothed and raw value at the nearest point.
    const QString text = chart->readoutAt(500);
    QVERIFY2(text.contains(QStringLiteral("#1 GMF")) && text.contains(QStringLiteral("step 500")) &&
                 text.contains(QStringLiteral("raw 1.0")),
             qPrintable(text));
}

void TestDashboard::storedRunWithLearningRateMarks()
{
    // A real training with a learning-rate change, written to a real database, read back.
    QTemporaryDir dir;
    const std::string db = (dir.path() + "/runs.db").toStdString();
    TrainConfig c = defaultConfigFor("gmf");
    c.epochs = 3;
    auto sample = std::make_shared<const Dataset>(generateSampleDataset());
    TrainingSession session(sample, c, db);
    session.setEpochCallback([&](const EpochStats& s) {
        if (s.epoch == 1)
            session.trainer().setLearningRate(0.01);
    });
    session.run();

    TrainingDashboard d;
    d.resize(900, 600);
    d.show();
    QString error;
    QVERIFY(!d.addStoredRun(dir.path() + "/runs.db", 999, &error));
    QVERIFY(error.contains(QStringLiteral("999")));
    QVERIFY2(d.addStoredRun(dir.path() + "/runs.db", session.runId(), &error), qPrintable(error));
    const RunCurves* r = d.run(session.runId());
    QVERIFY(r && !r->live);
    ExperimentStore store(db);
    QCOMPARE(d.pointCount(session.runId(), QStringLiteral("batch_loss")),
             static_cast<int>(store.metrics(session.runId(), "batch_loss").size()));
    QCOMPARE(d.pointCount(session.runId(), QStringLiteral("hr@10")), 3);
    // Read in a worker thread, the same curves; a missing run is reported, not shown.
    TrainingDashboard async;
    QSignalSpy shown(&async, &TrainingDashboard::storedRunShown);
    QSignalSpy failed(&async, &TrainingDashboard::storedRunFailed);
    async.showStoredRun(dir.path() + "/runs.db", 999);
    async.showStoredRun(dir.path() + "/runs.db", session.runId());
    QVERIFY(async.isLoading(session.runId()) || async.hasRun(session.runId()));
    QTRY_COMPARE(shown.count(), 1);
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(failed.first().at(0).toLongLong(), qint64(999));
    QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("999")));
    QVERIFY(!async.hasRun(999));
    for (const QString& key : {QStringLiteral("batch_loss"), QStringLiteral("hr@10"), QStringLiteral("learning_rate")})
        QCOMPARE(async.pointCount(session.runId(), key), d.pointCount(session.runId(), key));
    QCOMPARE(async.run(session.runId())->learningRateChanges.size(), 1);
    QCOMPARE(r->learningRateChanges.size(), 1);
    QCOMPARE(r->learningRateChanges.front().epoch, 1.0);
    QCOMPARE(r->learningRateChanges.front().value, 0.01);
    // Batch points sit at fractional epochs within their epoch, and at increasing wall times.
    const auto& losses = r->curves.value(QStringLiteral("batch_loss"));
    for (const CurvePoint& p : losses)
        QVERIFY(p.epoch > 0 && p.epoch <= 3.0 + 1e-9);
    QVERIFY(losses.back().seconds >= losses.front().seconds);
}

void TestDashboard::exportsPngSvgCsv()
{
    TrainingDashboard d;
    d.resize(900, 600);
    d.show();
    d.addLiveRun(7, QStringLiteral("#7 \"quoted\" run"));
    for (int b = 1; b <= 50; ++b)
        d.addBatch(7, batch(1, b, 50, 0.5 + b * 0.001, b * 0.1));
    EpochStats s;
    s.epoch = 1;
    s.step = 50;
    s.learningRate = 0.001;
    s.metrics = {{"hr@10", 0.42}};
    d.addEpoch(7, s);
    d.flush();
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("c.png")), svg = dir.filePath(QStringLiteral("c.svg")),
                  csv = dir.filePath(QStringLiteral("c.csv"));
    QVERIFY(d.exportPng(png));
    const QImage image(png);
    QVERIFY(image.width() > 500 && image.height() > 300);
    QVERIFY(d.exportSvg(svg));
    QFile svgFile(svg);
    QVERIFY(svgFile.open(QIODevice::ReadOnly));
    const QByteArray svgText = svgFile.readAll();
    QVERIFY(svgText.contains("<svg") && svgText.contains("polyline"));
    QVERIFY(d.exportCsv(csv));
    QFile csvFile(csv);
    QVERIFY(csvFile.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = csvFile.readAll().trimmed().split('\n');
    QCOMPARE(lines.front(), QByteArray("run_id,run,metric,step,epoch,seconds,value,smoothed"));
    QCOMPARE(lines.size(), 1 + 50 + 1); // every batch point, then the shown metric's epoch point
    QVERIFY(lines[1].startsWith("7,\"#7 \"\"quoted\"\" run\",\"batch_loss\",1,0.02,0.100,0.501,0.501"));
    QVERIFY(lines.back().contains("\"hr@10\",50,1,") && lines.back().contains(",0.42,"));
    QVERIFY(!d.exportCsv(QStringLiteral("/no/such/dir/c.csv")));
}

void TestDashboard::hundredThousandPointsPerRun()
{
    TrainingDashboard d;
    d.resize(1400, 800);
    d.show();
    for (qint64 run = 1; run <= 3; ++run) {
        d.addLiveRun(run, QStringLiteral("#%1").arg(run));
        for (int b = 1; b <= 100000; ++b)
            d.addBatch(run, batch(1 + b / 1000, b % 1000 + 1, 1000, 1.0 / std::sqrt(b) + 0.01 * std::sin(b), b * 0.01));
    }
    QElapsedTimer t;
    t.start();
    d.flush(); // first draw: prepares (x, smoothing) every point of 3 runs
    const double first = t.nsecsElapsed() / 1e6;
    MetricChart* chart = d.lossChart();
    for (qint64 run = 1; run <= 3; ++run) {
        QCOMPARE(chart->rawPoints(run), 100000);
        QVERIFY(chart->drawnPoints(run) <= chart->chart()->plotArea().width() + 2);
    }
    // A live tick: one more point per run, then redraw (what the 25 Hz timer does).
    std::vector<double> ticks, pans;
    for (int k = 0; k < 20; ++k) {
        for (qint64 run = 1; run <= 3; ++run)
            d.addBatch(run, batch(101, k + 1, 1000, 0.01, 1000 + k));
        t.restart();
        d.flush();
        ticks.push_back(t.nsecsElapsed() / 1e6);
        t.restart();
        chart->panBy(k % 2 ? 0.05 : -0.05, 0);
        QCoreApplication::processEvents();
        pans.push_back(t.nsecsElapsed() / 1e6);
    }
    std::sort(ticks.begin(), ticks.end());
    std::sort(pans.begin(), pans.end());
    qInfo("3 runs x 100k points: first draw %.1f ms, live tick median %.1f ms (max %.1f), pan median %.1f ms (max %.1f)",
          first, ticks[ticks.size() / 2], ticks.back(), pans[pans.size() / 2], pans.back());
}

// NeuMF's pre-training phases are drawn as their own dashed segments before the run's curve
// (live and stored); the evaluation chart opens on a metric every shown run has.
void TestDashboard::preTrainingPhasesAndSharedMetric()
{
    TrainingDashboard d;
    d.resize(1000, 700);
    d.show();
    d.addLiveRun(4, QStringLiteral("#4 NeuMF"));
    for (const char* phase : {"gmf", "mlp"})
        for (int e = 1; e <= 2; ++e)
            for (int b = 1; b <= 10; ++b) {
                BatchProgress p = batch(e, b, 10, 2.0, 0.1 * b);
                p.step += std::string(phase) == "mlp" ? 20 : 0;
                p.phase = phase;
                d.addBatch(4, p);
            }
    QCOMPARE(d.run(4)->phases.size(), size_t(2));
    QCOMPARE(d.pointCount(4, QStringLiteral("batch_loss")), 0);
    BatchProgress own = batch(1, 1, 10, 1.0, 5.0);
    own.step = 41;
    d.addBatch(4, own);
    d.flush();
    const RunCurves& gmf = d.run(4)->phases[0];
    const RunCurves& mlp = d.run(4)->phases[1];
    QCOMPARE(gmf.phase, QStringLiteral("gmf"));
    QCOMPARE(gmf.pen, Qt::DashLine);
    QVERIFY(gmf.runId < 0 && mlp.runId < 0 && gmf.runId != mlp.runId);
    QCOMPARE(d.lossChart()->rawPoints(gmf.runId), 20);
    QCOMPARE(d.lossChart()->rawPoints(mlp.runId), 20);
    QCOMPARE(d.lossChart()->rawPoints(4), 1);
    // By epoch: GMF's two epochs in [-4, -2], MLP's in [-2, 0], the run's own from 0.
    const auto& g = gmf.curves.value(QStringLiteral("batch_loss"));
    const auto& m = mlp.curves.value(QStringLiteral("batch_loss"));
    QCOMPARE(g.front().epoch, -4 + 0.1);
    QCOMPARE(g.back().epoch, -2.0);
    QCOMPARE(m.back().epoch, 0.0);
    QVERIFY(d.run(4)->curves.value(QStringLiteral("batch_loss")).front().epoch > 0);
    d.xAxisCombo()->setCurrentIndex(1);
    QVERIFY2(d.lossChart()->view().left() < -3.8, qPrintable(QString::number(d.lossChart()->view().left())));
    d.xAxisCombo()->setCurrentIndex(0);
    QVERIFY(d.lossChart()->view().left() <= 1);

    // A stored NeuMF run with pre-training: the same phases read back.
    QTemporaryDir dir;
    const QString db = dir.path() + "/runs.db";
    TrainConfig c = defaultConfigFor("neumf");
    c.epochs = 1;
    c.pretrain = true;
    TrainingSession session(std::make_shared<const Dataset>(generateSampleDataset()), c, db.toStdString());
    QCOMPARE(session.run().status, RunStatus::Finished);
    QString error;
    QVERIFY2(d.addStoredRun(db, session.runId(), &error), qPrintable(error));
    const RunCurves* stored = d.run(session.runId());
    QCOMPARE(stored->phases.size(), size_t(2));
    ExperimentStore store(db.toStdString());
    QCOMPARE(stored->phases[0].curves.value(QStringLiteral("batch_loss")).size(),
             static_cast<qsizetype>(store.metrics(session.runId(), "pretrain_gmf_loss").size()));
    for (const RunCurves& phase : stored->phases)
        for (const CurvePoint& p : phase.curves.value(QStringLiteral("batch_loss")))
            QVERIFY2(p.epoch > -2 - 1e-9 && p.epoch <= 1e-9, qPrintable(QString::number(p.epoch)));
    QVERIFY(d.lossChart()->rawPoints(stored->phases[1].runId) > 0);

    // The evaluation chart: a metric all shown runs have, unless the user picked another.
    TrainingDashboard e;
    e.addLiveRun(5, QStringLiteral("#5 MF"));
    e.addLiveRun(6, QStringLiteral("#6 NeuMF"));
    EpochStats s;
    s.epoch = 1;
    s.metrics = {{"rmse", 0.9}, {"hr@10", 0.2}};
    e.addEpoch(5, s);
    s.metrics = {{"val_ndcg@10", 0.3}, {"hr@10", 0.6}, {"ndcg@10", 0.4}};
    e.addEpoch(6, s);
    e.flush();
    QCOMPARE(e.metricCombo()->itemText(0), QStringLiteral("val_ndcg@10")); // listed first, but one run's only
    QCOMPARE(e.metricChart()->key(), QStringLiteral("hr@10"));
    QVERIFY(e.metricCombo()->itemData(0, Qt::ToolTipRole).toString().contains(QStringLiteral("1 of the 2")));
    const int rmse = e.metricCombo()->findText(QStringLiteral("rmse"));
    e.metricCombo()->setCurrentIndex(rmse);
    emit e.metricCombo()->activated(rmse);
    e.addLiveRun(7, QStringLiteral("#7 GMF"));
    s.metrics = {{"hr@10", 0.5}};
    e.addEpoch(7, s);
    e.flush();
    QCOMPARE(e.metricChart()->key(), QStringLiteral("rmse"));
}

QTEST_MAIN(TestDashboard)
#include "test_dashboard.moc"
