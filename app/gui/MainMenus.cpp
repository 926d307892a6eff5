// The window's desktop conventions: the menu bar with standard shortcuts, recent datasets and
// databases, what is kept between sessions (QSettings), opening data dropped on the window, and
// the Help menu's guide, shortcut list and About box.
#include "MainWindow.h"

#include "editor/GraphEditor.h"
#include "experiments/CompareView.h"
#include "experiments/ExperimentsView.h"
#include "experiments/RunsTableModel.h"
#include "store/ExperimentStore.h"
#include "training/TrainingDashboard.h"
#include "training/TrainingPanel.h"
#include "engine/Engine.h"
#include "engine/EngineLoader.h"
#include "util/Versions.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

namespace reclab {

namespace {

constexpr int kRecentCount = 8;
const char* const kRecentData = "recent/datasets";
const char* const kRecentDatabases = "recent/databases";

bool isDatabaseFile(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == QLatin1String("db") || suffix == QLatin1String("sqlite") || suffix == QLatin1String("sqlite3");
}

// A menu entry that shows a shortcut owned by another action (the graph editor's, active while
// the editor has focus) without claiming the keys itself.
QAction* mirrorAction(QMenu* menu, const QString& text, const QKeySequence& keys)
{
    return menu->addAction(keys.isEmpty() ? text : text + QLatin1Char('\t') + keys.toString(QKeySequence::NativeText));
}

} // namespace

void MainWindow::buildMenus()
{
    QMenuBar* bar = menuBar();

    QMenu* file = bar->addMenu(tr("&File"));
    openFileAction_->setShortcut(QKeySequence::Open);
    openAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    file->addAction(openFileAction_);
    file->addAction(openAction_);
    if (downloadAction_)
        file->addAction(downloadAction_);
    file->addAction(sampleAction_);
    recentDataMenu_ = file->addMenu(tr("Recent &datasets"));
    file->addSeparator();
    QAction* openDb = file->addAction(tr("Open experiment &database…"));
    openDb->setToolTip(tr("Switch to another experiment database (a new file starts an empty one)"));
    connect(openDb, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Experiment database"), options_.databasePath,
                                                          tr("Experiment databases (*.db *.sqlite);;All files (*)"),
                                                          nullptr, QFileDialog::DontConfirmOverwrite);
        if (!path.isEmpty())
            openDatabase(path);
    });
    recentDbMenu_ = file->addMenu(tr("Recent data&bases"));
    file->addSeparator();
    const GraphEditor::EditActions& editor = graphEditor_->editActions();
    QAction* openGraph = file->addAction(tr("Open &graph…"));
    connect(openGraph, &QAction::triggered, this, [this, editor] {
        centralTabs_->setCurrentWidget(graphEditor_);
        editor.open->trigger();
    });
    QAction* saveGraph = file->addAction(tr("&Save graph…"));
    saveGraph->setShortcut(QKeySequence::Save);
    connect(saveGraph, &QAction::triggered, editor.save, &QAction::trigger);
    QMenu* exportMenu = file->addMenu(tr("&Export"));
    exportMenu->addAction(tr("Charts as PNG…"), this, [this] { dashboard_->exportAs(QStringLiteral("png")); });
    exportMenu->addAction(tr("Charts as SVG…"), this, [this] { dashboard_->exportAs(QStringLiteral("svg")); });
    exportMenu->addAction(tr("Chart points as CSV…"), this, [this] { dashboard_->exportAs(QStringLiteral("csv")); });
    QAction* exportTable = exportMenu->addAction(tr("Comparison table…"), compare_, &CompareView::askExport);
    connect(exportMenu, &QMenu::aboutToShow, this, [this, exportTable] { exportTable->setEnabled(compare_->comparison()); });
    file->addSeparator();
    quitAction_ = file->addAction(tr("&Quit"), this, &QWidget::close);
    quitAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q)); // QKeySequence::Quit is empty on some desktops
    quitAction_->setMenuRole(QAction::QuitRole);
    connect(recentDataMenu_, &QMenu::aboutToShow, this, [this] { fillRecentMenu(recentDataMenu_, kRecentData); });
    connect(recentDbMenu_, &QMenu::aboutToShow, this, [this] { fillRecentMenu(recentDbMenu_, kRecentDatabases); });

    // Edit: the graph editor's undo stack and clipboard where it applies; Copy also copies the
    // comparison table (as Markdown) in the Compare tab.
    QMenu* edit = bar->addMenu(tr("&Edit"));
    struct Mirrored {
        QAction* entry;
        QAction* source;
    };
    QVector<Mirrored> mirrored;
    for (QAction* source : {editor.undo, editor.redo, editor.cut, editor.copy, editor.paste, editor.remove}) {
        if (source == editor.cut)
            edit->addSeparator();
        QAction* entry = mirrorAction(edit, source == editor.undo   ? tr("&Undo")
                                            : source == editor.redo ? tr("&Redo")
                                            : source == editor.cut  ? tr("Cu&t")
                                            : source == editor.copy ? tr("&Copy")
                                            : source == editor.paste ? tr("&Paste")
                                                                     : tr("&Delete"),
                                      source->shortcut());
        mirrored.append(Mirrored{entry, source});
    }
    for (const Mirrored& m : std::as_const(mirrored))
        connect(m.entry, &QAction::triggered, this, [this, m] {
            if (m.source == graphEditor_->editActions().copy && centralTabs_->currentWidget() == compare_)
                compare_->copyMarkdown();
            else
                m.source->trigger();
        });
    connect(edit, &QMenu::aboutToShow, this, [this, mirrored] {
        const bool inEditor = centralTabs_->currentWidget() == graphEditor_;
        for (const Mirrored& m : mirrored)
            m.entry->setEnabled(inEditor ? m.source->isEnabled()
                                         : m.source == graphEditor_->editActions().copy && compare_->comparison());
    });
    editMenu_ = edit;

    QMenu* view = bar->addMenu(tr("&View"));
    for (int t = 0; t < centralTabs_->count(); ++t) {
        QAction* tab = view->addAction(centralTabs_->tabText(t));
        tab->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + t)));
        connect(tab, &QAction::triggered, this, [this, t] { centralTabs_->setCurrentIndex(t); });
    }
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        view->addAction(dock->toggleViewAction());
    view->addSeparator();
    view->addAction(lessonsAction_);
    QAction* fit = view->addAction(tr("&Fit graph"), this, [this] {
        centralTabs_->setCurrentWidget(graphEditor_);
        graphEditor_->view()->fitAll();
    });
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));

    QMenu* run = bar->addMenu(tr("&Run"));
    pauseAction_->setShortcut(QKeySequence(Qt::Key_F6));
    stepAction_->setShortcut(QKeySequence(Qt::Key_F10));
    resumeAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    for (QAction* a : {startAction_, pauseAction_, stepAction_, stopAction_, resumeAction_})
        run->addAction(a);

    QMenu* help = bar->addMenu(tr("&Help"));
    QAction* guide = help->addAction(tr("RecLab &guide"), this, &MainWindow::showGuide);
    guide->setShortcut(QKeySequence::HelpContents);
    help->addAction(tr("&Keyboard shortcuts"), this, &MainWindow::showShortcuts);
    help->addSeparator();
    QAction* about = help->addAction(tr("&About RecLab"), this, &MainWindow::showAbout);
    about->setMenuRole(QAction::AboutRole);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt)->setMenuRole(QAction::AboutQtRole);
}

