// PCA and t-SNE in LibTorch: PCA against an SVD of the same data and on vectors that lie on a
// plane; t-SNE keeping planted clusters apart, converging (its KL divergence falls), stopping
// when asked, and refusing too few points.
#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "models/Recommender.h"
#include "inspection/Attention.h"
#include "inspection/EmbeddingExport.h"
#include "train/EmbeddingSnapshots.h"
#include "inspection/Projection.h"
#include "inspection/Recommendations.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include <torch/linalg.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <torch/nn/functional/normalization.h>

#include <atomic>
#include <set>
#include <cmath>

using namespace reclab;

class TestProjection : public QObject {
    Q_OBJECT
private slots:
    void pcaFindsThePlane();
    void pcaAgreesWithSvd();
    void pcaRefusesBadInput();
    void tsneKeepsClustersApart();
    void tsneStopsWhenAsked();
    void alignmentUndoesARotation();
    void cosineNeighboursLeaveThePointOut();
    void snapshotPolicyThinsLargeTables();
    void metadataNamesTitlesGenresAndBuckets();
    void trainingWritesEmbeddingSnapshots();
    void recommendsUnseenItemsWithReasons();
    void dinAttendsToThePlantedGenres();
};

namespace {

// k clusters of `per` points around random centres in d dimensions; labels per point.
torch::Tensor clusters(int k, int per, int d, std::vector<int>& labels, double spread = 0.3)
{
    torch::manual_seed(3);
    const torch::Tensor centres = torch::randn({k, d}) * 3.0;
    std::vector<torch::Tensor> parts;
    for (int c = 0; c < k; ++c) {
        parts.push_back(centres[c] + torch::randn({per, d}) * spread);
        labels.insert(labels.end(), static_cast<size_t>(per), c);
    }
    return torch::cat(parts);
}

// Share of each point's k nearest neighbours (in the map) that carry its label.
double neighbourPurity(const torch::Tensor& map, const std::vector<int>& labels, int k)
{
    const torch::Tensor d = torch::cdist(map, map);
    const torch::Tensor nearest = std::get<1>(d.topk(k + 1, 1, false)).narrow(1, 1, k).contiguous();
    const auto* idx = nearest.data_ptr<int64_t>();
    int64_t same = 0;
    for (int64_t i = 0; i < map.size(0); ++i)
        for (int j = 0; j < k; ++j)
            same += labels[static_cast<size_t>(idx[i * k + j])] == labels[static_cast<size_t>(i)] ? 1 : 0;
    return static_cast<double>(same) / static_cast<double>(map.size(0) * k);
}

} // namespace

void TestProjection::pcaFindsThePlane()
{
    // 500 points on a plane spanned by two orthonormal directions in 12 dimensions, plus tiny
    // noise: two components explain (almost) everything, and distances survive the projection.
    torch::manual_seed(1);
    const torch::Tensor basis = std::get<0>(torch::linalg::qr(torch::randn({12, 2}), "reduced"));
    const torch::Tensor coords = torch::randn({500, 2}) * torch::tensor({5.0f, 2.0f});
    const torch::Tensor x = coords.mm(basis.t()) + 7.0 + torch::randn({500, 12}) * 1e-4;
    const PcaResult r = pca(x, 2);
    QCOMPARE(r.coordinates.sizes(), (std::vector<int64_t>{500, 2}));
    QVERIFY(r.explainedRatio[0] + r.explainedRatio[1] > 0.999999);
    QVERIFY(r.explainedRatio[0] > r.explainedRatio[1]);
    QVERIFY(std::abs(r.explainedRatio[0] - 25.0 / 29.0) < 0.05); // variances 25 and 4
    QVERIFY(torch::allclose(r.components.t().mm(r.components), torch::eye(2), 1e-5, 1e-5));
    auto distances = [](const torch::Tensor& a) { return (a.unsqueeze(1) - a.unsqueeze(0)).norm(2, {2}); };
    const double worst = (distances(r.coordinates) - distances(coords)).abs().max().item<double>();
    QVERIFY2(worst < 1e-3, qPrintable(QString::number(worst)));
    // The same data gives the same picture (signs fixed).
    QVERIFY(torch::equal(pca(x, 2).coordinates, r.coordinates));
}

