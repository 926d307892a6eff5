#include "util/Error.h"
#include "util/TextFile.h"

namespace reclab {

namespace {
std::string formatDataError(const std::string& file, long line, const std::string& field,
                            const std::string& problem)
{
    std::string msg = file;
    if (line > 0)
        msg += ":" + std::to_string(line);
    msg += ": ";
    if (!field.empty())
        msg += "field '" + field + "': ";
    return msg + problem;
}
} // namespace

DataError::DataError(std::string file, long line, std::string field, const std::string& problem)
    : Error(formatDataError(file, line, field, problem)), file_(std::move(file)), line_(line),
      field_(std::move(field)), problem_(problem)
{
}

ConfigError::ConfigError(const std::string& option, const std::string& problem)
    : Error("option '" + option + "': " + problem), option_(option)
{
}

std::string oneLine(std::string_view text)
{
    constexpr size_t kMaxChars = 600;
    if (const size_t frames = text.find("Exception raised from"); frames != std::string_view::npos)
        text = text.substr(0, frames);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
        text.remove_suffix(1);
    std::string out = escapedText(text);
    if (out.size() > kMaxChars) {
        size_t cut = kMaxChars;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
            --cut; // not inside a UTF-8 sequence
        out.resize(cut);
        out += "...";
    }
    return out;
}

} // namespace reclab
