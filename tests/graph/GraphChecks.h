// Checks shared by the compiled-graph tests and the per-block tests (tests/blocks/): a graph
// trained for a few batches on the sample, and its TorchScript export scored by Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#pragma once

#include "compiled/GraphExport.h"
#include "compiled/GraphModule.h"
#include "train/TrainingTask.h"
#include "util/Random.h"

#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/optim/adam.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <memory>
#include <utility>

namespace reclab::checks {

inline Batch firstRows(const EpochData& d, int64_t n)
{
    const auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, 0, std::min(n, t.size(0))) : t; };
    return {rows(d.users), rows(d.items), rows(d.labels), rows(d.negItems), rows(d.history), rows(d.historyLength), {}, {}};
}

inline double maxDiff(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).abs().max().item<double>();
}

// A graph that reads the behaviour history, compiled for the data (untrained, seeded), in
// evaluation mode.
inline std::shared_ptr<GraphModelImpl> compiledForHistory(const Dataset& data, const GraphSpec& graph, uint64_t seed)
{
    TrainConfig c;
    c.protocol = "din";
    const auto t = TrainingTask::create(TaskKind::ClickThrough, data, c);
    torch::manual_seed(seed);
    auto model = std::make_shared<GraphModelImpl>(graph, GraphData::from(t->shape()), 0.0);
    model->eval();
    return model;
}

// Rows with histories of these lengths over random items, each padded with an id past the
// table (which must never be looked up), and a random candidate each: the batch, and the
// unpadded ids ([rows, L], random past each length).
struct HistoryRows {
    Batch batch;
    torch::Tensor ids;
};
inline HistoryRows historyRows(int64_t items, const torch::Tensor& lengths, int64_t L)
{
    HistoryRows r;
    const int64_t n = lengths.size(0);
    r.ids = torch::randint(items, {n, L}, torch::kLong);
    const auto valid = torch::arange(L).unsqueeze(0) < lengths.unsqueeze(1);
    r.batch.users = torch::zeros({n}, torch::kLong);
    r.batch.items = torch::randint(items, {n}, torch::kLong);
    r.batch.history = torch::where(valid, r.ids, torch::full_like(r.ids, items));
    r.batch.historyLength = lengths;
    return r;
}

// The problems of a graph that feeds one item's vector (B×4, not a sequence) to a block of this type.
inline std::string perRowInputReport(const std::string& type, const GraphContext& sizes)
{
    const GraphSpec g = GraphSpec::parse(R"({"version": 1, "name": "flat", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "e", "type": "embedding", "params": {"dim": 4}},
        {"id": "b", "type": ")" + type + R"("}, {"id": "l", "type": "linear"}, {"id": "click", "type": "click_output"}],
      "edges": [{"from": "item.out", "to": "e.ids"}, {"from": "e.out", "to": "b.in"}, {"from": "b.out", "to": "l.in"},
                {"from": "l.out", "to": "click.logit"}]})");
    const GraphAnalysis a = analyseGraph(g, sizes);
    return a.ok() ? std::string() : a.report();
}

// How far one history's shared scoring of the first n items (scoreHistory) is from scoring them
// as a batch of rows that each carry the padded history (predictBatch).
inline double sharedScoringGap(GraphModelImpl& model, const torch::Tensor& paddedHistory, int64_t length, int64_t n)
{
    const auto candidates = torch::arange(n, torch::kLong);
    Batch many;
    many.users = torch::zeros({n}, torch::kLong);
    many.items = candidates;
    many.history = paddedHistory.unsqueeze(0).expand({n, paddedHistory.size(0)});
    many.historyLength = torch::full({n}, length, torch::kLong);
    return maxDiff(model.scoreHistory(0, paddedHistory.narrow(0, 0, length), candidates), model.predictBatch(many));
}

// A graph on the data's click-through or ranking task, trained for a few batches so that Dice
// and batch norm have running statistics, in evaluation mode, with a batch to score.
inline std::pair<std::shared_ptr<GraphModelImpl>, Batch> trainedBriefly(const Dataset& data, const GraphSpec& graph)
{
    const TaskKind task = graphTask(graph);
    TrainConfig c;
    c.protocol = task == TaskKind::ClickThrough ? "din" : "";
    const auto t = TrainingTask::create(task, data, c);
    torch::manual_seed(5);
    auto model = std::make_shared<GraphModelImpl>(graph, GraphData::from(t->shape()), 0.01);
    Random rng(9);
    const EpochData epoch = t->sampleEpoch(rng, InputType::Pointwise);
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
    for (int64_t start = 0; start < 5 * 256; start += 256) {
        const auto rows = [&](const torch::Tensor& x) { return x.defined() ? x.narrow(0, start, 256) : x; };
        adam.zero_grad();
        model->calculateLoss({rows(epoch.users), rows(epoch.items), rows(epoch.labels), {}, rows(epoch.history),
                              rows(epoch.historyLength), {}, {}})
            .backward();
        adam.step();
    }
    model->eval();
    return {model, firstRows(epoch, 200)};
}

// Exports the model as TorchScript, loads it in Debian's python3-torch (the same LibTorch) and
// scores the batch there: the largest difference from RecLab's own scores.
inline void checkTorchScriptInPython(GraphModelImpl& model, const Batch& batch, const QString& name)
{
    QTemporaryDir dir;
    const QString pt = dir.filePath("model.pt"), io = dir.filePath("io.pt");
    const std::string signature = exportTorchScript(model, pt.toStdString());
    torch::Tensor expected;
    {
        torch::NoGradGuard noGrad;
        expected = model.predictBatch(batch);
    }
    std::vector<torch::IValue> values{batch.users, batch.items};
    if (model.analysis().usesHistory) {
        values.push_back(batch.history);
        values.push_back(batch.historyLength);
    }
    QCOMPARE(signature, std::string(values.size() == 4 ? "forward(users, items, history, history_length)"
                                                       : "forward(users, items)"));
    values.push_back(expected);
    const auto bytes = torch::jit::pickle_save(c10::ivalue::Tuple::create(values));
    std::ofstream(io.toStdString(), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

    QProcess python;
    python.start("/usr/bin/python3", {"-c",
                                      "import sys, torch\n"
                                      "m = torch.jit.load(sys.argv[1])\n"
                                      "data = torch.load(sys.argv[2])\n"
                                      "got = m(*data[:-1])\n"
                                      "print(float((got - data[-1]).abs().max()), tuple(got.shape))\n",
                                      pt, io});
    QVERIFY(python.waitForFinished(120000));
    const QString out = QString::fromUtf8(python.readAllStandardOutput()).trimmed();
    QVERIFY2(python.exitCode() == 0, qPrintable(QString::fromUtf8(python.readAllStandardError())));
    const double difference = out.section(' ', 0, 0).toDouble();
    qInfo("%s: TorchScript in Python against RecLab: max |difference| %.3g over %lld scores", qPrintable(name),
          difference, static_cast<long long>(expected.size(0)));
    QVERIFY2(difference <= 1e-5, qPrintable(out));
    QVERIFY2(out.contains(QString("(%1,)").arg(expected.size(0))), qPrintable(out));
}

} // namespace reclab::checks
