#include "editor/GraphScene.h"

#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

namespace reclab {

namespace {

constexpr qreal kWidth = 170;
constexpr qreal kHeader = 36;
constexpr qreal kPortStep = 20;
constexpr qreal kPortRadius = 5;

QColor categoryColour(const std::string& category)
{
    if (category == "Inputs")
        return QColor(0x4c, 0x8b, 0xd6);
    if (category == "Embeddings")
        return QColor(0x8e, 0x5c, 0xc9);
    if (category == "Layers")
        return QColor(0x3a, 0xa1, 0x7e);
    if (category == "Activations")
        return QColor(0xd0, 0x9a, 0x2f);
    if (category == "Combine")
        return QColor(0x5f, 0x7d, 0x8c);
    if (category == "Pooling")
        return QColor(0xc8, 0x5a, 0x7c);
    if (category == "Sequence")
        return QColor(0x28, 0x96, 0xa8);
    if (category == "Text")
        return QColor(0x9a, 0x7b, 0x3c);
    return QColor(0xc0, 0x4b, 0x3b); // outputs
}

// A wire between two ports; selectable so that it can be deleted.
class WireItem : public QGraphicsPathItem {
public:
    enum { Type = QGraphicsItem::UserType + 2 };
    explicit WireItem(GraphEdge edge) : edge_(std::move(edge))
    {
        setFlag(ItemIsSelectable);
        setZValue(-1);
    }
    int type() const override { return Type; }
    const GraphEdge& edge() const { return edge_; }
    void paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) override
    {
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(QPen(isSelected() ? QColor(0xff, 0x8c, 0x00) : QColor(0x60, 0x66, 0x70), isSelected() ? 3 : 2));
        painter->drawPath(path());
    }
    QPainterPath shape() const override
    {
        QPainterPathStroker stroker;
        stroker.setWidth(10);
        return stroker.createStroke(path());
    }

private:
    GraphEdge edge_;
};

QPainterPath wirePath(QPointF from, QPointF to)
{
    QPainterPath p(from);
    const qreal dx = std::max<qreal>(40, std::abs(to.x() - from.x()) / 2);
    p.cubicTo(from + QPointF(dx, 0), to - QPointF(dx, 0), to);
    return p;
}

} // namespace

QString blockToolTip(const BlockSpec& spec)
{
    return QStringLiteral("<b>%1</b><p>%2</p><p><code>%3</code></p>")
        .arg(QString::fromStdString(spec.displayName).toHtmlEscaped(), QString::fromStdString(spec.summary).toHtmlEscaped(),
             QString::fromStdString(spec.formula).toHtmlEscaped());
}

BlockItem::BlockItem(GraphDocument& doc, const std::string& id) : doc_(doc), id_(id)
{
    setFlags(ItemIsMovable | ItemIsSelectable);
    setCursor(Qt::OpenHandCursor);
    refresh();
}

void BlockItem::refresh()
{
    const GraphNode* node = doc_.graph().node(id_);
    if (!node)
        return;
    prepareGeometryChange();
    const BlockSpec* spec = findBlock(node->type);
    const BlockAnalysis* info = doc_.analysis().block(id_);
    inputs_.clear();
    outputs_.clear();
    if (spec) {
        for (const auto& p : inputPortsOf(*spec, info ? info->params : node->params))
            inputs_ << QString::fromStdString(p.name);
        for (const auto& p : spec->outputs)
            outputs_ << QString::fromStdString(p.name);
    }
    title_ = QString::fromStdString(id_);
    typeName_ = spec ? QString::fromStdString(spec->displayName)
                     : QStringLiteral("unknown: %1").arg(QString::fromStdString(node->type));
    detail_.clear();
    if (info && info->output)
        detail_ = QString::fromStdString(info->output->text());
    if (info && info->parameters > 0)
        detail_ += (detail_.isEmpty() ? "" : "  ·  ") + QString::fromStdString(formatCount(info->parameters)) + " p";
    problems_.clear();
    for (const auto& issue : doc_.analysis().issues)
        if (issue.node == id_)
            problems_ += (problems_.isEmpty() ? "" : "\n") + QString::fromStdString(issue.text());
    const int ports = std::max<int>(static_cast<int>(std::max(inputs_.size(), outputs_.size())), 1);
    height_ = kHeader + ports * kPortStep + 22;
    colour_ = categoryColour(spec ? spec->category : "");
    QString tip = spec ? blockToolTip(*spec) : QString();
    if (!problems_.isEmpty())
        tip += QStringLiteral("<p style='color:#c0392b'>%1</p>").arg(problems_.toHtmlEscaped().replace("\n", "<br>"));
    setToolTip(tip);
    setPos(node->x, node->y);
    update();
}

