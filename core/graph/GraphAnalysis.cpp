#include "graph/GraphAnalysis.h"
#include "data/ProfileFields.h"
#include "text/ItemText.h"

#include "graph/BlockDefinition.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace reclab {

std::string ValueType::text() const
{
    const std::string dims = sequence ? "B×L" : "B";
    switch (kind) {
    case ValueKind::Ids: return dims + " ids(" + vocab + ")";
    case ValueKind::Bag: return dims + " sets(" + vocab + ")";
    case ValueKind::Float: return dims + "×" + std::to_string(width);
    case ValueKind::Words: return "B×T words(" + vocab + ")";
    case ValueKind::WordVectors: return "B×T×" + std::to_string(width) + " (words)";
    }
    return "?";
}

std::string GraphIssue::text() const
{
    if (node.empty())
        return message;
    return "block '" + node + "'" + (port.empty() ? "" : ", port '" + port + "'") + ": " + message;
}

std::string formatCount(int64_t n)
{
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    for (size_t k = 0; k < digits.size(); ++k) {
        if (k > 0 && (digits.size() - k) % 3 == 0)
            out += ',';
        out += digits[k];
    }
    return (n < 0 ? "-" : "") + out;
}

const BlockAnalysis* GraphAnalysis::block(const std::string& id) const
{
    for (const auto& b : blocks)
        if (b.id == id)
            return &b;
    return nullptr;
}

namespace {

double physicalMemory()
{
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? double(pages) * double(size) : 8.0 * (1ull << 30);
}

std::string bytesText(double bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        ++u;
    }
    std::ostringstream s;
    s.precision(bytes < 10 ? 2 : 0);
    s << std::fixed << bytes << ' ' << units[u];
    return s.str();
}

class Analyser {
public:
    Analyser(const GraphSpec& g, const GraphContext& c) : g_(g), c_(c) {}

    GraphAnalysis run();

private:
    void issue(const std::string& node, const std::string& port, const std::string& message)
    {
        result_.issues.push_back({node, port, message});
        if (auto* b = mutableBlock(node))
            b->failed = true;
    }
    BlockAnalysis* mutableBlock(const std::string& id)
    {
        const auto it = index_.find(id);
        return it == index_.end() ? nullptr : &result_.blocks[it->second];
    }
    nlohmann::json resolveParams(const GraphNode& node, const BlockSpec& spec);
    bool checkParam(const GraphNode& node, const ParamSpec& p, const nlohmann::json& value);
    void sortBlocks();
    void infer(const GraphNode& node);
    std::optional<ValueType> inputType(const GraphNode& node, const std::string& port, bool& missing);
    double activationBytes() const;

    const GraphSpec& g_;
    const GraphContext& c_;
    GraphAnalysis result_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> tableOwner_; // table name -> first block using it
};

nlohmann::json Analyser::resolveParams(const GraphNode& node, const BlockSpec& spec)
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : node.params.items())
        if (!spec.param(key))
            issue(node.id, "", "unknown parameter '" + key.substr(0, 64) + "' for " + spec.displayName);
    for (const auto& p : spec.params) {
        nlohmann::json value = p.defaultValue;
        if (const auto it = node.params.find(p.name); it != node.params.end())
            value = *it;
        if (value.is_string() && p.kind != ParamKind::Name && p.kind != ParamKind::Choice) {
            const auto& text = value.get_ref<const std::string&>();
            if (!text.empty() && text[0] == '$') {
                const auto var = g_.variables.find(text.substr(1));
                if (var == g_.variables.end()) {
                    issue(node.id, "", "parameter '" + p.name + "' refers to " + text.substr(0, 64) +
                                           ", which the graph's variables do not define");
                    value = p.defaultValue;
                } else {
                    value = *var;
                }
            }
        } else if (value.is_string() && p.kind == ParamKind::Choice && !value.get_ref<const std::string&>().empty() &&
                   value.get_ref<const std::string&>()[0] == '$') {
            const auto var = g_.variables.find(value.get_ref<const std::string&>().substr(1));
            if (var != g_.variables.end())
                value = *var;
        }
        if (!checkParam(node, p, value))
            value = p.defaultValue;
        out[p.name] = value;
    }
    return out;
}

