// The MovieLens downloader against a real HTTP server on 127.0.0.1 serving archives built from
// ../shared/datasets/ml-100k: verified download and extraction, the catalogue's known digest,
// the published-digest path, HTTP errors, cancel, and archives that try to escape the folder.
#include "DownloadFixtures.h"
#include "TestData.h"

#include "data/DatasetSource.h"
#include "data/Downloader.h"
#include "util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace reclab;
using reclab::test::LocalHttpServer;
namespace fs = std::filesystem;

namespace {

// Names in a folder, hidden ones included: what a failed download must not leave behind.
std::set<std::string> entriesOf(const fs::path& dir)
{
    std::set<std::string> names;
    if (fs::exists(dir))
        for (const auto& e : fs::directory_iterator(dir))
            names.insert(e.path().filename().string());
    return names;
}

DownloadRequest req(std::string name, fs::path dir, std::string url = {}, std::string md5 = {}, bool force = false)
{
    DownloadRequest r;
    r.name = std::move(name);
    r.targetDir = std::move(dir);
    r.url = std::move(url);
    r.md5 = std::move(md5);
    r.force = force;
    return r;
}

template <typename E, typename F>
std::string expectThrow(F&& f)
{
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no error>";
}

} // namespace

class TestDownload : public QObject {
    Q_OBJECT

private:
    QTemporaryDir work_;
    std::unique_ptr<LocalHttpServer> server_;
    std::string zip_;   // the ml-100k archive as served
    std::string md5_;   // its digest

    fs::path fresh(const char* name)
    {
        fs::path dir = fs::path(work_.path().toStdString()) / name;
        fs::remove_all(dir);
        fs::create_directories(dir);
        return dir;
    }

private slots:
    void initTestCase()
    {
        RECLAB_REQUIRE_ML100K();
        QVERIFY(work_.isValid());
        fs::path zipPath = fs::path(work_.path().toStdString()) / "ml-100k.zip";
        zip_ = reclab::test::makeMl100kZip(zipPath, reclab::test::ml100kDir().toStdString());
        md5_ = digestFile(zipPath).md5;
        server_ = std::make_unique<LocalHttpServer>();
        server_->serve("/ml-100k.zip", {zip_});
    }

    void catalogueNamesEveryArchiveWithItsDigest()
    {
        const auto& archives = movieLensArchives();
        QCOMPARE(archives.size(), size_t(6));
        std::set<std::string> names;
        for (const auto& a : archives) {
            names.insert(a.name);
            QVERIFY(a.url.rfind("https://files.grouplens.org/datasets/movielens/" + a.name, 0) == 0);
            QVERIFY(a.approxBytes > 0);
            if (a.name != "ml-latest-small")
                QCOMPARE(a.md5.size(), size_t(32));
        }
        QCOMPARE(names, (std::set<std::string>{"ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-latest-small"}));
        QCOMPARE(findArchive("100K")->name, std::string("ml-100k"));
        QCOMPARE(findArchive("ml-25m")->md5, std::string("6b51fb2759a8657d3bfcbfc42b592ada"));
        QVERIFY(findArchive("ml-5m") == nullptr);
        std::string msg = expectThrow<ConfigError>([&] { downloadArchive(req("ml-5m", fresh("unknown"))); });
        QVERIFY2(msg.find("'ml-5m' is not a known archive") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("ml-latest-small") != std::string::npos, msg.c_str());
        msg = expectThrow<ConfigError>([&] { downloadArchive(req("ml-100k", fresh("baddigest"), "", "12345")); });
        QVERIFY2(msg.find("not an MD5 digest") != std::string::npos, msg.c_str());
    }

    void publishedDigestFormats()
    {
        const std::string hex = "0e33842e24a9c977be4e0107933c0723";
        QCOMPARE(parsePublishedMd5("MD5 (ml-100k.zip) = " + hex + "\n"), hex);
        QCOMPARE(parsePublishedMd5(hex + "  ml-100k.zip\n"), hex);
        QCOMPARE(parsePublishedMd5("0E33842E24A9C977BE4E0107933C0723"), hex);
        QCOMPARE(parsePublishedMd5("sha256 " + hex + "ab"), std::string()); // 34 digits: not an MD5
        QCOMPARE(parsePublishedMd5("<html>not found</html>"), std::string());
    }

