// The next-item output: its shape rule and problems, its cross-entropy over all items against
// the formula computed by hand (a state per position, and one per window), the common
// protocol's training windows (every training interaction but a user's first a target exactly
// once, after exactly its history), candidate scoring against shared-history scoring and the
// formula, and the GRU4Rec template's TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "graph/GraphTemplates.h"
#include "inspection/Recommendations.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"
#include "train/TrainingTask.h"
#include "util/Random.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

#include <functional>
#include <map>
#include <set>

using namespace reclab;
using namespace reclab::checks;

class TestNextItem : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndProblems();
    void crossEntropyMatchesTheFormula();
    void windowsTargetEveryTrainingInteractionOnce();
    void candidatesMatchSharedScoring();
    void becauseYouJustWatched();
    void badInputIsRefusedOrCounted();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

// Each behaviour's vector (or their mean) predicts the next item against the same table.
GraphSpec bigramGraph(bool pooled = false, int64_t stateWidth = 8)
{
    const std::string pool = pooled ? R"({"id": "pool", "type": "mean_pool"},)" : "";
    const std::string widen = stateWidth != 8 ? R"({"id": "widen", "type": "linear", "params": {"units": )" +
                                                    std::to_string(stateWidth) + "}}," : "";
    std::string edges = R"({"from": "history.out", "to": "behaviours.ids"})";
    std::string last = "behaviours";
    for (const std::string& step : {pooled ? std::string("pool") : "", stateWidth != 8 ? std::string("widen") : ""})
        if (!step.empty()) {
            edges += R"(, {"from": ")" + last + R"(.out", "to": ")" + step + R"(.in"})";
            last = step;
        }
    edges += R"(, {"from": ")" + last + R"(.out", "to": "next.state"})";
    return GraphSpec::parse(R"({"version": 1, "name": "bigram", "nodes": [
        {"id": "history", "type": "history"},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 8, "table": "items", "init_std": 0.5}}, )" +
                            pool + widen + R"(
        {"id": "next", "type": "next_item_output"}], "edges": [)" + edges + "]}");
}


} // namespace

void TestNextItem::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestNextItem::shapeAndProblems()
{
    const GraphContext sizes = graphContextOf(*sample_);
    const GraphAnalysis ok = analyseGraph(bigramGraph(), sizes);
    QVERIFY2(ok.ok(), ok.report().c_str());
    QVERIFY(ok.nextItems);
    QCOMPARE(ok.task, TaskKind::ClickThrough);
    QVERIFY(abilitiesOf(defaultConfigFor("gru4rec")).nextItems);
    QVERIFY(!abilitiesOf(defaultConfigFor("din")).nextItems);
    // A state of another width than the item vectors: the fix is named.
    const GraphAnalysis wide = analyseGraph(bigramGraph(false, 12), sizes);
    QVERIFY(!wide.ok());
    QVERIFY2(wide.report().find("is B×L×12 but the item vectors of 'items' have 8 entries (add a Linear to that width)") !=
                 std::string::npos,
             wide.report().c_str());
    // A table no item embedding uses, and a graph without the behaviour sequence.
    GraphSpec other = bigramGraph();
    other.nodes.back().params["table"] = "genres";
    const GraphAnalysis noTable = analyseGraph(other, sizes);
    QVERIFY2(noTable.report().find("no Embedding block of item ids uses table 'genres'") != std::string::npos,
             noTable.report().c_str());
    const GraphAnalysis noHistory = analyseGraph(GraphSpec::parse(R"({"version": 1, "name": "flat", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "e", "type": "embedding", "params": {"dim": 4, "table": "items"}},
        {"id": "next", "type": "next_item_output"}],
      "edges": [{"from": "item.out", "to": "e.ids"}, {"from": "e.out", "to": "next.state"}]})"), sizes);
    QVERIFY2(noHistory.report().find("the graph reads none (add a Behaviour sequence input)") != std::string::npos,
             noHistory.report().c_str());
}

