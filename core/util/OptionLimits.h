// The range of every real-valued training option, declared once: TrainConfig::validate checks
// the values against it and reclab-cli's option checks are made from it, so a value is refused
// the same way wherever it comes from (NaN and infinities never pass).
#pragma once

#include <string>

namespace reclab {

struct NumberLimit {
    const char* option; // the CLI's name, without "--"
    double min, max;
    bool minOpen = false, maxOpen = false; // the end itself is excluded
};

// Throws std::logic_error for an option that has no limit here.
const NumberLimit& numberLimit(const std::string& option);
// "from 0 to 1", "above 0 and up to 10", "0 or more", "" (any number), for messages.
std::string rangeText(double min, double max, bool minOpen, bool maxOpen);
// Empty when value is finite and within the option's range; else a short reason
// ("expected a number from 0 to 1").
std::string numberProblem(const NumberLimit& limit, double value);
// Throws ConfigError naming the option unless numberProblem is empty.
void requireNumber(const std::string& option, double value);

} // namespace reclab
