// Turns what a user names (a folder, a file, or "sample" / "sample:SEED") into a loaded dataset,
// recognising the format from the files themselves unless one is asked for.
#pragma once

#include "data/Dataset.h"
#include "data/DelimitedLoader.h"

#include <string>
#include <vector>

namespace reclab {

// The formats RecLab reads; Auto detects one from the files.
enum class DataFormat { Auto, Sample, MovieLens100k, MovieLensDat, MovieLensCsv, RecBole, AmazonJson, AmazonCsv, Delimited, Prepared };

// Command-line names: auto, sample, ml-100k, ml-1m (also ml-10m), movielens-csv (ml-20m, ml-25m,
// ml-latest...), recbole, amazon-json, amazon-csv, csv (generic delimited), prepared.
DataFormat parseDataFormat(const std::string& name); // throws ConfigError
const char* dataFormatName(DataFormat format);
std::vector<std::string> dataFormatNames();

struct LoadOptions {
    DataFormat format = DataFormat::Auto;
    DelimitedFormat delimited; // separator, header, columns, skipBadRows, threads
    std::string metaFile;      // Amazon product metadata (optional)
};

// The format a path holds; throws DataError when nothing supported is found there.
DataFormat detectDataFormat(const std::string& spec);

// Loads spec in the detected or requested format. Throws DataError (file, line, field) on bad
// data and never returns a partially read dataset.
Dataset loadDataset(const std::string& spec, const LoadOptions& options = {});

} // namespace reclab
