// The dataset browser on real MovieLens-100K inside the main window, offscreen: the virtual
// table, sorting and filters run in workers, the statistics panel's charts, a user's history,
// the preparation preview and saving a prepared file that becomes the training data; the Text
// page's vocabulary of the sample's planted title words. A
// 3M-row table checks that the model never copies rows. RECLAB_SCREENSHOT_DIR keeps pictures.
#include "data/DatasetBrowser.h"
#include "data/DatasetStatsPanel.h"
#include "data/DatasetTextPanel.h"
#include "data/WordVectorsBox.h"
#include "text/WordTraining.h"
#include "text/WordVectors.h"
#include "data/SampleGenerator.h"
#include "text/ItemText.h"
#include "data/InteractionTableModel.h"
#include "MainWindow.h"
#include "TestData.h"
#include "training/TrainingPanel.h"

#include <algorithm>
#include <map>

#include <QAbstractSeries>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QXYSeries>
#include <QtTest>

using namespace reclab;

class TestBrowser : public QObject {
    Q_OBJECT
private slots:
    void browsesMovieLens100k();
    void largeTableIsVirtual();
    void showsWhatLooksWrong();
    void textTab();

private:
    static void saveShot(QWidget* w, const char* name)
    {
        const QByteArray dir = qgetenv("RECLAB_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
    }
};

void TestBrowser::browsesMovieLens100k()
{
    RECLAB_REQUIRE_ML100K();
    QTemporaryDir dir;
    MainWindow w({dir.filePath(QStringLiteral("gui.db")), test::ml100kDir()});
    w.resize(1400, 860);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    DatasetBrowser* b = w.browser();
    QCOMPARE(w.centralTabs()->currentWidget(), static_cast<QWidget*>(b));
    QCOMPARE(b->tableModel()->rowCount(), 100000);
    // First row of u.data: 196 242 3 881250949, Kolya (1996).
    const QAbstractItemModel* m = b->tableModel();
    QCOMPARE(m->index(0, InteractionTableModel::UserColumn).data().toString(), QStringLiteral("196"));
    QCOMPARE(m->index(0, InteractionTableModel::TitleColumn).data().toString(), QStringLiteral("Kolya (1996)"));
    QCOMPARE(m->index(0, InteractionTableModel::TimeColumn).data().toString(), QStringLiteral("1997-12-04 15:55"));

    // Statistics: the counts and one chart per figure.
    QTRY_VERIFY_WITH_TIMEOUT(b->statsPanel()->summaryText().contains(QStringLiteral("943 users")), 20000);
    QVERIFY(b->statsPanel()->summaryText().contains(QStringLiteral("1,682 items")));
    QVERIFY(b->statsPanel()->summaryText().contains(QStringLiteral("100,000 interactions")));
    auto* bars = qobject_cast<QBarSeries*>(b->statsPanel()->ratingChart()->series().value(0));
    QVERIFY(bars);
    QCOMPARE(bars->barSets().value(0)->count(), 5);
    QCOMPARE(bars->barSets().value(0)->at(3), 34174.0); // ML-100K has 34,174 ratings of 4
    auto* tail = qobject_cast<QXYSeries*>(b->statsPanel()->popularityChart()->series().value(0));
    QCOMPARE(tail->at(0).y(), 583.0); // Star Wars, the most rated film
    QVERIFY(qobject_cast<QXYSeries*>(b->statsPanel()->timeChart()->series().value(0))->count() == 8); // Sep 1997 - Apr 1998
    b->tabs()->setCurrentIndex(1);
    saveShot(&w, "browser-statistics.png");

    // Filter by title and sort by rating, descending: both in a worker.
    QSignalSpy rows(b, &DatasetBrowser::rowsReady);
    RowFilter f;
    f.title = "star wars";
    b->setRowFilter(f);
    QVERIFY(rows.wait(20000));
    QCOMPARE(rows.takeFirst().at(0).toLongLong(), 583LL);
    b->sortBy(InteractionTableModel::RatingColumn, Qt::DescendingOrder);
    QVERIFY(rows.wait(20000));
    QCOMPARE(m->index(0, InteractionTableModel::RatingColumn).data().toDouble(), 5.0);
    QCOMPARE(m->index(582, InteractionTableModel::RatingColumn).data().toDouble(), 1.0);
    for (int r = 0; r < m->rowCount(); r += 50)
        QVERIFY(m->index(r, InteractionTableModel::TitleColumn).data().toString().contains(QStringLiteral("Star Wars")));
    rows.clear();
    RowFilter range;
    range.user = "1";
    range.minRating = 5;
    b->setRowFilter(range);
    QVERIFY(rows.wait(20000));
    QCOMPARE(rows.takeFirst().at(0).toLongLong(), 81LL); // user 1 gave 81 fives
    b->sortBy(InteractionTableModel::TimeColumn, Qt::AscendingOrder);
    QVERIFY(rows.wait(20000));
    b->tabs()->setCurrentIndex(0);
    saveShot(&w, "browser-table.png");

    // A user's history, in time order, with titles and genres.
    QSignalSpy history(b, &DatasetBrowser::historyReady);
    b->showUser(QStringLiteral("1"));
    QTRY_COMPARE_WITH_TIMEOUT(history.count(), 1, 10000);
    QCOMPARE(history.first().first().toInt(), 272);
    QTableWidget* h = b->historyTable();
    QCOMPARE(h->rowCount(), 272);
    for (int r = 1; r < h->rowCount(); ++r)
        QVERIFY(h->item(r - 1, 0)->text() <= h->item(r, 0)->text());
    QVERIFY(!h->item(0, 3)->text().isEmpty());
    saveShot(&w, "browser-history.png");

    // Preparation: preview before -> after, then save; the prepared file becomes the training data.
    FilterConfig prep;
    prep.ratingThreshold = 4.f;
    prep.userCore = prep.itemCore = 10;
    b->setPreparation(prep, QStringLiteral("loo"));
    b->tabs()->setCurrentIndex(3);
    QSignalSpy preview(b, &DatasetBrowser::previewReady);
    b->previewPreparation();
    QVERIFY(preview.wait(20000));
    const QString text = preview.takeFirst().at(0).toString();
    QVERIFY2(text.contains(QStringLiteral("before: 943 users, 1,682 items, 100,000 interactions")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("k-core reached its fixed point")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("99 fixed negatives")), qPrintable(text));
    saveShot(&w, "browser-prepare.png");
    QSignalSpy loaded(&w, &MainWindow::datasetLoaded);
    const QString file = dir.filePath(QStringLiteral("ml.rlprep"));
    b->savePrepared(file);
    QVERIFY(loaded.wait(30000));
    QVERIFY(QFile::exists(file));
    QTRY_VERIFY_WITH_TIMEOUT(b->tableModel()->rowCount() > 40000 && b->tableModel()->rowCount() < 55375, 10000);
    QVERIFY(b->tableModel()->dataset()->presplit != nullptr);
}

void TestBrowser::largeTableIsVirtual()
{
    auto ds = std::make_shared<Dataset>();
    const size_t n = 3000000;
    ds->interactions.reserve(n);
    for (int u = 0; u < 3000; ++u)
        ds->userIds.push_back("u" + std::to_string(u));
    for (int i = 0; i < 1000; ++i)
        ds->itemIds.push_back("i" + std::to_string(i));
    for (size_t r = 0; r < n; ++r)
        ds->interactions.append(static_cast<int32_t>(r % 3000), static_cast<int32_t>((r * 7) % 1000), 1.f + static_cast<float>(r % 5),
                                static_cast<int64_t>(1000000000 + r));
    DatasetBrowser b;
    b.resize(900, 600);
    b.show();
    b.setDataset(ds);
    QCOMPARE(b.tableModel()->rowCount(), 3000000);
    QElapsedTimer t;
    t.start();
    b.tableView()->scrollToBottom();
    QCoreApplication::processEvents();
    b.tableView()->scrollTo(b.tableModel()->index(1500000, 0));
    QCoreApplication::processEvents();
    QCOMPARE(b.tableModel()->index(2999999, InteractionTableModel::UserColumn).data().toString(), QStringLiteral("u2999"));
    qInfo("scrolling 3M rows took %lld ms", static_cast<long long>(t.elapsed()));
    QSignalSpy rows(&b, &DatasetBrowser::rowsReady);
    b.sortBy(InteractionTableModel::TimeColumn, Qt::DescendingOrder);
    QVERIFY(rows.wait(60000));
    QCOMPARE(b.tableModel()->index(0, InteractionTableModel::UserColumn).data().toString(), QStringLiteral("u2999"));
}

// Rows that repeat a (user, item) pair and a last line cut short are shown with the statistics;
// the run setup says what to do with repeated pairs, and a ranking run carries that choice.
void TestBrowser::showsWhatLooksWrong()
{
    QTemporaryDir dir;
    QFile data(dir.filePath(QStringLiteral("repeats.csv")));
    QVERIFY(data.open(QIODevice::WriteOnly));
    for (int u = 1; u <= 30; ++u)
        for (int i = 1; i <= 8; ++i)
            data.write(QByteArray::number(u) + "," + QByteArray::number(100 + i) + ",4," + QByteArray::number(1600000000 + u * 10 + i) +
                       "\n");
    data.write("1,101,5,1600000100\n2,102,5,1600000200\n3,103,5,16");
    data.close();
    MainWindow w({dir.filePath(QStringLiteral("gui.db")), data.fileName()});
    w.resize(1400, 860);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.isDatasetLoaded(), 30000);
    DatasetBrowser* b = w.browser();
    QTRY_VERIFY_WITH_TIMEOUT(b->statsPanel()->summaryText().contains(QStringLiteral("repeat a (user, item) pair")), 20000);
    QVERIFY(b->statsPanel()->summaryText().contains(QStringLiteral("3 row(s) repeat")));
    QVERIFY(b->statsPanel()->summaryText().contains(QStringLiteral("the file may be truncated")));
    QTRY_VERIFY_WITH_TIMEOUT(b->textPanel()->summaryLabel()->text().contains(QStringLiteral("has no item text")), 20000);
    QVERIFY(b->textPanel()->summaryLabel()->text().contains(QStringLiteral("no titles, genres, tags or reviews")));
    b->tabs()->setCurrentIndex(1);
    saveShot(&w, "browser-warnings.png");

