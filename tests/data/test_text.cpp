// Item text: the tokenizer's rules, the vocabulary of real MovieLens-100K titles and genres,
// Amazon review text with a broken byte (replaced and counted, not a failure), reviews kept
// through a prepared file, and datasets without text refused with what is missing.
#include "TestData.h"

#include "data/DatasetSource.h"
#include "data/MovieLens100kLoader.h"
#include "data/PreparedData.h"
#include "data/SampleGenerator.h"
#include "runs/Metrics.h"
#include "data/ColdItemSplit.h"
#include "text/ColdScorers.h"
#include "text/ItemText.h"
#include "text/Tokenizer.h"
#include "text/WordTraining.h"
#include "text/WordVectors.h"
#include "util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace reclab;

namespace {

using Words = std::vector<std::string>;

void writeBytes(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

int32_t itemWithTitle(const Dataset& ds, const std::string& title)
{
    const auto it = std::find(ds.items.title.begin(), ds.items.title.end(), title);
    return it == ds.items.title.end() ? -1 : static_cast<int32_t>(it - ds.items.title.begin());
}

} // namespace

class TestText : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }
    void tokenizer_data();
    void tokenizer();
    void stopWords();
    void titlesAndCategories();
    void fieldLists();
    void ml100kVocabulary();
    void amazonReviewsWithBrokenBytes();
    void preparedFileKeepsReviews();
    void datasetWithoutText();
    void vectorFiles();
    void badVectorFiles_data();
    void badVectorFiles();
    void alignedAndNearest();
    void trainedOnTitles();
    void plantedWordsCluster();
    void coldItemSplit();
    void contentRanksColdItems();

private:
    std::string path(const char* name) const { return (dir_.path() + "/" + name).toStdString(); }
    QTemporaryDir dir_;
};

void TestText::tokenizer_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("words");
    QTest::newRow("case and punctuation") << "Star Wars: Episode IV!" << QStringList{"star", "wars", "episode", "iv"};
    QTest::newRow("numbers stay") << "2001: A Space Odyssey" << QStringList{"2001", "a", "space", "odyssey"};
    QTest::newRow("contraction joins") << "Don't Look Now" << QStringList{"dont", "look", "now"};
    QTest::newRow("possessive joins") << "Schindler's List" << QStringList{"schindlers", "list"};
    QTest::newRow("elision splits") << "Le Fabuleux destin d'Amélie" << QStringList{"le", "fabuleux", "destin", "d", "amélie"};
    QTest::newRow("curly apostrophe") << QString::fromUtf8("It\u2019s here") << QStringList{"its", "here"};
    QTest::newRow("latin-1 capitals") << QString::fromUtf8("ÉCOLE Cité") << QStringList{QString::fromUtf8("école"), QString::fromUtf8("cité")};
    QTest::newRow("unicode punctuation") << QString::fromUtf8("war\u2014peace \u201cquoted\u201d") << QStringList{"war", "peace", "quoted"};
    QTest::newRow("replacement char") << QString::fromUtf8("bad\uFFFDbyte") << QStringList{"bad", "byte"};
    QTest::newRow("hyphen and slash") << "Sci-Fi/Fantasy" << QStringList{"sci", "fi", "fantasy"};
    QTest::newRow("empty") << "  ...  " << QStringList{};
}

void TestText::tokenizer()
{
    QFETCH(QString, text);
    QFETCH(QStringList, words);
    QStringList got;
    for (const auto& w : tokenize(text.toStdString()))
        got << QString::fromStdString(w);
    QCOMPARE(got, words);
}

void TestText::stopWords()
{
    QVERIFY(stopWordCount() > 100);
    for (const char* w : {"the", "a", "and", "dont", "its", "yourselves"})
        QVERIFY2(isStopWord(w), w);
    for (const char* w : {"star", "love", "war", "The", ""})
        QVERIFY2(!isStopWord(w), w);
}

