// The database file around SQLite: its marks (application id, schema version and tag), the
// checks made before SQLite opens it, and which processes have it open (SCHEMA.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace reclab {

// PRAGMA application_id marks our files, so a foreign SQLite database is refused.
inline constexpr int64_t kApplicationId = 0x5265634C; // "RecL"
// PRAGMA user_version: the schema version in its low 8 bits and, from version 4, a random tag of
// this database above them. Every write rewrites it, so every group of frames in the
// write-ahead log carries page 1 with the tag, and a log left beside another database is
// recognised before SQLite replays it (SCHEMA.md).
inline constexpr int kSchemaBits = 8;
inline int schemaOf(int64_t userVersion)
{
    return static_cast<int>(userVersion & ((1 << kSchemaBits) - 1));
}
inline int64_t tagOf(int64_t userVersion)
{
    return userVersion >> kSchemaBits;
}

// A random tag for a new database, kept in user_version above the schema bits.
int64_t newDatabaseTag();

// Whether the process that wrote (pid, identity) still runs. With an identity and a readable
// /proc, a pid now held by another program is not it.
bool processAlive(pid_t pid, const std::string& identity);

// The path, made ready for SQLite: its folder made, a non-file refused, a write-ahead log of
// another database refused (StoreError). unclean: the file holds committed changes of a
// process that did not close it, and no connection has it open.
std::string preparedStorePath(const std::string& path, bool& unclean);

// Connections of this process, by file (SQLite's locks do not show them to this process).
void noteStoreOpened(const std::string& path);
void noteStoreClosed(const std::string& path);

// Paths, relative to folder, of the regular files under it (none when it does not exist).
std::vector<std::string> filesIn(const std::string& folder);
// Files being written (renamed into place when whole) are not artifacts yet.
bool isPartialFile(const std::string& path);

} // namespace reclab