void TestNextItem::crossEntropyMatchesTheFormula()
{
    const int64_t n = 5, L = 6;
    for (const bool pooled : {false, true}) {
        auto model = compiledForHistory(*sample_, bigramGraph(pooled), 7);
        torch::NoGradGuard noGrad;
        const int64_t items = model->data().numItems;
        const auto table = model->named_parameters()["items.weight"].to(torch::kDouble);
        const auto lengths = torch::tensor({1, 2, 6, 3, 5}, torch::kLong);
        const auto valid = torch::arange(L).unsqueeze(0) < lengths.unsqueeze(1);
        Batch b;
        b.users = torch::zeros({n}, torch::kLong);
        b.history = torch::where(valid, torch::randint(items, {n, L}, torch::kLong), torch::full({n, L}, items, torch::kLong));
        b.historyLength = lengths;
        b.targets = torch::where(valid, torch::randint(items, {n, L}, torch::kLong), torch::full({n, L}, -1, torch::kLong));
        const double loss = model->calculateLoss(b).item<double>();
        // −log softmax(E h)[target], averaged over the positions with a target (pooled: the
        // mean of the window's behaviours predicts the item after its last one).
        // Each position with a target: its row, place and state h.
        const auto eachTarget = [&](const std::function<void(int64_t, int64_t, const torch::Tensor&)>& f) {
            for (int64_t row = 0; row < n; ++row) {
                const int64_t len = lengths[row].item<int64_t>();
                const auto rows = table.index_select(0, b.history[row].narrow(0, 0, len));
                for (int64_t t = pooled ? len - 1 : 0; t < len; ++t)
                    f(row, t, pooled ? rows.mean(0) : rows[t]);
            }
        };
        double sum = 0;
        int64_t count = 0;
        eachTarget([&](int64_t row, int64_t t, const torch::Tensor& h) {
            const auto logits = table.matmul(h);
            sum += (torch::logsumexp(logits, 0) - logits[b.targets[row][t].item<int64_t>()]).item<double>();
            ++count;
        });
        QVERIFY2(std::abs(loss - sum / static_cast<double>(count)) < 1e-5,
                 qPrintable(QString("pooled %1: loss %2, by hand %3").arg(pooled).arg(loss).arg(sum / static_cast<double>(count))));

        // Label smoothing ε: (1 − ε)·(−log p_target) + ε·mean over every item of −log p.
        const double epsilon = 0.2;
        model->setLabelSmoothing(epsilon);
        const double smoothed = model->calculateLoss(b).item<double>();
        model->setLabelSmoothing(0.0);
        sum = 0;
        eachTarget([&](int64_t row, int64_t t, const torch::Tensor& h) {
            const auto logits = table.matmul(h);
            const double lse = torch::logsumexp(logits, 0).item<double>();
            sum += (1 - epsilon) * (lse - logits[b.targets[row][t].item<int64_t>()].item<double>()) +
                   epsilon * (lse - logits.mean().item<double>());
        });
        QVERIFY2(std::abs(smoothed - sum / static_cast<double>(count)) < 1e-5 && std::abs(smoothed - loss) > 1e-3,
                 qPrintable(QString("pooled %1, smoothed: loss %2, by hand %3").arg(pooled).arg(smoothed).arg(sum / static_cast<double>(count))));

        // Sampled negatives beside each target (--loss bce, bpr): the same positions, each target
        // against its own k items. BCE: −log σ(h·e⁺) − Σ log(1 − σ(h·e⁻)); BPR: −log σ(h·e⁺ − h·e⁻)
        // averaged over every (target, negative) pair.
        for (const char* kind : {"bce", "bpr"}) {
            const int64_t k = std::string(kind) == "bpr" ? 1 : 3;
            Batch sampled = b;
            sampled.negativeTargets = torch::randint(items, {n, L, k}, torch::kLong);
            model->setSampledLoss(kind);
            sum = 0;
            count = 0;
            eachTarget([&](int64_t row, int64_t t, const torch::Tensor& h) {
                const double positive = h.dot(table[b.targets[row][t].item<int64_t>()]).item<double>();
                double bce = std::log1p(std::exp(-positive));
                for (int64_t j = 0; j < k; ++j) {
                    const double negative = h.dot(table[sampled.negativeTargets[row][t][j].item<int64_t>()]).item<double>();
                    sum += std::string(kind) == "bpr" ? std::log1p(std::exp(negative - positive)) : 0.0;
                    bce += std::log1p(std::exp(negative));
                }
                sum += std::string(kind) == "bce" ? bce : 0.0;
                count += std::string(kind) == "bpr" ? k : 1;
            });
            const double got = model->calculateLoss(sampled).item<double>(), expected = sum / static_cast<double>(count);
            QVERIFY2(std::abs(got - expected) < 1e-5,
                     qPrintable(QString("pooled %1, %2: loss %3, by hand %4").arg(pooled).arg(kind).arg(got).arg(expected)));
        }
    }
}

