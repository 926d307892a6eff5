#include "editor/GraphDocument.h"

#include <QUndoCommand>

#include <algorithm>
#include <map>
#include <set>

namespace reclab {

// One edit: the graph before and after. Moves of one drag carry the drag's id and merge.
class GraphEditCommand : public QUndoCommand {
public:
    GraphEditCommand(GraphDocument& doc, const QString& text, GraphSpec before, GraphSpec after, int mergeId)
        : QUndoCommand(text), doc_(doc), before_(std::move(before)), after_(std::move(after)), mergeId_(mergeId)
    {
    }
    void undo() override { doc_.apply(before_); }
    void redo() override { doc_.apply(after_); }
    int id() const override { return mergeId_ >= 0 ? 1 : -1; }
    bool mergeWith(const QUndoCommand* other) override
    {
        const auto* o = static_cast<const GraphEditCommand*>(other);
        if (o->mergeId_ != mergeId_)
            return false;
        after_ = o->after_;
        return true;
    }

private:
    GraphDocument& doc_;
    GraphSpec before_, after_;
    int mergeId_;
};

GraphDocument::GraphDocument(QObject* parent) : QObject(parent)
{
    analyse();
}

void GraphDocument::setContext(const GraphContext& context)
{
    context_ = context;
    analyse();
    emit changed();
}

void GraphDocument::reset(const GraphSpec& graph, const QString& fileName)
{
    undo_.clear();
    fileName_ = fileName;
    apply(graph);
    undo_.setClean();
}

void GraphDocument::open(const QString& path)
{
    reset(GraphSpec::load(path.toStdString()), path);
}

void GraphDocument::save(const QString& path)
{
    graph_.save(path.toStdString());
    fileName_ = path;
    undo_.setClean();
}

void GraphDocument::apply(const GraphSpec& graph)
{
    graph_ = graph;
    analyse();
    emit changed();
}

void GraphDocument::analyse()
{
    analysis_ = analyseGraph(graph_, context_);
}

void GraphDocument::push(const QString& text, const GraphSpec& after, int mergeId)
{
    undo_.push(new GraphEditCommand(*this, text, graph_, after, mergeId));
}

QString GraphDocument::addBlock(const QString& type, QPointF position)
{
    const BlockSpec* spec = findBlock(type.toStdString());
    if (!spec)
        return {};
    GraphSpec after = graph_;
    GraphNode node;
    node.id = graph_.freshId(spec->type);
    node.type = spec->type;
    node.x = position.x();
    node.y = position.y();
    after.nodes.push_back(node);
    push(tr("Add %1").arg(QString::fromStdString(spec->displayName)), after);
    return QString::fromStdString(node.id);
}

void GraphDocument::removeBlocks(const QStringList& ids)
{
    std::set<std::string> gone;
    for (const auto& id : ids)
        if (graph_.node(id.toStdString()))
            gone.insert(id.toStdString());
    if (gone.empty())
        return;
    GraphSpec after = graph_;
    after.nodes.erase(std::remove_if(after.nodes.begin(), after.nodes.end(),
                                     [&](const GraphNode& n) { return gone.count(n.id) > 0; }),
                      after.nodes.end());
    after.edges.erase(std::remove_if(after.edges.begin(), after.edges.end(),
                                     [&](const GraphEdge& e) { return gone.count(e.from.node) || gone.count(e.to.node); }),
                      after.edges.end());
    if (after.pretrain && gone.count(after.pretrain->fuse))
        after.pretrain.reset();
    push(gone.size() == 1 ? tr("Delete %1").arg(QString::fromStdString(*gone.begin()))
                          : tr("Delete %n blocks", nullptr, static_cast<int>(gone.size())),
         after);
}

QString GraphDocument::connectPorts(const PortRef& from, const PortRef& to)
{
    const std::string problem = connectionProblem(graph_, from, to, context_);
    if (!problem.empty())
        return QString::fromStdString(problem);
    GraphSpec after = graph_;
    after.edges.push_back({from, to});
    push(tr("Connect %1 to %2").arg(QString::fromStdString(from.text()), QString::fromStdString(to.text())), after);
    return {};
}

void GraphDocument::disconnectEdge(const GraphEdge& edge)
{
    GraphSpec after = graph_;
    const auto it = std::find(after.edges.begin(), after.edges.end(), edge);
    if (it == after.edges.end())
        return;
    after.edges.erase(it);
    push(tr("Disconnect %1").arg(QString::fromStdString(edge.to.text())), after);
}

void GraphDocument::moveBlocks(const QStringList& ids, QPointF delta, int dragId)
{
    GraphSpec after = graph_;
    bool moved = false;
    for (const auto& id : ids)
        if (GraphNode* n = after.node(id.toStdString())) {
            n->x += delta.x();
            n->y += delta.y();
            moved = true;
        }
    if (moved)
        push(ids.size() == 1 ? tr("Move %1").arg(ids.front()) : tr("Move %n blocks", nullptr, int(ids.size())), after,
             dragId);
}

void GraphDocument::setParam(const QString& id, const QString& name, const nlohmann::json& value)
{
    GraphSpec after = graph_;
    GraphNode* n = after.node(id.toStdString());
    if (!n || n->params.value(name.toStdString(), nlohmann::json()) == value)
        return;
    n->params[name.toStdString()] = value;
    // Fewer concatenation inputs: edges into ports that no longer exist go.
    if (n->type == "concat" && name == "inputs" && value.is_number_integer()) {
        const auto count = value.get<int64_t>();
        after.edges.erase(std::remove_if(after.edges.begin(), after.edges.end(),
                                         [&](const GraphEdge& e) {
                                             return e.to.node == n->id && e.to.port.size() > 2 &&
                                                    std::atoll(e.to.port.c_str() + 2) > count;
                                         }),
                          after.edges.end());
    }
    push(tr("Set %1.%2").arg(id, name), after);
}

void GraphDocument::setVariable(const QString& name, const nlohmann::json& value)
{
    GraphSpec after = graph_;
    after.variables[name.toStdString()] = value;
    push(tr("Set $%1").arg(name), after);
}

void GraphDocument::autoLayout()
{
    // Depth = the longest path from an input; blocks of one depth in a column, in their order.
    std::map<std::string, int> depth;
    for (const auto& id : analysis_.order) {
        int d = 0;
        for (const auto& e : graph_.edges)
            if (e.to.node == id && depth.count(e.from.node))
                d = std::max(d, depth[e.from.node] + 1);
        depth[id] = d;
    }
    std::map<int, int> rows;
    GraphSpec after = graph_;
    for (auto& n : after.nodes) {
        const int d = depth.count(n.id) ? depth[n.id] : 0;
        n.x = 220.0 * d;
        n.y = 120.0 * rows[d]++;
    }
    push(tr("Arrange blocks"), after);
}

QByteArray GraphDocument::copy(const QStringList& ids) const
{
    std::set<std::string> chosen;
    for (const auto& id : ids)
        chosen.insert(id.toStdString());
    GraphSpec part;
    part.name = "clipboard";
    part.variables = graph_.variables;
    for (const auto& n : graph_.nodes)
        if (chosen.count(n.id))
            part.nodes.push_back(n);
    for (const auto& e : graph_.edges)
        if (chosen.count(e.from.node) && chosen.count(e.to.node))
            part.edges.push_back(e);
    return QByteArray::fromStdString(part.toJson().dump());
}

QStringList GraphDocument::paste(const QByteArray& json, QPointF offset)
{
    GraphSpec part;
    try {
        part = GraphSpec::parse(json.toStdString(), "clipboard");
    } catch (const GraphError&) {
        return {};
    }
    GraphSpec after = graph_;
    std::map<std::string, std::string> renamed;
    QStringList ids;
    for (auto n : part.nodes) {
        const std::string id = after.freshId(n.id);
        renamed[n.id] = id;
        n.id = id;
        n.x += offset.x();
        n.y += offset.y();
        after.nodes.push_back(n);
        ids << QString::fromStdString(id);
    }
    for (auto e : part.edges) {
        e.from.node = renamed[e.from.node];
        e.to.node = renamed[e.to.node];
        after.edges.push_back(e);
    }
    for (const auto& [key, value] : part.variables.items())
        if (!after.variables.contains(key))
            after.variables[key] = value;
    if (!ids.isEmpty())
        push(tr("Paste %n blocks", nullptr, int(ids.size())), after);
    return ids;
}

} // namespace reclab