void TestProjection::pcaAgreesWithSvd()
{
    torch::manual_seed(2);
    const torch::Tensor x = torch::randn({300, 8}) * torch::arange(1, 9).to(torch::kFloat);
    const PcaResult r = pca(x, 3);
    const torch::Tensor centred = (x - x.mean(0, true)).to(torch::kDouble);
    auto [u, s, vh] = torch::linalg::svd(centred, false, c10::nullopt);
    for (int k = 0; k < 3; ++k) {
        const torch::Tensor fromSvd = vh[k].to(torch::kFloat);
        const double dot = std::abs(fromSvd.dot(r.components.select(1, k)).item<double>());
        QVERIFY2(dot > 1 - 1e-6, qPrintable(QString::number(dot)));
        const double variance = (s[k] * s[k]).item<double>() / (s * s).sum().item<double>();
        QVERIFY(std::abs(variance - r.explainedRatio[static_cast<size_t>(k)]) < 1e-9);
    }
}

void TestProjection::pcaRefusesBadInput()
{
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pca(torch::randn({1, 4}), 2));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pca(torch::randn({10, 4}), 5));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, tsne(torch::randn({50, 4}), {}));
}

void TestProjection::tsneKeepsClustersApart()
{
    std::vector<int> labels;
    const torch::Tensor x = clusters(5, 80, 16, labels, 1.5);
    // PCA alone mixes some of these clusters; t-SNE's neighbours keep their labels.
    std::vector<double> kl;
    TsneOptions o;
    o.iterations = 600;
    const torch::Tensor map = tsne(x, o, [&](const TsneProgress& p) { kl.push_back(p.klDivergence); });
    QCOMPARE(map.sizes(), (std::vector<int64_t>{400, 2}));
    QVERIFY(torch::isfinite(map).all().item<bool>());
    const double purity = neighbourPurity(map, labels, 10);
    QVERIFY2(purity > 0.97, qPrintable(QString::number(purity)));
    QCOMPARE(static_cast<int>(kl.size()), o.iterations / o.reportEvery);
    QVERIFY2(kl.back() < kl[static_cast<size_t>(o.exaggerationIterations / o.reportEvery)], "KL did not fall after exaggeration");
    QVERIFY(kl.back() > 0);
    // Reproducible.
    QVERIFY(torch::allclose(map, tsne(x, o), 1e-4, 1e-4));
}

void TestProjection::tsneStopsWhenAsked()
{
    std::vector<int> labels;
    const torch::Tensor x = clusters(3, 40, 8, labels);
    std::atomic<bool> stop{false};
    int reports = 0, last = 0;
    TsneOptions o;
    o.perplexity = 10;
    const torch::Tensor map = tsne(x, o, [&](const TsneProgress& p) {
        ++reports;
        last = p.iteration;
        if (p.iteration >= 100)
            stop = true;
    }, &stop);
    QVERIFY(last < 130);
    QVERIFY(reports >= 4);
    QCOMPARE(map.size(0), int64_t(120));
}

