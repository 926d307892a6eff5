// The graph editor's scene: a view of a GraphDocument (blocks, ports, edges, the analysis'
// shapes, parameter counts and problems) that turns the user's gestures into document verbs.
// Items are views, never the source of truth: after every change the scene re-reads the
// document. Dragging from a port draws a wire; dropping it on a port asks the document, which
// connects or says why not (shown by the view's owner through connectionRefused).
#pragma once

#include "editor/GraphDocument.h"

#include <QColor>
#include <QGraphicsObject>
#include <QGraphicsScene>
#include <QMap>

class QGraphicsPathItem;

namespace reclab {

// A block's tooltip: its name, what it does and its formula (the palette's and the canvas').
QString blockToolTip(const BlockSpec& spec);

class BlockItem : public QGraphicsObject {
    Q_OBJECT
public:
    enum { Type = UserType + 1 };
    BlockItem(GraphDocument& doc, const std::string& id);
    int type() const override { return Type; }
    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    const std::string& id() const { return id_; }
    // Re-reads the block from the document (ports, shape, parameters, problems, position).
    void refresh();
    // The port under a scene point, and a port's centre in scene coordinates.
    std::optional<PortRef> portAt(QPointF scenePos, bool* isInput = nullptr) const;
    QPointF portPosition(const std::string& port, bool input) const;

private:
    GraphDocument& doc_;
    std::string id_;
    QStringList inputs_, outputs_;
    QString title_, typeName_, detail_, problems_;
    QColor colour_;
    qreal height_ = 60;
};

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(GraphDocument& doc, QObject* parent = nullptr);
    // Removes the items while this is still a GraphScene: QGraphicsScene's own destructor would
    // delete them later, and their removal emits selectionChanged into a half-destroyed scene.
    ~GraphScene() override;

    GraphDocument& document() { return doc_; }
    BlockItem* block(const std::string& id) const { return blocks_.value(QString::fromStdString(id)); }
    QStringList selectedBlocks() const;
    // Deletes the selected blocks and wires (one undo step each kind).
    void deleteSelection();
    // Connects through the document; returns the refusal, also sent as connectionRefused.
    QString connectPorts(const PortRef& from, const PortRef& to);

signals:
    void connectionRefused(const QString& why);
    void blockSelected(const QString& id); // empty: none or several

protected:
    void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent* event) override;

private:
    void sync();
    BlockItem* blockAt(QPointF pos) const;
    QPainterPath edgePath(const GraphEdge& edge) const;

    GraphDocument& doc_;
    QMap<QString, BlockItem*> blocks_;
    QList<QGraphicsPathItem*> wires_;
    // A wire being drawn from a port.
    std::optional<PortRef> wireFrom_;
    bool wireFromInput_ = false;
    QGraphicsPathItem* pending_ = nullptr;
    // A drag of blocks: where they started.
    QMap<QString, QPointF> dragStart_;
    int dragId_ = 0;
};

} // namespace reclab
