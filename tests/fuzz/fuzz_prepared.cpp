// libFuzzer target for prepared datasets (.rlprep): any bytes give a consistent Dataset with its
// split or a reclab::Error. The file's checksum stops most mutations before the sections are
// checked; the seeds are whole files written by `reclab-cli data prepare`.
#include "FuzzFiles.h"

#include "data/Preparation.h"
#include "data/PreparedData.h"
#include "util/Error.h"

using namespace reclab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string path =
        fuzz::writeFile(fuzz::folder() + "/in.rlprep", std::string(reinterpret_cast<const char*>(data), size));
    try {
        const PreparedData p = readPreparedData(path);
        if (!p.dataset.presplit || p.dataset.presplit->part.size() != p.dataset.interactions.size())
            std::abort();
    } catch (const Error&) {
    }
    return 0;
}