QStringList MainWindow::recentList(const char* key) const
{
    return recent_.value(QString::fromLatin1(key));
}

void MainWindow::addRecent(const char* key, const QString& path)
{
    if (path.isEmpty() || path == QLatin1String("sample"))
        return;
    QStringList& list = recent_[QString::fromLatin1(key)];
    const QString absolute = QFileInfo(path).absoluteFilePath();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > kRecentCount)
        list.removeLast();
    if (!options_.settingsPath.isEmpty())
        QSettings(options_.settingsPath, QSettings::IniFormat).setValue(QString::fromLatin1(key), list);
}

void MainWindow::rememberDataset(const QString& spec)
{
    addRecent(kRecentData, spec);
}

void MainWindow::fillRecentMenu(QMenu* menu, const char* key)
{
    menu->clear();
    const bool databases = QLatin1String(key) == QLatin1String(kRecentDatabases);
    const QStringList list = recentList(key);
    for (int k = 0; k < list.size(); ++k) {
        const QString path = list[k];
        QAction* a = menu->addAction(QStringLiteral("&%1 %2").arg(k + 1).arg(QFileInfo(path).fileName()));
        a->setToolTip(path);
        a->setStatusTip(path);
        a->setEnabled(QFileInfo::exists(path));
        connect(a, &QAction::triggered, this, [this, path, databases] {
            if (databases)
                openDatabase(path);
            else
                openPath(path);
        });
    }
    if (list.isEmpty())
        menu->addAction(tr("(none yet)"))->setEnabled(false);
}

