// Every supported layout, written from real MovieLens-100K into a temporary folder and read
// back through format detection; the parallel parser against the serial one; and the catalogue
// of malformed inputs with the message each must produce.
#include "TestData.h"

#include "data/DatasetSource.h"
#include "data/DatasetSummary.h"
#include "data/DelimitedLoader.h"
#include "data/MovieLens100kLoader.h"
#include "data/PreparedData.h"
#include "util/Error.h"
#include "util/Words.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdio>
#include <sys/stat.h>
#include <fstream>

using namespace reclab;

namespace {

void writeBytes(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

std::string num(float v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
    return buf;
}

// ML-100K genre names of an item joined by sep.
std::string genreList(const Dataset& ds, int32_t item, const char* sep)
{
    return joinWith(ds.genresOf(item), sep);
}

// Latin-1 bytes of a UTF-8 string that only uses U+0000..U+00FF.
std::string latin1(const std::string& utf8)
{
    std::string out;
    for (size_t k = 0; k < utf8.size(); ++k) {
        const auto c = static_cast<unsigned char>(utf8[k]);
        if ((c & 0xE0) == 0xC0 && k + 1 < utf8.size()) {
            out.push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[k + 1]) & 0x3F)));
            ++k;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::string csvQuoted(const std::string& s)
{
    if (s.find(',') == std::string::npos && s.find('"') == std::string::npos)
        return s;
    std::string out = "\"";
    for (const char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

const Dataset& ml100k()
{
    static const Dataset ds = loadMovieLens100k(test::ml100kDir().toStdString());
    return ds;
}

// Raw (user id, item id, rating, time) of every row, for comparing loads whose indices differ.
std::vector<std::tuple<std::string, std::string, float, int64_t>> rawRows(const Dataset& ds)
{
    std::vector<std::tuple<std::string, std::string, float, int64_t>> rows;
    const auto& t = ds.interactions;
    for (size_t r = 0; r < t.size(); ++r)
        rows.emplace_back(ds.userIds[static_cast<size_t>(t.user[r])], ds.itemIds[static_cast<size_t>(t.item[r])], t.rating[r],
                          t.timestamp[r]);
    return rows;
}

std::string expectError(const std::string& path, const LoadOptions& options = {})
{
    try {
        loadDataset(path, options);
    } catch (const DataError& e) {
        return e.what();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

class TestLoaders : public QObject {
    Q_OBJECT
private slots:
    void init() { QVERIFY(dir_.isValid()); }
    void genericCsvMatchesMovieLens100k();
    void movieLens1mLayout();
    void movieLens10mLayout();
    void movieLensCsvLayout();
    void recBoleAtomicFiles();
    void amazonJsonWithMeta();
    void amazonRatingsCsv();
    void parallelParseMatchesSerial();
    void errorLineInLaterRange();
    void lastRangeOutgrowsItsEstimate();
    void numericIdsMapInOrder();
    void fieldsOfEveryLength();
    void headerNamesAndColumnMapping();
    void implicitFileWithoutRatings();
    void badInputCatalogue_data();
    void badInputCatalogue();
    void wellFormedOddities_data();
    void wellFormedOddities();
    void skipBadRowsReportsCount();
    void idsAndHeadersAreDecidedByContent();
    void truncatedLastLineIsReported();
    void fifosAndFoldersAreRefused();
    void movieLens100kRatingScale();
    void previewShowsFirstRows();

private:
    std::string path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }
    QTemporaryDir dir_;
};

void TestLoaders::genericCsvMatchesMovieLens100k()
{
    RECLAB_REQUIRE_ML100K();
    LoadOptions o;
    o.format = DataFormat::Delimited;
    const Dataset generic = loadDataset((test::ml100kDir() + "/u.data").toStdString(), o);
    QCOMPARE(generic.numUsers(), 943);
    QCOMPARE(generic.numItems(), 1682);
    QCOMPARE(generic.interactions.size(), size_t(100000));
    // Numeric ids in ascending order give the very indices of the MovieLens loader.
    QCOMPARE(generic.fingerprint(), ml100k().fingerprint());
    QCOMPARE(detectDataFormat(test::ml100kDir().toStdString()), DataFormat::MovieLens100k);
}

void TestLoaders::movieLens1mLayout()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& src = ml100k();
    QDir(dir_.path()).mkdir("ml-1m");
    std::string ratings, movies, users;
    for (size_t r = 0; r < src.interactions.size(); ++r)
        ratings += src.userIds[static_cast<size_t>(src.interactions.user[r])] + "::" +
                   src.itemIds[static_cast<size_t>(src.interactions.item[r])] + "::" + num(src.interactions.rating[r]) +
                   "::" + std::to_string(src.interactions.timestamp[r]) + "\n";
    for (int32_t i = 0; i < src.numItems(); ++i)
        movies += src.itemIds[static_cast<size_t>(i)] + "::" + latin1(src.items.title[static_cast<size_t>(i)]) + "::" +
                  genreList(src, i, "|") + "\n";
    movies += "99999::Unrated Movie (2001)::Drama\n"; // movies.dat lists movies nobody rated
    for (int32_t u = 0; u < src.numUsers(); ++u)
        users += src.userIds[static_cast<size_t>(u)] + "::" + src.users.gender[static_cast<size_t>(u)] + "::25::12::55455\n";
    writeBytes(path("ml-1m/ratings.dat"), ratings);
    writeBytes(path("ml-1m/movies.dat"), movies);
    writeBytes(path("ml-1m/users.dat"), users);

    QCOMPARE(detectDataFormat(path("ml-1m")), DataFormat::MovieLensDat);
    const Dataset ds = loadDataset(path("ml-1m"));
    QCOMPARE(ds.report.format, std::string("ml-1m"));
    QCOMPARE(ds.fingerprint(), src.fingerprint());
    QCOMPARE(QString::fromStdString(ds.items.title[542]), QStringLiteral("Mis\u00e9rables, Les (1995)"));
    QCOMPARE(ds.items.year[0], 1995);
    QCOMPARE(ds.genresOf(0), src.genresOf(0));
    QCOMPARE(ds.users.occupation[0], std::string("programmer"));
    QCOMPARE(ds.users.gender, src.users.gender);
}

void TestLoaders::movieLens10mLayout()
{
    RECLAB_REQUIRE_ML100K();
    QDir(dir_.path()).mkdir("ml-10m");
    writeBytes(path("ml-10m/ratings.dat"), "1::122::5::838985046\n1::185::4.5::838983525\n2::122::3::868245777\n");
    writeBytes(path("ml-10m/movies.dat"), "122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action|Crime|Thriller\n");
    writeBytes(path("ml-10m/tags.dat"), "15::185::computers::1138537770\n20::185::hackers::1138537771\n");
    const Dataset ds = loadDataset(path("ml-10m"));
    QCOMPARE(ds.report.format, std::string("ml-10m"));
    QCOMPARE(ds.numUsers(), 2);
    QCOMPARE(ds.numItems(), 2);
    QCOMPARE(ds.interactions.rating[1], 4.5f);
    QCOMPARE(ds.items.title[1], std::string("Net, The (1995)"));
    QCOMPARE(ds.items.tags[1], std::string("computers, hackers"));
    QCOMPARE(ds.genresOf(1), (std::vector<std::string>{"Action", "Crime", "Thriller"}));
    QVERIFY(ds.users.age.empty()); // 10M has no users.dat
}

void TestLoaders::movieLensCsvLayout()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& src = ml100k();
    QDir(dir_.path()).mkdir("ml-latest-small");
    std::string ratings = "userId,movieId,rating,timestamp\n", movies = "movieId,title,genres\n";
    for (size_t r = 0; r < src.interactions.size(); ++r)
        ratings += src.userIds[static_cast<size_t>(src.interactions.user[r])] + "," +
                   src.itemIds[static_cast<size_t>(src.interactions.item[r])] + "," +
                   num(src.interactions.rating[r]) + ".0," + std::to_string(src.interactions.timestamp[r]) + "\n";
    for (int32_t i = 0; i < src.numItems(); ++i)
        movies += src.itemIds[static_cast<size_t>(i)] + "," + csvQuoted(src.items.title[static_cast<size_t>(i)]) + "," +
                  (src.genresOf(i).empty() ? std::string("(no genres listed)") : genreList(src, i, "|")) + "\n";
    writeBytes(path("ml-latest-small/ratings.csv"), ratings);
    writeBytes(path("ml-latest-small/movies.csv"), movies);
    writeBytes(path("ml-latest-small/tags.csv"), "userId,movieId,tag,timestamp\n2,1,\"pixar, animation\",1445714994\n2,1,fun,1445714995\n");

    QCOMPARE(detectDataFormat(path("ml-latest-small")), DataFormat::MovieLensCsv);
    const Dataset ds = loadDataset(path("ml-latest-small"));
    QCOMPARE(ds.report.format, std::string("movielens-csv"));
    QCOMPARE(ds.name, std::string("ml-latest-small"));
    QCOMPARE(ds.fingerprint(), src.fingerprint());
    QCOMPARE(ds.items.title, src.items.title); // quoted titles with commas come back whole
    QCOMPARE(ds.items.tags[0], std::string("pixar, animation, fun"));
    QCOMPARE(ds.genresOf(0), src.genresOf(0));
    // The ratings file alone (no movies.csv beside it) is a generic CSV with a header.
    QCOMPARE(detectDataFormat(path("ml-latest-small/tags.csv")), DataFormat::Delimited);
}

void TestLoaders::recBoleAtomicFiles()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& src = ml100k();
    QDir(dir_.path()).mkdir("rb");
    std::string inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    std::string item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n";
    std::string user = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n";
    for (size_t r = 0; r < src.interactions.size(); ++r)
        inter += src.userIds[static_cast<size_t>(src.interactions.user[r])] + "\t" +
                 src.itemIds[static_cast<size_t>(src.interactions.item[r])] + "\t" + num(src.interactions.rating[r]) + "\t" +
                 std::to_string(src.interactions.timestamp[r]) + "\n";
    for (int32_t i = 0; i < src.numItems(); ++i)
        item += src.itemIds[static_cast<size_t>(i)] + "\tSome Title\t" + std::to_string(src.items.year[static_cast<size_t>(i)]) +
                "\t" + genreList(src, i, " ") + "\n";
    for (int32_t u = 0; u < src.numUsers(); ++u)
        user += src.userIds[static_cast<size_t>(u)] + "\t" + std::to_string(src.users.age[static_cast<size_t>(u)]) + "\t" +
                src.users.gender[static_cast<size_t>(u)] + "\t" + src.users.occupation[static_cast<size_t>(u)] + "\t00000\n";
    writeBytes(path("rb/ml-100k.inter"), inter);
    writeBytes(path("rb/ml-100k.item"), item);
    writeBytes(path("rb/ml-100k.user"), user);

    QCOMPARE(detectDataFormat(path("rb")), DataFormat::RecBole);
    const Dataset ds = loadDataset(path("rb/ml-100k.inter"));
    QCOMPARE(ds.report.format, std::string("recbole"));
    QCOMPARE(ds.fingerprint(), src.fingerprint());
    QCOMPARE(ds.items.year, src.items.year);
    QCOMPARE(ds.genresOf(0), src.genresOf(0));
    QCOMPARE(ds.users.age, src.users.age);
    QCOMPARE(ds.users.occupation, src.users.occupation);
}

void TestLoaders::amazonJsonWithMeta()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset& src = ml100k();
    QDir(dir_.path()).mkdir("amazon");
    std::string reviews, meta;
    for (size_t r = 0; r < src.interactions.size(); ++r) {
        char line[256];
        std::snprintf(line, sizeof line,
                      "{\"reviewerID\": \"A%s\", \"asin\": \"B%07d\", \"reviewerName\": \"x\", \"overall\": %s, "
                      "\"summary\": \"ok\", \"unixReviewTime\": %lld}\n",
                      src.userIds[static_cast<size_t>(src.interactions.user[r])].c_str(),
                      std::stoi(src.itemIds[static_cast<size_t>(src.interactions.item[r])]), num(src.interactions.rating[r]).c_str(),
                      static_cast<long long>(src.interactions.timestamp[r]));
        reviews += line;
    }
    meta += "{\"asin\": \"B0000001\", \"title\": \"Kitchen Scale\", \"category\": [\"Home\", \"Kitchen\"]}\n";
    meta += "{'asin': 'B0000002', 'title': \"Tom's Mug\", 'categories': [['Home', 'Mugs']]}\n"; // 2014 Python literal
    writeBytes(path("amazon/reviews_Test_5.json"), reviews);
    writeBytes(path("amazon/meta_Test.json"), meta);

