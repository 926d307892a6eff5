// The trainer's flat optimizer against torch::optim: the NeuMF template trained for the same
// batches from the same start with Adam, SGD (with momentum) and Adagrad, with and without weight
// decay, ends with the same parameters; its state saved mid-training and loaded into a fresh
// model continues exactly as the uninterrupted run; bad options are refused by name.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "compiled/GraphModule.h"
#include "graph/GraphTemplates.h"
#include "train/FlatOptimizer.h"

#include "data/SampleGenerator.h"
#include "zoo/ModelRegistry.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "util/Random.h"

#include <torch/optim/adagrad.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <QtTest>

using namespace reclab;

class TestOptimizer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesTorchOptim_data();
    void matchesTorchOptim();
    void checkpointContinuesExactly();
    void trainerUsesTheChosenOptimizer_data();
    void trainerUsesTheChosenOptimizer();
    void badOptionsAreRefused();

private:
    std::shared_ptr<const Dataset> sample_;
    std::unique_ptr<TrainingTask> task_;
    EpochData epoch_;
};

namespace {

constexpr int64_t kBatch = 256;

std::shared_ptr<GraphModelImpl> neumf(const TrainingTask& task, uint64_t seed)
{
    torch::manual_seed(seed);
    GraphSpec g = graphTemplate("neumf");
    g.variables["factors"] = 8;
    g.variables["mlp_layers"] = {32, 16, 8};
    return std::make_shared<GraphModelImpl>(g, GraphData::from(task.shape()), 0.0);
}

Batch batchAt(const EpochData& d, int64_t k)
{
    const auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, k * kBatch, kBatch) : t; };
    return {rows(d.users), rows(d.items), rows(d.labels), rows(d.negItems), rows(d.history), rows(d.historyLength), {}, {}};
}

double maxParamDiff(GraphModelImpl& a, GraphModelImpl& b)
{
    double d = 0;
    const auto pb = b.named_parameters();
    for (const auto& p : a.named_parameters())
        d = std::max(d, (p.value() - pb[p.key()]).abs().max().item<double>());
    return d;
}

} // namespace

void TestOptimizer::initTestCase()
{
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
    TrainConfig c;
    task_ = TrainingTask::create(TaskKind::ImplicitRanking, *sample_, c);
    Random rng(11);
    epoch_ = task_->sampleEpoch(rng, InputType::Pointwise);
}

void TestOptimizer::matchesTorchOptim_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<double>("lr");
    QTest::addColumn<double>("decay");
    QTest::addColumn<double>("momentum");
    QTest::newRow("adam") << int(OptimizerKind::Adam) << 1e-3 << 0.0 << 0.0;
    QTest::newRow("adam, weight decay") << int(OptimizerKind::Adam) << 1e-2 << 1e-3 << 0.0;
    QTest::newRow("sgd") << int(OptimizerKind::SGD) << 0.5 << 0.0 << 0.0;
    QTest::newRow("sgd, momentum, weight decay") << int(OptimizerKind::SGD) << 0.1 << 1e-3 << 0.9;
    QTest::newRow("adagrad, weight decay") << int(OptimizerKind::Adagrad) << 0.05 << 1e-4 << 0.0;
}

void TestOptimizer::matchesTorchOptim()
{
    QFETCH(int, kind);
    QFETCH(double, lr);
    QFETCH(double, decay);
    QFETCH(double, momentum);
    auto reference = neumf(*task_, 3);
    auto flat = neumf(*task_, 3);
    QCOMPARE(maxParamDiff(*reference, *flat), 0.0);

    std::unique_ptr<torch::optim::Optimizer> torchOptimizer;
    switch (OptimizerKind(kind)) {
    case OptimizerKind::Adam:
        torchOptimizer = std::make_unique<torch::optim::Adam>(reference->parameters(),
                                                              torch::optim::AdamOptions(lr).weight_decay(decay));
        break;
    case OptimizerKind::SGD:
        torchOptimizer = std::make_unique<torch::optim::SGD>(
            reference->parameters(), torch::optim::SGDOptions(lr).weight_decay(decay).momentum(momentum));
        break;
    case OptimizerKind::Adagrad:
        torchOptimizer = std::make_unique<torch::optim::Adagrad>(reference->parameters(),
                                                                 torch::optim::AdagradOptions(lr).weight_decay(decay));
        break;
    }
    OptimizerOptions o;
    o.kind = OptimizerKind(kind);
    o.learningRate = lr;
    o.weightDecay = decay;
    o.momentum = momentum;
    FlatOptimizer optimizer(flat->parameters(), o);
    QCOMPARE(optimizer.numel(), [&] {
        int64_t n = 0;
        for (const auto& p : flat->parameters())
            n += p.numel();
        return n;
    }());

    double lastLoss = 0, firstLoss = 0;
    for (int64_t k = 0; k < 40; ++k) {
        const Batch b = batchAt(epoch_, k);
        torchOptimizer->zero_grad();
        reference->calculateLoss(b).backward();
        torchOptimizer->step();
        optimizer.zeroGrad();
        const auto loss = flat->calculateLoss(b);
        loss.backward();
        optimizer.step();
        (k == 0 ? firstLoss : lastLoss) = loss.item<double>();
    }
    QVERIFY2(lastLoss < firstLoss, qPrintable(QString("loss %1 -> %2").arg(firstLoss).arg(lastLoss)));
    const double d = maxParamDiff(*reference, *flat);
    qInfo("after 40 steps the parameters differ by at most %.3g", d);
    // ATen's kernels fuse some multiply-adds, so single roundings differ; Adagrad divides each
    // step by the root of the summed squares, which turns those ulps of tiny gradients into
    // more than Adam's and SGD's 1e-7.
    const double tolerance = OptimizerKind(kind) == OptimizerKind::Adagrad ? 1e-5 : 1e-6;
    QVERIFY2(d <= tolerance, qPrintable(QString("parameters differ by %1").arg(d)));
}

