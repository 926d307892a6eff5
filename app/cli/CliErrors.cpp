#include "CliErrors.h"

#include "dist/World.h"
#include "util/Error.h"
#include "util/TextFile.h"

#include <cstdio>
#include <iostream>

namespace reclab::cli {

std::string printableText(std::string_view text)
{
    return escapedText(text);
}

int exitCodeFor(const std::exception& error)
{
    if (dynamic_cast<const CancelledError*>(&error))
        return 130;
    if (dynamic_cast<const IoError*>(&error) || dynamic_cast<const TransferError*>(&error) ||
        dynamic_cast<const GroupBroken*>(&error))
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