    QCOMPARE(detectDataFormat(path("amazon")), DataFormat::AmazonJson);
    const Dataset ds = loadDataset(path("amazon"));
    QCOMPARE(ds.report.format, std::string("amazon-json"));
    QCOMPARE(ds.numUsers(), 943);
    QCOMPARE(ds.numItems(), 1682);
    QCOMPARE(ds.interactions.size(), size_t(100000));
    const auto rows = rawRows(ds);
    const auto srcRows = rawRows(src);
    for (size_t r = 0; r < rows.size(); r += 997) {
        QCOMPARE(std::get<0>(rows[r]), "A" + std::get<0>(srcRows[r]));
        QCOMPARE(std::get<2>(rows[r]), std::get<2>(srcRows[r]));
        QCOMPARE(std::get<3>(rows[r]), std::get<3>(srcRows[r]));
    }
    const int32_t scale = static_cast<int32_t>(std::find(ds.itemIds.begin(), ds.itemIds.end(), "B0000001") - ds.itemIds.begin());
    const int32_t mug = static_cast<int32_t>(std::find(ds.itemIds.begin(), ds.itemIds.end(), "B0000002") - ds.itemIds.begin());
    QCOMPARE(ds.items.title[static_cast<size_t>(scale)], std::string("Kitchen Scale"));
    QCOMPARE(ds.genresOf(scale), (std::vector<std::string>{"Home", "Kitchen"}));
    QCOMPARE(ds.items.title[static_cast<size_t>(mug)], std::string("Tom's Mug"));
    QCOMPARE(ds.genresOf(mug), (std::vector<std::string>{"Home", "Mugs"}));
}

