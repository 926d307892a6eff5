// Real LibTorch training: NeuMF on MovieLens-100K, learnability of the sample dataset, biased
// MF on ratings, stopping, and a recorded session in a real SQLite file.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "models/NeighbourhoodModel.h"
#include "oracles/NeuMF.h"

#include "TestData.h"

#include "data/DatasetSource.h"
#include "data/SampleGenerator.h"
#include "data/Splits.h"
#include "data/UserItemIndex.h"
#include "zoo/ModelRegistry.h"
#include "store/ExperimentStore.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Random.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include <QTemporaryDir>
#include <tuple>
#include <QRegularExpression>
#include <QtTest>

using namespace reclab;

class TestTraining : public QObject {
    Q_OBJECT
private slots:
    void neumfOneEpochOnMovieLens();
    void sampleIsLearnable();
    void biasedMfLearnsRatings();
    void stopEndsBetweenBatches();
    void invalidConfigIsRefused();
    void sessionRecordsEveryEpoch();
    void divergingLossFailsTheRun();
    void fullProtocolRanksAgainstEveryUnseenItem();
    void ncfFullSortMatchesPairScores();
    void bprTrainsOnUnconsumedTriples();
    void neighbourhoodSimilaritiesByHand();
    void neighbourhoodModelsOnMovieLens();
    void movieLensFoldsProtocol();
    void neumfPretrainingStartsFromGmfAndMlp();
    void ncfL2PenalisesBatchEmbeddings();
    void userCfPredictsRatingsByHand();
    void denseMatrixRefusalNamesTheModel();
};

namespace {
TrainConfig quick(const std::string& model, int epochs)
{
    TrainConfig c = defaultConfigFor(model);
    c.epochs = epochs;
    return c;
}
} // namespace

void TestTraining::neumfOneEpochOnMovieLens()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    Trainer trainer(ds, quick("neumf", 1));
    std::vector<EpochStats> epochs;
    int batches = 0;
    trainer.setEpochCallback([&](const EpochStats& s) { epochs.push_back(s); });
    trainer.setBatchCallback([&](const BatchProgress&) { ++batches; });
    const RunOutcome outcome = trainer.fit();
    QCOMPARE(outcome.status, RunStatus::Finished);
    QCOMPARE(epochs.size(), size_t(1));
    const double hr = metricOr(epochs[0].metrics, "hr@10", 0);
    const double ndcg = metricOr(epochs[0].metrics, "ndcg@10", 0);
    qInfo("NeuMF 1 epoch on ml-100k: HR@10 %.4f NDCG@10 %.4f, %.0f samples/s", hr, ndcg, epochs[0].samplesPerSecond);
    QVERIFY2(hr >= 0.45, qPrintable(QString::number(hr)));
    QVERIFY(ndcg > 0.2 && ndcg < hr);
    QCOMPARE(epochs[0].samples, int64_t((1 + defaultConfigFor("neumf").negatives) * (100000 - 943)));
    QVERIFY(batches > 10);
    QVERIFY(epochs[0].loss > 0 && epochs[0].loss < 0.693); // below the loss of chance
}

void TestTraining::sampleIsLearnable()
{
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    Trainer pop(ds, quick("pop", 1));
    const double popHr = metricOr(pop.fit().finalMetrics, "hr@10", 0);
    Trainer neumf(ds, quick("neumf", 6));
    const double neumfHr = metricOr(neumf.fit().finalMetrics, "hr@10", 0);
    qInfo("sample: popularity HR@10 %.4f, NeuMF (6 epochs) HR@10 %.4f", popHr, neumfHr);
    QVERIFY2(neumfHr > popHr + 0.2, qPrintable(QStringLiteral("%1 vs %2").arg(neumfHr).arg(popHr)));
}

