#include "compare/RunFilter.h"
#include "util/Words.h"

#include "compare/RunComparison.h"
#include "util/Error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace reclab {

namespace {

std::optional<double> number(const std::string& text)
{
    if (text.empty())
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    return end && *end == '\0' ? std::optional<double>(v) : std::nullopt;
}

} // namespace

ParamCondition parseParamCondition(const std::string& text)
{
    static const char* const ops[] = {"!=", "<=", ">=", "=", "<", ">", "~"}; // two-character ones first
    for (const char* op : ops) {
        const auto at = text.find(op);
        if (at == std::string::npos)
            continue;
        ParamCondition c{text.substr(0, at), op, text.substr(at + std::string(op).size())};
        if (c.key.empty())
            throw ConfigError("param", "'" + text + "' names no param before " + op);
        if ((c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">=") && !number(c.value))
            throw ConfigError("param", "'" + text + "': " + c.op + " needs a number, not '" + c.value + "'");
        return c;
    }
    throw ConfigError("param", "'" + text + "' is not a condition such as learning_rate<0.01 or optimizer=adam");
}

bool paramMatches(const std::vector<std::pair<std::string, std::string>>& params, const ParamCondition& c)
{
    const auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == c.key; });
    if (it == params.end())
        return false;
    const std::string& v = it->second;
    if (c.op == "~")
        return lowerAscii(v).find(lowerAscii(c.value)) != std::string::npos;
    const auto a = number(v), b = number(c.value);
    if (a && b) {
        if (c.op == "=") return *a == *b;
        if (c.op == "!=") return *a != *b;
        if (c.op == "<") return *a < *b;
        if (c.op == "<=") return *a <= *b;
        if (c.op == ">") return *a > *b;
        return *a >= *b;
    }
    if (c.op == "=")
        return v == c.value;
    if (c.op == "!=")
        return v != c.value;
    return false; // an order on text is not meant
}

bool RunFilter::matches(const RunRecord& run, const std::vector<std::pair<std::string, std::string>>& runParams) const
{
    if (!model.empty() && run.model != model && lowerAscii(modelLabel(run)) != lowerAscii(model) &&
        lowerAscii(modelLabel(run)) != "graph: " + lowerAscii(model))
        return false;
    if (!dataset.empty() && run.dataset != dataset)
        return false;
    if (!experiment.empty() && run.experiment != experiment)
        return false;
    if (!tag.empty() && std::find(run.tags.begin(), run.tags.end(), tag) == run.tags.end())
        return false;
    if (status && run.status != *status)
        return false;
    for (const auto& c : params)
        if (!paramMatches(runParams, c))
            return false;
    if (text.empty())
        return true;
    std::string words = "#" + std::to_string(run.id) + " " + runLabel(run) + " " + run.dataset + " " +
                        runStatusName(run.status) + " " + run.experiment + " " + run.notes + " " + run.message;
    for (const auto& t : run.tags)
        words += " " + t;
    words = lowerAscii(words);
    std::istringstream wanted(lowerAscii(text));
    for (std::string word; wanted >> word;)
        if (words.find(word) == std::string::npos)
            return false;
    return true;
}

} // namespace reclab