void TestProjection::metadataNamesTitlesGenresAndBuckets()
{
    // Ten items consumed 10, 9, ..., 1 times: the top 20% are head, the next 30% torso.
    const auto buckets = countBuckets({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, "head", "torso", "tail");
    QCOMPARE(buckets, (std::vector<std::string>{"head", "head", "head", "torso", "torso", "torso", "tail", "tail", "tail", "tail"}));
    QCOMPARE(countBuckets({0, 0, 3}, "head", "torso", "tail")[0], std::string("tail")); // never consumed: tail
    const Dataset sample = generateSampleDataset();
    const EmbeddingMetadata items = itemMetadata(sample), users = userMetadata(sample);
    QCOMPARE(items.rows.size(), size_t(sample.numItems()));
    QCOMPARE(users.rows.size(), size_t(sample.numUsers()));
    QCOMPARE(items.rows[0][1], sample.items.title[0]);
    QCOMPARE(items.rows[0][2], sample.genresOf(0).front());
    int64_t interactions = 0;
    for (const auto& row : users.rows)
        interactions += std::stoll(row[1]);
    QCOMPARE(interactions, static_cast<int64_t>(sample.interactions.size()));
    // Tabs and line breaks in a field cannot break the TSV.
    QTemporaryDir dir;
    EmbeddingMetadata odd{{"id", "title"}, {{"1", "a\tb\nc"}, {"2", "d"}}};
    writeProjectorFiles(dir.path().toStdString(), torch::ones({2, 3}), odd);
    QFile meta(dir.filePath(QStringLiteral("metadata.tsv")));
    QVERIFY(meta.open(QIODevice::ReadOnly));
    QCOMPARE(meta.readAll(), QByteArray("id\ttitle\n1\ta b c\n2\td\n"));
    QVERIFY_THROWS_EXCEPTION(Error, writeProjectorFiles(dir.path().toStdString(), torch::ones({3, 3}), odd));
}

void TestProjection::snapshotPolicyThinsLargeTables()
{
    const int64_t mb = int64_t(1) << 20;
    for (int e = 1; e <= 20; ++e)
        QVERIFY(shouldSnapshot(e, 20, 2 * mb)); // 40 MB in all: every epoch
    std::vector<int> kept;
    for (int e = 1; e <= 20; ++e)
        if (shouldSnapshot(e, 20, 40 * mb)) // 800 MB in all: thinned
            kept.push_back(e);
    QCOMPARE(kept, (std::vector<int>{1, 2, 4, 8, 16, 20}));
    QVERIFY(!shouldSnapshot(1, 5, 0));
}

void TestProjection::trainingWritesEmbeddingSnapshots()
{
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("runs.db")).toStdString();
    const auto sample = std::make_shared<const Dataset>(generateSampleDataset());
    TrainConfig c = defaultConfigFor("neumf");
    c.epochs = 3;
    c.pretrain = false;
    c.threads = 1;
    TrainingSession session(sample, c, db);
    session.run();
    const std::string runDir = runArtifactDir(db, session.runId());
    const auto snapshots = listEmbeddingSnapshots(runDir);
    QCOMPARE(snapshots.size(), size_t(3));
    QCOMPARE(snapshots.back().epoch, 3);
    // NeuMF: user and item tables of its GMF and MLP parts.
    QCOMPARE(snapshots[0].tables.size(), size_t(4));
    int users = 0, items = 0;
    for (const auto& t : snapshots[0].tables) {
        users += t.kind == "users" && t.rows == sample->numUsers() ? 1 : 0;
        items += t.kind == "items" && t.rows == sample->numItems() ? 1 : 0;
    }
    QCOMPARE(users, 2);
    QCOMPARE(items, 2);
    // The last snapshot holds the trained weights; the first differs from it.
    const auto last = readEmbeddingSnapshot(runDir, 3), first = readEmbeddingSnapshot(runDir, 1);
    const auto trained = embeddingTables(*session.trainer().model(), sample->numUsers(), sample->numItems());
    QCOMPARE(last.size(), trained.size());
    for (size_t k = 0; k < last.size(); ++k) {
        QCOMPARE(last[k].name, trained[k].name);
        QVERIFY(torch::equal(last[k].weights, trained[k].weights));
        QVERIFY(!torch::equal(first[k].weights, last[k].weights));
    }
    // Recorded as the run's artifacts.
    ExperimentStore store(db);
    int recorded = 0;
    for (const auto& a : store.artifacts(session.runId()))
        recorded += a.kind == "embeddings" && a.path.rfind("embeddings/epoch-", 0) == 0 ? 1 : 0;
    QCOMPARE(recorded, 3);
    // Bad input: an epoch without a snapshot, a damaged index.
    try {
        readEmbeddingSnapshot(runDir, 7);
        QFAIL("a missing snapshot was read");
    } catch (const Error& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("no embedding snapshot of epoch 7")), e.what());
    }
    QFile index(QString::fromStdString(runDir + "/embeddings/index.json"));
    QVERIFY(index.open(QIODevice::WriteOnly | QIODevice::Truncate));
    index.write("{\"snapshots\": [");
    index.close();
    QVERIFY_THROWS_EXCEPTION(Error, listEmbeddingSnapshots(runDir));
    // A model without embedding tables has no snapshots.
    TrainConfig knn = defaultConfigFor("itemknn");
    TrainingSession counting(sample, knn, db);
    counting.run();
    QVERIFY(listEmbeddingSnapshots(runArtifactDir(db, counting.runId())).empty());
}