void TestNextItem::windowsTargetEveryTrainingInteractionOnce()
{
    TrainConfig c = defaultConfigFor("gru4rec");
    c.historyLength = 7; // several windows per user
    const auto task = TrainingTask::create(taskOf(c), *sample_, c);
    Random rng(3);
    const EpochData epoch = task->sampleEpoch(rng, InputType::Pointwise);
    QVERIFY(epoch.targets.defined() && !epoch.items.defined());
    QCOMPARE(epoch.history.size(1), int64_t(7));
    // Every target follows its history within the window, and the history's length bounds it.
    std::map<std::pair<int64_t, int64_t>, int> targets; // (user, item) -> times a target
    for (int64_t k = 0; k < epoch.users.size(0); ++k) {
        const int64_t len = epoch.historyLength[k].item<int64_t>();
        QVERIFY(len >= 1 && len <= 7);
        for (int64_t j = 0; j < 7; ++j) {
            const int64_t t = epoch.targets[k][j].item<int64_t>();
            QCOMPARE(t >= 0, j < len);
            if (j + 1 < len)
                QCOMPARE(t, epoch.history[k][j + 1].item<int64_t>());
            if (t >= 0)
                ++targets[{epoch.users[k].item<int64_t>(), t}];
        }
    }
    // The training interactions of the common split, each user's first left out: each once.
    const auto& split = dynamic_cast<const CommonTask&>(*task).split().train;
    std::map<std::pair<int64_t, int64_t>, int> expected;
    for (size_t r = 0; r < split.size(); ++r)
        if (r > 0 && split.user[r] == split.user[r - 1])
            ++expected[{split.user[r], split.item[r]}];
    QCOMPARE(targets.size(), expected.size());
    QVERIFY(targets == expected);

    // With --loss bce, k items the user never consumed sit beside each target, none elsewhere.
    c.loss = "bce";
    c.negatives = 2;
    const EpochData sampled = TrainingTask::create(taskOf(c), *sample_, c)->sampleEpoch(rng, InputType::Pointwise);
    QCOMPARE(sampled.negativeTargets.sizes(), (c10::IntArrayRef{sampled.targets.size(0), 7, 2}));
    QVERIFY(((sampled.negativeTargets >= 0) == (sampled.targets >= 0).unsqueeze(2)).all().item<bool>());
    std::set<std::pair<int64_t, int64_t>> consumed;
    for (size_t r = 0; r < sample_->interactions.size(); ++r)
        consumed.insert({sample_->interactions.user[r], sample_->interactions.item[r]});
    const auto negatives = sampled.negativeTargets.reshape({sampled.targets.size(0), -1});
    for (int64_t k = 0; k < negatives.size(0); ++k)
        for (int64_t j = 0; j < negatives.size(1); ++j)
            if (const int64_t item = negatives[k][j].item<int64_t>(); item >= 0)
                QVERIFY(!consumed.count({sampled.users[k].item<int64_t>(), item}));

    // Caser keeps one state per history: a row per target, its history the up to 7 training
    // interactions just before it, every target once.
    TrainConfig caser = defaultConfigFor("caser");
    caser.historyLength = 7;
    const auto perRow = TrainingTask::create(taskOf(caser), *sample_, caser);
    const EpochData rows = perRow->sampleEpoch(rng, InputType::Pointwise);
    QCOMPARE(rows.targets.size(1), int64_t(1));
    std::map<std::pair<int64_t, int64_t>, int> seen;
    std::map<int64_t, std::vector<int64_t>> sequences; // each user's training items in time order
    for (size_t r = 0; r < split.size(); ++r)
        sequences[split.user[r]].push_back(split.item[r]);
    for (int64_t k = 0; k < rows.users.size(0); ++k) {
        const int64_t user = rows.users[k].item<int64_t>(), len = rows.historyLength[k].item<int64_t>();
        const int64_t target = rows.targets[k][0].item<int64_t>();
        ++seen[{user, target}];
        // The history is the items just before some occurrence of the target in the sequence.
        const auto& seq = sequences[user];
        bool found = false;
        for (size_t at = 1; at < seq.size() && !found; ++at) {
            if (seq[at] != target || static_cast<int64_t>(std::min<size_t>(at, 7)) != len)
                continue;
            found = true;
            for (int64_t j = 0; j < len; ++j)
                found = found && rows.history[k][j].item<int64_t>() == seq[at - static_cast<size_t>(len) + static_cast<size_t>(j)];
        }
        QVERIFY2(found, qPrintable(QString("row %1: the history is not the items before its target").arg(k)));
    }
    QVERIFY(seen == expected);
}