    // A transfer that would never end is stopped at a size cap and leaves nothing; a local copy
    // that is a device or a FIFO is refused before anything is fetched; a manifest of the wrong
    // types is no verified download.
    void transfersAreBoundedAndManifestsChecked()
    {
        server_->serve("/endless.zip", {std::string(3 << 20, 'z'), 200, 64 << 10, 0});
        fs::path target = fresh("endless");
        DownloadRequest request = req("ml-100k", target, server_->url("/endless.zip"), md5_);
        request.maxArchiveBytes = 1 << 20;
        std::string msg = expectThrow<TransferError>([&] { downloadArchive(request); });
        QVERIFY2(msg.find("far beyond the archive's size") != std::string::npos, msg.c_str());
        QCOMPARE(entriesOf(target), std::set<std::string>{});
        msg = expectThrow<DataError>([&] { downloadArchive(req("ml-100k", fresh("zero"), "file:///dev/zero", md5_)); });
        QVERIFY2(msg.find("/dev/zero: a character device") != std::string::npos, msg.c_str());
        const std::string good = R"({"name":"ml-100k","url":"u","md5":"m","sha256":"s","archive_bytes":1,"extracted_bytes":2,"files":["u.data"]})";
        QVERIFY(parseDownloadManifest(good));
        QCOMPARE(parseDownloadManifest(good)->files, std::vector<std::string>{"u.data"});
        for (const char* bad : {R"({"name":"ml-100k","url":"u","md5":5,"sha256":"s","archive_bytes":1,"extracted_bytes":2,"files":[]})",
                                R"({"name":"ml-100k","url":"u","md5":"m","sha256":"s","archive_bytes":-1,"extracted_bytes":2,"files":[]})",
                                R"({"name":"ml-100k","url":"u","md5":"m","sha256":"s","archive_bytes":1,"extracted_bytes":2,"files":[3]})",
                                "[1, 2]", "{"})
            QVERIFY2(!parseDownloadManifest(bad), bad);
    }

    void downloadsVerifiesAndExtractsMl100k()
    {
        fs::path target = fresh("ok");
        std::vector<DownloadProgress> seen;
        DownloadRequest request = req("ml-100k", target, server_->url("/ml-100k.zip"), md5_);
        DownloadResult r = downloadArchive(request, [&](const DownloadProgress& p) { seen.push_back(p); });

        QCOMPARE(r.datasetDir, target / "ml-100k");
        QCOMPARE(r.md5, md5_);
        QCOMPARE(r.sha256.size(), size_t(64));
        QCOMPARE(r.archiveBytes, std::uint64_t(zip_.size()));
        QVERIFY(!r.alreadyPresent);
        QVERIFY(std::find(r.files.begin(), r.files.end(), "u.data") != r.files.end());
        QCOMPARE(readWholeFileOf(target / "ml-100k" / "u.data"),
                 readWholeFileOf(fs::path(reclab::test::ml100kDir().toStdString()) / "u.data"));
        // Only the dataset folder is left: no part file, no staging folder, no archive.
        QCOMPARE(entriesOf(target), (std::set<std::string>{"ml-100k"}));

        // Stages arrive in order and the byte counts never go back.
        QVERIFY(!seen.empty());
        QCOMPARE(int(seen.front().stage), int(DownloadStage::Connecting));
        QCOMPARE(int(seen.back().stage), int(DownloadStage::Done));
        bool sawDownload = false, sawVerify = false, sawExtract = false;
        for (size_t i = 1; i < seen.size(); ++i) {
            QVERIFY(int(seen[i].stage) >= int(seen[i - 1].stage));
            if (seen[i].stage == seen[i - 1].stage)
                QVERIFY(seen[i].done >= seen[i - 1].done);
            sawDownload |= seen[i].stage == DownloadStage::Downloading;
            sawVerify |= seen[i].stage == DownloadStage::Verifying;
            sawExtract |= seen[i].stage == DownloadStage::Extracting;
        }
        QVERIFY(sawDownload && sawVerify && sawExtract);

        // The folder loads as MovieLens-100K with the exact published counts.
        Dataset ds = loadDataset(r.datasetDir.string());
        QCOMPARE(ds.numUsers(), 943);
        QCOMPARE(ds.numItems(), 1682);
        QCOMPARE(ds.interactions.size(), size_t(100000));

        // Asking again finds the verified folder and fetches nothing.
        int hits = server_->hits("/ml-100k.zip");
        DownloadResult again = downloadArchive(request);
        QVERIFY(again.alreadyPresent);
        QCOMPARE(again.md5, md5_);
        QCOMPARE(again.files, r.files);
        QCOMPARE(server_->hits("/ml-100k.zip"), hits);

        // Keeping the archive leaves it beside the folder; --force replaces the folder.
        request.force = true;
        request.keepArchive = true;
        DownloadResult replaced = downloadArchive(request);
        QVERIFY(!replaced.alreadyPresent);
        QCOMPARE(server_->hits("/ml-100k.zip"), hits + 1);
        QCOMPARE(entriesOf(target), (std::set<std::string>{"ml-100k", "ml-100k.zip"}));
        QCOMPARE(digestFile(target / "ml-100k.zip").md5, md5_);
    }

