// The training options, one table: each field's JSON key, the name the CLI and the errors use,
// its help, its kind and range, whether a resumed run may change it and whether a graph sets
// it itself. TrainConfig's JSON and checks, reclab-cli train's flags, help and --resume
// refusals, and the run setup's ranges and tooltips all read it. Real-valued ranges live in
// util/OptionLimits (shared with other commands).
#pragma once

#include "runs/TrainConfig.h"

#include <string>
#include <variant>
#include <vector>

namespace reclab {

using TrainMember = std::variant<int TrainConfig::*, uint64_t TrainConfig::*, double TrainConfig::*, bool TrainConfig::*,
                                 std::string TrainConfig::*, std::vector<int64_t> TrainConfig::*>;

struct TrainField {
    const char* key;    // JSON: "batch_size"
    const char* option; // the CLI's flag without "--", and the name errors give: "batch"
    TrainMember member;
    const char* help = nullptr;       // the CLI's help; nullptr: not a flag of `train` (JSON and the GUI set it)
    int64_t min = 0, max = 0;         // whole numbers, and every size of a list
    std::vector<std::string> choices; // a text from a fixed set (empty: checked elsewhere)
    bool emptyAllowed = false;        // the empty text means "the usual one"
    bool resumable = false;           // --resume and --clone may change it
    bool architecture = false;        // a graph sets it in its own blocks (refused beside --graph)
    const char* alias = nullptr;      // a second name of the CLI's flag ("max-length" for sequence models)

    bool flag() const { return help != nullptr; }
};

const std::vector<TrainField>& trainFields();
// By option name ("batch"); nullptr when there is none.
const TrainField* trainField(const std::string& option);

// Sets the field from text as the CLI gives it ("256", "0.001", "64,32", "adam"); throws
// ConfigError naming the option when the text does not fit.
void setFieldFromText(TrainConfig& config, const TrainField& field, const std::string& text);
// Checks the field's value against its kind and range; throws ConfigError naming the option.
void checkField(const TrainConfig& config, const TrainField& field);

} // namespace reclab
