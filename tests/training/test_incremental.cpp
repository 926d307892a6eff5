// Side fields and new items over time: the categorical profile codes of ml-100k's users and
// items against its files, the profile blocks' scores against their tables read by hand (batch
// and all-item scoring), the "Deep CF with profiles" template training, reloading and run as
// TorchScript in Python, tables that grow with new users and items (old rows kept), and the
// day-by-day replay on the sample.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "compiled/GraphExport.h"
#include "compiled/GraphModule.h"
#include "data/DatasetSource.h"
#include "data/Preparation.h"
#include "data/ProfileFields.h"
#include "data/SampleGenerator.h"
#include "graph/GraphTemplates.h"
#include "runs/Metrics.h"
#include "train/Replay.h"
#include "train/Trainer.h"
#include "util/Error.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"

#include <QTemporaryDir>
#include <QtTest>

#include "TestData.h"
#include "graph/GraphChecks.h"

#include <set>

using namespace reclab;

class TestIncremental : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { torch::set_num_threads(2); }
    void profileCodesOfMl100k();
    void profileBlocksReadTheirCodes();
    void profilesTemplateTrainsAndReloads();
    void cutsKeepTheirNumbers();
    void tablesGrowWithOldRowsKept();
    void replayUpdatesDayByDay();
    void continuedRunStartsFromStoredWeights();
};

namespace {

ModelShape shapeOf(const Dataset& d) { return modelShapeOf(d); }

// The rows before the q-quantile of the timestamps.
std::vector<char> beforeQuantile(const Dataset& d, double q)
{
    std::vector<int64_t> t(d.interactions.timestamp.begin(), d.interactions.timestamp.end());
    const auto at = t.begin() + static_cast<long>(q * double(t.size()));
    std::nth_element(t.begin(), at, t.end());
    std::vector<char> keep(t.size());
    for (size_t r = 0; r < keep.size(); ++r)
        keep[r] = d.interactions.timestamp[r] < *at;
    return keep;
}

std::string labelOf(const Dataset& d, ProfileField f, size_t index)
{
    const FieldCodes codes = profileCodes(d, f);
    return codes.labels[static_cast<size_t>(codes.code[index])];
}

} // namespace

void TestIncremental::profileCodesOfMl100k()
{
    RECLAB_REQUIRE_ML100K();
    const Dataset d = loadDataset(test::ml100kDir().toStdString());
    // u.user: "1|24|M|technician|85711", "2|53|F|other|94043"; u.item: Toy Story (1995).
    const auto user = [&](const char* raw) {
        return static_cast<size_t>(std::find(d.userIds.begin(), d.userIds.end(), raw) - d.userIds.begin());
    };
    QCOMPARE(labelOf(d, ProfileField::Gender, user("1")), std::string("M"));
    QCOMPARE(labelOf(d, ProfileField::Age, user("1")), std::string("18-24"));
    QCOMPARE(labelOf(d, ProfileField::Occupation, user("1")), std::string("technician"));
    QCOMPARE(labelOf(d, ProfileField::ZipRegion, user("1")), std::string("8"));
    QCOMPARE(labelOf(d, ProfileField::Age, user("2")), std::string("50-55"));
    QCOMPARE(labelOf(d, ProfileField::ZipRegion, user("2")), std::string("9"));
    const auto toy = static_cast<size_t>(std::find(d.itemIds.begin(), d.itemIds.end(), "1") - d.itemIds.begin());
    QCOMPARE(labelOf(d, ProfileField::Year, toy), std::string("1995"));
    QCOMPARE(labelOf(d, ProfileField::Decade, toy), std::string("1990s"));
    // 670 men and 273 women; 21 occupations; age groups in their order, not alphabetical.
    const FieldCodes gender = profileCodes(d, ProfileField::Gender);
    QCOMPARE(gender.labels, (std::vector<std::string>{"unknown", "F", "M"}));
    QCOMPARE(std::count(gender.code.begin(), gender.code.end(), 1), 273);
    QCOMPARE(std::count(gender.code.begin(), gender.code.end(), 2), 670);
    QCOMPARE(profileCodes(d, ProfileField::Occupation).labels.size(), size_t{22});
    QCOMPARE(profileCodes(d, ProfileField::Age).labels.at(1), std::string("under 18"));
    // Canadian postal codes ("T8H1N") are a region of their own, counted by hand here.
    const FieldCodes zip = profileCodes(d, ProfileField::ZipRegion);
    const auto other = std::find(zip.labels.begin(), zip.labels.end(), "other") - zip.labels.begin();
    const auto letters = std::count_if(d.users.zip.begin(), d.users.zip.end(),
                                       [](const std::string& z) { return !z.empty() && !std::isdigit(z[0]); });
    QVERIFY(letters > 0);
    QCOMPARE(std::count(zip.code.begin(), zip.code.end(), static_cast<int32_t>(other)), letters);
    // The analysis knows the sizes; data without a field refuses the block naming it.
    const GraphContext sizes = graphContextOf(d);
    QCOMPARE(sizes.fieldSizes[static_cast<size_t>(ProfileField::Occupation)], int64_t{22});
    Dataset bare = d;
    bare.users = {};
    const GraphAnalysis refused = analyseGraph(graphTemplate("profiles"), graphContextOf(bare));
    QVERIFY(!refused.ok());
    QVERIFY2(QString::fromStdString(refused.report()).contains("the dataset has none of the users' genders"),
             refused.report().c_str());
}