    void knownDigestRejectsADifferentArchive()
    {
        // A mirror must serve GroupLens's exact bytes: the catalogue's MD5 for ml-100k does not
        // match the archive built here, so nothing may be extracted.
        fs::path target = fresh("mismatch");
        std::string msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-100k", target, server_->url("/ml-100k.zip"))); });
        QVERIFY2(msg.find("checksum mismatch: expected MD5 0e33842e24a9c977be4e0107933c0723, got " + md5_) != std::string::npos,
                 msg.c_str());
        QVERIFY2(msg.find("nothing was extracted") != std::string::npos, msg.c_str());
        QVERIFY(entriesOf(target).empty());
    }

    void existingFolderIsNotOverwritten()
    {
        fs::path target = fresh("existing");
        fs::create_directories(target / "ml-100k");
        std::ofstream(target / "ml-100k" / "mine.txt") << "user data\n";
        std::string msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-100k", target, server_->url("/ml-100k.zip"), md5_)); });
        QVERIFY2(msg.find("exists and is not a verified download of ml-100k") != std::string::npos, msg.c_str());
        QCOMPARE(entriesOf(target / "ml-100k"), (std::set<std::string>{"mine.txt"}));
        // A forced download whose checksum fails leaves the old folder as it was.
        msg = expectThrow<TransferError>([&] {
            downloadArchive(req("ml-100k", target, server_->url("/ml-100k.zip"), std::string(32, '0'), true));
        });
        QVERIFY2(msg.find("checksum mismatch") != std::string::npos, msg.c_str());
        QCOMPARE(entriesOf(target), (std::set<std::string>{"ml-100k"}));
        QCOMPARE(entriesOf(target / "ml-100k"), (std::set<std::string>{"mine.txt"}));
    }

    void publishedDigestIsFetchedForLatestSmall()
    {
        // ml-latest-small changes upstream, so its digest comes from the .md5 file beside it.
        fs::path zipPath = fs::path(work_.path().toStdString()) / "ml-latest-small.zip";
        std::string zip = reclab::test::makeMl100kZip(zipPath, reclab::test::ml100kDir().toStdString(), "ml-latest-small/");
        std::string md5 = digestFile(zipPath).md5;
        server_->serve("/latest/ml-latest-small.zip", {zip});
        server_->serve("/latest/ml-latest-small.zip.md5", {"MD5 (ml-latest-small.zip) = " + md5 + "\n"});
        fs::path target = fresh("latest");
        DownloadResult r = downloadArchive(req("ml-latest-small", target, server_->url("/latest/ml-latest-small.zip")));
        QCOMPARE(r.md5, md5);
        QCOMPARE(r.datasetDir, target / "ml-latest-small");
        QVERIFY(fs::exists(target / "ml-latest-small" / "u.data"));

        // A published digest that disagrees with the archive stops the download.
        server_->serve("/latest/ml-latest-small.zip.md5", {std::string(32, 'a') + "  ml-latest-small.zip\n"});
        fs::path other = fresh("latest-bad");
        std::string msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-latest-small", other, server_->url("/latest/ml-latest-small.zip"))); });
        QVERIFY2(msg.find("expected MD5 " + std::string(32, 'a')) != std::string::npos, msg.c_str());
        QVERIFY(entriesOf(other).empty());

        // No digest published at all.
        server_->serve("/latest/ml-latest-small.zip.md5", {"<html>moved</html>"});
        msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-latest-small", other, server_->url("/latest/ml-latest-small.zip"))); });
        QVERIFY2(msg.find("ml-latest-small.zip.md5: no MD5 digest found") != std::string::npos, msg.c_str());
    }

    void httpErrorsAreReported()
    {
        fs::path target = fresh("http");
        std::string msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-100k", target, server_->url("/missing.zip"), md5_)); });
        QVERIFY2(msg.find("/missing.zip: the server answered HTTP 404") != std::string::npos, msg.c_str());
        QVERIFY(entriesOf(target).empty());

        // Nobody listening on the port.
        int port;
        {
            LocalHttpServer gone;
            port = std::stoi(gone.url("").substr(std::string("http://127.0.0.1:").size()));
        }
        msg = expectThrow<TransferError>([&] {
            downloadArchive(req("ml-100k", target, "http://127.0.0.1:" + std::to_string(port) + "/ml-100k.zip", md5_));
        });
        QVERIFY2(msg.find("127.0.0.1:" + std::to_string(port)) != std::string::npos, msg.c_str());
        QVERIFY(entriesOf(target).empty());
    }