void TestTraining::biasedMfLearnsRatings()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    Trainer trainer(ds, quick("mf", 8));
    std::vector<double> rmse;
    trainer.setEpochCallback([&](const EpochStats& s) { rmse.push_back(metricOr(s.metrics, "rmse", 9)); });
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    qInfo("biased MF on ml-100k, 80/20: RMSE %.4f after 1 epoch, %.4f after 8", rmse.front(), rmse.back());
    QVERIFY(rmse.back() < rmse.front());
    QVERIFY2(rmse.back() < 0.96, qPrintable(QString::number(rmse.back())));
}

void TestTraining::stopEndsBetweenBatches()
{
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    Trainer trainer(ds, quick("neumf", 50));
    int reports = 0;
    trainer.setBatchCallback([&](const BatchProgress&) {
        if (++reports == 3)
            trainer.requestStop();
    });
    int epochs = 0;
    trainer.setEpochCallback([&](const EpochStats&) { ++epochs; });
    const RunOutcome outcome = trainer.fit();
    QCOMPARE(outcome.status, RunStatus::Stopped);
    QCOMPARE(reports, 3);
    QCOMPARE(epochs, 0);
}

void TestTraining::invalidConfigIsRefused()
{
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    TrainConfig c = quick("neumf", 1);
    c.batchSize = 0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, Trainer{ds, c});
    c = quick("neumf", 1);
    c.learningRate = std::nan("");
    QVERIFY_THROWS_EXCEPTION(ConfigError, Trainer{ds, c});
    c = quick("neumf", 1);
    c.model = "nosuchmodel";
    QVERIFY_THROWS_EXCEPTION(ConfigError, Trainer{ds, c});
    // Stored params of the wrong type or range are refused, not converted (fuzz_params found a
    // double too large for an int converted with undefined behaviour).
    for (const char* params : {R"({"model":"din","history_length":2018446744073709551615})",
                               R"({"history_length":2.01e21})", R"({"epochs":-1e300})", R"({"seed":-1})",
                               R"({"mlp_layers":[64, 1e30]})", R"({"pretrain":1})"})
        QVERIFY_THROWS_EXCEPTION(ConfigError, TrainConfig::fromJson(nlohmann::json::parse(params)));
    QCOMPARE(TrainConfig::fromJson(nlohmann::json::parse(R"({"seed":18446744073709551615})")).seed,
             uint64_t(18446744073709551615ull));
}

void TestTraining::sessionRecordsEveryEpoch()
{
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("runs.db")).toStdString();
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    TrainingSession session(ds, quick("neumf", 2), db);
    int64_t started = 0;
    session.setStartCallback([&](int64_t id) { started = id; });
    const RunOutcome outcome = session.run();
    QCOMPARE(outcome.status, RunStatus::Finished);
    QVERIFY(started > 0);
    ExperimentStore store(db);
    const auto run = store.findRun(started);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Finished);
    QCOMPARE(run->model, std::string("neumf"));
    QCOMPARE(run->datasetFingerprint, ds->fingerprint());
    QVERIFY(QString::fromStdString(run->paramsJson).contains(QStringLiteral("\"epochs\":2")));
    const auto hr = store.metrics(started, "hr@10");
    QCOMPARE(hr.size(), size_t(2));
    QCOMPARE(hr[1].value, metricOr(outcome.finalMetrics, "hr@10", -1));
    QVERIFY(store.metrics(started, "batch_loss").size() > 4);
    QCOMPARE(store.metrics(started, "samples_per_second").size(), size_t(2));
}

// A learning rate that blows the loss up: the run stops at the first loss report that is not
// finite, with a status and a message that say so, and the stored run is marked failed.
void TestTraining::divergingLossFailsTheRun()
{
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("runs.db")).toStdString();
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    TrainConfig c = quick("gmf", 5);
    c.optimizer = "sgd";
    c.learningRate = 10;
    c.momentum = 0.99;
    TrainingSession session(ds, c, db);
    int64_t id = 0;
    session.setStartCallback([&](int64_t started) { id = started; });
    const RunOutcome outcome = session.run();
    QCOMPARE(outcome.status, RunStatus::Failed);
    QVERIFY2(QString::fromStdString(outcome.message).contains(QRegularExpression(QStringLiteral("became (NaN|infinite) in epoch 1"))),
             outcome.message.c_str());
    ExperimentStore store(db);
    const auto run = store.findRun(id);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Failed);
    QCOMPARE(run->message, outcome.message);
    QVERIFY(store.metrics(id, "hr@10").empty()); // no epoch finished
}