void MainWindow::openPath(const QString& path)
{
    const QFileInfo info(path);
    if (info.isDir())
        loadDataset(path);
    else if (isDatabaseFile(path))
        openDatabase(path);
    else
        openFile(path);
}

bool MainWindow::openDatabase(const QString& path)
{
    if (isTraining()) {
        QMessageBox::information(this, tr("Experiment database"),
                                 tr("Runs are training into %1; stop them before switching databases.")
                                     .arg(options_.databasePath));
        return false;
    }
    try {
        ExperimentStore store(path.toStdString()); // creates or checks it: a damaged file is refused here
        store.recoverInterruptedRuns();
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Experiment database"), QString::fromUtf8(e.what()));
        return false;
    }
    options_.databasePath = path;
    runsModel_->setDatabasePath(path);
    for (const qint64 id : dashboard_->runIds())
        dashboard_->removeRun(id);
    refreshRuns();
    addRecent(kRecentDatabases, path);
    setWindowTitle(tr("RecLab — %1").arg(QFileInfo(path).fileName()));
    statusBar()->showMessage(tr("Experiment database %1").arg(path), 8000);
    return true;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.front().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() != 1 || !urls.front().isLocalFile())
        return;
    event->acceptProposedAction();
    openPath(urls.front().toLocalFile());
}

void MainWindow::saveSettings() const
{
    if (options_.settingsPath.isEmpty())
        return;
    QSettings s(options_.settingsPath, QSettings::IniFormat);
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/tab"), centralTabs_->currentIndex());
    try {
        s.setValue(QStringLiteral("run/config"), QString::fromStdString(panel_->config().toJson().dump()));
    } catch (const std::exception&) {
        // A value the panel refuses is not kept; the last good one stays.
    }
    s.setValue(QStringLiteral("charts/smoothing"), dashboard_->smoothingSlider()->value());
    s.setValue(QStringLiteral("charts/xAxis"), dashboard_->xAxisCombo()->currentIndex());
    s.setValue(QStringLiteral("charts/logScale"), dashboard_->logScaleCheck()->isChecked());
}

