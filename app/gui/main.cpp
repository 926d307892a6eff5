// reclab: the RecLab workbench.
#include "MainWindow.h"
#include "engine/EngineLoader.h"
#include "util/Runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <QTimer>
#include <QWindow>

#include <cstdio>
#include <functional>

int main(int argc, char** argv)
{
    QElapsedTimer sinceMain;
    sinceMain.start();
    reclab::configureRuntime();
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("reclab"));
    QApplication::setApplicationDisplayName(QStringLiteral("RecLab"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    QFile style(QStringLiteral(":/reclab/style/reclab.qss"));
    if (style.open(QIODevice::ReadOnly))
        app.setStyleSheet(QString::fromUtf8(style.readAll()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("RecLab: build, train and inspect recommender models"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption dataOption(QStringLiteral("data"),
                                  QStringLiteral("Dataset to open: a MovieLens-100K folder or 'sample' (default)."),
                                  QStringLiteral("spec"), QStringLiteral("sample"));
    QCommandLineOption dbOption(QStringLiteral("db"), QStringLiteral("Experiment database file."), QStringLiteral("file"));
    QCommandLineOption settingsOption(QStringLiteral("settings"),
                                      QStringLiteral("Where window layout, run setup and recent files are kept (an INI "
                                                     "file; default: the user's configuration folder)."),
                                      QStringLiteral("file"));
    // For tests/bench/startup_time.py: the time to a usable window (shown, painted once with the
    // dataset loaded), printed as "ready MS" on stdout, then the time LibTorch's engine was
    // loaded ("engine MS", or "engine failed: why"), then the workbench quits.
    QCommandLineOption probeOption(QStringLiteral("startup-probe"),
                                   QStringLiteral("Print the milliseconds to a usable window, then quit."));
    probeOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption trainOption(QStringLiteral("train"),
                                   QStringLiteral("Start a run with the run setup's settings once the dataset has loaded."));
    parser.addOption(dataOption);
    parser.addOption(dbOption);
    parser.addOption(settingsOption);
    parser.addOption(trainOption);
    parser.addOption(probeOption);
    parser.process(app);

    reclab::MainWindowOptions options;
    options.dataSpec = parser.value(dataOption);
    options.databasePath = parser.isSet(dbOption)
                               ? parser.value(dbOption)
                               : QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
                                     .filePath(QStringLiteral("reclab.db"));
    options.settingsPath = parser.isSet(settingsOption)
                               ? parser.value(settingsOption)
                               : QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("RecLab"),
                                           QStringLiteral("reclab"))
                                     .fileName();
    reclab::MainWindow window(options);
    window.show();
    if (parser.isSet(trainOption))
        QObject::connect(&window, &reclab::MainWindow::datasetLoaded, &window, &reclab::MainWindow::startTraining,
                         Qt::SingleShotConnection);
    // LibTorch's engine (training, inspection) loads in a thread of its own once the window has
    // painted with its data: nothing of it is needed before, and the dynamic loader's lock, held
    // while LibTorch loads, would stall the GUI thread's own plugin loading during the first paint.
    const bool probe = parser.isSet(probeOption);
    reclab::EngineLoader& engine = reclab::EngineLoader::instance();
    const auto engineLoaded = [&sinceMain, probe](const QString& problem) {
        if (!probe)
            return;
        if (problem.isEmpty())
            std::printf("engine %.1f\n", static_cast<double>(sinceMain.nsecsElapsed()) / 1e6);
        else
            std::printf("engine failed: %s\n", qPrintable(problem));
        std::fflush(stdout);
        QCoreApplication::quit();
    };
    QObject::connect(&engine, &reclab::EngineLoader::ready, &window, [engineLoaded] { engineLoaded({}); });
    QObject::connect(&engine, &reclab::EngineLoader::failed, &window, engineLoaded);
    // Checked when the dataset arrives (and each millisecond after, should the window not be
    // exposed yet); nothing runs on the GUI thread before that. Lives as long as the loop.
    const auto startEngine = [&engine] {
        engine.startLoading(QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("libreclab_engine.so")));
    };
    std::function<void()> painted;
    painted = [&window, &sinceMain, &painted, startEngine, probe] {
        if (!window.windowHandle() || !window.windowHandle()->isExposed()) {
            QTimer::singleShot(1, &window, painted);
            return;
        }
        window.repaint(); // the first frame with the data, drawn now
        if (probe) {
            std::printf("ready %.1f\n", static_cast<double>(sinceMain.nsecsElapsed()) / 1e6);
            std::fflush(stdout);
        }
        startEngine();
    };
    QObject::connect(&window, &reclab::MainWindow::datasetLoaded, &window, [&painted] { painted(); },
                     Qt::SingleShotConnection);
    // Should the data not load (a bad path), the engine loads all the same.
    QTimer::singleShot(1500, &window, startEngine);
    const int status = app.exec();
    engine.wait(); // not to exit while the library is half loaded
    return status;
}