void TestIncremental::profileBlocksReadTheirCodes()
{
    const Dataset d = generateSampleDataset();
    const GraphSpec g = GraphSpec::parse(R"({"version": 1, "name": "fields", "nodes": [
        {"id": "job", "type": "user_profile", "params": {"field": "occupation"}},
        {"id": "zip", "type": "user_profile", "params": {"field": "zip_region"}},
        {"id": "decade", "type": "item_field", "params": {"field": "decade"}},
        {"id": "ej", "type": "embedding", "params": {"dim": 4, "init_std": 0.5}},
        {"id": "ez", "type": "embedding", "params": {"dim": 4, "init_std": 0.5}},
        {"id": "ed", "type": "embedding", "params": {"dim": 4, "init_std": 0.5}},
        {"id": "u", "type": "add"}, {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [{"from": "job.out", "to": "ej.ids"}, {"from": "zip.out", "to": "ez.ids"},
        {"from": "decade.out", "to": "ed.ids"}, {"from": "ej.out", "to": "u.a"}, {"from": "ez.out", "to": "u.b"},
        {"from": "u.out", "to": "dot.a"}, {"from": "ed.out", "to": "dot.b"}, {"from": "dot.out", "to": "click.logit"}]})");
    TrainConfig c;
    torch::manual_seed(3);
    auto model = std::dynamic_pointer_cast<GraphModelImpl>(compileGraph(g, shapeOf(d), c));
    QVERIFY(model);
    model->eval();
    const FieldCodes job = profileCodes(d, ProfileField::Occupation);
    const FieldCodes zip = profileCodes(d, ProfileField::ZipRegion);
    const FieldCodes decade = profileCodes(d, ProfileField::Decade);
    QVERIFY(job.labels.size() > 5 && zip.labels.size() > 5 && decade.labels.size() > 2);
    const auto params = model->named_parameters();
    const torch::Tensor ej = params["ej.weight"], ez = params["ez.weight"], ed = params["ed.weight"];
    QCOMPARE(ej.size(0), static_cast<int64_t>(job.labels.size()));
    QCOMPARE(ed.size(0), static_cast<int64_t>(decade.labels.size()));
    torch::NoGradGuard noGrad;
    const torch::Tensor users = torch::arange(0, 40, torch::kLong);
    const torch::Tensor all = model->fullSortPredict(users);
    for (int64_t u : {0, 7, 39})
        for (int64_t i : {0, 3, 11, d.numItems() - 1}) {
            const torch::Tensor byHand = (ej[job.code[size_t(u)]] + ez[zip.code[size_t(u)]]).dot(ed[decade.code[size_t(i)]]);
            const torch::Tensor batch = model->predict(torch::tensor({u}), torch::tensor({i}));
            QVERIFY(std::abs(batch.item<float>() - byHand.item<float>()) < 1e-5);
            QVERIFY(std::abs(all[u][i].item<float>() - byHand.item<float>()) < 1e-5);
        }
}

void TestIncremental::profilesTemplateTrainsAndReloads()
{
    auto d = std::make_shared<const Dataset>(generateSampleDataset());
    TrainConfig c = defaultConfigFor("profiles");
    c.epochs = 2;
    c.threads = 2;
    c.seed = 4;
    Trainer trainer(d, c);
    std::vector<double> losses;
    trainer.setEpochCallback([&](const EpochStats& s) { losses.push_back(s.loss); });
    const RunOutcome outcome = trainer.fit();
    QCOMPARE(outcome.status, RunStatus::Finished);
    QCOMPARE(losses.size(), size_t{2});
    QVERIFY(losses[1] < losses[0]);
    // Far above chance (10 of 100) on the sample.
    const double hr = metricOr(outcome.finalMetrics, "hr@10", 0);
    QVERIFY2(hr > 0.3, qPrintable(QString::number(hr)));
    // The profile codes travel with the trained graph: the reloaded one scores the same.
    auto model = std::dynamic_pointer_cast<GraphModelImpl>(trainer.model());
    QVERIFY(model);
    QTemporaryDir dir;
    saveTrainedGraph(*model, dir.path().toStdString());
    GraphModel again = loadTrainedGraph(dir.path().toStdString());
    torch::NoGradGuard noGrad;
    model->eval();
    const torch::Tensor users = torch::tensor({0, 5, 17, 90}, torch::kLong);
    const torch::Tensor items = torch::tensor({3, 8, 1, 40}, torch::kLong);
    QVERIFY(model->predict(users, items).allclose(again->predict(users, items)));
    QVERIFY(again->data().userFields.equal(model->data().userFields));
    // The same scores from its TorchScript export in Python (the codes are buffers of the module).
    const Batch batch{users, items, {}, {}, {}, {}, {}, {}};
    checks::checkTorchScriptInPython(*model, batch, QStringLiteral("profiles"));
}