void MainWindow::restoreSettings()
{
    if (options_.settingsPath.isEmpty())
        return;
    QSettings s(options_.settingsPath, QSettings::IniFormat);
    for (const char* key : {kRecentData, kRecentDatabases})
        recent_[QString::fromLatin1(key)] = s.value(QString::fromLatin1(key)).toStringList();
    if (s.contains(QStringLiteral("window/geometry")))
        restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    if (s.contains(QStringLiteral("window/state")))
        restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    centralTabs_->setCurrentIndex(s.value(QStringLiteral("window/tab"), centralTabs_->currentIndex()).toInt());
    const QString config = s.value(QStringLiteral("run/config")).toString();
    if (!config.isEmpty()) {
        try {
            panel_->setConfig(TrainConfig::fromJson(nlohmann::json::parse(config.toStdString())));
        } catch (const std::exception&) {
            // Written by another version: the defaults stay.
        }
    }
    dashboard_->smoothingSlider()->setValue(s.value(QStringLiteral("charts/smoothing"), dashboard_->smoothingSlider()->value()).toInt());
    dashboard_->xAxisCombo()->setCurrentIndex(s.value(QStringLiteral("charts/xAxis"), dashboard_->xAxisCombo()->currentIndex()).toInt());
    dashboard_->logScaleCheck()->setChecked(s.value(QStringLiteral("charts/logScale"), false).toBool());
}

void MainWindow::showGuide()
{
    QFile readme(QStringLiteral(":/reclab/README.md"));
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("RecLab guide"));
    auto* text = new QTextBrowser;
    text->setOpenExternalLinks(true);
    if (readme.open(QIODevice::ReadOnly))
        text->setMarkdown(QString::fromUtf8(readme.readAll()));
    else
        text->setPlainText(tr("The guide is README.md in RecLab's source folder."));
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(text);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    layout->addWidget(buttons);
    dialog->resize(900, 700);
    dialog->show();
}

QTableWidget* MainWindow::shortcutsTable() const
{
    // Every menu entry with keys: the menus' own, and the editor's shown in the Edit menu.
    auto* table = new QTableWidget;
    table->setColumnCount(3);
    table->setHorizontalHeaderLabels({tr("Menu"), tr("Command"), tr("Keys")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    for (QAction* menuAction : menuBar()->actions()) {
        QMenu* menu = menuAction->menu();
        if (!menu)
            continue;
        for (QAction* a : menu->actions()) {
            const QStringList parts = a->text().split(QLatin1Char('\t'));
            const QString keys = a->shortcut().isEmpty() ? parts.value(1) : a->shortcut().toString(QKeySequence::NativeText);
            if (keys.isEmpty())
                continue;
            const int row = table->rowCount();
            table->insertRow(row);
            table->setItem(row, 0, new QTableWidgetItem(menu->title().remove(QLatin1Char('&'))));
            table->setItem(row, 1, new QTableWidgetItem(QString(parts.front()).remove(QLatin1Char('&'))));
            table->setItem(row, 2, new QTableWidgetItem(keys));
        }
    }
    table->resizeColumnsToContents();
    return table;
}

void MainWindow::showShortcuts()
{
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Keyboard shortcuts"));
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(shortcutsTable());
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    layout->addWidget(buttons);
    dialog->resize(520, 560);
    dialog->show();
}

// LibTorch's version once its engine is loaded, else where loading stands.
QString MainWindow::torchVersion() const
{
    const EngineLoader& loader = EngineLoader::instance();
    if (const Engine* loaded = loader.engineIfReady())
        return QString::fromStdString(loaded->torchVersion());
    return loader.isLoading() ? tr("loading…") : loader.problem().toHtmlEscaped();
}

QString MainWindow::aboutText() const
{
    return tr("<h3>RecLab %1</h3><p>A workbench for building, training and inspecting recommender models.</p>"
              "<table><tr><td>Qt</td><td>%2</td></tr><tr><td>LibTorch</td><td>%3</td></tr>"
              "<tr><td>SQLite</td><td>%4</td></tr></table><p>Experiment database: %5</p>")
        .arg(QApplication::applicationVersion(), QString::fromLatin1(qVersion()),
             torchVersion(), QString::fromStdString(sqliteVersion()),
             options_.databasePath.toHtmlEscaped());
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About RecLab"), aboutText());
}

} // namespace reclab