bool Analyser::checkParam(const GraphNode& node, const ParamSpec& p, const nlohmann::json& value)
{
    auto bad = [&](const std::string& problem) {
        issue(node.id, "", "parameter '" + p.name + "': " + problem);
        return false;
    };
    auto inRange = [&](double v) { return std::isfinite(v) && v >= p.min && v <= p.max; };
    auto range = [&] {
        std::ostringstream s;
        s << p.min << " to " << p.max;
        return s.str();
    };
    switch (p.kind) {
    case ParamKind::Int:
        if (!value.is_number_integer() || !inRange(value.get<double>()))
            return bad("expected a whole number from " + range());
        return true;
    case ParamKind::Real:
        if (!value.is_number() || !inRange(value.get<double>()))
            return bad("expected a number from " + range());
        return true;
    case ParamKind::Bool:
        if (!value.is_boolean())
            return bad("expected true or false");
        return true;
    case ParamKind::IntList:
        if (!value.is_array() || value.empty() || value.size() > 32)
            return bad("expected a list of 1 to 32 sizes");
        for (const auto& v : value)
            if (!v.is_number_integer() || !inRange(v.get<double>()))
                return bad("every size must be a whole number from " + range());
        return true;
    case ParamKind::Choice:
        if (!value.is_string() ||
            std::find(p.choices.begin(), p.choices.end(), value.get<std::string>()) == p.choices.end()) {
            std::string known;
            for (const auto& ch : p.choices)
                known += (known.empty() ? "" : ", ") + ch;
            return bad("expected one of " + known);
        }
        return true;
    case ParamKind::TextList: {
        if (!value.is_array() || value.empty() || value.size() > p.choices.size())
            return bad("expected a list of names");
        std::set<std::string> seen;
        for (const auto& v : value)
            if (!v.is_string() || std::find(p.choices.begin(), p.choices.end(), v.get<std::string>()) == p.choices.end() ||
                !seen.insert(v.get<std::string>()).second)
                return bad("expected distinct names among the known ones");
        return true;
    }
    case ParamKind::Name:
        if (!value.is_string() || (!value.get_ref<const std::string&>().empty() && !isIdentifier(value.get<std::string>())))
            return bad("expected a name (letters, digits, _) or nothing");
        return true;
    }
    return true;
}

void Analyser::sortBlocks()
{
    std::map<std::string, int> pending;
    std::map<std::string, std::vector<std::string>> next;
    for (const auto& n : g_.nodes)
        pending[n.id] = 0;
    for (const auto& e : g_.edges) {
        ++pending[e.to.node];
        next[e.from.node].push_back(e.to.node);
    }
    std::vector<std::string> ready;
    for (const auto& n : g_.nodes)
        if (pending[n.id] == 0)
            ready.push_back(n.id);
    for (size_t k = 0; k < ready.size(); ++k) {
        result_.order.push_back(ready[k]);
        for (const auto& to : next[ready[k]])
            if (--pending[to] == 0)
                ready.push_back(to);
    }
    if (result_.order.size() == g_.nodes.size())
        return;
    std::string members;
    for (const auto& n : g_.nodes)
        if (pending[n.id] > 0) {
            members += (members.empty() ? "" : ", ") + n.id;
            mutableBlock(n.id)->failed = true;
        }
    result_.issues.push_back({"", "", "these blocks form a cycle (or hang off one): " + members});
}

