// Which runs a table shows: free text over a run's words (id, name, model, dataset, status,
// experiment, tags, notes, message), and exact fields (model, dataset, experiment, tag,
// status) and conditions on any param ("learning_rate<0.01", "optimizer=adam",
// "mlp_layers~64"). The GUI's experiments view and `reclab-cli runs list` filter the same way.
#pragma once

#include "store/ExperimentStore.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reclab {

struct ParamCondition {
    std::string key;
    std::string op; // "=", "!=", "<", "<=", ">", ">=", "~" (contains)
    std::string value;
};
// Parses "key<op>value"; throws ConfigError (field "param") naming what is wrong.
ParamCondition parseParamCondition(const std::string& text);
// Numbers compare as numbers, other values as text; a run without the param never matches.
bool paramMatches(const std::vector<std::pair<std::string, std::string>>& params, const ParamCondition& condition);

struct RunFilter {
    std::string text; // every word must occur (case-insensitive) in the run's words
    std::string model, dataset, experiment, tag;
    std::optional<RunStatus> status;
    std::vector<ParamCondition> params;

    bool needsParams() const { return !params.empty(); }
    // params: the run's key/value params (only read when needsParams()).
    bool matches(const RunRecord& run, const std::vector<std::pair<std::string, std::string>>& params = {}) const;
};

} // namespace reclab