void TestNextItem::candidatesMatchSharedScoring()
{
    TrainConfig c = defaultConfigFor("gru4rec");
    auto model = compiledForHistory(*sample_, graphFor(c), 7);
    torch::NoGradGuard noGrad;
    const int64_t items = model->data().numItems, L = 10, n = 30;
    QVERIFY(model->sharesHistory());
    const auto table = model->named_parameters()["items.weight"];
    for (const int64_t length : {int64_t(0), int64_t(1), int64_t(4), L}) {
        const auto history = torch::randperm(items, torch::kLong).narrow(0, 0, length);
        const auto candidates = torch::randperm(items, torch::kLong).narrow(0, 0, n);
        Batch b;
        b.users = torch::zeros({n}, torch::kLong);
        b.items = candidates;
        b.history = torch::cat({history, torch::full({L - length}, items, torch::kLong)}).unsqueeze(0).expand({n, L});
        b.historyLength = torch::full({n}, length, torch::kLong);
        const auto scores = model->predictBatch(b);
        QVERIFY2(torch::isfinite(scores).all().item<bool>(), qPrintable(QString("%1 behaviours").arg(length)));
        QVERIFY2(maxDiff(model->scoreHistory(0, history, candidates), scores) < 1e-5,
                 qPrintable(QString("%1 behaviours: shared scoring differs").arg(length)));
        if (length == 0)
            QVERIFY(maxDiff(scores, torch::zeros_like(scores)) == 0); // no state: every candidate 0
    }
}

void TestNextItem::becauseYouJustWatched()
{
    // A GRU4Rec's recommendations explained by leave-one-out over the latest 10 behaviours: each
    // "because" item is one of them, its value the score with the whole history less the score
    // without it (scored apart here), the largest such drops in order.
    TrainConfig c = defaultConfigFor("gru4rec");
    c.historyLength = 12;
    auto model = compiledForHistory(*sample_, graphFor(c), 11);
    const InteractionIndex index(*sample_);
    QCOMPARE(std::string(becauseMeasure(*model, *sample_)), std::string("score drop without the behaviour"));
    RecommendOptions o;
    o.k = 5;
    o.historyLength = 12;
    for (const int32_t user : {0, 7}) {
        const std::vector<int32_t> history = userHistory(index, user, 12);
        QVERIFY(history.size() > 10);
        const std::vector<int32_t> recent(history.end() - 10, history.end());
        const auto recs = recommend(*model, index, user, o);
        QCOMPARE(recs.size(), size_t(5));
        int explained = 0;
        for (const Recommendation& r : recs) {
            torch::NoGradGuard noGrad;
            const auto item = torch::tensor({static_cast<int64_t>(r.item)}, torch::kLong);
            const double whole = model->scoreWithHistory(user, history, item, 12).item<double>();
            std::vector<double> drops;
            for (size_t j = 0; j < recent.size(); ++j) {
                std::vector<int32_t> without = history;
                without.erase(without.begin() + static_cast<std::ptrdiff_t>(history.size() - 10 + j));
                drops.push_back(whole - model->scoreWithHistory(user, without, item, 12).item<double>());
            }
            std::vector<double> sorted = drops;
            std::sort(sorted.rbegin(), sorted.rend());
            for (size_t k = 0; k < r.because.size(); ++k) {
                const auto at = std::find(recent.begin(), recent.end(), r.because[k].first);
                QVERIFY2(at != recent.end(), "a because item is not among the latest 10 behaviours");
                QVERIFY(std::abs(r.because[k].second - drops[static_cast<size_t>(at - recent.begin())]) < 1e-4);
                QVERIFY(std::abs(r.because[k].second - sorted[k]) < 1e-4);
                QVERIFY(r.because[k].second > 0);
            }
            explained += !r.because.empty();
        }
        QVERIFY(explained > 0);
    }
}