std::optional<ValueType> Analyser::inputType(const GraphNode& node, const std::string& port, bool& missing)
{
    const GraphEdge* e = g_.edgeInto({node.id, port});
    if (!e) {
        issue(node.id, port, "input '" + port + "' is not connected");
        missing = true;
        return std::nullopt;
    }
    const BlockAnalysis* source = mutableBlock(e->from.node);
    if (!source || !source->output) {
        missing = true; // the source's own problem is reported there
        return std::nullopt;
    }
    return source->output;
}

void Analyser::infer(const GraphNode& node)
{
    BlockAnalysis& b = *mutableBlock(node.id);
    const BlockDefinition* definition = findDefinition(node.type);
    if (!definition || b.failed)
        return;
    bool missing = false;
    const std::vector<PortSpec> ports = inputPortsOf(definition->spec, b.params);
    std::vector<ValueType> in;
    for (const auto& port : ports)
        if (auto type = inputType(node, port.name, missing))
            in.push_back(*type);
    if (missing)
        return;
    ShapeContext c(
        c_, b.params, in, ports, [&](const std::string& port, const std::string& message) { issue(node.id, port, message); },
        [&](const std::string& table) -> const BlockAnalysis* {
            const auto owner = tableOwner_.find(table);
            if (owner != tableOwner_.end())
                return mutableBlock(owner->second);
            tableOwner_[table] = node.id;
            return nullptr;
        });
    auto out = definition->shape(c);
    b.parameters = c.parameters;
    if (c.failed())
        return;
    b.output = out;
    result_.itemVectors = result_.itemVectors || c.itemVectors;
    result_.widest = std::max({result_.widest, c.widest, out ? out->width : 0});
}