void TestTraining::fullProtocolRanksAgainstEveryUnseenItem()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    TrainConfig full = quick("pop", 1);
    full.protocol = "full";
    const MetricValues m = Trainer(ds, full).fit().finalMetrics;
    const MetricValues sampled = Trainer(ds, quick("pop", 1)).fit().finalMetrics;

    // The same figures worked out directly: popularity from the training rows, each user's
    // held-out item ranked by the unseen items that are strictly more popular.
    const LeaveOneOutSplit split = makeLeaveOneOutSplit(*ds);
    std::vector<int64_t> counts(static_cast<size_t>(ds->numItems()), 0);
    for (const int32_t item : split.train.item)
        ++counts[static_cast<size_t>(item)];
    const UserItemIndex trained(split.train, ds->numUsers());
    double hits = 0, ndcg = 0;
    for (size_t t = 0; t < split.testUser.size(); ++t) {
        const int32_t u = split.testUser[t], target = split.testItem[t];
        int64_t rank = 0;
        for (int32_t j = 0; j < ds->numItems(); ++j)
            rank += j != target && !trained.contains(u, j) && counts[static_cast<size_t>(j)] > counts[static_cast<size_t>(target)];
        if (rank < 10) {
            hits += 1;
            ndcg += 1.0 / std::log2(static_cast<double>(rank) + 2);
        }
    }
    const double n = static_cast<double>(split.testUser.size());
    qInfo("pop on ml-100k: full HR@10 %.4f NDCG@10 %.4f coverage@10 %.4f; sampled HR@10 %.4f",
          metricOr(m, "hr@10", -1), metricOr(m, "ndcg@10", -1), metricOr(m, "coverage@10", -1), metricOr(sampled, "hr@10", -1));
    QVERIFY(std::fabs(metricOr(m, "hr@10", -1) - hits / n) < 1e-12);
    QVERIFY(std::fabs(metricOr(m, "ndcg@10", -1) - ndcg / n) < 1e-12);
    // The 99 sampled negatives are a subset of the full candidates: full ranking is harder.
    QVERIFY(metricOr(m, "hr@10", -1) < metricOr(sampled, "hr@10", -1));
    // Popularity recommends nearly the same ten items to everyone.
    QVERIFY(metricOr(m, "coverage@10", -1) < 0.1);
    for (const char* name : {"mrr@10", "precision@10", "recall@10", "map@10", "avgpop@10"})
        QVERIFY2(metricOr(m, name, -1) >= 0, name);
}

void TestTraining::ncfFullSortMatchesPairScores()
{
    // GMF, MLP and NeuMF score all items through a factored fast path; it must equal scoring
    // every (user, item) pair through the network, for trained (non-initial) weights too.
    torch::manual_seed(3);
    for (const NcfBranches branches : {NcfBranches::GmfOnly, NcfBranches::MlpOnly, NcfBranches::Both}) {
        NeuMFOptions o;
        o.branches = branches;
        o.numUsers = 40;
        o.numItems = 3000; // more items than one slice of the fast path holds
        NeuMF model(o);
        {
            torch::NoGradGuard noGrad;
            for (auto& p : model->parameters())
                p.normal_(0.0, 0.5);
        }
        model->eval();
        torch::NoGradGuard noGrad;
        const auto users = torch::arange(40, torch::kLong);
        const auto fast = model->fullSortPredict(users);
        const auto slow = model->Recommender::fullSortPredict(users);
        QCOMPARE(fast.sizes(), slow.sizes());
        const float diff = (fast - slow).abs().max().item<float>();
        QVERIFY2(diff < 1e-4f, qPrintable(QString::number(diff)));
        QVERIFY(model->hasGmf() == (branches != NcfBranches::MlpOnly));
        QVERIFY(model->hasMlp() == (branches != NcfBranches::GmfOnly));
    }
}

