// Shorthands for the torch-free half of a block family's file (core/blocks/*.cpp): parameter
// and port constructors, the usual block shapes, and the parameter count of an activation.
#pragma once

#include "graph/BlockDefinition.h"

namespace reclab::blocks {

inline ParamSpec intParam(const char* name, const char* label, int64_t value, int64_t lo, int64_t hi,
                          const char* help)
{
    return {name, label, ParamKind::Int, value, double(lo), double(hi), {}, help};
}

inline ParamSpec layersParam(const char* name, const char* label, std::vector<int64_t> value, const char* help)
{
    return {name, label, ParamKind::IntList, value, 1, 65536, {}, help};
}

inline ParamSpec realParam(const char* name, const char* label, double value, double lo, double hi,
                           const char* help)
{
    return {name, label, ParamKind::Real, value, lo, hi, {}, help};
}

inline ParamSpec boolParam(const char* name, const char* label, bool value, const char* help)
{
    return {name, label, ParamKind::Bool, value, 0, 0, {}, help};
}

inline ParamSpec choiceParam(const char* name, const char* label, const char* value,
                             std::vector<std::string> choices, const char* help)
{
    return {name, label, ParamKind::Choice, value, 0, 0, std::move(choices), help};
}

inline PortSpec floatIn(const char* name, const char* label) { return {name, label, {ValueKind::Float}}; }
inline PortSpec out(const char* label, ValueKind kind) { return {"out", label, {kind}}; }

// Input k must be a sequence (B×L×d); otherwise reports it at that port and returns false.
inline bool sequenceInput(ShapeContext& c, size_t k)
{
    if (c.in[k].sequence)
        return true;
    c.fail(c.ports[k].name, "expects a sequence (B×L×d), got " + c.in[k].text());
    return false;
}

// A port that reads a whole sequence: a behaviour sequence (B×L×d) or texts' word vectors (B×T×d).
inline PortSpec sequenceIn() { return {"in", "sequence or words", {ValueKind::Float, ValueKind::WordVectors}}; }

// Input k must be a behaviour sequence or word vectors; otherwise reports it and returns false.
inline bool readsSequence(ShapeContext& c, size_t k)
{
    if (c.in[k].kind == ValueKind::WordVectors)
        return true;
    return c.vectors(k) && sequenceInput(c, k);
}

// The type of a block reading input k whole: per entry (every) a sequence, or word vectors for
// words; else one vector per row.
inline ValueType sequenceOutput(const ShapeContext& c, size_t k, bool every, int64_t width)
{
    if (c.in[k].kind == ValueKind::WordVectors && every)
        return ValueType{ValueKind::WordVectors, "word", false, width};
    return ValueType{ValueKind::Float, "", every, width};
}

// The activations a tower or unit may use after each layer.
inline const std::vector<std::string>& activationNames()
{
    static const std::vector<std::string> names = {"relu", "sigmoid", "tanh", "prelu", "dice", "none"};
    return names;
}

// Weights an activation adds per layer of this width (PReLU and Dice learn one slope per channel).
inline int64_t activationParameters(const std::string& activation, int64_t width)
{
    return activation == "prelu" || activation == "dice" ? width : 0;
}

// A block with one vector input "in" and one vector output "y".
inline BlockSpec unarySpec(const char* type, const char* name, const char* category, const char* summary,
                           const char* formula, std::vector<ParamSpec> params = {})
{
    return {type, name, category, summary, formula, {floatIn("in", "x")}, {out("y", ValueKind::Float)},
            std::move(params)};
}

// The shape rule of a block that maps each row (or each behaviour) to a row of the same width.
inline std::optional<ValueType> sameShape(ShapeContext& c)
{
    if (!c.vectors(0))
        return std::nullopt;
    return c.in[0];
}

// The same for a block with weightsPerChannel(params) learned weights per channel (PReLU's
// slopes: 1; BatchNorm's γ and β: 2).
inline std::function<std::optional<ValueType>(ShapeContext&)>
sameShapeWithWeights(std::function<int64_t(const nlohmann::json& params)> weightsPerChannel)
{
    return [weightsPerChannel](ShapeContext& c) {
        auto out = sameShape(c);
        if (out)
            c.parameters = weightsPerChannel(c.params) * out->width;
        return out;
    };
}

} // namespace reclab::blocks