GraphAnalysis Analyser::run()
{
    for (const auto& n : g_.nodes) {
        index_[n.id] = result_.blocks.size();
        result_.blocks.push_back({n.id, n.type, nlohmann::json::object(), std::nullopt, 0, false});
    }
    std::vector<std::string> outputs;
    for (const auto& n : g_.nodes) {
        const BlockSpec* spec = findBlock(n.type);
        if (!spec) {
            issue(n.id, "", "unknown block type '" + n.type.substr(0, 64) + "'");
            continue;
        }
        mutableBlock(n.id)->params = resolveParams(n, *spec);
        if (spec->isOutput())
            outputs.push_back(n.id);
        const BlockTraits& traits = findDefinition(n.type)->traits;
        result_.usesHistory = result_.usesHistory || traits.readsHistory;
        result_.weighsBehaviours = result_.weighsBehaviours || traits.weighsBehaviours;
        result_.attendsWithinSequence = result_.attendsWithinSequence || traits.attendsWithinSequence;
        result_.textSources |= traits.readsText;
    }
    // Edges must name ports the blocks have.
    for (const auto& e : g_.edges) {
        const BlockSpec* from = findBlock(g_.node(e.from.node)->type);
        const BlockSpec* to = findBlock(g_.node(e.to.node)->type);
        if (from && std::none_of(from->outputs.begin(), from->outputs.end(),
                                 [&](const PortSpec& p) { return p.name == e.from.port; }))
            issue(e.from.node, e.from.port, from->displayName + " has no output '" + e.from.port + "'");
        if (to) {
            const auto ports = inputPortsOf(*to, mutableBlock(e.to.node)->params);
            if (std::none_of(ports.begin(), ports.end(), [&](const PortSpec& p) { return p.name == e.to.port; }))
                issue(e.to.node, e.to.port, to->displayName + " has no input '" + e.to.port + "'");
        }
    }
    sortBlocks();
    for (const auto& id : result_.order)
        infer(*g_.node(id));

    for (const auto& n : g_.nodes) {
        const BlockSpec* spec = findBlock(n.type);
        if (spec && !spec->isOutput() &&
            std::none_of(g_.edges.begin(), g_.edges.end(), [&](const GraphEdge& e) { return e.from.node == n.id; }))
            issue(n.id, "", spec->displayName + "'s output is not used");
    }
    if (outputs.empty())
        result_.issues.push_back({"", "", "the graph has no output block (Click output or Rating output)"});
    else if (outputs.size() > 1) {
        std::string names;
        for (const auto& o : outputs)
            names += (names.empty() ? "" : ", ") + o;
        result_.issues.push_back({"", "", "the graph has " + std::to_string(outputs.size()) +
                                              " output blocks (" + names + "); keep exactly one"});
    } else {
        result_.outputBlock = outputs.front();
        const OutputLoss loss = findDefinition(g_.node(outputs.front())->type)->traits.loss;
        const bool rating = loss == OutputLoss::Squared;
        result_.nextItems = loss == OutputLoss::NextItem;
        if (result_.nextItems)
            for (const auto& b : result_.blocks)
                if (b.id == outputs.front())
                    result_.nextItemSteps = b.params.value("steps", int64_t(1));
        for (const auto& e : g_.edges)
            if (result_.nextItems && e.to.node == outputs.front())
                for (const auto& b : result_.blocks)
                    if (b.id == e.from.node && b.output)
                        result_.nextItemsEveryStep = b.output->sequence;
        if (result_.nextItems && !result_.usesHistory)
            result_.issues.push_back({outputs.front(), "", "the next-item output predicts from the behaviour sequence; "
                                                           "the graph reads none (add a Behaviour sequence input)"});
        result_.task = rating ? TaskKind::RatingPrediction
                              : result_.usesHistory ? TaskKind::ClickThrough : TaskKind::ImplicitRanking;
        if (rating && result_.usesHistory)
            result_.issues.push_back({outputs.front(), "", "rating graphs cannot read the behaviour sequence "
                                                           "(the rating protocol has no history)"});
    }

    double total = 0;
    for (const auto& b : result_.blocks)
        total += double(b.parameters);
    result_.totalParameters = static_cast<int64_t>(std::min(total, 9e18));
    // Weights, gradients and Adam's two moments, in float32.
    const double needed = total * 4 * 4;
    const double available = c_.memoryBytes > 0 ? c_.memoryBytes : physicalMemory();
    if (needed > available)
        result_.issues.push_back({"", "", formatCount(result_.totalParameters) + " parameters need about " +
                                              bytesText(needed) + " to train (weights, gradients, Adam), more "
                                              "than the " + bytesText(available) + " of memory"});
    else if (const double activations = activationBytes(); needed + activations > available)
        result_.issues.push_back({"", "", "a batch of " + std::to_string(c_.batchSize) + " histories of up to " +
                                              std::to_string(c_.historyLength) + " behaviours needs about " +
                                              bytesText(activations) + " of activations to train, more than the " +
                                              bytesText(available - needed) + " of memory left beside the weights; "
                                              "lower the maximum length (--max-length) or the batch (--batch)"});
    return result_;
}

// A rough estimate of one training batch's activations at the full history length (float32,
// kept for the backward pass and matched by their gradients) for a graph that reads the
// history: every block's output,
// each Transformer layer's attention maps (scores, softmax, dropout mask per head) and inner
// layer, and the next-item logits over every item. 0 when the batch or length is unknown.
double Analyser::activationBytes() const
{
    if (!result_.usesHistory || c_.batchSize <= 0 || c_.historyLength <= 0)
        return 0;
    const double batch = double(c_.batchSize), L = double(c_.historyLength);
    double floats = 0;
    for (const auto& b : result_.blocks) {
        if (!b.output)
            continue;
        floats += batch * (b.output->sequence ? L : 1.0) * double(b.output->width);
        if (b.type == "transformer_layer")
            floats += batch * L * (3.0 * double(b.params.value("heads", int64_t(1))) * L +
                                   2.0 * double(b.params.value("inner", int64_t(0))));
    }
    if (result_.nextItems)
        floats += 2.0 * batch * (result_.nextItemsEveryStep ? L : double(result_.nextItemSteps)) *
                  double(std::max<int64_t>(c_.numItems, 1));
    return 2.0 * 4.0 * floats;
}

} // namespace