void TestIncremental::cutsKeepTheirNumbers()
{
    const Dataset d = generateSampleDataset();
    const Dataset ordered = keepRows(d, std::vector<char>(d.interactions.size(), 1), true);
    QCOMPARE(ordered.numUsers(), d.numUsers());
    const Dataset cut = keepRows(ordered, beforeQuantile(ordered, 0.5), true);
    QVERIFY(cut.numUsers() < ordered.numUsers() && cut.numItems() < ordered.numItems());
    // Every user and item of the early cut has the same number (and raw id) in the whole.
    for (int32_t u = 0; u < cut.numUsers(); ++u)
        QCOMPARE(cut.userIds[size_t(u)], ordered.userIds[size_t(u)]);
    for (int32_t i = 0; i < cut.numItems(); ++i)
        QCOMPARE(cut.itemIds[size_t(i)], ordered.itemIds[size_t(i)]);
    // First use is in time order: user k's first interaction is no later than user k + 1's.
    std::vector<int64_t> first(size_t(ordered.numUsers()), INT64_MAX);
    for (size_t r = 0; r < ordered.interactions.size(); ++r)
        first[size_t(ordered.interactions.user[r])] = std::min(first[size_t(ordered.interactions.user[r])],
                                                                ordered.interactions.timestamp[r]);
    QVERIFY(std::is_sorted(first.begin(), first.end()));
}

void TestIncremental::tablesGrowWithOldRowsKept()
{
    const Dataset d = generateSampleDataset();
    const Dataset ordered = keepRows(d, std::vector<char>(d.interactions.size(), 1), true);
    const Dataset cut = keepRows(ordered, beforeQuantile(ordered, 0.05), true);
    QVERIFY(cut.numUsers() < ordered.numUsers() && cut.numItems() < ordered.numItems());
    for (const char* name : {"neumf", "bpr"}) {
        const TrainConfig c = defaultConfigFor(name);
        torch::manual_seed(1);
        auto old = createModel(*findModel(name), shapeOf(cut), c);
        torch::manual_seed(2);
        auto grown = createModel(*findModel(name), shapeOf(ordered), c);
        const auto freshParams = grown->named_parameters();
        std::map<std::string, torch::Tensor> fresh;
        for (const auto& p : freshParams)
            fresh[p.key()] = p.value().clone();
        growInto(*grown, *old);
        int grewTables = 0;
        for (const auto& p : grown->named_parameters()) {
            const torch::Tensor& before = old->named_parameters()[p.key()];
            QVERIFY(p.value().narrow(0, 0, before.size(0)).equal(before));
            if (p.value().size(0) > before.size(0)) {
                ++grewTables;
                const int64_t added = p.value().size(0) - before.size(0);
                QVERIFY(p.value().narrow(0, before.size(0), added).equal(fresh[p.key()].narrow(0, before.size(0), added)));
            }
        }
        QVERIFY2(grewTables >= 2, name); // user and item tables at least
        // A model of other sizes cannot grow into a smaller one.
        auto smaller = createModel(*findModel(name), shapeOf(cut), c);
        QVERIFY_THROWS_EXCEPTION(Error, growInto(*smaller, *grown));
    }
}

