// The graphs shipped in resources/graphs (MF, GMF, MLP, NeuMF, BaseModel, DIN), compiled into
// the library so that a program finds them wherever it runs. The model zoo's neural models are
// these templates with their variables bound to a training configuration.
#pragma once

#include "graph/GraphSpec.h"

#include <string>
#include <vector>

namespace reclab {

// The template names, e.g. "neumf", in the order of resources/graphs.
std::vector<std::string> graphTemplateNames();
// Throws ConfigError naming the known templates when name is unknown.
GraphSpec graphTemplate(const std::string& name);
// The template's JSON text as shipped.
std::string graphTemplateText(const std::string& name);

} // namespace reclab
