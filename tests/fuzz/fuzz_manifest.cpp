// libFuzzer target for what a download leaves and reads: the manifest of a verified download
// (.reclab-download.json), a published checksum file, and the zip archive itself, extracted
// under a size limit into a fresh folder. Names that leave the folder, links and oversized
// entries must be refused with a reclab::Error before anything is written.
#include "FuzzFiles.h"

#include "data/Downloader.h"
#include "util/Error.h"

#include <filesystem>

using namespace reclab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
    case 0:
        if (const auto m = parseDownloadManifest(text); m && m->name.size() > text.size())
            std::abort();
        break;
    case 1:
        if (const std::string md5 = parsePublishedMd5(text); !md5.empty() && md5.size() != 32)
            std::abort();
        break;
    default: {
        const std::string dir = fuzz::freshFolder("zip");
        const std::string zip = fuzz::writeFile(dir + "/in.zip", text);
        const std::string out = dir + "/out";
        try {
            for (const auto& f : extractZipSafely(zip, out, {}, nullptr, 1 << 20))
                if (f.find("..") != std::string::npos &&
                    std::filesystem::path(f).lexically_normal().string().rfind("..", 0) == 0)
                    std::abort();
        } catch (const Error&) {
            std::error_code ec;
            if (std::filesystem::exists(out, ec))
                std::abort(); // a refused archive leaves nothing behind
        }
    }
    }
    return 0;
}