void TestOptimizer::checkpointContinuesExactly()
{
    OptimizerOptions o;
    o.learningRate = 5e-3;
    auto trainSteps = [&](GraphModelImpl& model, FlatOptimizer& optimizer, int64_t from, int64_t to) {
        for (int64_t k = from; k < to; ++k) {
            optimizer.zeroGrad();
            model.calculateLoss(batchAt(epoch_, k)).backward();
            optimizer.step();
        }
    };
    auto whole = neumf(*task_, 5);
    FlatOptimizer wholeOptimizer(whole->parameters(), o);
    trainSteps(*whole, wholeOptimizer, 0, 10);
    torch::serialize::OutputArchive archive;
    whole->save(archive);
    wholeOptimizer.save(archive);
    std::ostringstream bytes;
    archive.save_to(bytes);
    trainSteps(*whole, wholeOptimizer, 10, 20);

    // A fresh model of other weights: the weights are loaded first, then the optimizer built
    // over them and its state loaded.
    auto resumed = neumf(*task_, 99);
    torch::serialize::InputArchive in;
    std::istringstream stream(bytes.str());
    in.load_from(stream);
    resumed->load(in);
    FlatOptimizer resumedOptimizer(resumed->parameters(), o);
    resumedOptimizer.load(in);
    QCOMPARE(resumedOptimizer.steps(), int64_t(10));
    trainSteps(*resumed, resumedOptimizer, 10, 20);
    QCOMPARE(maxParamDiff(*whole, *resumed), 0.0);

    // State of another optimizer or model size is refused by name.
    OptimizerOptions sgd;
    sgd.kind = OptimizerKind::SGD;
    FlatOptimizer other(neumf(*task_, 1)->parameters(), sgd);
    torch::serialize::InputArchive again;
    std::istringstream stream2(bytes.str());
    again.load_from(stream2);
    QVERIFY_THROWS_EXCEPTION(Error, other.load(again));
}

void TestOptimizer::trainerUsesTheChosenOptimizer_data()
{
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<double>("lr");
    QTest::newRow("adam") << "adam" << 1e-2;
    QTest::newRow("sgd") << "sgd" << 0.02;
    QTest::newRow("adagrad") << "adagrad" << 0.1;
}

void TestOptimizer::trainerUsesTheChosenOptimizer()
{
    QFETCH(QString, optimizer);
    QFETCH(double, lr);
    // Biased MF on the sample's ratings: each optimizer lowers the loss and the held-out RMSE.
    TrainConfig c = defaultConfigFor("mf");
    c.optimizer = optimizer.toStdString();
    c.learningRate = lr;
    c.epochs = 3;
    c.momentum = c.optimizer == "sgd" ? 0.9 : 0.0;
    Trainer trainer(sample_, c);
    std::vector<double> losses, rmse;
    trainer.setEpochCallback([&](const EpochStats& s) {
        losses.push_back(s.loss);
        for (const auto& m : s.metrics)
            if (m.name == "rmse")
                rmse.push_back(m.value);
    });
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    QCOMPARE(rmse.size(), size_t(3));
    qInfo("%s: loss %.4f -> %.4f, RMSE %.4f -> %.4f", c.optimizer.c_str(), losses[0], losses[2], rmse[0], rmse[2]);
    QVERIFY(losses[2] < losses[0]);
    QVERIFY(rmse[2] < rmse[0]);
}

void TestOptimizer::badOptionsAreRefused()
{
    TrainConfig c;
    c.optimizer = "rmsprop";
    QVERIFY_THROWS_EXCEPTION(ConfigError, c.validate());
    c.optimizer = "adam";
    c.momentum = 0.9;
    QVERIFY_THROWS_EXCEPTION(ConfigError, c.validate()); // momentum is SGD's
    c.momentum = 0;
    c.weightDecay = std::nan("");
    QVERIFY_THROWS_EXCEPTION(ConfigError, c.validate());
    QVERIFY_THROWS_EXCEPTION(ConfigError, optimizerKindFromName("lion"));
}

QTEST_APPLESS_MAIN(TestOptimizer)
#include "test_optimizer.moc"