void TestProjection::recommendsUnseenItemsWithReasons()
{
    const auto sample = std::make_shared<const Dataset>(generateSampleDataset());
    const InteractionIndex index(*sample);
    // The index: each user's rows oldest first, each item's distinct users ascending.
    const auto [rowsBegin, rowsEnd] = index.rowsOf(5);
    QVERIFY(rowsEnd - rowsBegin > 0);
    for (const uint32_t* r = rowsBegin; r != rowsEnd; ++r) {
        QCOMPARE(sample->interactions.user[*r], 5);
        if (r != rowsBegin)
            QVERIFY(sample->interactions.timestamp[*(r - 1)] <= sample->interactions.timestamp[*r]);
    }
    const auto [usersBegin, usersEnd] = index.usersOf(3);
    QVERIFY(std::is_sorted(usersBegin, usersEnd) && std::adjacent_find(usersBegin, usersEnd) == usersEnd);
    const auto history = userHistory(index, 5, 4);
    QCOMPARE(history.size(), size_t(std::min<ptrdiff_t>(4, rowsEnd - rowsBegin)));
    QCOMPARE(history.back(), sample->interactions.item[*(rowsEnd - 1)]);

    for (const std::string modelName : {"gmf", "itemknn", "din"}) {
        TrainConfig c = defaultConfigFor(modelName);
        c.epochs = 2;
        c.threads = 1;
        Trainer trainer(sample, c);
        trainer.fit();
        auto model = trainer.model();
        model->eval();
        RecommendOptions o;
        o.historyLength = c.historyLength;
        const auto recs = recommend(*model, index, 5, o);
        QCOMPARE(recs.size(), size_t(10));
        std::set<int32_t> seen;
        for (const uint32_t* r = rowsBegin; r != rowsEnd; ++r)
            seen.insert(sample->interactions.item[*r]);
        const auto liked = likedItems(index, 5);
        for (size_t k = 0; k < recs.size(); ++k) {
            QVERIFY2(!seen.count(recs[k].item), modelName.c_str());
            if (k)
                QVERIFY(recs[k - 1].score >= recs[k].score);
            QCOMPARE(recs[k].because.size(), size_t(3));
            QVERIFY(recs[k].because[0].second >= recs[k].because[1].second);
            if (modelName == "din")
                continue; // explained by attention, below
            for (const auto& [item, similarity] : recs[k].because) {
                QVERIFY(std::find(liked.begin(), liked.end(), item) != liked.end());
                QVERIFY(similarity >= -1.0001 && similarity <= 1.0001);
            }
        }
        if (modelName == "din") {
            // Scored in blocks of the catalogue, the same as scoring the ten alone; explained by
            // the three behaviours with the largest attention weights.
            std::vector<int32_t> items;
            for (const auto& r : recs)
                items.push_back(r.item);
            const AttentionMap map = attentionMap(*model, index, 5, items, c.historyLength);
            QCOMPARE(std::string(becauseMeasure(*model, *sample)), std::string("attention weight"));
            for (size_t k = 0; k < recs.size(); ++k) {
                QVERIFY(std::abs(map.scores[k] - recs[k].score) < 1e-4);
                const torch::Tensor row = map.weights[static_cast<int64_t>(k)];
                const auto strongest = std::get<1>(row.topk(3));
                for (int j = 0; j < 3; ++j) {
                    QCOMPARE(recs[k].because[static_cast<size_t>(j)].first, map.history[static_cast<size_t>(strongest[j].item<int64_t>())]);
                    QVERIFY(std::abs(recs[k].because[static_cast<size_t>(j)].second - row[strongest[j]].item<double>()) < 1e-6);
                }
            }
        }
        if (modelName == "gmf") {
            // The same top 10 as ranking every unseen item by the model's own scores.
            torch::NoGradGuard noGrad;
            torch::Tensor all = model->fullSortPredict(torch::tensor({int64_t(5)})).view({-1}).clone();
            for (const int32_t item : seen)
                all[item] = -INFINITY;
            const torch::Tensor top = std::get<1>(all.topk(10));
            for (size_t k = 0; k < recs.size(); ++k)
                QCOMPARE(recs[k].item, static_cast<int32_t>(top[static_cast<int64_t>(k)].item<int64_t>()));
            // "Because": the liked item whose GMF item vector is closest (cosine).
            const auto tables = embeddingTables(*model, sample->numUsers(), sample->numItems());
            const torch::Tensor items = torch::nn::functional::normalize(tables[1].weights, torch::nn::functional::NormalizeFuncOptions().dim(1));
            double bestSimilarity = -2;
            for (const int32_t l : liked)
                bestSimilarity = std::max(bestSimilarity, items[recs[0].item].dot(items[l]).item<double>());
            QVERIFY(std::abs(bestSimilarity - recs[0].because[0].second) < 1e-5);
        }
    }
    // An unknown user.
    TrainConfig pop = defaultConfigFor("itemknn");
    Trainer trainer(sample, pop);
    trainer.fit();
    QVERIFY_THROWS_EXCEPTION(Error, recommend(*trainer.model(), index, sample->numUsers(), {}));
}