void TestTraining::bprTrainsOnUnconsumedTriples()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    // The pairwise epoch: one triple per training interaction and negative, the negative never
    // an item the user consumed (training or held out).
    TrainConfig c = quick("bpr", 5);
    c.negatives = 2;
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *ds, c);
    Random rng(5);
    const EpochData epoch = task->sampleEpoch(rng, InputType::Pairwise);
    QCOMPARE(epoch.users.size(0), int64_t(2 * (100000 - 943)));
    QVERIFY(epoch.negItems.defined());
    const UserItemIndex seen(ds->interactions, ds->numUsers());
    const auto* u = epoch.users.data_ptr<int64_t>();
    const auto* i = epoch.items.data_ptr<int64_t>();
    const auto* j = epoch.negItems.data_ptr<int64_t>();
    for (int64_t r = 0; r < epoch.users.size(0); ++r) {
        QVERIFY(seen.contains(static_cast<int32_t>(u[r]), static_cast<int32_t>(i[r])));
        QVERIFY(!seen.contains(static_cast<int32_t>(u[r]), static_cast<int32_t>(j[r])));
    }
    QVERIFY(!task->sampleEpoch(rng, InputType::Pointwise).negItems.defined());

    // A few epochs already rank far better than popularity on the NCF protocol.
    const double bprHr = metricOr(Trainer(ds, quick("bpr", 5)).fit().finalMetrics, "hr@10", 0);
    const double popHr = metricOr(Trainer(ds, quick("pop", 1)).fit().finalMetrics, "hr@10", 0);
    qInfo("ml-100k: BPR (5 epochs) HR@10 %.4f, popularity %.4f", bprHr, popHr);
    QVERIFY2(bprHr > popHr + 0.1, qPrintable(QStringLiteral("%1 vs %2").arg(bprHr).arg(popHr)));
}

