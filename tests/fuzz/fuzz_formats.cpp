// libFuzzer target for the folder formats a user names: MovieLens 100K (u.data, u.item, u.user,
// u.genre and a fold), MovieLens 1M and 10M (.dat files), MovieLens CSV (ratings, movies, tags),
// RecBole atomic files (.inter, .item, .user) and Amazon (JSON lines with product metadata, and
// ratings CSV). The first byte picks the layout, the rest is cut into the layout's files at
// "\n#--\n". Every load ends in a consistent Dataset or a reclab::Error.
#include "FuzzFiles.h"

#include "data/DatasetSource.h"
#include "data/FormatLoaders.h"
#include "data/MovieLens100kLoader.h"
#include "util/Error.h"

#include <cmath>

using namespace reclab;

namespace {

struct Layout {
    DataFormat format;
    std::vector<const char*> files;
};

const Layout kLayouts[] = {
    {DataFormat::MovieLens100k, {"u.data", "u.item", "u.user", "u.genre", "u1.base", "u1.test"}},
    {DataFormat::MovieLensDat, {"ratings.dat", "movies.dat", "users.dat"}},
    {DataFormat::MovieLensDat, {"ratings.dat", "movies.dat", "tags.dat"}},
    {DataFormat::MovieLensCsv, {"ratings.csv", "movies.csv", "tags.csv"}},
    {DataFormat::RecBole, {"x.inter", "x.item", "x.user"}},
    {DataFormat::AmazonJson, {"reviews.json", "meta_x.json"}},
    {DataFormat::AmazonCsv, {"ratings_Books.csv"}},
};

void requireConsistent(const Dataset& ds)
{
    const auto& t = ds.interactions;
    for (size_t r = 0; r < t.size(); ++r)
        if (t.user[r] < 0 || t.user[r] >= ds.numUsers() || t.item[r] < 0 || t.item[r] >= ds.numItems() ||
            !std::isfinite(t.rating[r]))
            std::abort();
    const size_t items = static_cast<size_t>(ds.numItems());
    if ((!ds.items.title.empty() && ds.items.title.size() != items) ||
        (!ds.items.genreStart.empty() && ds.items.genreStart.size() != items + 1))
        std::abort();
    for (int32_t i = 0; i < ds.numItems() && ds.items.hasGenres(); ++i)
        (void)ds.genresOf(i);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const Layout& layout = kLayouts[data[0] % (sizeof kLayouts / sizeof kLayouts[0])];
    const auto parts = fuzz::splitInput(data + 1, size - 1, layout.files.size());
    const std::string dir = fuzz::freshFolder("formats");
    for (size_t k = 0; k < parts.size(); ++k)
        fuzz::writeFile(dir + "/" + layout.files[k], parts[k]);
    LoadOptions options;
    options.format = layout.format;
    options.delimited.skipBadRows = (data[0] & 0x80) != 0;
    const bool oneFile = layout.format == DataFormat::AmazonCsv;
    try {
        const Dataset ds = loadDataset(oneFile ? dir + "/" + layout.files[0] : dir, options);
        requireConsistent(ds);
        if (layout.format == DataFormat::MovieLens100k) {
            const RatingFold fold = loadMovieLens100kFold(dir, ds, 1);
            for (const auto* t : {&fold.train, &fold.test})
                for (size_t r = 0; r < t->size(); ++r)
                    if (t->user[r] < 0 || t->user[r] >= ds.numUsers() || t->item[r] < 0 || t->item[r] >= ds.numItems())
                        std::abort();
        }
    } catch (const Error&) {
    }
    return 0;
}