void TestLoaders::amazonRatingsCsv()
{
    writeBytes(path("ratings_Books.csv"), "AH2L9G3DQHHAJ,0000000116,4.0,1019865600\nA2IIIDRK3PRRZY,0000000116,1.0,1395619200\n"
                                          "A1TADCM7YWPQ8M,0000000868,4.0,1031702400\n");
    QCOMPARE(detectDataFormat(path("ratings_Books.csv")), DataFormat::AmazonCsv);
    const Dataset ds = loadDataset(path("ratings_Books.csv"));
    QCOMPARE(ds.report.format, std::string("amazon-ratings"));
    QCOMPARE(ds.numUsers(), 3);
    QCOMPARE(ds.numItems(), 2);
    // Leading zeros are part of an ASIN: the ids stay text.
    QCOMPARE(ds.itemIds[0], std::string("0000000116"));
    QCOMPARE(ds.interactions.timestamp[1], int64_t(1395619200));
}

void TestLoaders::parallelParseMatchesSerial()
{
    // > 8 MiB so the parser splits it into ranges; text ids in one column, numbers in the other.
    std::string text;
    text.reserve(12 << 20);
    uint64_t x = 12345;
    for (int r = 0; r < 450000; ++r) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        text += "user" + std::to_string((x >> 33) % 50000) + "," + std::to_string((x >> 20) % 9000) + "," +
                std::to_string(1 + (x >> 40) % 5) + "," + std::to_string(1600000000 + r) + "\n";
    }
    writeBytes(path("big.csv"), text);
    DelimitedFormat one;
    one.threads = 1;
    DelimitedFormat four;
    four.threads = 4;
    const Dataset a = loadDelimited(path("big.csv"), one);
    const Dataset b = loadDelimited(path("big.csv"), four);
    QCOMPARE(a.interactions.size(), size_t(450000));
    QCOMPARE(a.fingerprint(), b.fingerprint());
    QCOMPARE(a.userIds, b.userIds);
    QCOMPARE(a.userIds[static_cast<size_t>(a.interactions.user[0])].rfind("user", 0), size_t(0));
}

