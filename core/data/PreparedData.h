// A prepared dataset: the filtered data plus its split and fixed negatives, saved as one
// checksummed binary file (.rlprep) so that several runs train and evaluate on identical data.
#pragma once

#include "data/Dataset.h"
#include "data/Preparation.h"

#include <string>

namespace reclab {

struct PreparedData {
    Dataset dataset; // dataset.presplit holds the split
    FilterConfig filters;
    FilterSummary summary;
    std::string sourceSpec;        // what was loaded, e.g. a folder
    std::string sourceFingerprint; // fingerprint of the data before filtering
    std::string fingerprint;       // of the prepared data and its split (= dataset.fingerprint())
};

// Filters source, splits the result and fingerprints both.
PreparedData prepareDataset(const Dataset& source, const std::string& sourceSpec, const FilterConfig& filters,
                            const SplitConfig& split);

// Writes to a temporary file beside path and renames it into place, so a failed write leaves
// no partial file. Throws Error on I/O failure.
void writePreparedData(const PreparedData& data, const std::string& path);

// Reads and verifies a prepared file (magic, version, sizes, checksum, index ranges). Throws
// DataError naming the file on any damage.
PreparedData readPreparedData(const std::string& path);

} // namespace reclab
