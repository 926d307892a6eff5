// The libraries this build runs on, for About boxes and bug reports. Torch-free to include.
#pragma once

#include <string>

namespace reclab {

// LibTorch's version and whether it sees CUDA, e.g. "1.13.0 (CPU)" (defined in reclab_core).
std::string torchVersionText();
// SQLite's, e.g. "3.40.1" (defined in reclab_store).
std::string sqliteVersion();

} // namespace reclab
