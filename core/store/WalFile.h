// Reading an SQLite write-ahead log (<database>-wal) as SQLite's recovery does, without SQLite:
// the header, then the frames whose salts match the header's and whose cumulative checksums
// hold, up to the last commit. The experiment store uses it before opening a database to see
// whether a WAL left beside it belongs to it (docs: sqlite.org/fileformat2.html#walformat).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace reclab {

// The fields of page 1's database header that identify a RecLab database.
struct DatabaseHeader {
    uint32_t pageSize = 0;
    uint32_t userVersion = 0;   // offset 60
    uint32_t applicationId = 0; // offset 68
};

// The header of the database file itself; nullopt when the file is missing, shorter than a
// header or not an SQLite database.
std::optional<DatabaseHeader> readDatabaseHeader(const std::string& path);

struct WalSummary {
    uint32_t pageSize = 0;
    size_t committedFrames = 0; // frames SQLite would replay
    // The newest committed image of page 1 in the log, when there is one.
    std::optional<DatabaseHeader> pageOne;
};

// nullopt when there is no log, or one SQLite would ignore (shorter than its header, a bad magic
// number or header checksum); otherwise what it would replay. Throws DataError when something
// that is not a regular file is in the log's place.
std::optional<WalSummary> readWalSummary(const std::string& walPath);

} // namespace reclab
