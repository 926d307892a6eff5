// reclab: the RecLab workbench.
#include "MainWindow.h"
#include "util/Runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QStandardPaths>

int main(int argc, char** argv)
{
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
    parser.addOption(dataOption);
    parser.addOption(dbOption);
    parser.process(app);

    reclab::MainWindowOptions options;
    options.dataSpec = parser.value(dataOption);
    options.databasePath = parser.isSet(dbOption)
                               ? parser.value(dbOption)
                               : QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
                                     .filePath(QStringLiteral("reclab.db"));
    reclab::MainWindow window(options);
    window.show();
    return app.exec();
}
