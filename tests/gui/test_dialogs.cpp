// The data dialogs as a user drives them, offscreen: the import dialog's live preview and column
// roles on MovieLens-100K rewritten with unfamiliar column names, its verdict on malformed rows,
// the main window's Open file flow through it; the download dialog against a 127.0.0.1 HTTP
// server (download, verify, cancel, errors, close mid-way) and the main window loading what it
// fetched. RECLAB_SCREENSHOT_DIR keeps pictures.
#ifdef RECLAB_HAVE_DOWNLOAD
#include "data/DownloadDialog.h"
#include "DownloadFixtures.h"
#endif
#include "data/DatasetBrowser.h"
#include "data/DatasetStatsPanel.h"
#include "data/ImportDialog.h"
#include "MainWindow.h"
#include "TestData.h"

#include "data/DatasetSource.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "Screenshots.h"

using namespace reclab;
using reclab::test::saveShot;

namespace {

// u.data rewritten with another separator and a header line.
QString writeMl100kAs(const QString& path, const QByteArray& header, char sep)
{
    QFile in(test::ml100kDir() + QStringLiteral("/u.data"));
    if (!in.open(QIODevice::ReadOnly))
        return {};
    QByteArray data = in.readAll();
    data.replace('\t', sep);
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return {};
    out.write(header + "\n" + data);
    return path;
}

void writeText(const QString& path, const QByteArray& text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

} // namespace

class TestDialogs : public QObject {
    Q_OBJECT
private slots:
    void importDialogAssignsRolesWithLivePreview();
    void importDialogReportsMalformedRows();
    void openFileGoesThroughTheImportDialog();
    void downloadDialogDownloadsVerifiesAndCancels();
    void mainWindowLoadsADownload();

private:
    QTemporaryDir dir_;
};

void TestDialogs::importDialogAssignsRolesWithLivePreview()
{
    RECLAB_REQUIRE_ML100K();
    const QString path = writeMl100kAs(dir_.filePath("visits.csv"), "visitor;film;stars;when", ';');
    QVERIFY(!path.isEmpty());
    ImportDialog d(path);
    d.show();
    // Names RecLab does not know: the rows are shown, every role is 'ignore', import is off.
    QTableWidget* t = d.previewTable();
    QCOMPARE(t->columnCount(), 4);
    QCOMPARE(t->rowCount(), 51); // the role row and 50 preview rows
    QCOMPARE(t->horizontalHeaderItem(1)->text(), QStringLiteral("film"));
    QCOMPARE(t->verticalHeaderItem(1)->text(), QStringLiteral("2")); // file line 2: the first data row
    QCOMPARE(t->item(1, 0)->text(), QStringLiteral("196"));
    QCOMPARE(t->item(1, 3)->text(), QStringLiteral("881250949"));
    QVERIFY2(d.statusLabel()->text().contains("no user and item columns"), qPrintable(d.statusLabel()->text()));
    QVERIFY(!d.canImport());
    QCOMPARE(d.roleCombo(0)->currentText(), QStringLiteral("ignore"));

    d.roleCombo(0)->setCurrentIndex(1); // user
    QVERIFY(!d.canImport());
    QVERIFY(d.statusLabel()->text().contains("exactly one user and one item"));
    d.skipBadRowsBox()->setChecked(true); // the verdict is redone, the unusable roles still count
    QVERIFY(!d.canImport());
    QVERIFY(d.statusLabel()->text().contains("exactly one user and one item"));
    d.skipBadRowsBox()->setChecked(false);
    d.roleCombo(1)->setCurrentIndex(2); // item
    QVERIFY2(d.canImport(), qPrintable(d.statusLabel()->text()));
    QVERIFY(d.statusLabel()->text().contains("implicit interaction"));
    d.roleCombo(2)->setCurrentIndex(3); // rating
    d.roleCombo(3)->setCurrentIndex(4); // timestamp
    QVERIFY(d.canImport());
    QVERIFY2(d.statusLabel()->text().contains("rows all parse"), qPrintable(d.statusLabel()->text()));
    QVERIFY(d.statusLabel()->text().contains("user, item, rating, timestamp"));
    saveShot(&d, "import-dialog.png");

    // Another separator re-reads the file at once and forgets the hand-made roles.
    d.separatorCombo()->setCurrentIndex(1); // comma: one column
    QCOMPARE(t->columnCount(), 1);
    QVERIFY(!d.canImport());
    d.separatorCombo()->setCurrentIndex(4); // semicolon
    QCOMPARE(t->columnCount(), 4);
    QCOMPARE(d.roleCombo(0)->currentText(), QStringLiteral("ignore"));
    for (int c = 0; c < 4; ++c)
        d.roleCombo(c)->setCurrentIndex(c + 1);
    QVERIFY(d.canImport());

    const LoadOptions o = d.options();
    QCOMPARE(o.format, DataFormat::Delimited);
    QCOMPARE(o.delimited.separator, std::string(";"));
    QCOMPARE(o.delimited.header, 1);
    QCOMPARE(o.delimited.columns,
             (std::vector<ColumnRole>{ColumnRole::User, ColumnRole::Item, ColumnRole::Rating, ColumnRole::Timestamp}));
    const Dataset imported = loadDataset(path.toStdString(), o);
    QCOMPARE(imported.numUsers(), 943);
    QCOMPARE(imported.numItems(), 1682);
    QCOMPARE(imported.interactions.size(), size_t(100000));
    QCOMPARE(imported.fingerprint(), loadDataset(test::ml100kDir().toStdString()).fingerprint());

    // "No header" makes the first line a data row, which the check then rejects.
    d.headerCombo()->setCurrentIndex(2);
    QCOMPARE(t->verticalHeaderItem(1)->text(), QStringLiteral("1"));
    QCOMPARE(t->item(1, 0)->text(), QStringLiteral("visitor"));
}

void TestDialogs::importDialogReportsMalformedRows()
{
    const QString path = dir_.filePath("messy.csv");
    writeText(path, "userId,movieId,rating\n1,10,4\n2,11,x\n3,12,5\n4,13,NaN\n");
    ImportDialog d(path);
    const QString status = d.statusLabel()->text();
    QVERIFY2(status.contains("2 of the first 4 rows would be rejected"), qPrintable(status));
    QVERIFY2(status.contains("messy.csv:3: field 'rating (column 3 'rating')'") ||
                 status.contains("messy.csv:3: field &#x27;rating"),
             qPrintable(status));
    QVERIFY(!d.canImport());
    d.skipBadRowsBox()->setChecked(true);
    QVERIFY(d.canImport());
    QVERIFY(d.statusLabel()->text().contains("skipped and counted"));
    const Dataset ds = loadDataset(path.toStdString(), d.options());
    QCOMPARE(ds.interactions.size(), size_t(2));
    QCOMPARE(ds.report.skippedRows, size_t(2));

    // A binary file: nothing to preview, a clear reason, no import.
    const QString junk = dir_.filePath("junk.bin");
    writeText(junk, QByteArray("PK\x03\x04\x00\x00junk", 10));
    ImportDialog j(junk);
    QVERIFY(!j.canImport());
    QVERIFY2(j.statusLabel()->text().contains("junk.bin"), qPrintable(j.statusLabel()->text()));
}

void TestDialogs::openFileGoesThroughTheImportDialog()
{
    RECLAB_REQUIRE_ML100K();
    const QString path = writeMl100kAs(dir_.filePath("ratings.csv"), "userId,movieId,rating,timestamp", ',');
    MainWindow w({dir_.filePath("gui.db"), QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    QSignalSpy loaded(&w, &MainWindow::datasetLoaded);

    w.openFile(path);
    QPointer<ImportDialog> d = w.findChild<ImportDialog*>();
    QVERIFY(d);
    QTRY_VERIFY(d->isVisible());
    QVERIFY2(d->canImport(), qPrintable(d->statusLabel()->text()));
    QCOMPARE(d->roleCombo(3)->currentText(), QStringLiteral("timestamp"));
    d->accept();
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() == 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w.browser()->statsPanel()->summaryText().contains(QStringLiteral("943 users")), 20000);
    QTRY_VERIFY(d.isNull()); // closed and deleted

    // A MovieLens folder is recognised and loads without the dialog.
    w.openFile(test::ml100kDir());
    QVERIFY(!w.findChild<ImportDialog*>());
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() == 2, 30000);
}

void TestDialogs::downloadDialogDownloadsVerifiesAndCancels()
{
#ifndef RECLAB_HAVE_DOWNLOAD
    QSKIP("built without the downloader");
#else
    RECLAB_REQUIRE_ML100K();
    test::ServedMl100k served(dir_.filePath("served.zip").toStdString(), test::ml100kDir().toStdString());
    test::LocalHttpServer& server = served.server;
    const QString md5 = QString::fromStdString(served.md5);
    const QString target = dir_.filePath("downloads");

    DownloadDialog d(target);
    d.show();
    QCOMPARE(d.archiveList()->topLevelItemCount(), 6);
    d.selectArchive(QStringLiteral("ml-100k"));
    d.urlEdit()->setText(QString::fromStdString(server.url("/ml-100k.zip")));

    // The catalogue's digest is the real archive's: the one served here is refused.
    d.startDownload();
    QTRY_VERIFY_WITH_TIMEOUT(!d.isRunning(), 30000);
    QVERIFY2(d.statusLabel()->text().contains("checksum mismatch"), qPrintable(d.statusLabel()->text()));
    QVERIFY(d.datasetFolder().isEmpty());

    QSignalSpy done(&d, &DownloadDialog::downloaded);
    d.md5Edit()->setText(md5);
    d.downloadButton()->click();
    QVERIFY(d.isRunning());
    QVERIFY(!d.downloadButton()->isEnabled() && d.cancelButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 30000);
    QCOMPARE(done.first().first().toString(), target + QStringLiteral("/ml-100k"));
    QCOMPARE(d.progressBar()->value(), 1000);
    QVERIFY(d.statusLabel()->text().contains("MD5 verified"));
    QCOMPARE(d.archiveList()->topLevelItem(0)->text(2), QStringLiteral("yes"));
    saveShot(&d, "download-dialog.png");

    // Cancel a slow transfer half-way: the earlier folder stays, nothing else appears.
    d.urlEdit()->setText(QString::fromStdString(server.url("/slow/ml-100k.zip")));
    d.replaceBox()->setChecked(true);
    d.downloadButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(d.progressBar()->value() > 0, 30000);
    QVERIFY(d.progressBar()->text().contains("downloading"));
    d.cancelButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(!d.isRunning(), 10000);
    QVERIFY(d.statusLabel()->text().contains("Cancelled"));
    QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{"ml-100k"});
    QCOMPARE(done.count(), 1);