void TestText::titlesAndCategories()
{
    QCOMPARE(std::string(titleWithoutYear("Toy Story (1995)")), std::string("Toy Story"));
    QCOMPARE(std::string(titleWithoutYear("Heat (1995) ")), std::string("Heat"));
    QCOMPARE(std::string(titleWithoutYear("Brazil")), std::string("Brazil"));
    QCOMPARE(std::string(titleWithoutYear("Unknown (xyz)")), std::string("Unknown (xyz)"));
    QCOMPARE(categoryToken("Sci-Fi"), std::string("sci-fi"));
    QCOMPARE(categoryToken("Children's"), std::string("childrens"));
    QCOMPARE(categoryToken("Film-Noir"), std::string("film-noir"));
    QCOMPARE(categoryToken("(no genres listed)"), std::string("no-genres-listed"));
}

void TestText::fieldLists()
{
    QCOMPARE(parseTextFields("title,tags"), fieldBit(TextField::Title) | fieldBit(TextField::Tags));
    QCOMPARE(parseTextFields("all"), kAllTextFields);
    QCOMPARE(textFieldList(fieldBit(TextField::Genres) | fieldBit(TextField::Reviews)), std::string("genres, reviews"));
    try {
        parseTextFields("title,plot");
        QFAIL("an unknown field was accepted");
    } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("'plot'") != std::string::npos, e.what());
    }
}

void TestText::ml100kVocabulary()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset ds = loadMovieLens100k(reclab::test::ml100kDir().toStdString());
    QCOMPARE(availableTextFields(ds), fieldBit(TextField::Title) | fieldBit(TextField::Genres) | fieldBit(TextField::Year));

    TextOptions all;
    all.minCount = 1;
    const ItemText every = buildItemText(ds, all);
    const int32_t toy = itemWithTitle(ds, "Toy Story (1995)");
    QVERIFY(toy >= 0);
    QCOMPARE(every.wordsOf(toy), (Words{"toy", "story", "1995", "animation", "childrens", "comedy"}));
    QCOMPARE(every.itemsWithText, ds.numItems());
    QCOMPARE(every.rareDropped, size_t(0));
    QVERIFY(every.stopWordsDropped > 300); // "The", "of", "a" ... in 1,682 titles
    QCOMPARE(every.vocabulary.idOf("the"), -1);

    const ItemText text = buildItemText(ds); // minimum count 2
    QVERIFY(text.rareDropped > 0);
    QVERIFY2(text.vocabulary.size() > 300 && text.vocabulary.size() < every.vocabulary.size(),
             std::to_string(text.vocabulary.size()).c_str());
    // Genres are the commonest words: every drama contributes one.
    QCOMPARE(text.vocabulary.word(0), std::string("drama"));
    int64_t sum = 0;
    for (int32_t w = 0; w < static_cast<int32_t>(text.vocabulary.size()); ++w) {
        QVERIFY(text.vocabulary.count(w) >= 2);
        QVERIFY(w == 0 || text.vocabulary.count(w) <= text.vocabulary.count(w - 1));
        sum += text.vocabulary.count(w);
    }
    QCOMPARE(static_cast<size_t>(sum), text.token.size());
    QCOMPARE(text.wordsSeen, text.token.size() + text.stopWordsDropped + text.rareDropped);
    const int32_t star = text.vocabulary.idOf("star");
    QVERIFY(star >= 0);
    QVERIFY(text.itemsWithWord[static_cast<size_t>(star)] >= 5); // Star Wars, Star Trek ...
    QVERIFY(text.itemsWithWord[static_cast<size_t>(star)] <= text.vocabulary.count(star));

    TextOptions titles;
    titles.fields = fieldBit(TextField::Title) | fieldBit(TextField::Tags); // ml-100k has no tags
    const ItemText titleOnly = buildItemText(ds, titles);
    QCOMPARE(titleOnly.fields, fieldBit(TextField::Title));
    QCOMPARE(titleOnly.vocabulary.idOf("drama"), -1);
    for (const TextField f : titleOnly.field)
        QVERIFY(f == TextField::Title);
}

