// The latest-entry and additive-attention blocks: shape rules and parameter counts against the
// compiled modules, every row of a batch with histories of every length against the formula
// computed on the unpadded history (padding never weighed, an empty history gives zeros, never
// NaN), shared-history scoring against batches, and the TorchScript export in Python.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "graph/GraphAnalysis.h"
#include "zoo/ModelRegistry.h"

#include "graph/GraphChecks.h"

using namespace reclab;
using namespace reclab::checks;

class TestSequenceAttention : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void shapeAndParameters();
    void outputsMatchTheFormula();
    void torchScriptLoadsInPython();

private:
    std::shared_ptr<const Dataset> sample_;
};

namespace {

struct Case {
    const char* params; // the attention's (empty: the latest entry alone)
    const char* query;  // "latest" or "user"
};

const std::vector<Case>& cases()
{
    static const std::vector<Case> all = {
        {"", "latest"},
        {R"({"units": 5, "activation": "tanh", "weights": "softmax"})", "latest"},
        {R"({"units": 3, "activation": "sigmoid", "weights": "none"})", "user"},
    };
    return all;
}

// Behaviours embedded (width 6); the latest one, or the attention over them for the latest one
// or the user's vector (width 4), met with the candidate.
GraphSpec historyGraph(const Case& c)
{
    const bool attention = std::string(c.params).size() > 0, byUser = std::string(c.query) == "user";
    std::string node = attention ? R"({"id": "att", "type": "additive_attention", "params": )" + std::string(c.params) + "},"
                                 : "";
    node += byUser ? R"({"id": "u", "type": "user_id"}, {"id": "user", "type": "embedding", "params": {"dim": 4, "table": "users", "init_std": 0.5}},)"
                   : R"({"id": "latest", "type": "latest_entry"},)";
    std::string edges = byUser ? R"({"from": "u.out", "to": "user.ids"},)" : R"({"from": "behaviours.out", "to": "latest.in"},)";
    if (attention)
        edges += R"({"from": "behaviours.out", "to": "att.keys"}, {"from": ")" + std::string(c.query) +
                 R"(.out", "to": "att.query"}, {"from": "att.out", "to": "dot.a"},)";
    else
        edges += R"({"from": "latest.out", "to": "dot.a"},)";
    return GraphSpec::parse(R"({"version": 1, "name": "sequence attention", "nodes": [
        {"id": "item", "type": "item_id"}, {"id": "history", "type": "history"},
        {"id": "candidate", "type": "embedding", "params": {"dim": 6, "table": "candidates", "init_std": 0.5}},
        {"id": "behaviours", "type": "embedding", "params": {"dim": 6, "table": "items", "init_std": 0.5}},
        )" + node + R"(
        {"id": "dot", "type": "dot"}, {"id": "click", "type": "click_output"}],
      "edges": [
        {"from": "item.out", "to": "candidate.ids"}, {"from": "history.out", "to": "behaviours.ids"},
        )" + edges + R"(
        {"from": "candidate.out", "to": "dot.b"}, {"from": "dot.out", "to": "click.logit"}]})");
}

// The summary of one unpadded history x [len, d] for query q, entry by entry.
torch::Tensor byHand(GraphModelImpl& model, const Case& c, const torch::Tensor& x, const torch::Tensor& user)
{
    const int64_t len = x.size(0);
    if (len == 0)
        return torch::zeros({x.size(1)});
    const auto latest = x[len - 1];
    if (std::string(c.params).empty())
        return latest;
    const auto p = nlohmann::json::parse(c.params);
    auto w = model.named_parameters();
    const auto q = std::string(c.query) == "user" ? user : latest;
    std::vector<double> e;
    for (int64_t j = 0; j < len; ++j) {
        const auto hidden = torch::mv(w["att.key.weight"], x[j]) + w["att.key.bias"] + torch::mv(w["att.query.weight"], q);
        const auto act = p["activation"] == "sigmoid" ? torch::sigmoid(hidden) : torch::tanh(hidden);
        e.push_back(torch::mv(w["att.score.weight"], act).item<double>());
    }
    if (p["weights"] == "softmax") {
        const double top = *std::max_element(e.begin(), e.end());
        double total = 0;
        for (double& v : e)
            total += (v = std::exp(v - top));
        for (double& v : e)
            v /= total;
    }
    auto y = torch::zeros({x.size(1)});
    for (int64_t j = 0; j < len; ++j)
        y = y + e[static_cast<size_t>(j)] * x[j];
    return y;
}

} // namespace

