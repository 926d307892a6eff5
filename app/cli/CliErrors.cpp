#include "CliErrors.h"

#include "util/Error.h"
#include "util/TextFile.h"

#include <cstdio>
#include <iostream>

namespace reclab::cli {

std::string printableText(std::string_view text)
{
    return escapedText(text);
}

std::string oneLine(std::string_view text)
{
    constexpr size_t kMaxChars = 600;
    if (const size_t frames = text.find("Exception raised from"); frames != std::string_view::npos)
        text = text.substr(0, frames);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
        text.remove_suffix(1);
    std::string out = printableText(text);
    if (out.size() > kMaxChars) {
        size_t cut = kMaxChars;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
            --cut; // not inside a UTF-8 sequence
        out.resize(cut);
        out += "...";
    }
    return out;
}

int exitCodeFor(const std::exception& error)
{
    if (dynamic_cast<const CancelledError*>(&error))
        return 130;
    if (dynamic_cast<const IoError*>(&error) || dynamic_cast<const TransferError*>(&error))
        return 1;
    if (dynamic_cast<const Error*>(&error))
        return 2;
    return 1; // LibTorch, memory and other failures while working
}

int reportFailure(const std::exception& error, const std::string& prefix)
{
    std::cerr << "reclab-cli: " << oneLine(prefix + error.what()) << std::endl;
    return exitCodeFor(error);
}

} // namespace reclab::cli
