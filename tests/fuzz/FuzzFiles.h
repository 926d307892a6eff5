// What the libFuzzer targets share: a private folder per fuzzing process where each input is
// written as the files a loader reads, an input cut into several files, and the rule that a
// parser may refuse an input only with reclab::Error (any other exception, a crash, a hang or a
// sanitizer report is a finding).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace reclab::fuzz {

inline const std::string& folder()
{
    static const std::string dir = [] {
        char name[] = "/tmp/reclab-fuzz-XXXXXX";
        if (!::mkdtemp(name))
            std::abort();
        return std::string(name);
    }();
    return dir;
}

// A fresh subfolder for one input (the previous input's files removed).
inline std::string freshFolder(const std::string& name)
{
    const std::string dir = folder() + "/" + name;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir);
    return dir;
}

inline std::string writeFile(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// The input cut at each "\n#--\n" into at most `parts` files' contents (the last takes the rest).
inline std::vector<std::string> splitInput(const uint8_t* data, size_t size, size_t parts)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    static const std::string kCut = "\n#--\n";
    std::vector<std::string> out;
    size_t start = 0;
    while (out.size() + 1 < parts) {
        const size_t at = text.find(kCut, start);
        if (at == std::string::npos)
            break;
        out.push_back(text.substr(start, at - start));
        start = at + kCut.size();
    }
    out.push_back(text.substr(start));
    return out;
}

} // namespace reclab::fuzz