    void cancelStopsTheTransferAndCleansUp()
    {
        server_->serve("/slow.zip", {zip_, 200, 32 * 1024, 20});
        fs::path target = fresh("cancel");
        std::atomic<bool> cancel{false};
        std::uint64_t received = 0;
        auto progress = [&](const DownloadProgress& p) {
            if (p.stage == DownloadStage::Downloading && p.done > 0) {
                received = p.done;
                cancel = true;
            }
        };
        QElapsedTimer clock;
        clock.start();
        std::string msg = expectThrow<CancelledError>(
            [&] { downloadArchive(req("ml-100k", target, server_->url("/slow.zip"), md5_), progress, &cancel); });
        QVERIFY2(msg.find("cancelled") != std::string::npos, msg.c_str());
        QVERIFY(received > 0 && received < zip_.size());
        QVERIFY2(clock.elapsed() < 3000, "cancel took effect within a few progress calls");
        QVERIFY(entriesOf(target).empty());
    }

    void damagedArchiveIsRejected()
    {
        // The right digest of bytes that are not a zip: verification passes, extraction must not.
        std::string junk(zip_.substr(0, zip_.size() / 2));
        server_->serve("/junk.zip", {junk});
        fs::path junkPath = fs::path(work_.path().toStdString()) / "junk.zip";
        std::ofstream(junkPath, std::ios::binary) << junk;
        fs::path target = fresh("junk");
        std::string msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-100k", target, server_->url("/junk.zip"), digestFile(junkPath).md5)); });
        QVERIFY2(msg.find("not a readable zip archive") != std::string::npos, msg.c_str());
        QVERIFY(entriesOf(target).empty());
    }

    void unsafeEntriesAreRefused_data()
    {
        QTest::addColumn<QString>("entry");
        QTest::addColumn<bool>("symlink");
        QTest::addColumn<QString>("reason");
        QTest::newRow("parent") << "ml-100k/../../evil.txt" << false << "a '..' component";
        QTest::newRow("leading-parent") << "../evil.txt" << false << "a '..' component";
        QTest::newRow("absolute") << "/tmp/reclab-evil.txt" << false << "an absolute path";
        QTest::newRow("drive") << "C:/evil.txt" << false << "a drive letter";
        QTest::newRow("backslash") << "ml-100k\\..\\..\\evil.txt" << false << "a backslash";
        QTest::newRow("symlink") << "ml-100k/u.item" << true << "a symbolic link";
    }

    void unsafeEntriesAreRefused()
    {
        QFETCH(QString, entry);
        QFETCH(bool, symlink);
        QFETCH(QString, reason);
        fs::path zipPath = fs::path(work_.path().toStdString()) / "evil.zip";
        // A harmless first entry, so a bad one later must still stop everything.
        std::string zip = reclab::test::makeZip(
            zipPath, {{"ml-100k/u.data", "1\t1\t5\t881250949\n"}, {entry.toStdString(), symlink ? "/etc/passwd" : "owned\n", symlink}});
        server_->serve("/evil.zip", {zip});
        fs::path target = fresh("evil");
        std::string msg = expectThrow<TransferError>(
            [&] { downloadArchive(req("ml-100k", target / "inner", server_->url("/evil.zip"), digestFile(zipPath).md5)); });
        QVERIFY2(msg.find("entry '" + entry.toStdString() + "' refused: " + reason.toStdString()) != std::string::npos,
                 msg.c_str());
        QVERIFY2(msg.find("nothing was extracted") != std::string::npos, msg.c_str());
        QVERIFY(entriesOf(target / "inner").empty());
        QCOMPARE(entriesOf(target), (std::set<std::string>{"inner"}));
        QVERIFY(!fs::exists(fs::path(work_.path().toStdString()) / "evil.txt"));
        QVERIFY(!fs::exists("/tmp/reclab-evil.txt"));
    }

    void extractionHasASizeLimit()
    {
        fs::path zipPath = fs::path(work_.path().toStdString()) / "big.zip";
        reclab::test::makeZip(zipPath, {{"a.txt", std::string(1 << 20, 'x')}, {"b.txt", std::string(1 << 20, 'y')}});
        fs::path dest = fs::path(work_.path().toStdString()) / "bigout";
        std::string msg = expectThrow<TransferError>([&] { extractZipSafely(zipPath, dest, {}, nullptr, 3 << 19); });
        QVERIFY2(msg.find("entry 'b.txt' refused: the archive would expand to more than 1 MiB") != std::string::npos,
                 msg.c_str());
        QVERIFY(!fs::exists(dest));
        auto files = extractZipSafely(zipPath, dest);
        QCOMPARE(files, (std::vector<std::string>{"a.txt", "b.txt"}));
        QCOMPARE(fs::file_size(dest / "b.txt"), std::uintmax_t(1 << 20));
    }

private:
    static std::string readWholeFileOf(const fs::path& path) { return reclab::test::readWholeFile(path); }
};

QTEST_GUILESS_MAIN(TestDownload)
#include "test_download.moc"