void TestText::amazonReviewsWithBrokenBytes()
{
    QDir(dir_.path()).mkdir("amazon");
    std::string reviews;
    for (int u = 0; u < 6; ++u)
        for (int i = 0; i < 3; ++i) {
            const std::string text = i == 0 ? "A sharp knife, cuts cleanly" : i == 1 ? "The mug keeps coffee hot" : "Bright lamp light";
            reviews += "{\"reviewerID\": \"U" + std::to_string(u) + "\", \"asin\": \"I" + std::to_string(i) +
                       "\", \"overall\": 4.0, \"summary\": \"Great " + std::to_string(u) + "\", \"reviewText\": \"" + text +
                       "\", \"unixReviewTime\": " + std::to_string(1000 + u * 10 + i) + "}\n";
        }
    // Line 19: a Latin-1 byte and a cut-off UTF-8 sequence inside the review text.
    reviews += "{\"reviewerID\": \"U9\", \"asin\": \"I0\", \"overall\": 5.0, \"reviewText\": \"caf\xe9 knife \xe2\x82 steel\", "
               "\"unixReviewTime\": 2000}\n";
    writeBytes(path("amazon/reviews_Test_5.json"), reviews);
    const Dataset ds = loadDataset(path("amazon/reviews_Test_5.json"));
    QCOMPARE(ds.interactions.size(), size_t(19));
    QCOMPARE(ds.reviews.size(), size_t(19));
    QCOMPARE(ds.report.warnings.size(), size_t(1));
    const std::string& warning = ds.report.warnings[0];
    QVERIFY2(warning.find("reviews_Test_5.json:19:") != std::string::npos && warning.find("3 bytes") != std::string::npos &&
                 warning.find("1 line") != std::string::npos,
             warning.c_str());
    QCOMPARE(ds.reviews.text.back(), std::string("caf\xEF\xBF\xBD knife \xEF\xBF\xBD steel")); // the cut-off character is one
    QCOMPARE(ds.reviews.text.front(), std::string("Great 0\nA sharp knife, cuts cleanly"));

    TextOptions o;
    o.fields = fieldBit(TextField::Reviews);
    const ItemText text = buildItemText(ds, o);
    QCOMPARE(text.reviewsUsed, size_t(19));
    const auto knifeItem = static_cast<int32_t>(std::find(ds.itemIds.begin(), ds.itemIds.end(), "I0") - ds.itemIds.begin());
    const Words words = text.wordsOf(knifeItem);
    QCOMPARE(std::count(words.begin(), words.end(), "knife"), 7L);
    QVERIFY(std::count(words.begin(), words.end(), "steel") == 0); // once only: below the minimum count
    QVERIFY(text.vocabulary.idOf("great") >= 0);

    // Reviews outside the allowed pairs (a test part, say) stay out of the item's words.
    o.reviewAllowed = [&](int32_t user, int32_t) { return ds.userIds[static_cast<size_t>(user)] != "U0"; };
    const ItemText trained = buildItemText(ds, o);
    QCOMPARE(trained.reviewsUsed, size_t(16));
    const Words fewer = trained.wordsOf(knifeItem);
    QCOMPARE(std::count(fewer.begin(), fewer.end(), "knife"), 6L);
}