void TestTraining::neighbourhoodSimilaritiesByHand()
{
    // u0 rated i0 5, i1 3; u1 rated i0 4, i1 2, i2 5; u2 rated i2 1.
    InteractionTable train;
    train.append(0, 0, 5, 0);
    train.append(0, 1, 3, 0);
    train.append(1, 0, 4, 0);
    train.append(1, 1, 2, 0);
    train.append(1, 2, 5, 0);
    train.append(2, 2, 1, 0);
    NeighbourhoodOptions o;
    o.numUsers = 3;
    o.numItems = 3;
    o.neighbours = 2;
    auto near = [](const torch::Tensor& t, int64_t a, int64_t b, double v) {
        return std::fabs(t[a][b].item<double>() - v) < 1e-5;
    };
    torch::NoGradGuard noGrad;
    const auto all = torch::arange(3, torch::kLong);
    {
        // Item cosine over users: i0 = i1 = (1,1,0), i2 = (0,1,1): cos(i0,i1) 1, cos(i0,i2) 1/2.
        Neighbourhood item(train, o);
        const auto& s = item->similarities();
        QVERIFY(near(s, 0, 1, 1.0) && near(s, 0, 2, 0.5) && near(s, 2, 1, 0.5) && near(s, 1, 1, 0.0));
        // score(u, i) = sum of s(i, j) over the user's items j: u2 -> i0 gets s(0,2) = 1/2,
        // u0 -> i2 gets s(2,0) + s(2,1) = 1.
        const auto scores = item->fullSortPredict(all);
        QVERIFY(near(scores, 2, 0, 0.5) && near(scores, 0, 2, 1.0) && near(scores, 2, 2, 0.0));
        // predict() picks the same numbers out for (user, item) pairs.
        const auto pairs = item->predict(torch::tensor({2, 0, 2}, torch::kLong), torch::tensor({0, 2, 1}, torch::kLong));
        QVERIFY(std::fabs(pairs[0].item<double>() - 0.5) < 1e-5 && std::fabs(pairs[1].item<double>() - 1.0) < 1e-5);
    }
    {
        // Shrinkage 2: dot / (|a||b| + 2) -> s(i0,i1) = 2/4, s(i0,i2) = 1/4.
        NeighbourhoodOptions shrunk = o;
        shrunk.shrink = 2;
        Neighbourhood item(train, shrunk);
        QVERIFY(near(item->similarities(), 0, 1, 0.5) && near(item->similarities(), 0, 2, 0.25));
        // One neighbour: i0 keeps only i1.
        shrunk.neighbours = 1;
        Neighbourhood one(train, shrunk);
        QVERIFY(near(one->similarities(), 0, 1, 0.5) && near(one->similarities(), 0, 2, 0.0));
    }
    {
        // User cosine over items: u0 (1,1,0), u1 (1,1,1), u2 (0,0,1): cos(u0,u1) 2/sqrt 6,
        // cos(u1,u2) 1/sqrt 3, cos(u0,u2) 0. score(u2, i0) = s(u2,u1) = 1/sqrt 3.
        NeighbourhoodOptions users = o;
        users.kind = NeighbourhoodOptions::UserBased;
        Neighbourhood user(train, users);
        QVERIFY(near(user->similarities(), 0, 1, 2 / std::sqrt(6.0)) && near(user->similarities(), 1, 2, 1 / std::sqrt(3.0)));
        QVERIFY(near(user->fullSortPredict(all), 2, 0, 1 / std::sqrt(3.0)));
        QVERIFY(near(user->fullSortPredict(all), 0, 2, 2 / std::sqrt(6.0)));
    }
    {
        // Item Pearson: item means 4.5, 2.5, 3; centred i0 = i1 = (0.5, -0.5, 0), i2 = (0, 2, -2):
        // r(i0,i1) = 1, r(i0,i2) = -1 / (sqrt 0.5 * sqrt 8) = -1/2.
        NeighbourhoodOptions pearson = o;
        pearson.similarity = NeighbourhoodOptions::Pearson;
        Neighbourhood item(train, pearson);
        QVERIFY(near(item->similarities(), 0, 1, 1.0) && near(item->similarities(), 0, 2, -0.5));
    }
}

void TestTraining::neighbourhoodModelsOnMovieLens()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    const double pop = metricOr(Trainer(ds, quick("pop", 1)).fit().finalMetrics, "hr@10", 0);
    for (const char* model : {"itemknn", "userknn"}) {
        std::vector<EpochStats> epochs;
        Trainer trainer(ds, quick(model, 1));
        trainer.setEpochCallback([&](const EpochStats& s) { epochs.push_back(s); });
        const double hr = metricOr(trainer.fit().finalMetrics, "hr@10", 0);
        QCOMPARE(epochs.size(), size_t(1));
        qInfo("ml-100k %s (cosine, k 100): HR@10 %.4f vs popularity %.4f; similarities %.3f s", model, hr, pop,
              epochs[0].trainSeconds);
        QVERIFY2(hr > pop + 0.1, model);
        QVERIFY(epochs[0].trainSeconds > 0);
    }
}

