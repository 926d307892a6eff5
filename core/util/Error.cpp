#include "util/Error.h"

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

} // namespace reclab