    TrainingPanel* panel = w.panel();
    panel->modelCombo()->setCurrentIndex(panel->modelCombo()->findData(QStringLiteral("itemknn")));
    QVERIFY(panel->duplicatesCombo()->isEnabled());
    QCOMPARE(panel->config().duplicates, std::string()); // refuse until told
    panel->duplicatesCombo()->setCurrentIndex(panel->duplicatesCombo()->findData(QStringLiteral("latest")));
    QCOMPARE(panel->config().duplicates, std::string("latest"));
    saveShot(panel, "run-setup-repeated-pairs.png");
    panel->modelCombo()->setCurrentIndex(panel->modelCombo()->findData(QStringLiteral("mf")));
    QVERIFY(!panel->duplicatesCombo()->isEnabled()); // rating protocols hold out rows, not items
}

void TestBrowser::textTab()
{
    DatasetBrowser b;
    b.resize(1100, 700);
    b.show();
    auto sample = std::make_shared<const Dataset>(generateSampleDataset());
    DatasetTextPanel* t = b.textPanel();
    QSignalSpy ready(t, &DatasetTextPanel::vocabularyReady);
    b.setDataset(sample);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 20000);
    QVERIFY(t->itemText());
    const ItemText& text = *t->itemText();
    QVERIFY2(t->summaryLabel()->text().contains(QString::number(text.vocabulary.size()) + " words"), qPrintable(t->summaryLabel()->text()));
    QVERIFY(t->summaryLabel()->text().contains(QStringLiteral("title, genres")));
    // Every title is "The <adjective> <noun>": "the" is a stop word, and the table lists the
    // words by how often they occur.
    QCOMPARE(t->wordTable()->rowCount(), static_cast<int>(text.vocabulary.size()));
    QCOMPARE(t->wordTable()->item(0, 0)->text(), QString::fromStdString(text.vocabulary.word(0)));
    QCOMPARE(t->wordTable()->item(0, 1)->data(Qt::DisplayRole).toLongLong(), text.vocabulary.count(0));
    QCOMPARE(text.vocabulary.idOf("the"), -1);
    QVERIFY(text.stopWordsDropped >= 400);
    // The first item's words, by field; its title's noun belongs to its genre most of the time.
    QVERIFY(t->itemWordsLabel()->text().contains(QStringLiteral("<i>title:</i>")));
    QVERIFY(t->itemWordsLabel()->text().contains(QStringLiteral("<i>genres:</i>")));
    t->showItem(QStringLiteral("Outlaw"));
    QVERIFY2(t->itemWordsLabel()->text().contains(QStringLiteral("western")), qPrintable(t->itemWordsLabel()->text()));
    b.tabs()->setCurrentWidget(t);

    // Word vectors, trained in a worker: selecting a word lists its nearest words.
    WordVectorsBox* box = t->vectorsBox();
    if (canTrainWordVectors()) {
        QSignalSpy trained(box, &WordVectorsBox::vectorsReady);
        QVERIFY(box->trainButton()->isEnabled());
        box->trainButton()->click();
        QVERIFY(!box->trainButton()->isEnabled());
        QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, 60000);
        QCOMPARE(box->vectors()->size(), text.vocabulary.size());
        QVERIFY(box->statusLabel()->text().contains(QStringLiteral("skip-gram")));
        const int bullet = t->wordTable()->findItems(QStringLiteral("bullet"), Qt::MatchExactly).value(0)->row();
        t->wordTable()->setCurrentCell(bullet, 0);
        QCOMPARE(box->nearestList()->count(), 13); // the heading and 12 words
        QCOMPARE(box->nearestList()->item(1)->text().section(' ', 0, 0),
                 QString::fromStdString(nearestWords(*box->vectors(), "bullet", 1).front().first));
        // Cancel stops a second training; the vectors already there stay.
        box->train();
        box->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!box->isBusy(), 20000);
        QVERIFY(box->statusLabel()->text().contains(QStringLiteral("stopped")) || box->statusLabel()->text().contains(QStringLiteral("skip-gram")));
        QVERIFY(box->vectors());
        t->wordTable()->setCurrentCell(bullet, 0);
        QCOMPARE(box->nearestList()->count(), 13);
    }
    saveShot(&b, "browser-text.png");
    t->showItem(QStringLiteral("no such title"));
    QVERIFY(t->itemWordsLabel()->text().contains(QStringLiteral("No item")));

    // Without the titles the genres and the years seen twice or more are left.
    const size_t all = text.vocabulary.size();
    QCheckBox* titleBox = nullptr;
    for (QCheckBox* box : t->findChildren<QCheckBox*>())
        if (box->text() == QStringLiteral("title"))
            titleBox = box;
    QVERIFY(titleBox && titleBox->isEnabled());
    titleBox->setChecked(false);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, 20000);
    std::map<int, int> years;
    for (const auto y : sample->items.year)
        ++years[int(y)];
    const size_t twice = size_t(std::count_if(years.begin(), years.end(), [](const auto& y) { return y.first > 0 && y.second >= 2; }));
    QCOMPARE(t->itemText()->vocabulary.size(), sample->genreNames.size() + twice);
    QVERIFY(t->itemText()->vocabulary.size() < all);
    t->minCountBox()->setValue(100000);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 3, 20000);
    QCOMPARE(t->wordTable()->rowCount(), 0);
    QVERIFY(!b.isBusy());
}

QTEST_MAIN(TestBrowser)
#include "test_browser.moc"
