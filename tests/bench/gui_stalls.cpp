// The GUI thread's stalls while training runs at full speed: the very workbench window (live
// dashboard, status bar, runs table) trains NeuMF on a dataset, and a probe timer on the GUI
// thread, due every 2 ms, records the gap between its consecutive firings. A gap is the longest
// the event loop was away (painting charts, handling epochs, or not scheduled at all); the
// figures are the gaps' percentiles. Run it on a display (xvfb-run) so painting is real.
//
// Usage: reclab-bench-gui-stalls [--data SPEC] [--runs N] [--seconds S] [--threads T]
//   SPEC: a dataset (default ../shared/datasets/ml-100k beside the checkout, else the sample);
//   N runs started at once (default 1); S seconds probed once every run is training (default 20);
//   T the panel's threads (default 0: the workbench's default).
// Prints the gap percentiles, the probe count and each run's samples/s from its stored epochs.
#include "MainWindow.h"
#include "training/TrainingPanel.h"
#include "store/ExperimentStore.h"
#include "util/Runtime.h"

#include <QAction>
#include <QCheckBox>
#include <QApplication>
#include <QCommandLineParser>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0.0;
    std::sort(v.begin(), v.end());
    const auto k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(k, v.size() - 1)];
}

void waitFor(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

} // namespace

int main(int argc, char** argv)
{
    reclab::configureRuntime();
    QApplication app(argc, argv);
    QCommandLineParser parser;
    const QString ml100k = QDir(QStringLiteral(RECLAB_ML100K_DIR)).absolutePath();
    QCommandLineOption dataOption(QStringLiteral("data"), QStringLiteral("Dataset"), QStringLiteral("spec"),
                                  QFileInfo::exists(ml100k) ? ml100k : QStringLiteral("sample"));
    QCommandLineOption runsOption(QStringLiteral("runs"), QStringLiteral("Runs at once"), QStringLiteral("n"), QStringLiteral("1"));
    QCommandLineOption secondsOption(QStringLiteral("seconds"), QStringLiteral("Seconds probed"), QStringLiteral("s"),
                                     QStringLiteral("20"));
    QCommandLineOption threadsOption(QStringLiteral("threads"), QStringLiteral("Threads per run"), QStringLiteral("t"),
                                     QStringLiteral("0"));
    parser.addOptions({dataOption, runsOption, secondsOption, threadsOption});
    parser.addHelpOption();
    parser.process(app);
    const int runs = std::max(1, parser.value(runsOption).toInt());
    const double seconds = parser.value(secondsOption).toDouble();

    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("stalls.db"));
    reclab::MainWindow w({db, parser.value(dataOption)});
    w.resize(1400, 900);
    w.show();
    waitFor([&] { return w.isDatasetLoaded(); }, 120000);
    if (!w.isDatasetLoaded()) {
        std::fprintf(stderr, "reclab-bench-gui-stalls: %s did not load\n", qPrintable(parser.value(dataOption)));
        return 2;
    }
    reclab::TrainingPanel* panel = w.panel();
    panel->modelCombo()->setCurrentIndex(panel->modelCombo()->findData(QStringLiteral("neumf")));
    panel->pretrainCheck()->setChecked(false); // epochs with evaluation from the start
    panel->epochsSpin()->setValue(1000);       // longer than the probe: stopped at the end
    panel->threadsSpin()->setValue(parser.value(threadsOption).toInt());
    std::vector<qint64> ids;
    QObject::connect(&w, &reclab::MainWindow::runStarted, [&](qint64 id) { ids.push_back(id); });
    for (int r = 0; r < runs; ++r) {
        panel->seedSpin()->setValue(42 + r);
        w.startAction()->trigger();
        waitFor([&] { return static_cast<int>(ids.size()) > r; }, 60000);
    }
    if (static_cast<int>(ids.size()) < runs) {
        std::fprintf(stderr, "reclab-bench-gui-stalls: the runs did not start\n");
        return 1;
    }

    std::vector<double> gaps;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(2);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        gaps.push_back(static_cast<double>(now - last) / 1e6);
        last = now;
    });
    probe.start();
    QEventLoop loop;
    QTimer::singleShot(static_cast<int>(seconds * 1000), Qt::PreciseTimer, &loop, &QEventLoop::quit);
    loop.exec();
    probe.stop();
    const double probed = static_cast<double>(clock.nsecsElapsed()) / 1e9;
    const int liveAtEnd = w.liveRunCount();
    w.stopAction()->trigger(); // the active run; the others through the combo
    for (int k = 0; k < w.activeRunCombo()->count(); ++k) {
        w.activeRunCombo()->setCurrentIndex(k);
        w.stopAction()->trigger();
    }
    waitFor([&] { return w.liveRunCount() == 0; }, 60000);

    std::printf("GUI thread probe (2 ms timer) over %.1f s, %d run(s) training (%d still training at the end), "
                "%zu firings\n",
                probed, runs, liveAtEnd, gaps.size());
    std::printf("gap between firings: median %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
                percentile(gaps, 50), percentile(gaps, 99), percentile(gaps, 99.9),
                gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end()));
    const long over16 = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 16.0; });
    std::printf("gaps over 16 ms: %ld (%.3f%%)\n", over16, gaps.empty() ? 0.0 : 100.0 * over16 / gaps.size());
    reclab::ExperimentStore store(db.toStdString());
    for (const qint64 id : ids) {
        const auto rates = store.metrics(id, "samples_per_second");
        std::vector<double> v;
        for (const auto& m : rates)
            v.push_back(m.value);
        std::printf("run %lld: %zu epoch(s), median %.0f samples/s\n", static_cast<long long>(id), v.size(),
                    percentile(v, 50));
    }
    return 0;
}