void TestProjection::dinAttendsToThePlantedGenres()
{
    // The sample plants genre interests, and a rating rises with the share of recent picks that
    // share the item's genre: a DIN trained on it must weigh, for a candidate, the user's
    // behaviours sharing its genre above the others (before the sample's ratings depended on
    // the behaviours, the trained DIN scored 0.59 on the first measure and failed).
    const auto sample = std::make_shared<const Dataset>(generateSampleDataset());
    const auto planted = plantedInterests();
    TrainConfig c = defaultConfigFor("din");
    c.epochs = 3;
    c.threads = 1;
    Trainer trainer(sample, c);
    trainer.fit();
    auto model = trainer.model();
    const InteractionIndex index(*sample);
    auto genreOf = [&](int32_t item) { return sample->genresOf(item).front(); };
    auto shareGenre = [&](int32_t a, int32_t b) {
        const auto ga = sample->genresOf(a), gb = sample->genresOf(b);
        return std::any_of(ga.begin(), ga.end(), [&](const auto& g) { return std::find(gb.begin(), gb.end(), g) != gb.end(); });
    };
    // Per (user, candidate): how often a same-genre behaviour outweighs an other-genre one
    // (a rank measure: the unit's raw weights are unnormalised and may be negative), and the
    // same-genre share of the five heaviest behaviours against their share of the history.
    double orderSum = 0, topLiftSum = 0, sameWeight = 0, otherWeight = 0;
    int rows = 0, sameCount = 0, otherCount = 0;
    for (int32_t u = 0; u < 150; ++u) {
        // Candidates: two items of each of the user's current planted genres.
        std::vector<int32_t> candidates;
        for (const int32_t g : planted[static_cast<size_t>(u)].endGenres) {
            int taken = 0;
            for (int32_t i = 0; i < sample->numItems() && taken < 2; ++i)
                if (genreOf(i) == sampleGenreNames()[static_cast<size_t>(g)]) {
                    candidates.push_back(i);
                    ++taken;
                }
        }
        const AttentionMap map = attentionMap(*model, index, u, candidates, c.historyLength);
        QCOMPARE(map.weights.size(0), static_cast<int64_t>(candidates.size()));
        QCOMPARE(map.weights.size(1), static_cast<int64_t>(map.history.size()));
        QVERIFY(torch::allclose(map.shares.sum(1), torch::ones({map.shares.size(0)}), 1e-4, 1e-4));
        const auto length = static_cast<int64_t>(map.history.size());
        for (size_t a = 0; a < candidates.size(); ++a) {
            const torch::Tensor row = map.weights[static_cast<int64_t>(a)];
            std::vector<double> same, other;
            std::vector<char> match(static_cast<size_t>(length));
            for (int64_t h = 0; h < length; ++h) {
                match[static_cast<size_t>(h)] = shareGenre(map.history[static_cast<size_t>(h)], candidates[a]);
                (match[static_cast<size_t>(h)] ? same : other).push_back(row[h].item<double>());
            }
            for (const double w : same)
                sameWeight += w;
            for (const double w : other)
                otherWeight += w;
            sameCount += static_cast<int>(same.size());
            otherCount += static_cast<int>(other.size());
            if (same.empty() || other.empty() || length < 10)
                continue;
            double wins = 0;
            for (const double s : same)
                for (const double o : other)
                    wins += s > o ? 1.0 : (s == o ? 0.5 : 0.0);
            orderSum += wins / static_cast<double>(same.size() * other.size());
            const torch::Tensor top = std::get<1>(row.topk(5));
            int topSame = 0;
            for (int k = 0; k < 5; ++k)
                topSame += match[static_cast<size_t>(top[k].item<int64_t>())];
            topLiftSum += (topSame / 5.0) / (static_cast<double>(same.size()) / static_cast<double>(length));
            ++rows;
        }
    }
    const double order = orderSum / rows;
    const double topLift = topLiftSum / rows;
    qInfo("same-genre behaviour outweighs an other-genre one in %.3f of pairs; top-5 lift %.2f; over %d (user, candidate) rows; mean weight same %.4f, other %.4f",
          order, topLift, rows, sameWeight / sameCount, otherWeight / otherCount);
    QVERIFY2(order > 0.8, qPrintable(QString::number(order)));
    QVERIFY2(topLift > 1.3, qPrintable(QString::number(topLift)));
    // Not DIN: refused with a reason.
    TrainConfig gmf = defaultConfigFor("gmf");
    gmf.epochs = 1;
    Trainer other(sample, gmf);
    other.fit();
    QVERIFY_THROWS_EXCEPTION(Error, attentionMap(*other.model(), index, 0, {1, 2}, 50));
    QVERIFY_THROWS_EXCEPTION(Error, attentionMap(*model, index, 0, {sample->numItems()}, 50));
}