// The last range's rows go into room estimated from samples; when the estimate falls short
// (forced here), the load starts over with the range counted and gives the same table, the same
// skipped-row report and the same line numbers.
void TestLoaders::lastRangeOutgrowsItsEstimate()
{
    std::string text;
    for (int r = 0; r < 500000; ++r)
        text += std::to_string(r % 900) + "," + std::to_string(r % 555) + "," + (r == 490000 ? "x" : "4") +
                ",1600000000\n";
    text += "3,12,5,16000"; // a cut last line
    QVERIFY(text.size() > size_t{9} << 20); // two ranges
    writeBytes(path("room.csv"), text);
    DelimitedFormat f;
    f.threads = 2;
    f.skipBadRows = true;
    const Dataset counted = loadDelimited(path("room.csv"), f);
    qputenv("RECLAB_LOAD_ESTIMATE_SCALE", "0.25");
    const Dataset recounted = loadDelimited(path("room.csv"), f);
    qunsetenv("RECLAB_LOAD_ESTIMATE_SCALE");
    QCOMPARE(counted.interactions.size(), size_t(500000));
    QCOMPARE(recounted.fingerprint(), counted.fingerprint());
    for (const Dataset* d : {&counted, &recounted}) {
        QCOMPARE(d->report.skippedRows, size_t(1));
        QCOMPARE(d->report.problems.size(), size_t(1));
        QVERIFY2(d->report.problems[0].find("room.csv:490001: field 'rating") != std::string::npos, d->report.problems[0].c_str());
        QCOMPARE(d->report.warnings.size(), size_t(1));
        QVERIFY2(d->report.warnings[0].find("room.csv:500001: the last line has no line ending") != std::string::npos,
                 d->report.warnings[0].c_str());
    }
}

// Numeric ids become indices in ascending id order whichever path parsed the row (the quoted
// row takes the general parser) and however large the ids (a nine-digit id leaves the marks
// made while parsing for the mapping's own pass).
void TestLoaders::numericIdsMapInOrder()
{
    writeBytes(path("ids.csv"), "5,100,4,1\n123456789,7,3,2\n\"7\",100,5,3\n9,12,2,4\n");
    const Dataset d = loadDelimited(path("ids.csv"), {});
    QCOMPARE(d.userIds, (std::vector<std::string>{"5", "7", "9", "123456789"}));
    QCOMPARE(d.itemIds, (std::vector<std::string>{"7", "12", "100"}));
    QCOMPARE(std::vector<int32_t>(d.interactions.user.begin(), d.interactions.user.end()), (std::vector<int32_t>{0, 3, 1, 2}));
    QCOMPARE(std::vector<int32_t>(d.interactions.item.begin(), d.interactions.item.end()), (std::vector<int32_t>{2, 0, 2, 1}));
    writeBytes(path("small-ids.csv"), "5,100,4,1\n\"7\",7,3,2\n");
    const Dataset e = loadDelimited(path("small-ids.csv"), {});
    QCOMPARE(e.userIds, (std::vector<std::string>{"5", "7"}));
    QCOMPARE(e.itemIds, (std::vector<std::string>{"7", "100"}));
}

// The common-case scanner reads fields of every length it takes (ids of 1..9 digits, seconds of
// 1..18) to the values the general parser gives, in lines that cross its 1 MiB reads, next to
// lines it hands on (CRLF, quoted, padded, an extra column's worth of separators in a field).
void TestLoaders::fieldsOfEveryLength()
{
    struct Row {
        uint64_t user, item, time;
        float rating;
    };
    std::vector<Row> rows;
    std::string text;
    uint64_t x = 99;
    const auto digits = [&](int n, bool leadingZero) {
        std::string d;
        for (int k = 0; k < n; ++k) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            d += static_cast<char>('0' + (x >> 60) % 10);
        }
        if (!leadingZero && d[0] == '0')
            d[0] = '7';
        return d;
    };
    static const char* const kRatings[] = {"4", "3.5", "4.25", "0.5"};
    for (int r = 0; r < 70000; ++r) {
        const std::string u = digits(1 + r % 9, false), i = digits(1 + (r / 9) % 9, false);
        const std::string t = digits(1 + r % 18, r % 5 == 0);
        const char* rating = kRatings[r % 4];
        rows.push_back({std::stoull(u), std::stoull(i), std::stoull(t), std::stof(rating)});
        const std::string item = r % 11 == 3 ? "\"" + i + "\"" : r % 13 == 4 ? " " + i : i;
        text += u + "," + item + "," + rating + "," + t + (r % 7 == 2 ? "\r\n" : "\n");
    }
    QVERIFY(text.size() > (size_t{3} << 20) / 2);
    writeBytes(path("lengths.csv"), text);
    DelimitedFormat f;
    f.threads = 1;
    const Dataset d = loadDelimited(path("lengths.csv"), f);
    QCOMPARE(d.interactions.size(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
        const auto& t = d.interactions;
        if (d.userIds[static_cast<size_t>(t.user[r])] != std::to_string(rows[r].user) ||
            d.itemIds[static_cast<size_t>(t.item[r])] != std::to_string(rows[r].item) ||
            t.rating[r] != rows[r].rating || t.timestamp[r] != static_cast<int64_t>(rows[r].time))
            QFAIL(qPrintable(QString("row %1 read as %2,%3,%4,%5")
                                 .arg(r)
                                 .arg(d.userIds[static_cast<size_t>(t.user[r])].c_str())
                                 .arg(d.itemIds[static_cast<size_t>(t.item[r])].c_str())
                                 .arg(t.rating[r])
                                 .arg(t.timestamp[r])));
    }
    // A byte that is no digit, anywhere in a numeric id, is the general parser's error.
    for (const char* bad : {"1a,5,4,1600000000\n", "12345678/,5,4,1600000000\n", "1,12:45678,4,1600000000\n"}) {
        writeBytes(path("bad-digit.csv"), std::string("1,5,4,1600000000\n2,6,4,1600000000\n") + bad);
        try {
            loadDelimited(path("bad-digit.csv"), f);
            QFAIL(bad);
        } catch (const DataError& e) {
            QVERIFY2(std::string(e.what()).find("bad-digit.csv:3") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("is not a numeric id") != std::string::npos, e.what());
        }
    }
}

