// Content and hybrid models on items no one has rated: the content model's scores against TF-IDF
// cosines computed here from the item's words, the cold protocol's task (warm-only training,
// cold rankings, its refusals and notes), and on the sample — whose titles' words follow their
// genres — the content and hybrid models ranking cold items well above an ID-only model.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "compiled/GraphModule.h"
#include "inspection/Recommendations.h"
#include "inspection/TextExplain.h"
#include "models/ContentModel.h"
#include "runs/Metrics.h"
#include "text/ItemText.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "util/Random.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"

#include <ATen/Parallel.h>

#include <QtTest>

#include <cmath>
#include <map>
#include <set>

using namespace reclab;

class TestContent : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void contentScoresAreCosines();
    void coldTaskTrainsOnWarmItemsOnly();
    void textModelsRankColdItems();
    void explanationsFromText();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

TrainConfig coldConfig(const std::string& model)
{
    TrainConfig c = defaultConfigFor(model);
    c.protocol = "cold";
    c.coldShare = 0.3;
    c.seed = 5;
    c.threads = 2;
    return c;
}

// An item's TF-IDF vector by the textbook formula, as word -> weight, length 1.
std::map<int32_t, double> tfidfOf(const ItemText& text, int32_t item)
{
    std::map<int32_t, double> tf;
    for (uint32_t k = text.start[size_t(item)]; k < text.start[size_t(item) + 1]; ++k)
        tf[text.token[k]] += 1;
    double norm = 0;
    for (auto& [w, n] : tf) {
        n = (1 + std::log(n)) * std::log(double(text.itemsWithText) / double(text.itemsWithWord[size_t(w)]));
        norm += n * n;
    }
    for (auto& [w, n] : tf)
        n /= norm > 0 ? std::sqrt(norm) : 1.0;
    return tf;
}

} // namespace

void TestContent::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestContent::contentScoresAreCosines()
{
    const TrainConfig c = coldConfig("content");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    const ModelShape shape = task->shape();
    ContentModel model(shape, c);
    TextOptions o;
    o.fields = parseTextFields(c.textFields);
    const ItemText text = buildItemText(*sample_, o);
    QVERIFY2(model->note().find(std::to_string(text.vocabulary.size()) + " words from title, genres") == 0,
             model->note().c_str());
    // A user's profile: the mean of the liked training items' vectors (rating >= 4), length 1.
    for (const int32_t user : {0, 3, 11}) {
        std::map<int32_t, double> profile;
        for (size_t r = 0; r < shape.train->size(); ++r)
            if (shape.train->user[r] == user && shape.train->rating[r] >= 4.f)
                for (const auto& [w, x] : tfidfOf(text, shape.train->item[r]))
                    profile[w] += x;
        double norm = 0;
        for (const auto& [w, x] : profile)
            norm += x * x;
        const auto items = torch::arange(sample_->numItems(), torch::kLong);
        const auto scores = model->predict(torch::full({items.size(0)}, int64_t{user}, torch::kLong), items);
        const auto all = model->fullSortPredict(torch::tensor({int64_t{user}}, torch::kLong));
        for (int32_t i = 0; i < sample_->numItems(); i += 7) {
            double dot = 0;
            for (const auto& [w, x] : tfidfOf(text, i))
                dot += x * (profile.count(w) ? profile[w] : 0.0);
            const double cosine = norm > 0 ? dot / std::sqrt(norm) : 0.0;
            QVERIFY2(std::abs(scores[i].item<double>() - cosine) < 1e-5,
                     qPrintable(QString("user %1 item %2: %3 vs %4").arg(user).arg(i).arg(scores[i].item<double>()).arg(cosine)));
            QVERIFY(std::abs(all[0][i].item<double>() - cosine) < 1e-5);
        }
    }
    // Data without text: refused, naming what is missing.
    Dataset bare = *sample_;
    bare.items = ItemSideData{};
    bare.genreNames.clear();
    const auto bareTask = TrainingTask::create(TaskKind::ImplicitRanking, bare, coldConfig("content"));
    try {
        ContentModel refused(bareTask->shape(), c);
        QFAIL("a content model built on data without text");
    } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("has no item text") != std::string::npos, e.what());
    }
}