void TestProjection::alignmentUndoesARotation()
{
    torch::manual_seed(4);
    const auto map = torch::randn({40, 2});
    const double a = 1.1;
    const auto rotation = torch::tensor({std::cos(a), -std::sin(a), std::sin(a), std::cos(a)}).view({2, 2}).to(torch::kFloat);
    const auto turned = map.mm(rotation) + 5.0; // rotated and moved
    const auto aligned = procrustesAlign(turned, map);
    QVERIFY((aligned - (map - map.mean(0, true))).abs().max().item<double>() < 1e-4);
    // Nothing to align to: unchanged.
    QVERIFY(procrustesAlign(turned, torch::Tensor()).equal(turned));
    QVERIFY(procrustesAlign(turned, torch::randn({3, 2})).equal(turned));
}

void TestProjection::cosineNeighboursLeaveThePointOut()
{
    // Row 0 points along x; rows 1 and 2 nearly so (2 closer), row 3 along y, row 4 against x.
    const auto vectors = torch::tensor({1.0, 0.0, 2.0, 0.5, 3.0, 0.3, 0.0, 1.0, -1.0, 0.0}).view({5, 2}).to(torch::kFloat);
    const Neighbours n = cosineNeighbours(unitRows(vectors), 0, 3);
    QCOMPARE(n.rows, (std::vector<int64_t>{2, 1, 3}));
    QVERIFY(std::abs(n.similarity[0] - 3.0 / std::sqrt(9.09)) < 1e-6);
    QVERIFY(std::abs(n.similarity[2]) < 1e-6);
    QCOMPARE(cosineNeighbours(unitRows(vectors), 0, 10).rows.size(), size_t(4)); // never itself
    QVERIFY(cosineNeighbours(unitRows(vectors), 7, 3).rows.empty());
}

QTEST_APPLESS_MAIN(TestProjection)
#include "test_projection.moc"
