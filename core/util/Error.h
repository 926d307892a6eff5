// Error types for failures a user can cause. Every message names where the problem is
// (file, line, field) so the GUI can show it in a dialog and the CLI on one stderr line.
#pragma once

#include <stdexcept>
#include <string>

namespace reclab {

// Base of every error RecLab reports to a user (bad files, bad options, bad databases).
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Bad or unreadable input data. line is 1-based; 0 means the whole file.
class DataError : public Error {
public:
    DataError(std::string file, long line, std::string field, const std::string& problem);

    const std::string& file() const { return file_; }
    long line() const { return line_; }
    const std::string& field() const { return field_; }

private:
    std::string file_;
    long line_;
    std::string field_;
};

// An invalid option or hyperparameter, named by the option it came from.
class ConfigError : public Error {
public:
    ConfigError(const std::string& option, const std::string& problem);
    const std::string& option() const { return option_; }

private:
    std::string option_;
};

// A database that cannot be opened, is not RecLab's, or failed a statement.
class StoreError : public Error {
public:
    using Error::Error;
};

// A download, archive or other transfer that failed (network, HTTP status, checksum, unsafe
// archive entry); the message names the URL or the archive entry.
class TransferError : public Error {
public:
    using Error::Error;
};

// Work stopped because the user asked it to; nothing it would have produced is left behind.
class CancelledError : public Error {
public:
    using Error::Error;
};

} // namespace reclab