void TestText::preparedFileKeepsReviews()
{
    Dataset ds;
    ds.name = "reviews";
    for (int u = 0; u < 4; ++u) {
        ds.userIds.push_back("u" + std::to_string(u));
        for (int i = 0; i < 3; ++i) {
            if (u == 0)
                ds.itemIds.push_back("i" + std::to_string(i));
            ds.interactions.append(u, i, 4.f, 100 + u * 3 + i);
            if (u != 3)
                ds.reviews.append(u, i, "review of i" + std::to_string(i) + " by u" + std::to_string(u));
        }
    }
    FilterConfig f;
    f.userCore = 1;
    SplitConfig split = parseSplitSpec("loo");
    split.negatives = 0; // every user has every item
    PreparedData p = prepareDataset(ds, "memory", f, split);
    writePreparedData(p, path("reviews.rlprep"));
    const PreparedData back = readPreparedData(path("reviews.rlprep"));
    QCOMPARE(back.dataset.reviews.size(), size_t(9));
    QCOMPARE(back.dataset.reviews.text, p.dataset.reviews.text);
    QCOMPARE(back.dataset.reviews.user, p.dataset.reviews.user);
    QCOMPARE(back.dataset.reviews.item, p.dataset.reviews.item);
}

void TestText::datasetWithoutText()
{
    writeBytes(path("plain.csv"), "user,item,rating,timestamp\n1,10,4,100\n2,10,3,200\n2,11,5,300\n");
    const Dataset ds = loadDataset(path("plain.csv"));
    QCOMPARE(availableTextFields(ds), 0u);
    try {
        buildItemText(ds);
        QFAIL("a dataset without text gave a vocabulary");
    } catch (const ConfigError& e) {
        const std::string m = e.what();
        QVERIFY2(m.find("no item text") != std::string::npos && m.find("no titles, genres, tags or reviews") != std::string::npos,
                 m.c_str());
    }
}

namespace {

std::string binaryVectors(const std::vector<std::pair<std::string, std::vector<float>>>& rows)
{
    std::string out = std::to_string(rows.size()) + " " + std::to_string(rows.front().second.size()) + "\n";
    for (const auto& [w, v] : rows) {
        out += w + " ";
        out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
        out += "\n";
    }
    return out;
}


} // namespace

void TestText::vectorFiles()
{
    writeBytes(path("glove.txt"), "the 0.1 0.2 0.3\nstar -1 0.5 2e-1\nwars 1.5 -0.25 0\n");
    VectorsFormat format{};
    const WordVectors glove = readWordVectors(path("glove.txt"), nullptr, &format);
    QCOMPARE(format, VectorsFormat::GloVe);
    QCOMPARE(glove.dim, 3);
    QCOMPARE(glove.size(), size_t(3));
    QCOMPARE(glove.find("star")[2], 0.2f);
    QVERIFY(glove.find("trek") == nullptr);

    writeBytes(path("w2v.vec"), "2 3\nstar -1 0.5 0.2\r\nwars 1.5 -0.25 0\r\n");
    const WordVectors vec = readWordVectors(path("w2v.vec"), nullptr, &format);
    QCOMPARE(format, VectorsFormat::Word2VecText);
    QCOMPARE(vec.size(), size_t(2));
    QCOMPARE(vec.find("wars")[1], -0.25f);

    writeBytes(path("w2v.bin"), binaryVectors({{"star", {-1.f, 0.5f, 0.2f}}, {"wars", {1.5f, -0.25f, 0.f}}, {"trek", {3.f, 2.f, 1.f}}}));
    const std::unordered_set<std::string> wanted{"star", "trek", "missing"};
    const WordVectors bin = readWordVectors(path("w2v.bin"), &wanted, &format);
    QCOMPARE(format, VectorsFormat::Word2VecBinary);
    QCOMPARE(bin.size(), size_t(2));
    QCOMPARE(bin.skippedWords, size_t(1));
    QCOMPARE(bin.find("trek")[0], 3.f);

    // Rows longer than a quick look at the file's start: still text, not binary.
    WordVectors wide;
    wide.dim = 300;
    const std::vector<float> row(300, -0.123456f);
    wide.add("wide", row.data());
    writeWordVectors(wide, path("wide.vec"));
    QCOMPARE(readWordVectors(path("wide.vec"), nullptr, &format).values, wide.values);
    QCOMPARE(format, VectorsFormat::Word2VecText);

    writeWordVectors(bin, path("round.vec"));
    const WordVectors back = readWordVectors(path("round.vec"));
    QCOMPARE(back.words, bin.words);
    QCOMPARE(back.values, bin.values);
}

