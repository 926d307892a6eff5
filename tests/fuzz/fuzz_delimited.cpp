// libFuzzer target for the delimited loader, the engine under every text format: any bytes,
// read with every separator, with and without a header, detected or given id kinds, a rating
// scale or none, strict or skipping bad rows, must give a consistent Dataset or a reclab::Error;
// the import preview must never throw.
#include "FuzzFiles.h"

#include "data/DelimitedLoader.h"
#include "util/Error.h"

#include <cmath>

using namespace reclab;

namespace {
void requireConsistent(const Dataset& ds)
{
    const auto& t = ds.interactions;
    if (t.item.size() != t.size() || t.rating.size() != t.size() || t.timestamp.size() != t.size() || t.size() == 0)
        std::abort();
    for (size_t r = 0; r < t.size(); ++r)
        if (t.user[r] < 0 || t.user[r] >= ds.numUsers() || t.item[r] < 0 || t.item[r] >= ds.numItems() ||
            !std::isfinite(t.rating[r]) || t.rating[r] < 0)
            std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t a = data[0], b = data[1];
    const std::string path =
        fuzz::writeFile(fuzz::folder() + "/in.csv", std::string(reinterpret_cast<const char*>(data + 2), size - 2));
    static const char* const kSeparators[] = {"", ",", "\t", "::", ";", "|", " "};
    DelimitedFormat f;
    f.separator = kSeparators[a % 7];
    f.header = static_cast<int>((a / 7) % 3) - 1;
    f.skipBadRows = (b & 1) != 0;
    f.ids = static_cast<IdKinds>((b >> 1) % 3);
    f.threads = 1 + ((b >> 3) & 1);
    if (b & 0x10) {
        f.ratingMin = 0.5;
        f.ratingMax = 5;
        f.ratingStep = 0.5;
        f.scaleName = "fuzz";
    }
    if (b & 0x20)
        f.columns = {ColumnRole::Item, ColumnRole::User, ColumnRole::Ignore, ColumnRole::Rating};
    try {
        requireConsistent(loadDelimited(path, f));
    } catch (const Error&) {
    }
    const DelimitedPreview preview = previewDelimited(path, f, 20);
    if (preview.badRows > preview.checkedRows)
        std::abort();
    return 0;
}
