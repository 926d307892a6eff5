// Model graphs as data: the JSON format's round trips, the shipped templates' analysis (shapes
// and parameter counts worked out by hand), every validation problem named by block and port,
// refused connections, and malformed or hostile files refused before anything is allocated.
#include "graph/GraphAnalysis.h"
#include "graph/GraphSpec.h"
#include "graph/GraphTemplates.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace reclab;

class TestGraph : public QObject {
    Q_OBJECT
private slots:
    void templatesRoundTrip();
    void templatesAnalyse();
    void saveAndLoad();
    void missingInput();
    void cycle();
    void shapeMismatch();
    void danglingBlock();
    void outputs();
    void unknownTypeAndParameters();
    void sharedTables();
    void tablesTooLargeForMemory();
    void connections();
    void malformedFiles_data();
    void malformedFiles();
};

namespace {

const GraphContext kMl100k{943, 1682, 19, 0};

GraphNode node(const std::string& id, const std::string& type, nlohmann::json params = nlohmann::json::object())
{
    GraphNode n;
    n.id = id;
    n.type = type;
    n.params = std::move(params);
    return n;
}

GraphEdge edge(const std::string& from, const std::string& to)
{
    const auto split = [](const std::string& s) {
        const auto dot = s.find('.');
        return PortRef{s.substr(0, dot), s.substr(dot + 1)};
    };
    return {split(from), split(to)};
}

// user -> embedding -> product <- embedding <- item, -> linear(1) -> click.
GraphSpec smallGmf()
{
    GraphSpec g;
    g.name = "small";
    g.nodes = {node("user", "user_id"), node("item", "item_id"), node("eu", "embedding", {{"dim", 8}}),
               node("ei", "embedding", {{"dim", 8}}), node("gmf", "product"), node("out", "linear", {{"units", 1}}),
               node("click", "click_output")};
    g.edges = {edge("user.out", "eu.ids"), edge("item.out", "ei.ids"), edge("eu.out", "gmf.a"),
               edge("ei.out", "gmf.b"), edge("gmf.out", "out.in"), edge("out.out", "click.logit")};
    return g;
}

bool hasIssue(const GraphAnalysis& a, const std::string& node, const std::string& port, const std::string& words)
{
    for (const auto& i : a.issues)
        if (i.node == node && (port.empty() || i.port == port) && i.message.find(words) != std::string::npos)
            return true;
    return false;
}

QString issues(const GraphAnalysis& a)
{
    QString out;
    for (const auto& i : a.issues)
        out += QString::fromStdString(i.text()) + "\n";
    return out;
}

} // namespace

void TestGraph::templatesRoundTrip()
{
    const auto names = graphTemplateNames();
    QCOMPARE(names, (std::vector<std::string>{"base", "caser", "cnn_lstm", "deepconn", "din", "gmf", "gru4rec", "hybrid",
                                              "hybrid_gmf", "hybrid_mlp", "mf", "mlp", "narm", "neumf", "profiles", "reinforce",
                                              "sasrec", "seq2seq"}));
    for (const auto& name : names) {
        const GraphSpec g = graphTemplate(name);
        const GraphSpec again = GraphSpec::fromJson(g.toJson());
        QCOMPARE(again.toJson(), g.toJson());
        QCOMPARE(again.nodes.size(), g.nodes.size());
        QVERIFY(!g.description.empty());
    }
}