void TestSequenceAttention::initTestCase()
{
    torch::set_num_threads(2);
    sample_ = std::make_shared<const Dataset>(generateSampleDataset());
}

void TestSequenceAttention::shapeAndParameters()
{
    const GraphContext sizes = graphContextOf(*sample_);
    for (const Case& c : cases()) {
        const GraphSpec g = historyGraph(c);
        const GraphAnalysis a = analyseGraph(g, sizes);
        QVERIFY2(a.ok(), a.report().c_str());
        if (std::string(c.params).empty()) {
            QCOMPARE(a.block("latest")->output->text(), std::string("B×6"));
            continue;
        }
        QCOMPARE(a.block("att")->output->text(), std::string("B×6"));
        auto model = compiledForHistory(*sample_, g, 5);
        int64_t weights = 0;
        for (const auto& p : model->named_parameters())
            if (p.key().rfind("att.", 0) == 0)
                weights += p.value().numel();
        QCOMPARE(a.block("att")->parameters, weights);
    }
    const std::string report = perRowInputReport("latest_entry", sizes);
    QVERIFY2(report.find("expects a sequence (B×L×d), got B×4") != std::string::npos, report.c_str());
}

void TestSequenceAttention::outputsMatchTheFormula()
{
    const int64_t maxLength = 9;
    for (const Case& c : cases()) {
        auto model = compiledForHistory(*sample_, historyGraph(c), 5);
        torch::NoGradGuard noGrad;
        const int64_t items = model->data().numItems;
        auto w = model->named_parameters();
        const auto table = w["items.weight"], candidates = w["candidates.weight"];
        const auto users = w.contains("users.weight") ? w["users.weight"] : torch::zeros({sample_->numUsers(), 4});
        const auto lengths = torch::tensor({0, 1, 2, 3, 5, 8, 9}, torch::kLong); // 0 to the longest
        auto [b, history] = historyRows(items, lengths, maxLength);
        b.users = torch::randint(sample_->numUsers(), {lengths.size(0)}, torch::kLong);
        const auto scores = model->predictBatch(b);
        QVERIFY2(torch::isfinite(scores).all().item<bool>(), c.params);
        for (int64_t row = 0; row < lengths.size(0); ++row) {
            const int64_t len = lengths[row].item<int64_t>();
            const auto y = byHand(*model, c, table.index_select(0, history[row].narrow(0, 0, len)), users[b.users[row].item<int64_t>()]);
            const double expected = (y * candidates[b.items[row].item<int64_t>()]).sum().item<double>();
            QVERIFY2(std::abs(scores[row].item<double>() - expected) < 1e-5,
                     qPrintable(QString("%1 (%2), %3 behaviours: %4, by hand %5").arg(c.params, c.query).arg(len)
                                    .arg(scores[row].item<double>()).arg(expected)));
            if (std::string(c.query) == "latest") // shared scoring is for one user: the query may not be the user's
                QVERIFY2(sharedScoringGap(*model, b.history[row], len, 20) < 1e-5,
                         qPrintable(QString("%1, %2 behaviours: shared scoring differs").arg(c.params).arg(len)));
        }
    }
}

void TestSequenceAttention::torchScriptLoadsInPython()
{
    for (const Case& c : cases()) {
        auto [model, batch] = trainedBriefly(*sample_, historyGraph(c));
        checkTorchScriptInPython(*model, batch, QString("%1 (%2)").arg(c.params, c.query));
    }
}

QTEST_APPLESS_MAIN(TestSequenceAttention)
#include "test_sequence_attention.moc"
