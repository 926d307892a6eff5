// Benchmark (not a test): the Runs view and the Compare tab at scale. Writes a database of
// 10,000 runs and 1,100,000 metric rows through ExperimentStore (or reuses one given as the
// first argument), then times, as medians of 5:
//   - opening the Runs view: reading the runs and their final metrics, filling the table and
//     painting it;
//   - a param filter over all of them (their params read, matched, the table painted);
//   - the Compare tab for 10 runs: the comparison read in its worker, the curves of the 10 runs
//     read in theirs, and everything painted.
// Run: QT_QPA_PLATFORM=offscreen build/tests/reclab-bench-experiments [database]
#include "BenchStats.h"
#include "experiments/RunsTableModel.h"
#include "training/TrainingDashboard.h"
#include "experiments/CompareView.h"
#include "experiments/ExperimentsView.h"
#include "store/ExperimentStore.h"

#include <QLineEdit>

#include <QApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace reclab;
using reclab::bench::median;

namespace {

void writeDatabase(const std::string& path)
{
    ExperimentStore store(path);
    const char* models[] = {"mf", "bpr", "gmf", "mlp", "neumf", "din", "itemknn"};
    const char* datasets[] = {"ml-100k", "ml-1m", "sample"};
    QElapsedTimer t;
    t.start();
    for (int r = 0; r < 10000; ++r) {
        RunRecord run;
        run.model = models[r % 7];
        run.dataset = datasets[r % 3];
        run.datasetSource = "/data/" + run.dataset;
        run.datasetFingerprint = "fingerprint" + std::to_string(r % 3);
        run.splitFingerprint = "split" + std::to_string(r % 3);
        const double lr = 0.0001 * (1 + r % 20);
        run.paramsJson = "{\"model\":\"" + run.model + "\",\"epochs\":20,\"learning_rate\":" + std::to_string(lr) +
                         ",\"batch_size\":256,\"factors\":" + std::to_string(8 << (r % 4)) + ",\"seed\":" + std::to_string(r);
        for (int k = 0; k < 29; ++k) // as many params as a real TrainConfig has (35)
            run.paramsJson += ",\"option_" + std::to_string(k) + "\":" + std::to_string((r + k) % 7);
        run.paramsJson += "}";
        run.seed = r;
        run.tags = {r % 5 == 0 ? "baseline" : "sweep", "batch" + std::to_string(r / 1000)};
        const int64_t id = store.beginRun(run);
        std::vector<MetricPoint> points;
        for (int epoch = 1; epoch <= 20; ++epoch) {
            const double x = epoch / 20.0;
            const double w = 1.7e9 + r * 100 + epoch;
            points.push_back({"loss", epoch * 100, epoch, 0.7 - 0.4 * x + 0.01 * std::sin(r + epoch), w});
            points.push_back({"hr@10", epoch * 100, epoch, 0.3 + 0.4 * x * (1 + (r % 10) / 50.0), w});
            points.push_back({"ndcg@10", epoch * 100, epoch, 0.15 + 0.25 * x, w});
            points.push_back({"train_seconds", epoch * 100, epoch, 1.5, w});
            points.push_back({"eval_seconds", epoch * 100, epoch, 0.2, w});
        }
        // The 10 runs the Compare tab shows carry a loss curve of 10,000 points each, as a
        // long training reports it (another 100,000 rows).
        if (r % 997 == 0)
            for (int step = 1; step <= 10000; ++step)
                points.push_back({"batch_loss", step / 5, 1 + step / 500, 0.7 * std::exp(-step / 4000.0) + 0.02 * std::sin(step), 1.7e9 + step});
        store.recordMetrics(id, points);
        store.finishRun(id, RunStatus::Finished, "");
    }
    std::printf("wrote 10,000 runs, 1,100,000 metric rows in %.1f s\n", t.elapsed() / 1000.0);
}


} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QTemporaryDir dir;
    const QString db = argc > 1 ? QString::fromLocal8Bit(argv[1]) : dir.filePath(QStringLiteral("scale.db"));
    if (!QFileInfo::exists(db))
        writeDatabase(db.toStdString());
    std::printf("database %s: %.0f MB\n", qPrintable(db), QFileInfo(db).size() / 1e6);

    std::vector<double> open, filter, compare;
    for (int round = 0; round < 5; ++round) {
        QElapsedTimer t;
        t.start();
        RunsTableModel model;
        model.setDatabasePath(db);
        ExperimentsView view(&model);
        view.resize(1400, 500);
        QString error;
        if (!view.refresh(&error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        view.show();
        view.repaint(); // painted, not only laid out
        open.push_back(t.nsecsElapsed() / 1e6);
        // A param filter over all of them: every run's params read once, then matched.
        QElapsedTimer f;
        f.start();
        view.paramEdit()->setText(QStringLiteral("learning_rate<0.0005 factors=32"));
        view.repaint();
        filter.push_back(f.nsecsElapsed() / 1e6);
        if (round == 0)
            std::printf("param filter: %d of %d runs\n", view.proxy()->rowCount(), model.runCount());
        if (round == 0)
            std::printf("runs view: %d runs, first %s\n", model.runCount(),
                        qPrintable(view.proxy()->index(0, RunsTableModel::Model).data().toString()));
    }
    QList<qint64> ids;
    for (int k = 0; k < 10; ++k)
        ids << 1 + k * 997;
    for (int round = 0; round < 5; ++round) {
        CompareView view;
        view.resize(1400, 900);
        view.show();
        QSignalSpy compared(&view, &CompareView::compared);
        QElapsedTimer t;
        t.start();
        view.compare(db, ids);
        const bool done = QTest::qWaitFor(
            [&] {
                if (compared.isEmpty() || view.curves()->runIds().size() < ids.size())
                    return false;
                for (const qint64 id : ids)
                    if (view.curves()->isLoading(id))
                        return false;
                return true;
            },
            10000);
        view.curves()->flush();
        view.repaint();
        compare.push_back(t.nsecsElapsed() / 1e6);
        if (!done) {
            std::fprintf(stderr, "the comparison did not finish\n");
            return 1;
        }
    }
    std::printf("open the runs view (10,000 runs): median %.0f ms (", median(open));
    for (const double v : open)
        std::printf(" %.0f", v);
    std::printf(" )\nparam filter over 10,000 runs: median %.0f ms (", median(filter));
    for (const double v : filter)
        std::printf(" %.0f", v);
    std::printf(" )\ncompare 10 runs: median %.0f ms (", median(compare));
    for (const double v : compare)
        std::printf(" %.0f", v);
    std::printf(" )\n");
    return 0;
}
