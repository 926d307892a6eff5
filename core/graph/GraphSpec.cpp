#include "graph/GraphSpec.h"

#include "util/Files.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace reclab {

GraphError::GraphError(std::string source, std::string where, const std::string& problem)
    : Error(source + (where.empty() ? "" : ": " + where) + ": " + problem), source_(std::move(source)),
      where_(std::move(where))
{
}

bool isIdentifier(const std::string& text)
{
    if (text.empty() || text.size() > 64)
        return false;
    for (size_t k = 0; k < text.size(); ++k) {
        const char c = text[k];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!(letter || (k > 0 && c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

const GraphNode* GraphSpec::node(const std::string& id) const
{
    for (const auto& n : nodes)
        if (n.id == id)
            return &n;
    return nullptr;
}

GraphNode* GraphSpec::node(const std::string& id)
{
    return const_cast<GraphNode*>(static_cast<const GraphSpec*>(this)->node(id));
}

const GraphEdge* GraphSpec::edgeInto(const PortRef& input) const
{
    for (const auto& e : edges)
        if (e.to == input)
            return &e;
    return nullptr;
}

std::string GraphSpec::freshId(const std::string& stem) const
{
    const std::string base = isIdentifier(stem) ? stem : "block";
    if (!node(base))
        return base;
    for (int k = 2;; ++k) {
        std::string id = base + "_" + std::to_string(k);
        if (!node(id))
            return id;
    }
}

nlohmann::json GraphSpec::toJson() const
{
    nlohmann::json out = {{"format", "reclab-graph"}, {"version", kVersion}, {"name", name}};
    if (!description.empty())
        out["description"] = description;
    if (!variables.empty())
        out["variables"] = variables;
    auto& ns = out["nodes"] = nlohmann::json::array();
    for (const auto& n : nodes)
        ns.push_back({{"id", n.id}, {"type", n.type}, {"params", n.params}, {"position", {n.x, n.y}}});
    auto& es = out["edges"] = nlohmann::json::array();
    for (const auto& e : edges)
        es.push_back({{"from", e.from.text()}, {"to", e.to.text()}});
    if (pretrain)
        out["pretrain"] = {{"from", pretrain->from}, {"fuse", pretrain->fuse}};
    return out;
}

namespace {

// Field readers that name the field in their errors.
class Reader {
public:
    explicit Reader(std::string source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const std::string& where, const std::string& problem) const
    {
        throw GraphError(source_, where, problem);
    }

    static std::string typeName(const nlohmann::json& v)
    {
        return v.is_null() ? "null" : v.type_name();
    }

    std::string text(const nlohmann::json& object, const char* key, const std::string& where, bool required) const
    {
        const auto it = object.find(key);
        if (it == object.end()) {
            if (required)
                fail(where, std::string("missing field '") + key + "'");
            return {};
        }
        if (!it->is_string())
            fail(where + "." + key, "expected a string, got " + typeName(*it));
        const auto& s = it->get_ref<const std::string&>();
        if (s.size() > 4096)
            fail(where + "." + key, "longer than 4096 characters");
        return s;
    }

    PortRef port(const nlohmann::json& edge, const char* key, const std::string& where) const
    {
        const std::string s = text(edge, key, where, true);
        const size_t dot = s.find('.');
        PortRef ref;
        if (dot != std::string::npos) {
            ref.node = s.substr(0, dot);
            ref.port = s.substr(dot + 1);
        }
        if (!isIdentifier(ref.node) || !isIdentifier(ref.port))
            fail(where + "." + key, "expected \"block.port\", got \"" + s.substr(0, 80) + "\"");
        return ref;
    }

private:
    std::string source_;
};

// Nesting depth of JSON text, counted without parsing (strings skipped).
size_t nestingDepth(const std::string& text)
{
    size_t depth = 0, deepest = 0;
    bool inString = false;
    for (size_t k = 0; k < text.size(); ++k) {
        const char c = text[k];
        if (inString) {
            if (c == '\\')
                ++k;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

} // namespace

GraphSpec GraphSpec::fromJson(const nlohmann::json& json, const std::string& source)
{
    const Reader r(source);
    if (!json.is_object())
        r.fail("", "expected a JSON object, got " + Reader::typeName(json));
    if (const auto format = r.text(json, "format", "", false); !format.empty() && format != "reclab-graph")
        r.fail("format", "expected \"reclab-graph\", got \"" + format.substr(0, 80) + "\"");
    const auto version = json.find("version");
    if (version == json.end())
        r.fail("", "missing field 'version'");
    if (!version->is_number_integer())
        r.fail("version", "expected an integer, got " + Reader::typeName(*version));
    if (version->get<long long>() < 1 || version->get<long long>() > kVersion)
        r.fail("version", "this RecLab reads graph versions 1 to " + std::to_string(kVersion) + ", not " +
                              std::to_string(version->get<long long>()));

    GraphSpec g;
    g.name = r.text(json, "name", "", false);
    g.description = r.text(json, "description", "", false);
    if (const auto it = json.find("variables"); it != json.end()) {
        if (!it->is_object())
            r.fail("variables", "expected an object, got " + Reader::typeName(*it));
        for (const auto& [key, value] : it->items()) {
            if (!isIdentifier(key))
                r.fail("variables", "'" + key.substr(0, 80) + "' is not a name (letters, digits, _)");
            if (!(value.is_number() || value.is_boolean() || value.is_string() || value.is_array()))
                r.fail("variables." + key, "expected a number, a string or a list, got " + Reader::typeName(value));
        }
        g.variables = *it;
    }

    const auto nodes = json.find("nodes");
    if (nodes == json.end())
        r.fail("", "missing field 'nodes'");
    if (!nodes->is_array())
        r.fail("nodes", "expected a list, got " + Reader::typeName(*nodes));
    if (nodes->size() > kMaxNodes)
        r.fail("nodes", std::to_string(nodes->size()) + " blocks; at most " + std::to_string(kMaxNodes));
    std::set<std::string> ids;
    for (size_t k = 0; k < nodes->size(); ++k) {
        const auto& n = (*nodes)[k];
        const std::string where = "nodes[" + std::to_string(k) + "]";
        if (!n.is_object())
            r.fail(where, "expected an object, got " + Reader::typeName(n));
        GraphNode node;
        node.id = r.text(n, "id", where, true);
        if (!isIdentifier(node.id))
            r.fail(where + ".id", "\"" + node.id.substr(0, 80) + "\" is not a block name (letters, digits, _; at most 64)");
        if (!ids.insert(node.id).second)
            r.fail(where + ".id", "a second block named '" + node.id + "'");
        node.type = r.text(n, "type", where, true);
        if (const auto p = n.find("params"); p != n.end()) {
            if (!p->is_object())
                r.fail(where + ".params", "expected an object, got " + Reader::typeName(*p));
            node.params = *p;
        }
        if (const auto pos = n.find("position"); pos != n.end()) {
            if (!pos->is_array() || pos->size() != 2 || !(*pos)[0].is_number() || !(*pos)[1].is_number())
                r.fail(where + ".position", "expected [x, y]");
            node.x = (*pos)[0].get<double>();
            node.y = (*pos)[1].get<double>();
            if (!std::isfinite(node.x) || !std::isfinite(node.y) || std::abs(node.x) > 1e7 || std::abs(node.y) > 1e7)
                r.fail(where + ".position", "coordinates must be finite and within 1e7");
        }
        g.nodes.push_back(std::move(node));
    }

    const auto edges = json.find("edges");
    if (edges != json.end()) {
        if (!edges->is_array())
            r.fail("edges", "expected a list, got " + Reader::typeName(*edges));
        if (edges->size() > kMaxEdges)
            r.fail("edges", std::to_string(edges->size()) + " connections; at most " + std::to_string(kMaxEdges));
        for (size_t k = 0; k < edges->size(); ++k) {
            const auto& e = (*edges)[k];
            const std::string where = "edges[" + std::to_string(k) + "]";
            if (!e.is_object())
                r.fail(where, "expected an object, got " + Reader::typeName(e));
            GraphEdge edge{r.port(e, "from", where), r.port(e, "to", where)};
            for (const auto* end : {&edge.from, &edge.to})
                if (!ids.count(end->node))
                    r.fail(where + (end == &edge.from ? ".from" : ".to"), "no block named '" + end->node + "'");
            for (const auto& other : g.edges)
                if (other.to == edge.to)
                    r.fail(where + ".to", "input " + edge.to.text() + " is already connected");
            g.edges.push_back(std::move(edge));
        }
    }

    if (const auto p = json.find("pretrain"); p != json.end() && !p->is_null()) {
        if (!p->is_object())
            r.fail("pretrain", "expected an object, got " + Reader::typeName(*p));
        GraphPretrain pre;
        const auto from = p->find("from");
        if (from == p->end() || !from->is_array() || from->size() < 1 || from->size() > 8)
            r.fail("pretrain.from", "expected a list of one to eight template names");
        for (const auto& name : *from) {
            if (!name.is_string() || !isIdentifier(name.get<std::string>()))
                r.fail("pretrain.from", "expected template names");
            pre.from.push_back(name.get<std::string>());
        }
        pre.fuse = r.text(*p, "fuse", "pretrain", true);
        if (!ids.count(pre.fuse))
            r.fail("pretrain.fuse", "no block named '" + pre.fuse.substr(0, 80) + "'");
        g.pretrain = std::move(pre);
    }
    return g;
}

GraphSpec GraphSpec::parse(const std::string& text, const std::string& source)
{
    if (text.size() > kMaxTextBytes)
        throw GraphError(source, "", "larger than " + std::to_string(kMaxTextBytes >> 20) + " MiB; not a graph");
    if (nestingDepth(text) > 64)
        throw GraphError(source, "", "nested deeper than 64 levels; not a graph");
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        // parse_error carries the line and column ("at line 3, column 7"); out_of_range is a
        // number too large for a double ("1e999").
        std::string what = e.what();
        if (const auto at = what.find("] "); at != std::string::npos)
            what = what.substr(at + 2);
        throw GraphError(source, "", "not valid JSON: " + what);
    }
    return fromJson(json, source);
}

GraphSpec GraphSpec::load(const std::string& path)
{
    // A FIFO, device or folder is refused naming what it is, never read.
    std::string text;
    try {
        text = readWholeFile(path, kMaxTextBytes, "a graph");
    } catch (const DataError& e) {
        throw GraphError(path, "", e.problem());
    }
    return parse(text, path);
}

void GraphSpec::save(const std::string& path) const
{
    writeFileWhole(path, toJson().dump(2) + '\n');
}

} // namespace reclab