GraphContext graphContextOf(const Dataset& data)
{
    GraphContext c{data.numUsers(), data.numItems(), static_cast<int64_t>(data.genreNames.size()), 0};
    c.textFields = availableTextFields(data);
    static_assert(kProfileFieldCount == std::tuple_size_v<decltype(c.fieldSizes)>);
    for (int k = 0; k < kProfileFieldCount; ++k)
        c.fieldSizes[static_cast<size_t>(k)] =
            static_cast<int64_t>(profileCodes(data, static_cast<ProfileField>(k)).labels.size());
    return c;
}

GraphAnalysis analyseGraph(const GraphSpec& graph, const GraphContext& context)
{
    return Analyser(graph, context).run();
}

std::string GraphAnalysis::report() const
{
    std::ostringstream s;
    for (const auto& id : order) {
        const BlockAnalysis* b = block(id);
        const BlockSpec* spec = findBlock(b->type);
        s << "  " << id << " (" << (spec ? spec->displayName : b->type) << ")";
        if (b->output)
            s << " -> " << b->output->text();
        if (b->parameters > 0)
            s << ", " << formatCount(b->parameters) << " parameters";
        s << '\n';
    }
    s << "total: " << formatCount(totalParameters) << " parameters\n";
    for (const auto& issue : issues)
        s << "error: " << issue.text() << '\n';
    return s.str();
}

std::string connectionProblem(const GraphSpec& graph, const PortRef& from, const PortRef& to,
                              const GraphContext& context)
{
    const GraphNode* source = graph.node(from.node);
    const GraphNode* target = graph.node(to.node);
    if (!source || !target)
        return "no such block";
    if (from.node == to.node)
        return "a block cannot feed itself";
    const BlockSpec* sourceSpec = findBlock(source->type);
    const BlockSpec* targetSpec = findBlock(target->type);
    if (!sourceSpec || !targetSpec)
        return "unknown block type";
    const PortSpec* out = nullptr;
    for (const auto& p : sourceSpec->outputs)
        if (p.name == from.port)
            out = &p;
    const auto inputs = inputPortsOf(*targetSpec, target->params);
    const PortSpec* in = nullptr;
    for (const auto& p : inputs)
        if (p.name == to.port)
            in = &p;
    if (!out || !in)
        return "no such port";
    if (graph.edgeInto(to))
        return "input '" + to.port + "' of " + to.node + " is already connected; remove that connection first";
    if (std::find(in->kinds.begin(), in->kinds.end(), out->kinds.front()) == in->kinds.end())
        return targetSpec->displayName + " '" + to.port + "' takes " + valueKindName(in->kinds.front()) + ", not " +
               valueKindName(out->kinds.front()) + (in->kinds.front() == ValueKind::Float ? " (embed them first)" : "");
    GraphSpec trial = graph;
    trial.edges.push_back({from, to});
    const GraphAnalysis before = analyseGraph(graph, context);
    const GraphAnalysis after = analyseGraph(trial, context);
    for (const auto& issue : after.issues) {
        if (issue.message.find("cycle") != std::string::npos && issue.node.empty())
            return "this connection would close a cycle";
        // A new shape problem at the target port refuses the edge; anything else (e.g. other
        // inputs still missing) is for the analysis to show.
        if (issue.node == to.node && issue.port == to.port &&
            std::none_of(before.issues.begin(), before.issues.end(), [&](const GraphIssue& i) {
                return i.node == issue.node && i.message == issue.message;
            }))
            return issue.message;
    }
    return {};
}

std::string graphProblems(const GraphAnalysis& analysis, const std::string& source)
{
    std::string message = source + ": " + std::to_string(analysis.issues.size()) +
                           (analysis.issues.size() == 1 ? " problem: " : " problems: ");
    for (size_t k = 0; k < analysis.issues.size(); ++k)
        message += (k ? "; " : "") + analysis.issues[k].text();
    return message;
}

} // namespace reclab