    // An HTTP error is shown in the dialog.
    d.urlEdit()->setText(QString::fromStdString(server.url("/gone.zip")));
    d.downloadButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(!d.isRunning(), 30000);
    QVERIFY2(d.statusLabel()->text().contains("HTTP 404"), qPrintable(d.statusLabel()->text()));

    // Closing mid-transfer cancels, then closes.
    d.urlEdit()->setText(QString::fromStdString(server.url("/slow/ml-100k.zip")));
    d.downloadButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(d.progressBar()->value() > 0, 30000);
    d.reject();
    QVERIFY(d.isVisible()); // still finishing the cancel
    QTRY_VERIFY_WITH_TIMEOUT(!d.isVisible(), 10000);
    QVERIFY(!d.isRunning());
    QCOMPARE(QDir(target).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{"ml-100k"});
#endif
}

void TestDialogs::mainWindowLoadsADownload()
{
#ifndef RECLAB_HAVE_DOWNLOAD
    QSKIP("built without the downloader");
#else
    RECLAB_REQUIRE_ML100K();
    test::ServedMl100k served(dir_.filePath("served2.zip").toStdString(), test::ml100kDir().toStdString());

    MainWindow w({dir_.filePath("gui2.db"), QStringLiteral("sample")});
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    QVERIFY(w.downloadAction());
    QSignalSpy loaded(&w, &MainWindow::datasetLoaded);
    w.downloadAction()->trigger();
    QPointer<DownloadDialog> d = w.findChild<DownloadDialog*>();
    QVERIFY(d);
    QTRY_VERIFY(d->isVisible());
    d->folderEdit()->setText(dir_.filePath("mw-downloads"));
    d->urlEdit()->setText(QString::fromStdString(served.server.url("/ml-100k.zip")));
    d->md5Edit()->setText(QString::fromStdString(served.md5));
    d->downloadButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() == 1, 60000);
    QTRY_VERIFY(d.isNull());
    QTRY_VERIFY_WITH_TIMEOUT(w.browser()->statsPanel()->summaryText().contains(QStringLiteral("943 users")), 20000);
#endif
}

QTEST_MAIN(TestDialogs)
#include "test_dialogs.moc"
