#include "data/DatasetSource.h"

#include "data/MovieLens100kLoader.h"
#include "data/SampleGenerator.h"
#include "util/Error.h"
#include "util/TextFile.h"

#include <filesystem>

namespace reclab {

Dataset loadDataset(const std::string& spec)
{
    if (spec == "sample" || spec.rfind("sample:", 0) == 0) {
        SampleConfig config;
        if (spec.size() > 7) {
            long long seed = 0;
            if (!parseInt64(std::string_view(spec).substr(7), seed) || seed < 0)
                throw DataError(spec, 0, "seed", "expected sample:SEED with a non-negative integer seed");
            config.seed = static_cast<uint64_t>(seed);
        }
        return generateSampleDataset(config);
    }
    std::error_code ec;
    if (!std::filesystem::exists(spec, ec))
        throw DataError(spec, 0, "", "no such file or folder");
    if (!std::filesystem::is_directory(spec, ec))
        throw DataError(spec, 0, "", "expected a dataset folder (such as ml-100k) or 'sample'");
    if (looksLikeMovieLens100k(spec))
        return loadMovieLens100k(spec);
    throw DataError(spec, 0, "", "no supported dataset found in this folder (MovieLens-100K needs u.data and u.item)");
}

} // namespace reclab