void TestText::badVectorFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    QTest::newRow("dimension changes") << QByteArray("a 1 2 3\nb 4 5 6\nc 7 8\n") << "bad.vec:3: field 'vector': expected 3 numbers as on the first row, found 2";
    QTest::newRow("header then short row") << QByteArray("2 3\na 1 2 3\nb 4 5 6 7\n") << "bad.vec:3: field 'vector': expected 3 numbers as on the first row, found 4";
    QTest::newRow("not a number") << QByteArray("a 1 2 3\nb 4 x5 6\n") << "bad.vec:2: field 'vector': 'x5' is not a number";
    QTest::newRow("a csv file") << QByteArray("user,item,rating\n1,2,3\n") << "bad.vec:1: not a word vectors file (line 1 holds no numbers)";
    QTest::newRow("words only") << QByteArray("hello world\n") << "bad.vec:1: not a word vectors file (line 1 has 'world' where a number belongs)";
    QTest::newRow("empty") << QByteArray("") << "bad.vec:1: not a word vectors file (the file is empty)";
    QTest::newRow("truncated") << QByteArray("3 2\na 1 2\nb 3 4\n") << "the file ends after 2 of the 3 words its header promised";
    QTest::newRow("truncated binary") << QByteArray("2 3\nstar \x01\x02") << "bad.vec: field 'word 1': the file ends inside the vectors";
}

void TestText::badVectorFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    writeBytes(path("bad.vec"), bytes.toStdString());
    try {
        readWordVectors(path("bad.vec"));
        QFAIL("a bad vectors file was read");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(message), e.what());
    }
}

void TestText::alignedAndNearest()
{
    WordVectors v;
    v.dim = 2;
    const float rows[][2] = {{1, 0}, {0.9f, 0.1f}, {0, 1}, {-1, 0}};
    const char* words[] = {"king", "queen", "apple", "pauper"};
    for (int k = 0; k < 4; ++k)
        v.add(words[k], rows[k]);
    const auto near = nearestWords(v, "king", 2);
    QCOMPARE(near.size(), size_t(2));
    QCOMPARE(near[0].first, std::string("queen"));
    QCOMPARE(near[1].first, std::string("apple"));
    QVERIFY(nearestWords(v, "nobody", 3).empty());

    Vocabulary vocab;
    vocab.build({{"queen", 5}, {"jester", 3}, {"pauper", 2}});
    const VocabularyVectors a = alignVectors(v, vocab, 7);
    QCOMPARE(a.unknown, size_t(1));
    QCOMPARE(a.known, (std::vector<char>{1, 0, 1}));
    QCOMPARE(a.rows[0], 0.9f);
    QCOMPARE(a.rows[4], -1.f);
    QVERIFY(a.rows[2] != 0.f || a.rows[3] != 0.f); // the unknown word's random row
    QCOMPARE(alignVectors(v, vocab, 7).rows, a.rows);
}

void TestText::trainedOnTitles()
{
    RECLAB_REQUIRE_ML100K();
    if (!canTrainWordVectors())
        QSKIP("built without fastText");
    const Dataset ds = loadMovieLens100k(reclab::test::ml100kDir().toStdString());
    const ItemText text = buildItemText(ds);
    WordTraining o;
    o.dim = 24; // epochs: as many as the text's size needs
    double last = -1;
    const WordVectors v = trainWordVectors(text, o, [&](double done, double) {
        last = done;
        return true;
    });
    QCOMPARE(v.size(), text.vocabulary.size());
    QCOMPARE(v.dim, 24);
    QVERIFY(last > 0.5);
    WordTraining quick = o;
    quick.epochs = 5;
    QCOMPARE(trainWordVectors(text, quick).values, trainWordVectors(text, quick).values); // one thread: same seed, same vectors

    // Title words of horror films share the context "horror": the genre word's nearest words
    // are mostly words of horror titles (5.5% of the items are horror films).
    int horrorWords = 0;
    const auto near = nearestWords(v, "horror", 10);
    QCOMPARE(near.size(), size_t(10));
    for (const auto& [word, cosine] : near) {
        int in = 0, horror = 0;
        for (int32_t i = 0; i < text.numItems(); ++i) {
            const auto words = text.wordsOf(i);
            if (std::find(words.begin(), words.end(), word) == words.end())
                continue;
            ++in;
            const auto genres = ds.genresOf(i);
            horror += std::find(genres.begin(), genres.end(), "Horror") != genres.end();
        }
        horrorWords += in > 0 && 2 * horror >= in;
    }
    QVERIFY2(horrorWords >= 3, std::to_string(horrorWords).c_str());

    QVERIFY_THROWS_EXCEPTION(CancelledError, trainWordVectors(text, o, [](double, double) { return false; }));
}