void TestGraph::templatesAnalyse()
{
    GraphContext withText = kMl100k; // the text models' inputs need text; reviews as Amazon's data has them
    withText.textFields = (1u << 4) - 1;
    for (const auto& name : graphTemplateNames()) {
        const GraphAnalysis a = analyseGraph(graphTemplate(name), withText);
        QVERIFY2(a.ok(), qPrintable(QString::fromStdString(name) + ": " + issues(a)));
        QCOMPARE(a.order.size(), graphTemplate(name).nodes.size());
    }
    // NeuMF with the template's sizes (64 factors, MLP embedding 128, tower 128-64), by hand.
    const GraphAnalysis neumf = analyseGraph(graphTemplate("neumf"), kMl100k);
    QCOMPARE(neumf.block("user_gmf")->output->text(), std::string("B×64"));
    QCOMPARE(neumf.block("mlp_input")->output->text(), std::string("B×256"));
    QCOMPARE(neumf.block("tower")->output->text(), std::string("B×64"));
    QCOMPARE(neumf.block("fuse")->output->text(), std::string("B×128"));
    QCOMPARE(neumf.block("tower")->parameters, int64_t(256 * 128 + 128 + 128 * 64 + 64));
    const int64_t embeddings = (943 + 1682) * (64 + 128);
    QCOMPARE(neumf.totalParameters, embeddings + 256 * 128 + 128 + 128 * 64 + 64 + 128 + 1);
    QCOMPARE(neumf.task, TaskKind::ImplicitRanking);

    // DIN: shared item and genre tables counted once; sequences keep their L dimension.
    const GraphAnalysis din = analyseGraph(graphTemplate("din"), kMl100k);
    QCOMPARE(din.task, TaskKind::ClickThrough);
    QVERIFY(din.usesHistory);
    QCOMPARE(din.block("behaviours")->output->text(), std::string("B×L×32"));
    QCOMPARE(din.block("attention")->output->text(), std::string("B×32"));
    QCOMPARE(din.block("history")->output->text(), std::string("B×L ids(item)"));
    QCOMPARE(din.block("item_embedding")->parameters, int64_t(1682 * 16));
    QCOMPARE(din.block("behaviour_embedding")->parameters, int64_t(0));
    // Unit: 128 -> 80 (Dice 80) -> 40 (Dice 40) -> 1.
    QCOMPARE(din.block("attention")->parameters, int64_t(128 * 80 + 80 + 80 + 80 * 40 + 40 + 40 + 40 + 1));
    QCOMPARE(analyseGraph(graphTemplate("mf"), kMl100k).task, TaskKind::RatingPrediction);
    // GRU4Rec: the GRU's three gates over 64-wide behaviours into a state of 128.
    const GraphAnalysis gru = analyseGraph(graphTemplate("gru4rec"), kMl100k);
    QCOMPARE(gru.task, TaskKind::ClickThrough);
    QVERIFY(gru.nextItems);
    QCOMPARE(gru.block("gru")->output->text(), std::string("B×L×128"));
    QCOMPARE(gru.block("gru")->parameters, int64_t(3 * (128 * 64 + 128 * 128 + 2 * 128)));
    QVERIFY(!neumf.report().empty());
    QVERIFY(neumf.report().find("tower (MLP) -> B×64, 41,152 parameters") != std::string::npos);
}

void TestGraph::saveAndLoad()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("din.json").toStdString();
    GraphSpec g = graphTemplate("din");
    g.node("tower")->x = 1234.5;
    g.save(path);
    const GraphSpec loaded = GraphSpec::load(path);
    QCOMPARE(loaded.toJson(), g.toJson());
    QCOMPARE(loaded.node("tower")->x, 1234.5);
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".saving")));
}

void TestGraph::missingInput()
{
    GraphSpec g = smallGmf();
    g.edges.erase(g.edges.begin() + 3); // ei.out -> gmf.b
    const GraphAnalysis a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "gmf", "b", "not connected"));
    QVERIFY(hasIssue(a, "ei", "", "output is not used"));
    QVERIFY(!a.block("gmf")->output);
    // The problem is reported once, where it is, not again downstream.
    QVERIFY(!hasIssue(a, "out", "", ""));
}

void TestGraph::cycle()
{
    GraphSpec g = smallGmf();
    g.nodes.push_back(node("loop", "add"));
    g.edges.erase(g.edges.begin() + 4); // gmf.out -> out.in
    g.edges.push_back(edge("gmf.out", "loop.a"));
    g.edges.push_back(edge("loop.out", "out.in"));
    g.edges.push_back(edge("out.out", "loop.b")); // out feeds loop, loop feeds out
    g.edges.erase(std::find(g.edges.begin(), g.edges.end(), edge("out.out", "click.logit")));
    const GraphAnalysis a = analyseGraph(g, kMl100k);
    bool found = false;
    for (const auto& i : a.issues)
        found = found || (i.node.empty() && i.message.find("cycle") != std::string::npos &&
                          i.message.find("loop") != std::string::npos && i.message.find("out") != std::string::npos);
    QVERIFY2(found, qPrintable(issues(a)));
}

void TestGraph::shapeMismatch()
{
    GraphSpec g = smallGmf();
    g.node("ei")->params["dim"] = 16;
    GraphAnalysis a = analyseGraph(g, kMl100k);
    QVERIFY2(hasIssue(a, "gmf", "b", "widths differ: a is B×8, b is B×16"), qPrintable(issues(a)));

    g = smallGmf();
    g.node("out")->params["units"] = 3;
    a = analyseGraph(g, kMl100k);
    QVERIFY2(hasIssue(a, "click", "logit", "one number per row (B×1), got B×3"), qPrintable(issues(a)));

    // Ids straight into a layer, and a pooling of something that is not a sequence.
    g = smallGmf();
    g.edges[4] = edge("user.out", "out.in");
    a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "out", "in", "expects vectors, got B ids(user)"));
    g = smallGmf();
    g.nodes.push_back(node("pool", "mean_pool"));
    g.edges[4] = edge("gmf.out", "pool.in");
    g.edges.push_back(edge("pool.out", "out.in"));
    a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "pool", "in", "expects a sequence"));
}

