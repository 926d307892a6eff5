// The document the graph editor edits: a core GraphSpec, its live analysis, and the undo stack
// (the document owns it, as in Tiled and Okular; the scene only shows the document and asks it
// to change). Every verb is one undo step: a command holds the graph before and after it, so
// undo and redo restore exactly; a drag's moves merge into one step.
#pragma once

#include "graph/GraphAnalysis.h"
#include "graph/GraphSpec.h"

#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QUndoStack>

namespace reclab {

class GraphDocument : public QObject {
    Q_OBJECT
public:
    explicit GraphDocument(QObject* parent = nullptr);

    const GraphSpec& graph() const { return graph_; }
    const GraphAnalysis& analysis() const { return analysis_; }
    QUndoStack* undoStack() { return &undo_; }
    // Sizes of the data the analysis checks against (the dataset in the workbench).
    void setContext(const GraphContext& context);
    const GraphContext& context() const { return context_; }

    // Replaces the graph (open, new from a template): not undoable, clears the stack.
    void reset(const GraphSpec& graph, const QString& fileName = {});
    // Throws GraphError (the file, the field) when the file is not a graph.
    void open(const QString& path);
    void save(const QString& path);
    QString fileName() const { return fileName_; }
    bool isModified() const { return !undo_.isClean(); }

    // The verbs. Each returns what the user needs to know: the new id, or why it was refused.
    QString addBlock(const QString& type, QPointF position);
    void removeBlocks(const QStringList& ids); // and every edge touching them
    QString connectPorts(const PortRef& from, const PortRef& to); // empty when connected
    void disconnectEdge(const GraphEdge& edge);
    // Moves of one drag (same dragId) merge into one undo step.
    void moveBlocks(const QStringList& ids, QPointF delta, int dragId);
    void setParam(const QString& id, const QString& name, const nlohmann::json& value);
    void setVariable(const QString& name, const nlohmann::json& value);
    // Layered left to right by dependency depth.
    void autoLayout();

    // The blocks and the edges between them as graph JSON (for the clipboard).
    QByteArray copy(const QStringList& ids) const;
    // Adds the clipboard's blocks under fresh ids, offset; returns their ids (empty if the text
    // is not a graph).
    QStringList paste(const QByteArray& json, QPointF offset);

signals:
    void changed(); // the graph or its analysis changed

private:
    friend class GraphEditCommand;
    void apply(const GraphSpec& graph); // used by the commands
    void push(const QString& text, const GraphSpec& after, int mergeId = -1);
    void analyse();

    GraphSpec graph_;
    GraphAnalysis analysis_;
    GraphContext context_{943, 1682, 19, 0};
    QUndoStack undo_;
    QString fileName_;
};

} // namespace reclab