void TestNextItem::badInputIsRefusedOrCounted()
{
    const TrainConfig gru = defaultConfigFor("gru4rec");
    // Without times there is no order to read: refused, naming why.
    Dataset untimed = *sample_;
    std::fill(untimed.interactions.timestamp.begin(), untimed.interactions.timestamp.end(), int64_t(0));
    try {
        TrainingTask::create(taskOf(gru), untimed, gru);
        QFAIL("data without times was accepted");
    } catch (const DataError& e) {
        QVERIFY2(std::string(e.what()).find("behaviours in time order") != std::string::npos, e.what());
    }
    // Users whose training part is a single interaction (1, 2 or 3 in all: the latest two are
    // held out) have nothing to predict it from: left out of the windows, with a count.
    Dataset shortUsers = *sample_;
    for (int32_t count = 1; count <= 3; ++count) {
        const auto user = static_cast<int32_t>(shortUsers.userIds.size());
        shortUsers.userIds.push_back("short" + std::to_string(count));
        for (int32_t k = 0; k < count; ++k)
            shortUsers.interactions.append(user, k, 4.f, 1000 + k);
    }
    const auto task = TrainingTask::create(taskOf(gru), shortUsers, gru);
    const auto notes = task->notes();
    QCOMPARE(notes.size(), size_t(1));
    QVERIFY2(notes[0].rfind("3 users have one training interaction", 0) == 0, notes[0].c_str());
    Random rng(4);
    const EpochData epoch = task->sampleEpoch(rng, InputType::Pointwise);
    QVERIFY(epoch.users.size(0) > 0);
    QVERIFY((epoch.users < sample_->numUsers()).all().item<bool>());
    QVERIFY(TrainingTask::create(taskOf(gru), *sample_, gru)->notes().empty());
    // A run says so: the note reaches the caller and stays in the stored run's notes.
    QTemporaryDir dir;
    TrainConfig brief = gru;
    brief.epochs = 1;
    brief.historyLength = 6;
    TrainingSession session(std::make_shared<const Dataset>(shortUsers), brief, dir.filePath("runs.db").toStdString());
    std::vector<std::string> told;
    session.setNoteCallback([&](const std::string& note) { told.push_back(note); });
    QCOMPARE(session.run().status, RunStatus::Finished);
    QVERIFY(told == notes);
    QCOMPARE(ExperimentStore(dir.filePath("runs.db").toStdString()).findRun(session.runId())->notes, notes[0]);
    // A window too long for one batch's activations to fit is refused before anything starts.
    GraphContext sizes = graphContextOf(*sample_);
    sizes.memoryBytes = 8.0 * (1 << 30);
    sizes.batchSize = 256;
    for (const int64_t length : {int64_t(50), int64_t(10000)}) {
        sizes.historyLength = length;
        const GraphAnalysis a = analyseGraph(graphFor(defaultConfigFor("sasrec")), sizes);
        QCOMPARE(a.ok(), length == 50);
        if (!a.ok())
            QVERIFY2(a.report().find("of activations to train") != std::string::npos &&
                         a.report().find("--max-length") != std::string::npos, a.report().c_str());
    }
}

void TestNextItem::torchScriptLoadsInPython()
{
    const GraphSpec graph = graphFor(defaultConfigFor("gru4rec"));
    auto [model, batch] = trainedBriefly(*sample_, graph);
    checkTorchScriptInPython(*model, batch, QStringLiteral("gru4rec"));
}

QTEST_APPLESS_MAIN(TestNextItem)
#include "test_next_item.moc"