void TestLoaders::errorLineInLaterRange()
{
    std::string text;
    for (int r = 0; r < 500000; ++r)
        text += std::to_string(r % 1000) + "," + std::to_string(r % 777) + ",4,1600000000\n";
    text += "17,18,four,1600000000\n";
    writeBytes(path("late.csv"), text);
    DelimitedFormat f;
    f.threads = 3;
    try {
        loadDelimited(path("late.csv"), f);
        QFAIL("a bad rating was accepted");
    } catch (const DataError& e) {
        QCOMPARE(e.line(), 500001L);
        QVERIFY2(std::string(e.what()).find("late.csv:500001: field 'rating (column 3)'") != std::string::npos, e.what());
    }
}

void TestLoaders::headerNamesAndColumnMapping()
{
    writeBytes(path("named.tsv"), "timestamp\tscore\titem_id\tuser_id\n100\t2\tb\ta\n200\t5\tc\ta\n");
    const Dataset named = loadDataset(path("named.tsv"));
    QCOMPARE(named.numUsers(), 1);
    QCOMPARE(named.itemIds, (std::vector<std::string>{"b", "c"}));
    QCOMPARE(named.interactions.rating[1], 5.f);
    QCOMPARE(named.interactions.timestamp[1], int64_t(200));

    writeBytes(path("mapped.txt"), "x;10;20;3.5;2021-05-01 10:00:00\ny;11;20;4;2021-05-02\n");
    LoadOptions o;
    o.delimited.columns = parseColumnRoles("-,item,user,rating,timestamp");
    const Dataset mapped = loadDataset(path("mapped.txt"), o);
    QCOMPARE(mapped.userIds, (std::vector<std::string>{"20"}));
    QCOMPARE(mapped.itemIds, (std::vector<std::string>{"10", "11"}));
    QCOMPARE(mapped.interactions.rating[0], 3.5f);
    QCOMPARE(mapped.interactions.timestamp[0], int64_t(1619863200));
    QCOMPARE(mapped.interactions.timestamp[1], int64_t(1619913600));
    QVERIFY_THROWS_EXCEPTION(ConfigError, parseColumnRoles("user,user,item"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, parseColumnRoles("user,rating"));
}

void TestLoaders::implicitFileWithoutRatings()
{
    writeBytes(path("clicks.csv"), "u1,i1,1600000000\nu1,i2,1600000100\nu2,i1,1600000200\n");
    const Dataset ds = loadDataset(path("clicks.csv"));
    QCOMPARE(ds.interactions.size(), size_t(3));
    QCOMPARE(ds.interactions.rating, (Column<float>{1.f, 1.f, 1.f}));
    QCOMPARE(ds.interactions.timestamp[2], int64_t(1600000200)); // a large third column is a time
    writeBytes(path("pairs.tsv"), "1\t5\n2\t5\n");
    const Dataset pairs = loadDataset(path("pairs.tsv"));
    QCOMPARE(pairs.numUsers(), 2);
    QCOMPARE(pairs.interactions.timestamp[0], int64_t(0));
}

// One malformed input per row: the file's bytes, the format to force ("" detects), and text the
// message must contain besides the file name (line and column where there is one).
void TestLoaders::badInputCatalogue_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* tag, const char* name, const QByteArray& bytes, const char* format, const char* expected) {
        QTest::newRow(tag) << QString(name) << bytes << QString(format) << QString(expected);
    };
    const QByteArray good = "1,10,4,1600000000\n2,11,3.5,1600000001\n";
    row("empty file", "a.csv", "", "", "a.csv: the file is empty");
    row("whitespace only", "a.csv", "  \n\r\n\n", "", "a.csv: the file is empty");
    row("header only", "a.csv", "userId,movieId,rating,timestamp\n", "", "a.csv: the file has a header line but no data rows");
    row("too few fields", "a.csv", good + "3,12,5\n", "", "a.csv:3: expected 4 fields separated by ',' (user, item, rating, timestamp), found 3");
    row("too many fields", "a.csv", good + "3,12,5,1600000002,9\n", "", "a.csv:3: expected 4 fields");
    row("rating not a number", "a.csv", good + "3,12,five,1600000002\n", "",
        "a.csv:3: field 'rating (column 3)': expected a number such as 4 or 3.5, found 'five'");
    row("comma decimal rating", "a.csv", "1;10;4;1600000000\n2;11;3,5;1600000001\n", "",
        "a.csv:2: field 'rating (column 3)': expected a number such as 4 or 3.5, found '3,5'");
    row("negative rating", "a.csv", good + "3,12,-1,1600000002\n", "", "a.csv:3: field 'rating (column 3)': expected a rating of 0 or more, found '-1'");
    row("NaN rating", "a.csv", good + "3,12,NaN,1600000002\n", "", "a.csv:3: field 'rating (column 3)': expected a number such as 4 or 3.5, found 'NaN'");
    row("infinite rating", "a.csv", good + "3,12,inf,1600000002\n", "", "a.csv:3: field 'rating (column 3)': expected a number");
    row("timestamp not a number", "a.csv", good + "3,12,5,yesterday\n", "",
        "a.csv:3: field 'timestamp (column 4)': expected Unix seconds or a date such as 2015-03-01 12:00:00, found 'yesterday'");
    row("timestamp with junk", "a.csv", good + "3,12,5,16000x\n", "", "a.csv:3: field 'timestamp (column 4)': expected Unix seconds");
    row("impossible date", "a.csv", good + "3,12,5,2015-13-45\n", "", "a.csv:3: field 'timestamp (column 4)': expected Unix seconds");
    row("id beyond 64 bits", "a.csv", good + "123456789012345678901234567890,12,5,1600000002\n", "",
        "a.csv:3: field 'user (column 1)': the id '123456789012345678901234567890' does not fit in 64 bits");
    row("empty user id", "a.csv", good + ",12,5,1600000002\n", "", "a.csv:3: field 'user (column 1)': the id is empty");
    row("empty item id", "a.csv", good + "3,,5,1600000002\n", "", "a.csv:3: field 'item (column 2)': the id is empty");
    row("binary junk", "a.csv", QByteArray("1,10,4,1600000000\n\x00\x01\xff\xfe\x00junk", 28), "", "a.csv:2: binary data (a NUL byte)");
    row("gzip file", "a.csv.gz", QByteArray("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8), "", "a.csv.gz:1: the file is gzip-compressed");
    row("zip archive", "a.zip", QByteArray("PK\x03\x04\x14\x00\x00\x00", 8), "", "a.zip:1: the file is a zip archive");
    row("unclosed quote", "a.csv", good + "\"3,12,5,1600000002\n", "", "a.csv:3: a quoted field in column 1 has no closing quote");
    row("text after quote", "a.csv", good + "\"3\"x,12,5,1600000002\n", "", "a.csv:3: text after the closing quote in column 1");
    row("mixed delimiters", "a.csv", good + "3\t12\t5\t1600000002\n", "", "a.csv:3: expected 4 fields separated by ','");
    row("no separator", "a.csv", "12345\n67890\n", "", "a.csv:1: no separator found");
    row("header without ids", "a.csv", "when,what,how\n1,2,3\n", "", "a.csv:1: field 'header': no user and item columns");
    row("json not an object per line", "r.json", "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": 5, \"unixReviewTime\": 1}\n{oops\n",
        "", "r.json:2: expected one JSON object per line");
    row("json missing asin", "r.json", "{\"reviewerID\": \"A1\", \"overall\": 5, \"unixReviewTime\": 1}\n", "",
        "r.json:1: field 'asin': expected a non-empty string");
    row("json rating as text", "r.json", "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": \"5\", \"unixReviewTime\": 1}\n", "",
        "r.json:1: field 'overall': expected a number");
    row("recbole header without types", "x.inter", "user_id\titem_id\n1\t2\n", "", "x.inter:1: field 'header': expected RecBole 'name:type' fields such as user_id:token, found 'user_id'");
    row("prepared file of another kind", "x.rlprep", "not a prepared file at all", "", "x.rlprep: not a RecLab prepared dataset");
    row("forced format mismatch", "a.csv", good, "amazon-json", "a.csv:1: expected one JSON object per line");
    // Found by probing reclab-cli with hostile input (each loaded wrong, or crashed, before).
    row("rating beyond 32 bits", "a.csv", good + "3,12,1e308,1600000002\n", "",
        "a.csv:3: field 'rating (column 3)': the rating '1e308' is too large to be a rating");
    row("text id among numbers", "a.csv", good + "3,12,5,1600000002\n4,seven,5,1600000003\n", "",
        "a.csv:4: field 'item (column 2)': 'seven' is not a numeric id like the ids of the column's first rows");
    row("no such day", "a.csv", good + "3,12,5,2020-02-31\n", "", "a.csv:3: field 'timestamp (column 4)': expected Unix seconds");
    row("cut mid-row", "a.csv", good + "3,12", "", "a.csv:3: expected 4 fields separated by ',' (user, item, rating, timestamp), "
                                                  "found 2; the last line has no line ending: the file may be truncated");
    row("off the MovieLens scale", "ratings.dat", "1::10::4::1\n2::10::100::2\n", "",
        "ratings.dat:2: field 'rating (column 3)': '100' is off the ml-10m rating scale (0.5 to 5 in steps of 0.5)");
    row("json rating beyond 32 bits", "r.json", "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": 1e300, \"unixReviewTime\": 1}\n",
        "", "r.json:1: field 'overall': expected a rating of 0 or more, as a 32-bit number");
    row("character device", "/dev/zero", "", "", "/dev/zero: a character device, not a regular file");
}

void TestLoaders::badInputCatalogue()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, format);
    QFETCH(QString, expected);
    const bool absolute = name.startsWith(QLatin1Char('/')); // a system file, read as it is
    const std::string file = absolute ? name.toStdString() : path(name.toUtf8().constData());
    if (!absolute)
        writeBytes(file, bytes.toStdString());
    LoadOptions o;
    if (!format.isEmpty())
        o.format = parseDataFormat(format.toStdString());
    const QString message = QString::fromStdString(expectError(file, o));
    QVERIFY2(message.contains(expected), qPrintable("got: " + message));
    QVERIFY2(message.startsWith(absolute ? name : dir_.path()), qPrintable("the message must start with the file's path: " + message));
}