void TestTraining::movieLensFoldsProtocol()
{
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    TrainConfig c = quick("mf", 3);
    c.protocol = "folds";
    double sum = 0;
    for (int fold = 1; fold <= 5; ++fold) {
        c.fold = fold;
        // uK.base holds 80,000 ratings and uK.test the other 20,000 of u.data.
        const auto task = TrainingTask::create(TaskKind::RatingPrediction, *ds, c);
        QCOMPARE(task->shape().train->size(), size_t(80000));
        const double rmse = metricOr(Trainer(ds, c).fit().finalMetrics, "rmse", -1);
        QVERIFY2(rmse > 0.85 && rmse < 1.1, qPrintable(QString::number(rmse)));
        sum += rmse;
    }
    qInfo("biased MF, 3 epochs, u1..u5: mean RMSE %.4f", sum / 5);

    // Wrong pairings are refused with the option named.
    auto refused = [&](TaskKind kind, const Dataset& data, const TrainConfig& config, const char* mention) {
        try {
            TrainingTask::create(kind, data, config);
        } catch (const ConfigError& e) {
            return QString::fromUtf8(e.what()).contains(QLatin1String(mention));
        }
        return false;
    };
    QVERIFY(refused(TaskKind::ImplicitRanking, *ds, c, "ranking models use loo, full, common or cold"));
    TrainConfig loo = quick("mf", 1);
    loo.protocol = "loo";
    QVERIFY(refused(TaskKind::RatingPrediction, *ds, loo, "rating models use holdout, folds, common or cold"));
    const Dataset sample = generateSampleDataset();
    QVERIFY(refused(TaskKind::RatingPrediction, sample, c, "u1..u5"));
    c.fold = 6;
    QVERIFY_THROWS_EXCEPTION(ConfigError, c.validate());
}

void TestTraining::neumfPretrainingStartsFromGmfAndMlp()
{
    // Loaded from a GMF and an MLP, NeuMF's logit is alpha * GMF's + (1 - alpha) * MLP's.
    torch::manual_seed(11);
    NeuMFOptions o;
    o.numUsers = 30;
    o.numItems = 50;
    NeuMFOptions go = o, mo = o;
    go.branches = NcfBranches::GmfOnly;
    mo.branches = NcfBranches::MlpOnly;
    NeuMF gmf(go), mlp(mo), neumf(o);
    {
        torch::NoGradGuard noGrad;
        for (auto* m : {static_cast<torch::nn::Module*>(gmf.get()), static_cast<torch::nn::Module*>(mlp.get())})
            for (auto& p : m->parameters())
                p.normal_(0.0, 0.5);
    }
    neumf->loadPretrained(*gmf, *mlp, 0.3);
    {
        torch::NoGradGuard noGrad;
        const auto users = torch::randint(30, {200}, torch::kLong);
        const auto items = torch::randint(50, {200}, torch::kLong);
        const auto expected = 0.3 * gmf->predict(users, items) + 0.7 * mlp->predict(users, items);
        QVERIFY((neumf->predict(users, items) - expected).abs().max().item<float>() < 1e-5f);
    }

    // Through the trainer: GMF and MLP first, then NeuMF reports its own epochs only, and its
    // first epoch already starts from what the two learnt.
    auto ds = std::make_shared<const Dataset>(generateSampleDataset());
    std::map<std::string, int> lastEpochOfPhase; // batch events by phase
    auto firstEpochHr = [&](const TrainConfig& config, int* epochs) {
        Trainer trainer(ds, config);
        double first = -1;
        lastEpochOfPhase.clear();
        trainer.setBatchCallback([&](const BatchProgress& p) { lastEpochOfPhase[p.phase] = p.epoch; });
        trainer.setEpochCallback([&](const EpochStats& e) {
            if (first < 0)
                first = metricOr(e.metrics, "hr@10", 0);
            ++*epochs;
        });
        const RunOutcome outcome = trainer.fit();
        return outcome.status == RunStatus::Finished ? first : -1.0;
    };
    TrainConfig c = quick("neumf", 5);
    c.pretrain = false;
    int plainEpochs = 0, pretrainedEpochs = 0;
    const double plain = firstEpochHr(c, &plainEpochs);
    QCOMPARE(lastEpochOfPhase.size(), size_t(1));
    c.pretrain = true;
    const double pretrained = firstEpochHr(c, &pretrainedEpochs);
    // The pre-training phases report their batches, tagged, each through all its epochs.
    QCOMPARE(lastEpochOfPhase, (std::map<std::string, int>{{"", 5}, {"gmf", 5}, {"mlp", 5}}));
    qInfo("sample: NeuMF HR@10 after its first epoch %.4f plain, %.4f pre-trained (5 epochs of GMF and MLP)", plain,
          pretrained);
    QCOMPARE(plainEpochs, 5);
    QCOMPARE(pretrainedEpochs, 5);
    QVERIFY2(pretrained > plain + 0.05, qPrintable(QStringLiteral("%1 vs %2").arg(pretrained).arg(plain)));
    c.model = "gmf";
    QVERIFY_THROWS_EXCEPTION(ConfigError, checkConfig(c));
}

