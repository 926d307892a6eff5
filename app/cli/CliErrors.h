// How reclab-cli reports a failure: one short line on stderr ("reclab-cli: ..."), control
// characters and line breaks in names printed escaped, LibTorch's stack frames left out, and the
// exit code of the README's rule: 2 for anything the user gave (options, data, graph and
// checkpoint files, databases, run ids, a run in the wrong state), 1 for failures while working
// (a full disk, an I/O error, a download that failed, a training that failed), 130 when stopped.
#pragma once

#include <exception>
#include <string>
#include "util/Error.h"

#include <string_view>

namespace reclab::cli {

using reclab::oneLine; // util/Error.h
// Escapes control characters only (for names printed in tables and lists).
std::string printableText(std::string_view text);

int exitCodeFor(const std::exception& error);
// Prints "reclab-cli: <prefix><message>" as one line and returns exitCodeFor(error).
int reportFailure(const std::exception& error, const std::string& prefix = "");

} // namespace reclab::cli
