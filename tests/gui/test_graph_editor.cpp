// The graph editor's document: every verb is one undo step that restores the graph exactly,
// redo replays it, a drag's moves merge into one step, copy and paste keep the blocks'
// wiring under fresh names, refused connections say why, and files round-trip.
#include "editor/GraphDocument.h"
#include "graph/GraphTemplates.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace reclab;

class TestGraphEditor : public QObject {
    Q_OBJECT
private slots:
    void everyVerbUndoesAndRedoes();
    void dragIsOneStep();
    void copyPasteKeepsWiring();
    void refusedConnectionsSayWhy();
    void saveAndOpen();
};

namespace {

std::string text(const GraphDocument& d)
{
    return d.graph().toJson().dump();
}

// Applies verb, then checks that undo gives back the graph before and redo the graph after.
template <typename Verb> void roundTrip(GraphDocument& doc, Verb verb)
{
    const std::string before = text(doc);
    const int steps = doc.undoStack()->count();
    verb();
    const std::string after = text(doc);
    QVERIFY2(after != before, "the verb changed nothing");
    QCOMPARE(doc.undoStack()->count(), steps + 1);
    doc.undoStack()->undo();
    QCOMPARE(text(doc), before);
    doc.undoStack()->redo();
    QCOMPARE(text(doc), after);
}

} // namespace

void TestGraphEditor::everyVerbUndoesAndRedoes()
{
    GraphDocument doc;
    int changes = 0;
    connect(&doc, &GraphDocument::changed, [&] { ++changes; });
    QString user, item, eu, ei, gmf, out, click;
    roundTrip(doc, [&] { user = doc.addBlock("user_id", {0, 0}); });
    roundTrip(doc, [&] { item = doc.addBlock("item_id", {0, 200}); });
    roundTrip(doc, [&] { eu = doc.addBlock("embedding", {200, 0}); });
    roundTrip(doc, [&] { ei = doc.addBlock("embedding", {200, 200}); });
    QCOMPARE(eu, QString("embedding"));
    QCOMPARE(ei, QString("embedding_2"));
    roundTrip(doc, [&] { gmf = doc.addBlock("product", {400, 100}); });
    roundTrip(doc, [&] { out = doc.addBlock("linear", {600, 100}); });
    roundTrip(doc, [&] { click = doc.addBlock("click_output", {800, 100}); });
    auto port = [](const QString& node, const char* p) { return PortRef{node.toStdString(), p}; };
    roundTrip(doc, [&] { QCOMPARE(doc.connectPorts(port(user, "out"), port(eu, "ids")), QString()); });
    roundTrip(doc, [&] { QCOMPARE(doc.connectPorts(port(item, "out"), port(ei, "ids")), QString()); });
    roundTrip(doc, [&] { QCOMPARE(doc.connectPorts(port(eu, "out"), port(gmf, "a")), QString()); });
    roundTrip(doc, [&] { QCOMPARE(doc.connectPorts(port(ei, "out"), port(gmf, "b")), QString()); });
    roundTrip(doc, [&] { QCOMPARE(doc.connectPorts(port(gmf, "out"), port(out, "in")), QString()); });
    roundTrip(doc, [&] { QCOMPARE(doc.connectPorts(port(out, "out"), port(click, "logit")), QString()); });
    QVERIFY2(doc.analysis().ok(), doc.analysis().issues.empty() ? "" : doc.analysis().issues[0].text().c_str());
    QCOMPARE(doc.analysis().block(gmf.toStdString())->output->text(), std::string("B×16"));

    roundTrip(doc, [&] { doc.setParam(eu, "dim", 32); });
    QVERIFY(!doc.analysis().ok()); // 32 against 16 at the product
    roundTrip(doc, [&] { doc.setParam(ei, "dim", 32); });
    QVERIFY(doc.analysis().ok());
    roundTrip(doc, [&] { doc.setVariable("width", 32); });
    roundTrip(doc, [&] { doc.moveBlocks({gmf, out}, {10, -5}, 1); });
    roundTrip(doc, [&] { doc.autoLayout(); });
    QCOMPARE(doc.graph().node(click.toStdString())->x, 4 * 220.0);
    roundTrip(doc, [&] { doc.disconnectEdge(*doc.graph().edgeInto(port(click, "logit"))); });
    roundTrip(doc, [&] { doc.removeBlocks({gmf}); });
    QCOMPARE(doc.graph().edges.size(), size_t(2)); // gmf's three edges went with it
    roundTrip(doc, [&] { doc.paste(doc.copy({eu, ei}), {50, 50}); });
    QVERIFY(changes > 20);

    // Everything undone is the empty graph again; all redone is the last state.
    const std::string last = text(doc);
    while (doc.undoStack()->canUndo())
        doc.undoStack()->undo();
    QVERIFY(doc.graph().nodes.empty());
    while (doc.undoStack()->canRedo())
        doc.undoStack()->redo();
    QCOMPARE(text(doc), last);
}