void TestTraining::ncfL2PenalisesBatchEmbeddings()
{
    torch::manual_seed(2);
    NeuMFOptions o;
    o.numUsers = 6;
    o.numItems = 9;
    o.gmfFactors = 4;
    o.mlpLayers = {6, 4};
    NeuMF plain(o);
    o.l2 = 0.3;
    NeuMF penalised(o);
    {
        torch::NoGradGuard noGrad;
        const auto from = plain->parameters();
        auto to = penalised->parameters();
        for (size_t k = 0; k < to.size(); ++k)
            to[k].copy_(from[k]);
    }
    Batch b;
    b.users = torch::tensor({0, 3, 3}, torch::kLong);
    b.items = torch::tensor({1, 1, 8}, torch::kLong);
    b.labels = torch::tensor({1.f, 0.f, 1.f});
    // 0.3 * (mean over rows of |p_u|^2 + |q_i|^2), for the GMF and the MLP embeddings.
    auto params = plain->named_parameters();
    double expected = 0;
    for (const char* table : {"user_gmf.weight", "user_mlp.weight"})
        expected += params[table].index_select(0, b.users).pow(2).sum(1).mean().item<double>();
    for (const char* table : {"item_gmf.weight", "item_mlp.weight"})
        expected += params[table].index_select(0, b.items).pow(2).sum(1).mean().item<double>();
    const double penalty = (penalised->calculateLoss(b) - plain->calculateLoss(b)).item<double>();
    QVERIFY2(std::abs(penalty - 0.3 * expected) < 1e-6, qPrintable(QStringLiteral("%1 vs %2").arg(penalty).arg(0.3 * expected)));
}

