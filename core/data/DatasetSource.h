// Turns what a user names (a folder, or "sample" / "sample:SEED") into a loaded dataset.
#pragma once

#include "data/Dataset.h"

#include <string>

namespace reclab {

// "sample" or "sample:SEED" generates the bundled sample; a folder is loaded by the loader
// that recognises its files. Throws DataError when nothing can be loaded from spec.
Dataset loadDataset(const std::string& spec);

} // namespace reclab