void TestGraph::danglingBlock()
{
    GraphSpec g = smallGmf();
    g.nodes.push_back(node("extra", "relu"));
    g.edges.push_back(edge("gmf.out", "extra.in"));
    const GraphAnalysis a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "extra", "", "output is not used"));
    QCOMPARE(a.issues.size(), size_t(1));
}

void TestGraph::outputs()
{
    GraphSpec g = smallGmf();
    g.nodes.pop_back();
    g.edges.pop_back();
    GraphAnalysis a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "", "", "no output block"));
    QVERIFY(hasIssue(a, "out", "", "output is not used"));

    g = smallGmf();
    g.nodes.push_back(node("rating", "rating_output"));
    g.nodes.push_back(node("out2", "linear", {{"units", 1}}));
    g.edges.push_back(edge("gmf.out", "out2.in"));
    g.edges.push_back(edge("out2.out", "rating.value"));
    a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "", "", "2 output blocks (click, rating)"));
}

void TestGraph::unknownTypeAndParameters()
{
    GraphSpec g = smallGmf();
    g.nodes.push_back(node("mystery", "transformer"));
    g.node("eu")->params["dimension"] = 8;    // a typo
    g.node("ei")->params["dim"] = "eight";    // a wrong type
    g.node("out")->params["units"] = "$width"; // an undefined variable
    const GraphAnalysis a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "mystery", "", "unknown block type 'transformer'"));
    QVERIFY(hasIssue(a, "eu", "", "unknown parameter 'dimension'"));
    QVERIFY(hasIssue(a, "ei", "", "parameter 'dim': expected a whole number from 1 to 65536"));
    QVERIFY(hasIssue(a, "out", "", "$width, which the graph's variables do not define"));

    g = smallGmf();
    g.variables["width"] = 8;
    g.node("eu")->params["dim"] = "$width";
    g.node("ei")->params["dim"] = "$width";
    QVERIFY(analyseGraph(g, kMl100k).ok());
    g.node("eu")->params["init_std"] = std::nan("");
    QVERIFY(hasIssue(analyseGraph(g, kMl100k), "eu", "", "init_std"));
}

void TestGraph::sharedTables()
{
    GraphSpec g = smallGmf();
    g.node("eu")->params["table"] = "shared";
    g.node("ei")->params["table"] = "shared";
    GraphAnalysis a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "ei", "ids", "shares table 'shared' with block 'eu', which looks up other ids"));

    // Candidate and history items share one table: its weights count once.
    g = graphTemplate("din");
    g.node("behaviour_embedding")->params["init_std"] = 0.5;
    a = analyseGraph(g, kMl100k);
    QVERIFY(hasIssue(a, "behaviour_embedding", "", "its init_std differs"));
}