// Inputs that look odd but are well-formed: each must load the same two rows.
void TestLoaders::wellFormedOddities_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("UTF-8 BOM") << QByteArray("\xEF\xBB\xBF" "1,10,4,1600000000\n2,11,3.5,1600000001\n");
    QTest::newRow("CRLF line ends") << QByteArray("1,10,4,1600000000\r\n2,11,3.5,1600000001\r\n");
    QTest::newRow("no final newline") << QByteArray("1,10,4,1600000000\n2,11,3.5,1600000001");
    QTest::newRow("blank lines") << QByteArray("\n1,10,4,1600000000\n\n\n2,11,3.5,1600000001\n\n");
    QTest::newRow("spaces around fields") << QByteArray("1, 10, 4 ,1600000000\n2 ,11,3.5, 1600000001\n");
    QTest::newRow("quoted fields") << QByteArray("\"1\",\"10\",4,1600000000\n\"2\",11,\"3.5\",1600000001\n");
    QTest::newRow("double colon") << QByteArray("1::10::4::1600000000\n2::11::3.5::1600000001\n");
    QTest::newRow("semicolons + header") << QByteArray("user;item;rating;time\n1;10;4;1600000000\n2;11;3.5;1600000001\n");
    QTest::newRow("ISO dates") << QByteArray("1,10,4,2020-09-13T12:26:40Z\n2,11,3.5,2020-09-13 12:26:41\n");
    QTest::newRow("decimal seconds") << QByteArray("1\t10\t4\t1600000000.0\n2\t11\t3.5\t1600000001.9\n");
}

