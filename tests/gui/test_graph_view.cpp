// The graph editor as a user drives it, offscreen: NeuMF built from an empty canvas by dropping
// palette blocks on the view and dragging wires between ports with the mouse, checked valid,
// then trained for one epoch; a refused wire says why; palette search; blocks show shapes and
// parameter counts; screenshots of the NeuMF and DIN templates when RECLAB_SCREENSHOT_DIR is set.
// LibTorch's headers before Qt's: Qt's `slots` macro breaks them.
#include "data/SampleGenerator.h"
#include "train/Trainer.h"

#include "editor/GraphEditor.h"
#include "editor/GraphScene.h"
#include "graph/GraphTemplates.h"

#include <QApplication>
#include <QDropEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QUndoStack>
#include <QtTest>

using namespace reclab;

class TestGraphView : public QObject {
    Q_OBJECT
private slots:
    void buildNeuMFByHandAndTrain();
    void refusedWireSaysWhy();
    void paletteSearch();
    void toolbarVerbsUndoAndRedo();
    void screenshots();
};

namespace {

QTreeWidgetItem* paletteItem(QTreeWidget* palette, const QString& type)
{
    for (int g = 0; g < palette->topLevelItemCount(); ++g)
        for (int k = 0; k < palette->topLevelItem(g)->childCount(); ++k)
            if (palette->topLevelItem(g)->child(k)->data(0, Qt::UserRole).toString() == type)
                return palette->topLevelItem(g)->child(k);
    return nullptr;
}

// Drops a palette block on the view at a scene point, as a drag from the palette ends.
QString dropBlock(GraphEditor& editor, const QString& type, QPointF scenePos)
{
    QTreeWidgetItem* item = paletteItem(editor.palette(), type);
    if (!item)
        return {};
    const QModelIndex index = editor.palette()->indexFromItem(item);
    std::unique_ptr<QMimeData> mime(editor.palette()->model()->mimeData({index}));
    const QPoint at = editor.view()->mapFromScene(scenePos + QPointF(85, 20));
    const int before = int(editor.document().graph().nodes.size());
    QDragEnterEvent enter(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(editor.view()->viewport(), &enter);
    QDropEvent drop(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(editor.view()->viewport(), &drop);
    if (int(editor.document().graph().nodes.size()) != before + 1)
        return {};
    return QString::fromStdString(editor.document().graph().nodes.back().id);
}

// Drags a wire with the mouse from an output port to an input port.
void dragWire(GraphEditor& editor, const QString& from, const char* out, const QString& to, const char* in)
{
    GraphScene* scene = editor.scene();
    QWidget* viewport = editor.view()->viewport();
    const QPoint a = editor.view()->mapFromScene(scene->block(from.toStdString())->portPosition(out, false));
    const QPoint b = editor.view()->mapFromScene(scene->block(to.toStdString())->portPosition(in, true));
    QTest::mousePress(viewport, Qt::LeftButton, Qt::NoModifier, a);
    QTest::mouseMove(viewport, (a + b) / 2);
    QTest::mouseMove(viewport, b);
    QTest::mouseRelease(viewport, Qt::LeftButton, Qt::NoModifier, b);
}

QAction* action(GraphEditor& editor, const QString& text)
{
    for (QAction* a : editor.findChildren<QAction*>())
        if (a->text() == text)
            return a;
    return nullptr;
}

void setParam(GraphEditor& editor, const QString& block, const QString& name, const QString& text)
{
    GraphScene* scene = editor.scene();
    scene->clearSelection();
    scene->block(block.toStdString())->setSelected(true);
    auto* line = editor.properties()->findChild<QLineEdit*>("param_" + name);
    QVERIFY2(line, qPrintable(name));
    line->setText(text);
    emit line->editingFinished();
}

} // namespace

void TestGraphView::buildNeuMFByHandAndTrain()
{
    GraphEditor editor;
    editor.resize(1300, 800);
    editor.show();
    editor.document().reset(GraphSpec{});
    editor.view()->resetTransform();
    editor.view()->setSceneRect(-100, -100, 1800, 900);
    editor.view()->centerOn(700, 300);

    const QString user = dropBlock(editor, "user_id", {0, 80});
    const QString item = dropBlock(editor, "item_id", {0, 380});
    const QString ug = dropBlock(editor, "embedding", {220, 0});
    const QString ig = dropBlock(editor, "embedding", {220, 130});
    const QString um = dropBlock(editor, "embedding", {220, 260});
    const QString im = dropBlock(editor, "embedding", {220, 390});
    const QString gmf = dropBlock(editor, "product", {440, 60});
    const QString cat = dropBlock(editor, "concat", {440, 320});
    const QString tower = dropBlock(editor, "mlp", {660, 320});
    const QString fuse = dropBlock(editor, "concat", {880, 180});
    const QString out = dropBlock(editor, "linear", {1100, 180});
    const QString click = dropBlock(editor, "click_output", {1320, 180});
    for (const auto& id : {user, item, ug, ig, um, im, gmf, cat, tower, fuse, out, click})
        QVERIFY(!id.isEmpty());
    QCOMPARE(editor.document().graph().nodes.size(), size_t(12));

    dragWire(editor, user, "out", ug, "ids");
    dragWire(editor, item, "out", ig, "ids");
    dragWire(editor, user, "out", um, "ids");
    dragWire(editor, item, "out", im, "ids");
    dragWire(editor, ug, "out", gmf, "a");
    dragWire(editor, ig, "out", gmf, "b");
    dragWire(editor, um, "out", cat, "in1");
    dragWire(editor, im, "out", cat, "in2");
    dragWire(editor, cat, "out", tower, "in");
    dragWire(editor, gmf, "out", fuse, "in1");
    dragWire(editor, tower, "out", fuse, "in2");
    dragWire(editor, fuse, "out", out, "in");
    dragWire(editor, out, "out", click, "logit");
    QCOMPARE(editor.document().graph().edges.size(), size_t(13));

    // Sizes typed into the properties panel: GMF 8, MLP embeddings 16, tower 16-8.
    setParam(editor, ug, "dim", "8");
    setParam(editor, ig, "dim", "8");
    setParam(editor, um, "dim", "16");
    setParam(editor, im, "dim", "16");
    setParam(editor, tower, "layers", "16, 8");
    setParam(editor, out, "units", "1");
    const GraphAnalysis& a = editor.document().analysis();
    QVERIFY2(a.ok(), a.issues.empty() ? "" : a.issues.front().text().c_str());
    QCOMPARE(a.block(fuse.toStdString())->output->text(), std::string("B×16"));
    QVERIFY(editor.statusLabel()->text().contains("valid"));

    // Dragging a block moves it in one undo step.
    const QPointF before(editor.document().graph().node(click.toStdString())->x, 0);
    QWidget* viewport = editor.view()->viewport();
    const QPoint grab = editor.view()->mapFromScene(editor.scene()->block(click.toStdString())->pos() + QPointF(80, 8));
    const int steps = editor.document().undoStack()->count();
    QTest::mousePress(viewport, Qt::LeftButton, Qt::NoModifier, grab);
    for (int k = 1; k <= 5; ++k)
        QTest::mouseMove(viewport, grab + QPoint(10 * k, 0));
    QTest::mouseRelease(viewport, Qt::LeftButton, Qt::NoModifier, grab + QPoint(50, 0));
    QCOMPARE(editor.document().undoStack()->count(), steps + 1);
    QVERIFY(editor.document().graph().node(click.toStdString())->x > before.x() + 20);

    // Train what was built, as the "Train this graph" action hands it over.
    bool requested = false;
    connect(&editor, &GraphEditor::trainRequested, [&] { requested = true; });
    editor.trainAction()->trigger();
    QVERIFY(requested);
    TrainConfig c;
    c.model = "graph";
    c.graph = editor.document().graph().toJson();
    c.epochs = 1;
    Trainer trainer(std::make_shared<const Dataset>(generateSampleDataset()), c);
    double hr = 0;
    trainer.setEpochCallback([&](const EpochStats& s) {
        for (const auto& m : s.metrics)
            if (m.name == "hr@10")
                hr = m.value;
    });
    QCOMPARE(trainer.fit().status, RunStatus::Finished);
    qInfo("NeuMF built by hand in the editor: HR@10 %.4f after one epoch on the sample", hr);
    QVERIFY(hr > 0.1);
}

void TestGraphView::refusedWireSaysWhy()
{
    GraphEditor editor;
    editor.resize(1300, 800);
    editor.show();
    editor.loadTemplate("gmf");
    QString refusal;
    connect(editor.scene(), &GraphScene::connectionRefused, [&](const QString& why) { refusal = why; });
    const QString relu = dropBlock(editor, "relu", {500, 400});
    dragWire(editor, "user", "out", relu, "in");
    QVERIFY2(refusal.contains("embed them first"), qPrintable(refusal));
    QVERIFY(editor.statusLabel()->text().contains("Not connected"));
    QVERIFY(!editor.document().graph().edgeInto({relu.toStdString(), "in"}));
}

void TestGraphView::paletteSearch()
{
    GraphEditor editor;
    editor.paletteSearch()->setText("local activation");
    int visible = 0;
    for (int g = 0; g < editor.palette()->topLevelItemCount(); ++g)
        for (int k = 0; k < editor.palette()->topLevelItem(g)->childCount(); ++k)
            visible += !editor.palette()->topLevelItem(g)->child(k)->isHidden();
    QCOMPARE(visible, 1);
    QVERIFY(paletteItem(editor.palette(), "din_attention")->toolTip(0).contains("MLP([h_l; t; h_l − t; h_l ⊙ t])"));
}

// The toolbar's verbs and the variables panel as a user drives them, each undone and redone.
void TestGraphView::toolbarVerbsUndoAndRedo()
{
    GraphEditor editor;
    editor.resize(1300, 800);
    editor.show();
    editor.loadTemplate("gmf");
    GraphDocument& doc = editor.document();
    QUndoStack* stack = doc.undoStack();
    const std::string original = doc.graph().toJson().dump();
    const size_t nodes = doc.graph().nodes.size();
    const int64_t params = doc.analysis().totalParameters;
    QAction* undo = action(editor, "Undo");
    QAction* redo = action(editor, "Redo");
    QVERIFY(undo && redo);

    // With nothing selected the panel edits the graph's variables.
    editor.scene()->clearSelection();
    auto* factors = editor.properties()->findChild<QLineEdit*>("var_factors");
    QVERIFY(factors);
    QCOMPARE(factors->text(), QString("64"));
    factors->setText("16");
    emit factors->editingFinished();
    QCOMPARE(doc.graph().variables["factors"], nlohmann::json(16));
    QVERIFY(doc.analysis().totalParameters < params);
    QVERIFY(editor.statusLabel()->text().contains(QString::fromStdString(formatCount(doc.analysis().totalParameters))));
    undo->trigger();
    QCOMPARE(doc.analysis().totalParameters, params);
    redo->trigger();
    QCOMPARE(doc.graph().variables["factors"], nlohmann::json(16));
    undo->trigger();

    // Delete the product: its wires go too, the graph reports what is missing; undo restores.
    editor.scene()->block("gmf")->setSelected(true);
    action(editor, "Delete")->trigger();
    QCOMPARE(doc.graph().nodes.size(), nodes - 1);
    QVERIFY(!doc.analysis().ok());
    QVERIFY(editor.problems()->count() > 0);
    undo->trigger();
    QCOMPARE(doc.graph().toJson().dump(), original);
    redo->trigger();
    QCOMPARE(doc.graph().nodes.size(), nodes - 1);
    undo->trigger();

    // Copy and paste an embedding: a new block with a fresh id, selected; cut removes it again.
    editor.scene()->clearSelection();
    editor.scene()->block("user_gmf")->setSelected(true);
    action(editor, "Copy")->trigger();
    action(editor, "Paste")->trigger();
    QCOMPARE(doc.graph().nodes.size(), nodes + 1);
    const QStringList pasted = editor.scene()->selectedBlocks();
    QCOMPARE(pasted.size(), 1);
    QVERIFY(pasted.front() != "user_gmf");
    QCOMPARE(doc.graph().node(pasted.front().toStdString())->type, std::string("embedding"));
    action(editor, "Cut")->trigger();
    QCOMPARE(doc.graph().nodes.size(), nodes);
    undo->trigger();
    QCOMPARE(doc.graph().nodes.size(), nodes + 1);
    undo->trigger();
    QCOMPARE(doc.graph().toJson().dump(), original);

    // Arrange is one step; zoom changes the view only.
    const int steps = stack->index();
    action(editor, "Arrange")->trigger();
    QCOMPARE(stack->index(), steps + 1);
    undo->trigger();
    QCOMPARE(doc.graph().toJson().dump(), original);
    const qreal scale = editor.view()->transform().m11();
    action(editor, "Zoom in")->trigger();
    QVERIFY(editor.view()->transform().m11() > scale * 1.2);
    QCOMPARE(stack->index(), steps);

    // Save, then open in a second editor: the same graph.
    QTemporaryDir dir;
    const QString path = dir.filePath("gmf.json");
    doc.save(path);
    GraphEditor other;
    other.document().open(path);
    QCOMPARE(other.document().graph().toJson().dump(), original);
    QVERIFY(other.statusLabel()->text().contains("valid"));
}

void TestGraphView::screenshots()
{
    const QString dir = qEnvironmentVariable("RECLAB_SCREENSHOT_DIR");
    GraphEditor editor;
    editor.resize(1500, 820);
    editor.show();
    for (const auto& [name, selected] : {std::pair<const char*, const char*>{"neumf", "tower"}, {"din", "tower"},
                                         {"sasrec", "layer1"}, {"gru4rec", "gru"}, {"caser", "horizontal"},
                                         {"narm", "local"}, {"seq2seq", "decoder"}, {"cnn_lstm", "conv"}}) {
        editor.loadTemplate(name);
        editor.scene()->block(selected)->setSelected(true);
        QApplication::processEvents();
        const QImage shot = editor.grab().toImage();
        QVERIFY(!shot.isNull());
        if (!dir.isEmpty())
            QVERIFY(shot.save(dir + QStringLiteral("/graph-editor-%1.png").arg(name)));
    }
}

QTEST_MAIN(TestGraphView)
#include "test_graph_view.moc"