QRectF BlockItem::boundingRect() const
{
    return QRectF(-kPortRadius - 1, -1, kWidth + 2 * kPortRadius + 2, height_ + 2);
}

QPointF BlockItem::portPosition(const std::string& port, bool input) const
{
    const QStringList& list = input ? inputs_ : outputs_;
    const auto k = list.indexOf(QString::fromStdString(port));
    return mapToScene(QPointF(input ? 0 : kWidth, kHeader + (std::max<qsizetype>(k, 0) + 0.5) * kPortStep));
}

std::optional<PortRef> BlockItem::portAt(QPointF scenePos, bool* isInput) const
{
    for (const bool input : {true, false})
        for (const auto& p : input ? inputs_ : outputs_)
            if (QLineF(portPosition(p.toStdString(), input), scenePos).length() <= kPortRadius + 4) {
                if (isInput)
                    *isInput = input;
                return PortRef{id_, p.toStdString()};
            }
    return std::nullopt;
}

void BlockItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*)
{
    const QColor& colour = colour_;
    painter->setRenderHint(QPainter::Antialiasing);
    const QRectF body(0, 0, kWidth, height_);
    QPen border(problems_.isEmpty() ? colour.darker(130) : QColor(0xc0, 0x39, 0x2b), problems_.isEmpty() ? 1.5 : 2.5);
    if (isSelected())
        border = QPen(QColor(0xff, 0x8c, 0x00), 3);
    painter->setPen(border);
    painter->setBrush(QColor(0xfb, 0xfb, 0xfc));
    painter->drawRoundedRect(body, 6, 6);
    QPainterPath header;
    header.addRoundedRect(QRectF(0, 0, kWidth, kHeader), 6, 6);
    painter->fillPath(header, colour);
    painter->setPen(Qt::white);
    QFont font = painter->font();
    font.setBold(true);
    painter->setFont(font);
    painter->drawText(QRectF(8, 2, kWidth - 16, 18), Qt::AlignLeft | Qt::AlignVCenter, title_);
    font.setBold(false);
    font.setPointSizeF(font.pointSizeF() * 0.85);
    painter->setFont(font);
    painter->drawText(QRectF(8, 18, kWidth - 16, 16), Qt::AlignLeft | Qt::AlignVCenter, typeName_);
    painter->setPen(QColor(0x33, 0x33, 0x33));
    for (const bool input : {true, false}) {
        const QStringList& list = input ? inputs_ : outputs_;
        for (int k = 0; k < list.size(); ++k) {
            const QPointF c(input ? 0 : kWidth, kHeader + (k + 0.5) * kPortStep);
            painter->setBrush(input ? QColor(0xff, 0xff, 0xff) : colour);
            painter->drawEllipse(c, kPortRadius, kPortRadius);
            painter->drawText(QRectF(input ? 10 : kWidth / 2, c.y() - 8, kWidth / 2 - 12, 16),
                              (input ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter, list[k]);
        }
    }
    painter->setPen(problems_.isEmpty() ? QColor(0x55, 0x55, 0x55) : QColor(0xc0, 0x39, 0x2b));
    painter->drawText(QRectF(8, height_ - 20, kWidth - 16, 18), Qt::AlignLeft | Qt::AlignVCenter,
                      problems_.isEmpty() ? detail_
                                          : QStringLiteral("⚠ ") + problems_.section('\n', 0, 0).section(": ", -1));
}

GraphScene::GraphScene(GraphDocument& doc, QObject* parent) : QGraphicsScene(parent), doc_(doc)
{
    setBackgroundBrush(QColor(0xee, 0xf0, 0xf3));
    connect(&doc_, &GraphDocument::changed, this, &GraphScene::sync);
    connect(this, &QGraphicsScene::selectionChanged, this, [this] {
        const QStringList ids = selectedBlocks();
        emit blockSelected(ids.size() == 1 ? ids.front() : QString());
    });
    sync();
}

GraphScene::~GraphScene()
{
    disconnect(this, &QGraphicsScene::selectionChanged, this, nullptr);
    clear();
}

void GraphScene::sync()
{
    // Blocks: keep the items of blocks that still exist, add and remove the others.
    QSet<QString> live;
    for (const auto& n : doc_.graph().nodes) {
        const QString id = QString::fromStdString(n.id);
        live.insert(id);
        if (BlockItem* item = blocks_.value(id)) {
            item->refresh();
        } else {
            auto* created = new BlockItem(doc_, n.id);
            addItem(created);
            blocks_.insert(id, created);
        }
    }
    for (auto it = blocks_.begin(); it != blocks_.end();) {
        if (!live.contains(it.key())) {
            delete it.value();
            it = blocks_.erase(it);
        } else {
            ++it;
        }
    }
    // Wires are cheap: drawn afresh.
    qDeleteAll(wires_);
    wires_.clear();
    for (const auto& e : doc_.graph().edges) {
        BlockItem* from = block(e.from.node);
        BlockItem* to = block(e.to.node);
        if (!from || !to)
            continue;
        auto* wire = new WireItem(e);
        wire->setPath(edgePath(e));
        addItem(wire);
        wires_.push_back(wire);
    }
}

QStringList GraphScene::selectedBlocks() const
{
    QStringList ids;
    for (auto* item : selectedItems())
        if (auto* b = qgraphicsitem_cast<BlockItem*>(item))
            ids << QString::fromStdString(b->id());
    return ids;
}

void GraphScene::deleteSelection()
{
    std::vector<GraphEdge> edges;
    for (auto* item : selectedItems())
        if (item->type() == WireItem::Type)
            edges.push_back(static_cast<WireItem*>(item)->edge());
    const QStringList ids = selectedBlocks();
    for (const auto& e : edges)
        doc_.disconnectEdge(e);
    if (!ids.isEmpty())
        doc_.removeBlocks(ids);
}

QString GraphScene::connectPorts(const PortRef& from, const PortRef& to)
{
    const QString why = doc_.connectPorts(from, to);
    if (!why.isEmpty())
        emit connectionRefused(why);
    return why;
}

QPainterPath GraphScene::edgePath(const GraphEdge& e) const
{
    return wirePath(block(e.from.node)->portPosition(e.from.port, false), block(e.to.node)->portPosition(e.to.port, true));
}

BlockItem* GraphScene::blockAt(QPointF pos) const
{
    for (auto* item : items(pos))
        if (auto* b = qgraphicsitem_cast<BlockItem*>(item))
            return b;
    // Ports stick out of the block by their radius.
    for (auto* b : blocks_)
        if (b->portAt(pos))
            return b;
    return nullptr;
}

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent* event)
{
    if (event->button() == Qt::LeftButton)
        if (BlockItem* b = blockAt(event->scenePos()))
            if (auto port = b->portAt(event->scenePos(), &wireFromInput_)) {
                wireFrom_ = port;
                pending_ = addPath(QPainterPath(), QPen(QColor(0x33, 0x66, 0xcc), 2, Qt::DashLine));
                event->accept();
                return;
            }
    QGraphicsScene::mousePressEvent(event);
    dragStart_.clear();
    for (auto* item : selectedItems())
        if (auto* b = qgraphicsitem_cast<BlockItem*>(item))
            dragStart_.insert(QString::fromStdString(b->id()), b->pos());
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent* event)
{
    if (wireFrom_ && pending_) {
        const QPointF start = block(wireFrom_->node)->portPosition(wireFrom_->port, wireFromInput_);
        pending_->setPath(wireFromInput_ ? wirePath(event->scenePos(), start) : wirePath(start, event->scenePos()));
        return;
    }
    QGraphicsScene::mouseMoveEvent(event);
    // While blocks are dragged, the wires touching them follow (hover moves touch nothing).
    if (dragStart_.isEmpty() || !(event->buttons() & Qt::LeftButton))
        return;
    for (auto* w : wires_) {
        const auto& e = static_cast<WireItem*>(w)->edge();
        if (dragStart_.contains(QString::fromStdString(e.from.node)) || dragStart_.contains(QString::fromStdString(e.to.node)))
            w->setPath(edgePath(e));
    }
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* event)
{
    if (wireFrom_) {
        const PortRef from = *wireFrom_;
        const bool fromInput = wireFromInput_;
        wireFrom_.reset();
        delete pending_;
        pending_ = nullptr;
        bool targetInput = false;
        if (BlockItem* b = blockAt(event->scenePos()))
            if (auto target = b->portAt(event->scenePos(), &targetInput)) {
                if (targetInput == fromInput)
                    emit connectionRefused(tr("connect an output to an input"));
                else
                    fromInput ? connectPorts(*target, from) : connectPorts(from, *target);
            }
        return;
    }
    QGraphicsScene::mouseReleaseEvent(event);
    // A finished drag: one document verb for the whole move.
    if (!dragStart_.isEmpty()) {
        const auto first = dragStart_.begin();
        BlockItem* item = blocks_.value(first.key());
        const QPointF delta = item ? item->pos() - first.value() : QPointF();
        const QStringList ids = dragStart_.keys();
        dragStart_.clear();
        if (!delta.isNull())
            doc_.moveBlocks(ids, delta, ++dragId_);
    }
}

} // namespace reclab