void TestContent::coldTaskTrainsOnWarmItemsOnly()
{
    const TrainConfig c = coldConfig("neumf");
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    const auto* cold = dynamic_cast<const ColdTask*>(task.get());
    QVERIFY(cold);
    const ColdItemSplit& split = cold->split();
    QCOMPARE(split.train.size() + split.coldRows.size(), sample_->interactions.size());
    Random rng(3);
    const EpochData epoch = task->sampleEpoch(rng, InputType::Pointwise);
    QCOMPARE(epoch.users.size(0), int64_t(split.train.size() * size_t(1 + c.negatives)));
    const auto items = epoch.items.contiguous();
    for (int64_t k = 0; k < items.size(0); ++k)
        QVERIFY2(!split.isCold(int32_t(items[k].item<int64_t>())), "a cold item reached training");
    const EpochData pairs = task->sampleEpoch(rng, InputType::Pairwise);
    QVERIFY(!(pairs.negItems.unsqueeze(1) == torch::tensor(std::vector<int64_t>(split.coldItems.begin(), split.coldItems.end()))
                                                 .unsqueeze(0))
                 .any()
                 .item<bool>());
    const auto notes = task->notes();
    QVERIFY(!notes.empty());
    QVERIFY2(notes[0].find(std::to_string(split.coldItems.size()) + " of " + std::to_string(sample_->numItems()) +
                           " items are cold") == 0,
             notes[0].c_str());
    QCOMPARE(taskMetricNames(TaskKind::ImplicitRanking, "cold", 10),
             (std::vector<std::string>{"hr@10", "ndcg@10", "mrr@10", "full_hr@10", "full_ndcg@10", "full_mrr@10"}));

    TrainConfig validated = c;
    validated.validationMetric = "ndcg";
    try {
        TrainingTask::create(TaskKind::ImplicitRanking, *sample_, validated);
        QFAIL("the cold protocol validated");
    } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("holds out no validation part") != std::string::npos, e.what());
    }
    TrainConfig din = coldConfig("din");
    QVERIFY_THROWS_EXCEPTION(ConfigError, TrainingTask::create(TaskKind::ClickThrough, *sample_, din));
}

void TestContent::textModelsRankColdItems()
{
    std::map<std::string, MetricValues> metrics;
    std::map<std::string, std::vector<std::string>> notes;
    for (const std::string name : {"content", "hybrid", "neumf"}) {
        TrainConfig c = coldConfig(name);
        if (name != "content")
            c.epochs = 2;
        c.pretrain = false;
        Trainer trainer(sample_, c);
        trainer.setNoteCallback([&, name](const std::string& n) { notes[name].push_back(n); });
        const RunOutcome out = trainer.fit();
        QCOMPARE(out.status, RunStatus::Finished);
        metrics[name] = out.finalMetrics;
        // Per test user, the same hits as the mean.
        for (const auto& m : out.userMetrics)
            if (m.name == "full_hr@10") {
                double sum = 0;
                for (const double v : m.values)
                    sum += v;
                QVERIFY(std::abs(sum / double(m.values.size()) - metricOr(out.finalMetrics, "full_hr@10", -1)) < 1e-9);
            }
    }
    const double content = metricOr(metrics["content"], "full_hr@10", 0);
    const double hybrid = metricOr(metrics["hybrid"], "full_hr@10", 0);
    const double ids = metricOr(metrics["neumf"], "full_hr@10", 0);
    qInfo("cold items, full HR@10 on the sample: content %.3f, hybrid %.3f, NeuMF %.3f", content, hybrid, ids);
    // Words follow genres on the sample: text ranks cold items far above what ids can.
    QVERIFY2(content > 2.5 * ids && hybrid > 2 * ids, qPrintable(QString("%1 %2 %3").arg(content).arg(hybrid).arg(ids)));
    // Pre-trained (the default: its GMF and MLP halves, text towers included, then SGD) it still
    // ranks cold items; pre-training NeuMF's own parts left the tower untrained, at chance. The
    // halves' text towers take a few epochs to start carrying the ranking (3: 0.12, 5: 0.22, 9: 0.44).
    TrainConfig pre = coldConfig("hybrid");
    pre.epochs = 5;
    QVERIFY(pre.pretrain);
    Trainer pretrained(sample_, pre);
    const double hybridPre = metricOr(pretrained.fit().finalMetrics, "full_hr@10", 0);
    QVERIFY2(hybridPre > 2 * ids, qPrintable(QString("%1 %2").arg(hybridPre).arg(ids)));
    auto said = [&](const std::string& model, const std::string& text) {
        for (const auto& n : notes[model])
            if (n.find(text) != std::string::npos)
                return true;
        return false;
    };
    QVERIFY(said("neumf", "neumf reads no item text: the cold items' vectors never trained"));
    QVERIFY(!said("hybrid", "reads no item text"));
    QVERIFY(said("hybrid", "Text: "));
}