void TestText::plantedWordsCluster()
{
    if (!canTrainWordVectors())
        QSKIP("built without fastText");
    // The sample plants eight title nouns per genre (datasets/sample.md). Skip-gram puts words
    // with the same contexts together: a genre's nouns share its genre word, so a noun's nearest
    // words are mostly nouns of the same genre.
    const Dataset ds = generateSampleDataset();
    const ItemText text = buildItemText(ds);
    WordTraining o;
    o.dim = 16;
    const WordVectors v = trainWordVectors(text, o);
    // The three most frequent nouns of the three biggest genres (in the order of sampleGenreNames).
    const std::vector<std::vector<std::string>> genre = {
        {"widow", "promise", "verdict", "inheritance", "silence", "farewell", "confession", "homecoming"},
        {"wedding", "prank", "roommates", "pickle", "blunder", "picnic", "vacation", "mixup"},
        {"bullet", "chase", "heist", "mercenary", "showdown", "rampage", "convoy", "commando"}};
    double hits = 0, asked = 0;
    for (const auto& words : genre) {
        std::vector<std::pair<int64_t, std::string>> byCount;
        for (const auto& w : words)
            if (const int32_t id = text.vocabulary.idOf(w); id >= 0)
                byCount.emplace_back(text.vocabulary.count(id), w);
        std::sort(byCount.rbegin(), byCount.rend());
        QVERIFY(byCount.size() >= 3);
        for (size_t k = 0; k < 3; ++k)
            for (const auto& [word, cosine] : nearestWords(v, byCount[k].second, 5)) {
                hits += std::count(words.begin(), words.end(), word) > 0;
                ++asked;
            }
    }
    // Chance: 7 of the other 124 words, 6%.
    QVERIFY2(hits / asked >= 0.3, std::to_string(hits / asked).c_str());
}