void TestGraphEditor::dragIsOneStep()
{
    GraphDocument doc;
    doc.reset(graphTemplate("gmf"));
    const double x = doc.graph().node("output")->x;
    for (int k = 0; k < 20; ++k)
        doc.moveBlocks({"output"}, {5, 1}, 7);
    QCOMPARE(doc.undoStack()->count(), 1);
    QCOMPARE(doc.graph().node("output")->x, x + 100);
    doc.moveBlocks({"output"}, {5, 1}, 8); // the next drag
    QCOMPARE(doc.undoStack()->count(), 2);
    doc.undoStack()->undo();
    doc.undoStack()->undo();
    QCOMPARE(doc.graph().node("output")->x, x);
    QVERIFY(!doc.isModified());
}

void TestGraphEditor::copyPasteKeepsWiring()
{
    GraphDocument doc;
    doc.reset(graphTemplate("gmf"));
    const QStringList ids = doc.paste(doc.copy({"user", "user_gmf", "item"}), {0, 500});
    QCOMPARE(QSet<QString>(ids.begin(), ids.end()), (QSet<QString>{"user_2", "user_gmf_2", "item_2"}));
    const GraphEdge* e = doc.graph().edgeInto({"user_gmf_2", "ids"});
    QVERIFY(e);
    QCOMPARE(e->from.node, std::string("user_2"));
    QCOMPARE(doc.graph().node("user_2")->y, doc.graph().node("user")->y + 500);
    QVERIFY(doc.paste("not a graph", {0, 0}).isEmpty());
}

void TestGraphEditor::refusedConnectionsSayWhy()
{
    GraphDocument doc;
    doc.reset(graphTemplate("gmf"));
    const QString relu = doc.addBlock("relu", {0, 0});
    const int steps = doc.undoStack()->count();
    QVERIFY(doc.connectPorts({"user", "out"}, {relu.toStdString(), "in"}).contains("embed them first"));
    QVERIFY(doc.connectPorts({"output", "out"}, {"output", "in"}).contains("cannot feed itself"));
    QVERIFY(doc.connectPorts({"item_gmf", "out"}, {"gmf", "a"}).contains("already connected"));
    QCOMPARE(doc.undoStack()->count(), steps);
}

void TestGraphEditor::saveAndOpen()
{
    QTemporaryDir dir;
    GraphDocument doc;
    doc.reset(graphTemplate("din"));
    doc.setParam("tower", "layers", nlohmann::json::array({64, 32}));
    QVERIFY(doc.isModified());
    const QString path = dir.filePath("mine.json");
    doc.save(path);
    QVERIFY(!doc.isModified());
    GraphDocument other;
    other.open(path);
    QCOMPARE(text(other), text(doc));
    QCOMPARE(other.fileName(), path);
    QVERIFY_THROWS_EXCEPTION(GraphError, other.open(dir.filePath("missing.json")));
    QCOMPARE(text(other), text(doc)); // a failed open leaves the document as it was
}

QTEST_GUILESS_MAIN(TestGraphEditor)
#include "test_graph_editor.moc"