void TestLoaders::wellFormedOddities()
{
    QFETCH(QByteArray, bytes);
    writeBytes(path("odd.txt"), bytes.toStdString());
    const Dataset ds = loadDataset(path("odd.txt"));
    QCOMPARE(ds.userIds, (std::vector<std::string>{"1", "2"}));
    QCOMPARE(ds.itemIds, (std::vector<std::string>{"10", "11"}));
    QCOMPARE(ds.interactions.rating, (Column<float>{4.f, 3.5f}));
    QCOMPARE(ds.interactions.timestamp, (Column<int64_t>{1600000000, 1600000001}));
}

void TestLoaders::idsAndHeadersAreDecidedByContent()
{
    // Surrounding spaces are not part of an id: " A " is user A, in text and in numeric columns.
    writeBytes(path("spaces.csv"), "A,10,4,1600000000\nB,11,3.5,1600000001\n A ,12,1,1600000002\n");
    const Dataset text = loadDataset(path("spaces.csv"));
    QCOMPARE(text.numUsers(), 2);
    writeBytes(path("nspaces.csv"), "1,10,4,1600000000\n2,11,3.5,1600000001\n 1 ,12,1,1600000002\n");
    QCOMPARE(loadDataset(path("nspaces.csv")).numUsers(), 2);
    // A stray text id in a numeric column is a bad row, unless the column is read as text ids.
    writeBytes(path("stray.csv"), "1,10,4,1\n2,11,3,2\n3,seven,5,3\n4,12,5,4\n");
    QVERIFY_THROWS_EXCEPTION(DataError, loadDataset(path("stray.csv")));
    LoadOptions asText;
    asText.delimited.ids = IdKinds::Text;
    QCOMPARE(loadDataset(path("stray.csv"), asText).numItems(), 4);
    LoadOptions skipping;
    skipping.delimited.skipBadRows = true;
    const Dataset skipped = loadDataset(path("stray.csv"), skipping);
    QCOMPARE(skipped.report.skippedRows, size_t(1));
    QCOMPARE(skipped.numItems(), 3);
    // A file named like Amazon's headerless ratings_<Category>.csv that has a header is read by its header.
    writeBytes(path("ratings_Books.csv"), "user,item,rating,timestamp\nA1,B1,5.0,1\nA2,B1,4.0,2\n");
    QCOMPARE(detectDataFormat(path("ratings_Books.csv")), DataFormat::Delimited);
    QCOMPARE(loadDataset(path("ratings_Books.csv")).interactions.size(), size_t(2));
    LoadOptions amazon;
    amazon.format = DataFormat::AmazonCsv;
    QCOMPARE(loadDataset(path("ratings_Books.csv"), amazon).interactions.size(), size_t(2));
    writeBytes(path("ratings_Music.csv"), "A1,0001,5.0,1\nA2,B1,4.0,2\n"); // Amazon's own: ASINs are text
    QCOMPARE(detectDataFormat(path("ratings_Music.csv")), DataFormat::AmazonCsv);
    const Dataset music = loadDataset(path("ratings_Music.csv"));
    QCOMPARE(music.itemIds, (std::vector<std::string>{"0001", "B1"}));
}

void TestLoaders::truncatedLastLineIsReported()
{
    // Complete fields but a last line shorter than the others and without a line ending: loaded,
    // with a warning; a last line that is merely unterminated is no warning.
    writeBytes(path("cut.csv"), "1,10,4,1600000000\n2,11,3.5,1600000001\n3,12,5,16000");
    const Dataset cut = loadDataset(path("cut.csv"));
    QCOMPARE(cut.interactions.size(), size_t(3));
    QCOMPARE(cut.report.warnings.size(), size_t(1));
    QVERIFY2(QString::fromStdString(cut.report.warnings[0]).contains("cut.csv:3: the last line has no line ending"),
             cut.report.warnings[0].c_str());
    QVERIFY(summarize(cut).warnings == cut.report.warnings); // what the Data tab shows
    writeBytes(path("whole.csv"), "1,10,4,1600000000\n2,11,3.5,1600000001");
    QVERIFY(loadDataset(path("whole.csv")).report.warnings.empty());
}