void TestContent::explanationsFromText()
{
    // The content model: each word's share of the cosine, and the shares add up to the score.
    TrainConfig c = coldConfig("content");
    c.protocol = "loo";
    const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    ContentModel content(task->shape(), c);
    const InteractionIndex index(*sample_);
    const auto recs = recommend(*content, index, 4, {});
    QCOMPARE(QString(becauseMeasure(*content, *sample_)), QString("text cosine"));
    QVERIFY(!recs.empty());
    TextOptions o;
    o.fields = parseTextFields(c.textFields);
    const ItemText text = buildItemText(*sample_, o);
    for (const auto& r : recs) {
        const auto effects = wordEffects(*content, 4, r.item);
        double sum = 0;
        for (const auto& e : effects)
            sum += e.effect;
        QVERIFY2(std::abs(sum - r.score) < 1e-5, qPrintable(QString("%1 vs %2").arg(sum).arg(r.score)));
        // Each shared word is in both items' text.
        QCOMPARE(r.sharedWords.size(), r.because.size());
        for (size_t k = 0; k < r.because.size(); ++k)
            for (const auto& w : r.sharedWords[k]) {
                const auto mine = text.wordsOf(r.item), theirs = text.wordsOf(r.because[k].first);
                QVERIFY2(std::count(mine.begin(), mine.end(), w) && std::count(theirs.begin(), theirs.end(), w), w.c_str());
            }
    }
    // A graph: each word's effect is the score drop without it, and the item's words are restored.
    TrainConfig h = coldConfig("hybrid");
    h.protocol = "loo";
    h.epochs = 1;
    h.pretrain = false;
    Trainer trainer(sample_, h);
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    auto& graph = dynamic_cast<GraphModelImpl&>(*trainer.model());
    const int32_t item = recs.front().item;
    const auto before = graph.data().itemWords[item].clone();
    const auto effects = wordEffects(graph, 4, item);
    QCOMPARE(graph.data().itemWords[item].equal(before), true);
    std::set<int64_t> distinct;
    for (int64_t t = 0; t < before.size(0); ++t)
        if (before[t].item<int64_t>() > 0)
            distinct.insert(before[t].item<int64_t>());
    QCOMPARE(effects.size(), distinct.size());
    QVERIFY(std::any_of(effects.begin(), effects.end(), [](const WordEffect& e) { return std::abs(e.effect) > 1e-6; }));
    for (size_t k = 1; k < effects.size(); ++k)
        QVERIFY(std::abs(effects[k - 1].effect) >= std::abs(effects[k].effect));
}

QTEST_GUILESS_MAIN(TestContent)
#include "test_content.moc"
