// A small RAII wrapper over the sqlite3 C API: a connection, prepared statements and a
// transaction guard that rolls back unless committed. Errors name the database and the cause,
// never the SQL: a full disk or an I/O error is an IoError, a malformed page a
// DamagedStoreError (and the connection remembers it), anything else a StoreError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace reclab {

class SqliteDatabase;

class SqliteStatement {
public:
    SqliteStatement(const SqliteDatabase& owner, const std::string& sql);
    ~SqliteStatement();
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, double value);
    SqliteStatement& bind(int index, const std::string& value);
    SqliteStatement& bindNull(int index);
    SqliteStatement& bindBlob(int index, const void* data, size_t bytes);

    // true while a row is available; false when done.
    bool step();
    void reset();

    int64_t int64At(int column) const;
    double doubleAt(int column) const;
    std::string textAt(int column) const;
    bool isNullAt(int column) const;
    // The bytes of a BLOB column (empty for NULL), copied out.
    std::string blobAt(int column) const;

private:
    const SqliteDatabase* owner_;
    sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDatabase {
public:
    // Opens (creating if needed) the database file; throws StoreError.
    explicit SqliteDatabase(const std::string& path);
    ~SqliteDatabase();
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;

    void exec(const std::string& sql);
    SqliteStatement prepare(const std::string& sql);
    int64_t queryInt64(const std::string& sql);
    int64_t lastInsertRowId() const;
    int64_t changes() const; // rows changed by the last statement
    const std::string& path() const { return path_; }
    sqlite3* handle() const { return db_; }
    // Why the file was found damaged (a statement met a malformed page); empty while it was not.
    const std::string& damage() const { return damage_; }
    // Throws the error for the connection's last failure, with what was being done.
    [[noreturn]] void fail(const std::string& what) const;

private:
    sqlite3* db_ = nullptr;
    std::string path_;
    mutable std::string damage_;
};

// The message for a damaged database: what is wrong and how to recover what is readable.
std::string damagedDatabaseMessage(const std::string& path, const std::string& problem);

// BEGIN IMMEDIATE on construction; ROLLBACK in the destructor unless commit() ran.
class SqliteTransaction {
public:
    explicit SqliteTransaction(SqliteDatabase& db);
    ~SqliteTransaction();
    void commit();

private:
    SqliteDatabase& db_;
    bool done_ = false;
};

} // namespace reclab