void TestGraph::tablesTooLargeForMemory()
{
    GraphSpec g = smallGmf();
    g.node("eu")->params["dim"] = 65536;
    g.node("ei")->params["dim"] = 65536;
    const GraphAnalysis a = analyseGraph(g, GraphContext{2'000'000, 3'000'000, 0, 0});
    QVERIFY2(hasIssue(a, "", "", "more than the"), qPrintable(issues(a)));
    QVERIFY(a.totalParameters > int64_t(300'000'000'000));
    // Within a stated budget it passes.
    QVERIFY(analyseGraph(smallGmf(), GraphContext{943, 1682, 19, 64.0 * (1 << 20)}).ok());
}

void TestGraph::connections()
{
    GraphSpec g = smallGmf();
    // Occupied input, wrong kind, self loop, a cycle, a width that does not fit.
    QVERIFY(connectionProblem(g, {"eu", "out"}, {"gmf", "a"}, kMl100k).find("already connected") != std::string::npos);
    g.edges.erase(g.edges.begin() + 4); // gmf.out -> out.in
    QVERIFY(connectionProblem(g, {"user", "out"}, {"out", "in"}, kMl100k).find("embed them first") != std::string::npos);
    QCOMPARE(connectionProblem(g, {"out", "out"}, {"out", "in"}, kMl100k), std::string("a block cannot feed itself"));
    QVERIFY(connectionProblem(g, {"gmf", "out"}, {"out", "in"}, kMl100k).empty());
    g.edges.push_back(edge("gmf.out", "out.in"));
    g.nodes.push_back(node("relu", "relu"));
    g.edges.push_back(edge("out.out", "relu.in"));
    g.edges.erase(std::find(g.edges.begin(), g.edges.end(), edge("gmf.out", "out.in")));
    QCOMPARE(connectionProblem(g, {"relu", "out"}, {"out", "in"}, kMl100k),
             std::string("this connection would close a cycle"));
    GraphSpec wide = smallGmf();
    wide.node("ei")->params["dim"] = 16;
    wide.edges.erase(wide.edges.begin() + 3); // ei.out -> gmf.b
    QVERIFY(connectionProblem(wide, {"ei", "out"}, {"gmf", "b"}, kMl100k).find("widths differ") != std::string::npos);
}

void TestGraph::malformedFiles_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not json") << "{\"version\": 1, \"nodes\": [" << "not valid JSON: parse error";
    // Found by the fuzzer: a number beyond a double's range is out_of_range, not a parse error.
    QTest::newRow("number overflow") << "{\"version\": 1, \"nodes\": [], \"x\": 381e308}"
                                     << "not valid JSON: number overflow parsing '381e308'";
    QTest::newRow("not an object") << "[1, 2]" << "expected a JSON object, got array";
    QTest::newRow("no version") << "{\"nodes\": []}" << "missing field 'version'";
    QTest::newRow("future version") << "{\"version\": 9, \"nodes\": []}" << "version: this RecLab reads graph versions 1 to 1";
    QTest::newRow("wrong format") << "{\"format\": \"onnx\", \"version\": 1, \"nodes\": []}" << "format: expected \"reclab-graph\"";
    QTest::newRow("nodes not a list") << "{\"version\": 1, \"nodes\": 3}" << "nodes: expected a list, got number";
    QTest::newRow("node without id") << "{\"version\": 1, \"nodes\": [{\"type\": \"relu\"}]}" << "nodes[0]: missing field 'id'";
    QTest::newRow("id not a name") << "{\"version\": 1, \"nodes\": [{\"id\": \"a b\", \"type\": \"relu\"}]}"
                                   << "nodes[0].id: \"a b\" is not a block name";
    QTest::newRow("duplicate id")
        << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": \"relu\"}, {\"id\": \"a\", \"type\": \"relu\"}]}"
        << "nodes[1].id: a second block named 'a'";
    QTest::newRow("type not a string") << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": 5}]}"
                                       << "nodes[0].type: expected a string, got number";
    QTest::newRow("params not an object") << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": \"relu\", \"params\": []}]}"
                                          << "nodes[0].params: expected an object";
    QTest::newRow("bad position") << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": \"relu\", \"position\": [1]}]}"
                                  << "nodes[0].position: expected [x, y]";
    QTest::newRow("edge to nowhere")
        << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": \"relu\"}], \"edges\": [{\"from\": \"a.out\", \"to\": \"b.in\"}]}"
        << "edges[0].to: no block named 'b'";
    QTest::newRow("edge not block.port")
        << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": \"relu\"}], \"edges\": [{\"from\": \"a\", \"to\": \"a.in\"}]}"
        << "edges[0].from: expected \"block.port\"";
    QTest::newRow("input fed twice")
        << "{\"version\": 1, \"nodes\": [{\"id\": \"a\", \"type\": \"relu\"}, {\"id\": \"b\", \"type\": \"relu\"}], "
           "\"edges\": [{\"from\": \"a.out\", \"to\": \"b.in\"}, {\"from\": \"a.out\", \"to\": \"b.in\"}]}"
        << "edges[1].to: input b.in is already connected";
    QTest::newRow("deep nesting") << QString("{\"version\": 1, \"nodes\": []") + QString(", \"x\": ") +
                                         QString(100, '[') + QString(100, ']') + "}"
                                  << "nested deeper than 64 levels";
    QString many = "{\"version\": 1, \"nodes\": [";
    for (int k = 0; k < 600; ++k)
        many += QString("%1{\"id\": \"n%2\", \"type\": \"relu\"}").arg(k ? "," : "").arg(k);
    QTest::newRow("too many blocks") << many + "]}" << "nodes: 600 blocks; at most 512";
    QTest::newRow("bad variable") << "{\"version\": 1, \"variables\": {\"x\": null}, \"nodes\": []}"
                                  << "variables.x: expected a number, a string or a list, got null";
}

void TestGraph::malformedFiles()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    try {
        GraphSpec::parse(text.toStdString(), "bad.json");
        QFAIL("accepted");
    } catch (const GraphError& e) {
        QVERIFY2(QString(e.what()).startsWith("bad.json"), e.what());
        QVERIFY2(QString(e.what()).contains(expected), e.what());
    }
}

QTEST_APPLESS_MAIN(TestGraph)
#include "test_graph.moc"
