// Error types for failures a user can cause. Every message names where the problem is
// (file, line, field) so the GUI can show it in a dialog and the CLI on one stderr line.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace reclab {

// text on one line: line breaks, tabs and other control characters escaped (\n, \t, \x1b),
// anything from LibTorch's "Exception raised from" on dropped, and cut at 600 characters.
std::string oneLine(std::string_view text);

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
    const std::string& problem() const { return problem_; }

private:
    std::string file_;
    long line_;
    std::string field_;
    std::string problem_;
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

// A database that is damaged (a failed integrity check, a malformed page): it may be read, but
// nothing is written to it. The message says how to recover what is readable.
class DamagedStoreError : public StoreError {
public:
    using StoreError::StoreError;
};

// A download, archive or other transfer that failed (network, HTTP status, checksum, unsafe
// archive entry); the message names the URL or the archive entry.
class TransferError : public Error {
public:
    using Error::Error;
};

// A failure while working that is not the user's input: a full disk, a write or read error of
// the operating system, a database that is busy for too long. The message names the file
// ("disk full: <path>"). The CLI exits 1 for these and 2 for the other Errors.
class IoError : public Error {
public:
    using Error::Error;
};

// Work stopped because the user asked it to; nothing it would have produced is left behind.
class CancelledError : public Error {
public:
    using Error::Error;
};

} // namespace reclab