void TestTraining::userCfPredictsRatingsByHand()
{
    // u0: i0 5, i1 3;  u1: i0 4, i1 2, i2 5;  u2: i0 1, i1 5, i2 2. Means 4, 11/3, 8/3.
    // Pearson (centred on each user's mean): s(u0,u1) = 2 / (sqrt 2 sqrt(14/3)) = 0.6547,
    // s(u0,u2) = -0.9608, s(u1,u2) = -0.8386.
    InteractionTable t;
    const float r[3][3] = {{5, 3, 0}, {4, 2, 5}, {1, 5, 2}};
    for (int u = 0; u < 3; ++u)
        for (int i = 0; i < 3; ++i)
            if (r[u][i] > 0)
                t.append(u, i, r[u][i], 0);
    NeighbourhoodOptions o;
    o.kind = NeighbourhoodOptions::UserBased;
    o.similarity = NeighbourhoodOptions::Pearson;
    o.numUsers = 3;
    o.numItems = 3;
    o.neighbours = 40;
    o.ratings = true;
    Neighbourhood cf(t, o);
    QVERIFY(std::abs(cf->similarities()[0][1].item<float>() - 0.65465f) < 1e-4f);
    const auto p = cf->predict(torch::tensor({0, 0, 2}, torch::kLong), torch::tensor({2, 1, 0}, torch::kLong));
    // (u0, i2): only u1 rated it with a positive similarity: 4 + (5 - 11/3).
    QVERIFY(std::abs(p[0].item<float>() - (4.f + 5.f - 11.f / 3)) < 1e-4f);
    // (u0, i1): u1 and u2 rated it, u2's similarity is negative and left out: 4 + (2 - 11/3).
    QVERIFY(std::abs(p[1].item<float>() - (4.f + 2.f - 11.f / 3)) < 1e-4f);
    // (u2, i0): every neighbour is negative: u2's own mean.
    QVERIFY(std::abs(p[2].item<float>() - 8.f / 3) < 1e-4f);
    // k = 1 keeps the single most similar rater only; with two positive raters the weights matter.
    o.neighbours = 1;
    Neighbourhood one(t, o);
    QVERIFY(std::abs(one->predict(torch::tensor({0}, torch::kLong), torch::tensor({1}, torch::kLong)).item<float>() -
                     (4.f + 2.f - 11.f / 3)) < 1e-4f);
    // Item-based on the same ratings, item means 10/3, 10/3, 7/2: (u0, i2) from i0 and i1,
    // the items u0 rated, weighted by their positive similarity to i2.
    o.kind = NeighbourhoodOptions::ItemBased;
    o.neighbours = 40;
    Neighbourhood items(t, o);
    {
        const auto s = items->similarities();
        const float s0 = std::max(0.f, s[2][0].item<float>()), s1 = std::max(0.f, s[2][1].item<float>());
        const float expected = s0 + s1 > 0 ? 3.5f + (s0 * (5 - 10.f / 3) + s1 * (3 - 10.f / 3)) / (s0 + s1) : 3.5f;
        QVERIFY(std::abs(items->predict(torch::tensor({0}, torch::kLong), torch::tensor({2}, torch::kLong)).item<float>() -
                         expected) < 1e-4f);
    }
    // Registered as a rating model that the folds protocol accepts.
    QCOMPARE(findModel("usercf")->task, TaskKind::RatingPrediction);
    QCOMPARE(defaultConfigFor("usercf").similarity, std::string("pearson"));

    // On ml-100k's u1 fold: between Surprise's KNNWithMeans (0.951 averaged over the folds)
    // and biased MF.
    RECLAB_REQUIRE_ML100K();
    auto ds = std::make_shared<const Dataset>(loadDataset(test::ml100kDir().toStdString()));
    TrainConfig c = defaultConfigFor("usercf");
    c.protocol = "folds";
    Trainer trainer(ds, c);
    const RunOutcome outcome = trainer.fit();
    QCOMPARE(outcome.status, RunStatus::Finished);
    const double rmse = metricOr(outcome.finalMetrics, "rmse", 0);
    qInfo("usercf on u1: RMSE %.4f", rmse);
    QVERIFY2(rmse > 0.92 && rmse < 0.96, qPrintable(QString::number(rmse)));

    // Item-based alike: the k items most similar to the target among those the user rated,
    // centred on item means.
    c = defaultConfigFor("itemcf");
    c.protocol = "folds";
    Trainer itemTrainer(ds, c);
    const double itemRmse = metricOr(itemTrainer.fit().finalMetrics, "rmse", 0);
    qInfo("itemcf on u1: RMSE %.4f", itemRmse);
    QVERIFY2(itemRmse > 0.9 && itemRmse < 0.97, qPrintable(QString::number(itemRmse)));
}

// Too large for dense matrices: the refusal names the model the user chose (usercf named
// userknn before) and what to use instead.
void TestTraining::denseMatrixRefusalNamesTheModel()
{
    const InteractionTable none;
    for (const auto& [kind, ratings, name, instead] :
         {std::tuple{NeighbourhoodOptions::UserBased, true, "usercf", "use mf"},
          std::tuple{NeighbourhoodOptions::ItemBased, true, "itemcf", "use mf"},
          std::tuple{NeighbourhoodOptions::UserBased, false, "userknn", "use bpr or gmf"}}) {
        NeighbourhoodOptions o;
        o.kind = kind;
        o.ratings = ratings;
        o.numUsers = 162541; // ML-25M
        o.numItems = 59047;
        try {
            NeighbourhoodImpl model(none, o);
            QFAIL("dense matrices of ML-25M were not refused");
        } catch (const ConfigError& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(QString(name) + " keeps dense matrices") && message.contains(instead), e.what());
        }
    }
}

QTEST_APPLESS_MAIN(TestTraining)
#include "test_training.moc"