void TestText::coldItemSplit()
{
    const Dataset ds = generateSampleDataset();
    const ColdItemSplit s = makeColdItemSplit(ds, 0.3, 7);
    QCOMPARE(s.coldItems.size(), size_t(120));
    QCOMPARE(makeColdItemSplit(ds, 0.3, 7).coldItems, s.coldItems);
    QVERIFY(makeColdItemSplit(ds, 0.3, 8).coldItems != s.coldItems);
    QCOMPARE(s.train.size() + s.coldRows.size(), ds.interactions.size());
    for (size_t r = 0; r < s.train.size(); ++r)
        QVERIFY(!s.isCold(s.train.item[r]));
    for (size_t r = 0; r < s.coldRows.size(); ++r)
        QVERIFY(s.isCold(s.coldRows.item[r]));
    QVERIFY(s.testUser.size() > 500);
    for (size_t k = 0; k < s.testUser.size(); ++k) {
        const int32_t u = s.testUser[k];
        QVERIFY(s.isCold(s.testItem[k]));
        int64_t latest = -1, targetTime = -1;
        for (size_t r = 0; r < s.coldRows.size(); ++r)
            if (s.coldRows.user[r] == u) {
                latest = std::max(latest, s.coldRows.timestamp[r]);
                if (s.coldRows.item[r] == s.testItem[k])
                    targetTime = s.coldRows.timestamp[r];
            }
        QCOMPARE(targetTime, latest);
        const auto& neg = s.negatives[k];
        QCOMPARE(neg.size(), size_t(100));
        QVERIFY(std::is_sorted(neg.begin(), neg.end()) && std::adjacent_find(neg.begin(), neg.end()) == neg.end());
        for (const int32_t i : neg) {
            QVERIFY(s.isCold(i));
            for (size_t r = 0; r < s.coldRows.size(); ++r)
                QVERIFY(s.coldRows.user[r] != u || s.coldRows.item[r] != i);
        }
    }
    // Ties count against the target: a constant score ranks it below every candidate.
    const ColdRanks flat = rankColdTargets(s, [](int32_t, const std::vector<int32_t>&, std::vector<float>& out) {
        std::fill(out.begin(), out.end(), 1.f);
    });
    QCOMPARE(flat.sampled.front(), int64_t(100));
    QCOMPARE(hitRateAtK(flat.full, 10), 0.0);
    const ColdRanks oracle = rankColdTargets(s, [&](int32_t u, const std::vector<int32_t>& items, std::vector<float>& out) {
        for (size_t k = 0; k < items.size(); ++k)
            out[k] = items[k] == s.testItem[static_cast<size_t>(std::find(s.testUser.begin(), s.testUser.end(), u) - s.testUser.begin())];
    });
    QCOMPARE(hitRateAtK(oracle.full, 1), 1.0);
    QCOMPARE(ndcgAtK(oracle.sampled, 10), 1.0);
    QVERIFY_THROWS_EXCEPTION(ConfigError, makeColdItemSplit(ds, 0.95));
    QVERIFY_THROWS_EXCEPTION(DataError, makeColdItemSplit(ds, 0.1)); // 40 cold items: too few for 100 negatives
}

void TestText::contentRanksColdItems()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset ds = loadMovieLens100k(reclab::test::ml100kDir().toStdString());
    const ItemText text = buildItemText(ds);
    double contentFull = 0, randomFull = 0, popularFull = 0;
    for (const uint64_t seed : {1, 2, 3}) {
        const ColdItemSplit s = makeColdItemSplit(ds, 0.1, seed);
        auto scorer = [&](ColdScorer kind) { return makeColdScorer(kind, ds, s, &text, nullptr, 4.f, seed); };
        const ColdRanks content = rankColdTargets(s, scorer(ColdScorer::Content));
        const ColdRanks random = rankColdTargets(s, scorer(ColdScorer::Random));
        const ColdRanks popular = rankColdTargets(s, scorer(ColdScorer::Popularity));
        contentFull += hitRateAtK(content.full, 10) / 3;
        randomFull += hitRateAtK(random.full, 10) / 3;
        popularFull += hitRateAtK(popular.full, 10) / 3;
        qInfo("seed %d: %zu test users; HR@10 full/sampled: content %.4f/%.4f, popularity %.4f/%.4f, random %.4f/%.4f",
              static_cast<int>(seed), s.testUser.size(), hitRateAtK(content.full, 10), hitRateAtK(content.sampled, 10),
              hitRateAtK(popular.full, 10), hitRateAtK(popular.sampled, 10), hitRateAtK(random.full, 10), hitRateAtK(random.sampled, 10));
    }
    // Measured: content 0.103, random 0.059, popularity 0.319 (the mean of the three seeds). Titles
    // and genres alone say little about which new film a user picks; popularity, which a cold
    // item does not have yet, says more.
    QVERIFY2(contentFull > 1.5 * randomFull, (std::to_string(contentFull) + " vs random " + std::to_string(randomFull)).c_str());
    QVERIFY(popularFull > contentFull);
}

QTEST_GUILESS_MAIN(TestText)
#include "test_text.moc"