void TestLoaders::fifosAndFoldersAreRefused()
{
    // A FIFO would block the loader forever: it is refused naming what it is, at once.
    const std::string fifo = path("pipe.csv");
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    QElapsedTimer clock;
    clock.start();
    QVERIFY2(expectError(fifo).find("a FIFO (named pipe), not a regular file") != std::string::npos, expectError(fifo).c_str());
    QVERIFY(clock.elapsed() < 5000);
    // Side files of a folder format: a FIFO u.item and a folder u.user are named.
    RECLAB_REQUIRE_ML100K();
    QDir(dir_.path()).mkdir("mlfifo");
    for (const char* name : {"u.data", "u.genre", "u.user"})
        QVERIFY(QFile::copy(test::ml100kDir() + "/" + name, dir_.filePath(QString("mlfifo/") + name)));
    QCOMPARE(::mkfifo(path("mlfifo/u.item").c_str(), 0600), 0);
    QVERIFY2(expectError(path("mlfifo")).find("mlfifo/u.item: a FIFO") != std::string::npos, expectError(path("mlfifo")).c_str());
    QFile::remove(dir_.filePath("mlfifo/u.item"));
    QVERIFY(QFile::copy(test::ml100kDir() + "/u.item", dir_.filePath("mlfifo/u.item")));
    QFile::remove(dir_.filePath("mlfifo/u.user"));
    QDir(dir_.path()).mkdir("mlfifo/u.user");
    QVERIFY2(expectError(path("mlfifo")).find("mlfifo/u.user: a folder, not a regular file") != std::string::npos,
             expectError(path("mlfifo")).c_str());
}

void TestLoaders::movieLens100kRatingScale()
{
    RECLAB_REQUIRE_ML100K();
    QDir(dir_.path()).mkdir("ml100");
    for (const char* name : {"u.genre", "u.item", "u.user"})
        QVERIFY(QFile::copy(test::ml100kDir() + "/" + name, dir_.filePath(QString("ml100/") + name)));
    writeBytes(path("ml100/u.data"), "196\t242\t3\t881250949\n186\t302\t100\t891717742\n");
    QCOMPARE(expectError(path("ml100")),
             path("ml100/u.data") + ":2: field 'rating': expected a rating of 1 to 5 whole stars (the ml-100k scale), found '100'");
}

void TestLoaders::skipBadRowsReportsCount()
{
    writeBytes(path("messy.csv"), "1,10,4,1600000000\n2,eleven\n3,12,x,1600000002\n4,13,5,1600000003\n5,,1,1\n");
    QVERIFY_THROWS_EXCEPTION(DataError, loadDataset(path("messy.csv")));
    LoadOptions o;
    o.delimited.skipBadRows = true;
    const Dataset ds = loadDataset(path("messy.csv"), o);
    QCOMPARE(ds.interactions.size(), size_t(2));
    QCOMPARE(ds.report.skippedRows, size_t(3));
    QCOMPARE(ds.report.problems.size(), size_t(3));
    QVERIFY(QString::fromStdString(ds.report.problems[0]).contains("messy.csv:2: expected 4 fields"));
    QVERIFY(QString::fromStdString(ds.report.problems[1]).contains("messy.csv:3: field 'rating (column 3)'"));
    // A file where every row is bad is an error even when skipping.
    writeBytes(path("allbad.csv"), "1,a,x,1\n2,b,y,2\n");
    const std::string message = expectError(path("allbad.csv"), o);
    QVERIFY2(message.find("no valid rows: all 2 were malformed") != std::string::npos, message.c_str());
}

void TestLoaders::previewShowsFirstRows()
{
    writeBytes(path("p.csv"), "userId,movieId,rating\n1,10,4\n2,11,3\n3,12,5\n");
    DelimitedFormat f;
    const DelimitedPreview p = previewDelimited(path("p.csv"), f, 2);
    QVERIFY(p.problem.empty());
    QCOMPARE(p.resolved.format.separator, std::string(","));
    QCOMPARE(p.resolved.format.header, 1);
    QCOMPARE(p.resolved.headerNames, (std::vector<std::string>{"userId", "movieId", "rating"}));
    QCOMPARE(p.rows.size(), size_t(2));
    QCOMPARE(p.rows[1], (std::vector<std::string>{"2", "11", "3"}));
    QCOMPARE(p.resolved.format.columns, (std::vector<ColumnRole>{ColumnRole::User, ColumnRole::Item, ColumnRole::Rating}));
    QCOMPARE(p.checkedRows, size_t(3)); // every row of the small file, not just the two shown
    QCOMPARE(p.badRows, size_t(0));
    const DelimitedPreview bad = previewDelimited(path("missing.csv"), f, 2);
    QVERIFY(QString::fromStdString(bad.problem).contains("no such file"));

    // The preview check reports what the full load would: same line, column and wording.
    writeBytes(path("pbad.csv"), "userId,movieId,rating\n1,10,4\n2,11,x\n3,12,5\n4,13\n");
    const DelimitedPreview pb = previewDelimited(path("pbad.csv"), f, 10);
    QCOMPARE(pb.checkedRows, size_t(4));
    QCOMPARE(pb.badRows, size_t(2));
    QCOMPARE(pb.rowProblems.size(), size_t(2));
    std::string full;
    try {
        loadDelimited(path("pbad.csv"), f);
    } catch (const DataError& e) {
        full = e.what();
    }
    QCOMPARE(pb.rowProblems.front(), full);
    QVERIFY2(full.find("pbad.csv:3: field 'rating (column 3 'rating')'") != std::string::npos, full.c_str());
    QVERIFY(pb.rowProblems.back().find("pbad.csv:5:") != std::string::npos);
    // Roles chosen by hand are checked too: the rating column read as a timestamp.
    DelimitedFormat manual;
    manual.columns = {ColumnRole::User, ColumnRole::Item, ColumnRole::Timestamp};
    const DelimitedPreview pm = previewDelimited(path("p.csv"), manual, 10);
    QCOMPARE(pm.badRows, size_t(0)); // 4, 3, 5 are valid Unix seconds
}

QTEST_GUILESS_MAIN(TestLoaders)
#include "test_loaders.moc"
