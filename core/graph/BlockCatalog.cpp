#include "graph/BlockCatalog.h"

#include "graph/BlockDefinition.h"

namespace reclab {

const ParamSpec* BlockSpec::param(const std::string& name) const
{
    for (const auto& p : params)
        if (p.name == name)
            return &p;
    return nullptr;
}

const std::vector<BlockSpec>& blockCatalog()
{
    static const std::vector<BlockSpec> catalog = [] {
        std::vector<BlockSpec> specs;
        for (const auto& definition : blockRegistry().all())
            specs.push_back(definition.spec);
        return specs;
    }();
    return catalog;
}

const BlockSpec* findBlock(const std::string& type)
{
    const BlockDefinition* definition = findDefinition(type);
    return definition ? &definition->spec : nullptr;
}

std::vector<PortSpec> inputPortsOf(const BlockSpec& spec, const nlohmann::json& params)
{
    const BlockDefinition* definition = findDefinition(spec.type);
    return definition && definition->ports ? definition->ports(params) : spec.inputs;
}

std::string valueKindName(ValueKind kind)
{
    switch (kind) {
    case ValueKind::Ids: return "ids";
    case ValueKind::Bag: return "category sets";
    case ValueKind::Float: return "vectors";
    case ValueKind::Words: return "words";
    case ValueKind::WordVectors: return "word vectors";
    }
    return "?";
}

} // namespace reclab