void TestIncremental::replayUpdatesDayByDay()
{
    // The sample's last days have a row or two; cut at 70% of its rows, where days are busy.
    const Dataset full = generateSampleDataset();
    const Dataset d = keepRows(full, beforeQuantile(full, 0.7));
    ReplayConfig r;
    r.train = defaultConfigFor("gmf");
    r.train.epochs = 2;
    r.train.threads = 2;
    r.days = 3;
    r.updateEpochs = 1;
    r.negatives = 50;
    std::vector<ReplayDay> seen;
    const ReplayResult result = replayDays(d, r, [&](const ReplayDay& day) { seen.push_back(day); });
    QCOMPARE(result.days.size(), size_t{3});
    QCOMPARE(seen.size(), size_t{3});
    // The last three calendar days with interactions, in order, their rows counted here.
    std::set<int64_t> days;
    for (const int64_t t : d.interactions.timestamp)
        days.insert(t / 86400);
    auto last = std::prev(days.end(), 3);
    int64_t before = 0;
    for (const int64_t t : d.interactions.timestamp)
        before += t / 86400 < *last;
    QCOMPARE(result.baseRows, before);
    for (const ReplayDay& day : result.days) {
        QCOMPARE(day.day, *last++);
        const auto rows = std::count_if(d.interactions.timestamp.begin(), d.interactions.timestamp.end(),
                                        [&](int64_t t) { return t / 86400 == day.day; });
        QCOMPARE(day.rows, static_cast<int64_t>(rows));
        QVERIFY(day.hrIncremental >= 0 && day.hrIncremental <= 1 && day.hrRetrained >= 0 && day.hrRetrained <= 1);
        QVERIFY(day.secondsIncremental > 0 && day.secondsRetrained > 0);
    }
    // Day one: both lines rank with the same first model.
    QCOMPARE(result.days[0].hrIncremental, result.days[0].hrRetrained);
    // Trained models rank well above chance (10 in 51, 0.196) on the sample's genre-driven choices.
    double hr = 0, rows = 0;
    for (const ReplayDay& day : result.days) {
        hr += day.hrIncremental * double(day.rows);
        rows += double(day.rows);
    }
    QVERIFY2(hr / rows > 0.3, qPrintable(QString::number(hr / rows)));

    // Refusals: counted models, rating models, data without timestamps or too few days.
    ReplayConfig pop = r;
    pop.train = defaultConfigFor("pop");
    QVERIFY_THROWS_EXCEPTION(ConfigError, replayDays(d, pop));
    ReplayConfig mf = r;
    mf.train = defaultConfigFor("mf");
    QVERIFY_THROWS_EXCEPTION(ConfigError, replayDays(d, mf));
    Dataset timeless = d;
    std::fill(timeless.interactions.timestamp.begin(), timeless.interactions.timestamp.end(), 0);
    QVERIFY_THROWS_EXCEPTION(ConfigError, replayDays(timeless, r));
    ReplayConfig tooMany = r;
    tooMany.days = static_cast<int>(days.size());
    QVERIFY_THROWS_EXCEPTION(ConfigError, replayDays(d, tooMany));
}

void TestIncremental::continuedRunStartsFromStoredWeights()
{
    // Earlier data numbered on its own (not a prefix of the new one's numbers): rows move by id.
    auto all = std::make_shared<const Dataset>(generateSampleDataset());
    auto early = std::make_shared<const Dataset>(keepRows(*all, beforeQuantile(*all, 0.5)));
    QVERIFY(early->numUsers() < all->numUsers());
    TrainConfig c = defaultConfigFor("gmf");
    c.threads = 2;
    c.epochs = 3;
    Trainer first(early, c);
    QCOMPARE(first.fit().status, RunStatus::Finished);
    const std::shared_ptr<const Recommender> stored = first.model();
    const RowMaps maps = rowMapsByIds(*early, *all);
    auto grown = createModel(*findModel("gmf"), shapeOf(*all), c);
    growInto(*grown, *stored, maps);
    int moved = 0;
    for (const auto& p : stored->named_parameters()) {
        const torch::Tensor& now = grown->named_parameters()[p.key()];
        const bool users = p.value().size(0) == early->numUsers(), items = p.value().size(0) == early->numItems();
        if (!users && !items) {
            QVERIFY(now.equal(p.value()));
            continue;
        }
        const std::vector<int64_t>& to = users ? maps.users : maps.items;
        for (size_t k = 0; k < to.size(); k += 37) {
            QVERIFY(to[k] >= 0);
            QCOMPARE((users ? all->userIds : all->itemIds)[size_t(to[k])], (users ? early->userIds : early->itemIds)[k]);
            QVERIFY(now[to[k]].equal(p.value()[int64_t(k)]));
        }
        ++moved;
    }
    QCOMPARE(moved, 2);
    // One epoch on all the data from the stored weights beats one epoch from scratch.
    c.epochs = 1;
    Trainer continued(all, c), scratch(all, c);
    continueFrom(continued, stored, *early, *all);
    const double fromStored = metricOr(continued.fit().finalMetrics, "hr@10", 0);
    const double fromScratch = metricOr(scratch.fit().finalMetrics, "hr@10", 0);
    QVERIFY2(fromStored > fromScratch, qPrintable(QString("%1 vs %2").arg(fromStored).arg(fromScratch)));
}

QTEST_GUILESS_MAIN(TestIncremental)
#include "test_incremental.moc"
