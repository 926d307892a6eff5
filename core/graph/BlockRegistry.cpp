#include "graph/BlockDefinition.h"
#include "data/ProfileFields.h"

#include <stdexcept>

namespace reclab {

#define RECLAB_BLOCK_FAMILY(family) void define##family##Blocks(BlockRegistry& registry);
#include "blocks/BlockFamilies.def"
#undef RECLAB_BLOCK_FAMILY

ShapeContext::ShapeContext(const GraphContext& sizes_, nlohmann::json& params_, const std::vector<ValueType>& in_,
                           const std::vector<PortSpec>& ports_,
                           std::function<void(const std::string&, const std::string&)> report,
                           std::function<const BlockAnalysis*(const std::string&)> owner)
    : sizes(sizes_), params(params_), in(in_), ports(ports_), report_(std::move(report)), owner_(std::move(owner))
{
}

std::nullopt_t ShapeContext::fail(const std::string& port, const std::string& message)
{
    failed_ = true;
    report_(port, message);
    return std::nullopt;
}

bool ShapeContext::vectors(size_t k)
{
    if (in[k].kind == ValueKind::Float)
        return true;
    fail(ports[k].name, "expects vectors, got " + in[k].text() + " (put an Embedding in between)");
    return false;
}

const BlockAnalysis* ShapeContext::tableOwner(const std::string& table) { return owner_(table); }

int64_t ShapeContext::vocabularySize(const std::string& vocab) const
{
    if (vocab == "user")
        return sizes.numUsers;
    if (vocab == "item")
        return sizes.numItems;
    if (vocab == "word")
        return sizes.numWords;
    if (vocab.rfind("field.", 0) == 0)
        if (const auto field = profileFieldNamed(vocab.substr(6)))
            return sizes.fieldSizes[static_cast<size_t>(*field)];
    return sizes.numGenres;
}

void BlockRegistry::add(BlockDefinition definition)
{
    if (index_.count(definition.spec.type))
        throw std::logic_error("block type '" + definition.spec.type + "' is defined twice");
    index_[definition.spec.type] = blocks_.size();
    blocks_.push_back(std::move(definition));
}

const BlockDefinition* BlockRegistry::find(const std::string& type) const
{
    const auto it = index_.find(type);
    return it == index_.end() ? nullptr : &blocks_[it->second];
}

const BlockRegistry& blockRegistry()
{
    static const BlockRegistry registry = [] {
        BlockRegistry r;
#define RECLAB_BLOCK_FAMILY(family) define##family##Blocks(r);
#include "blocks/BlockFamilies.def"
#undef RECLAB_BLOCK_FAMILY
        return r;
    }();
    return registry;
}

const BlockDefinition* findDefinition(const std::string& type) { return blockRegistry().find(type); }

} // namespace reclab
