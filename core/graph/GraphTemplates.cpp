#include "graph/GraphTemplates.h"

#include "graph/EmbeddedGraphs.h"

namespace reclab {

std::vector<std::string> graphTemplateNames()
{
    std::vector<std::string> names;
    for (const auto& t : embeddedGraphs())
        names.push_back(t.name);
    return names;
}

std::string graphTemplateText(const std::string& name)
{
    for (const auto& t : embeddedGraphs())
        if (name == t.name)
            return t.json;
    std::string known;
    for (const auto& t : embeddedGraphs())
        known += (known.empty() ? "" : ", ") + std::string(t.name);
    throw ConfigError("graph", "no graph template named '" + name + "' (known: " + known + ")");
}

GraphSpec graphTemplate(const std::string& name)
{
    return GraphSpec::parse(graphTemplateText(name), "resources/graphs/" + name + ".json");
}

} // namespace reclab
