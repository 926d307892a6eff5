#include "store/SqliteDatabase.h"

#include "util/Error.h"
#include "util/Versions.h"

#include <sqlite3.h>

namespace reclab {

std::string damagedDatabaseMessage(const std::string& path, const std::string& problem)
{
    return path + ": the database is corrupt (" + problem +
           "); RecLab reads what it can but writes nothing to it. Recover the readable part with "
           "'sqlite3 " + path + " .recover | sqlite3 " + path + ".recovered' (Debian package sqlite3) and use "
           "that file, or restore a copy";
}

void SqliteDatabase::fail(const std::string& what) const
{
    const int code = db_ ? sqlite3_errcode(db_) : SQLITE_NOMEM;
    const std::string detail = db_ ? sqlite3_errmsg(db_) : "out of memory";
    switch (code) {
    case SQLITE_CORRUPT:
        damage_ = detail;
        throw DamagedStoreError(damagedDatabaseMessage(path_, detail));
    case SQLITE_NOTADB: throw StoreError(path_ + ": not an SQLite database (" + detail + ")");
    case SQLITE_FULL: throw IoError("disk full: " + path_);
    case SQLITE_IOERR: throw IoError(path_ + ": input/output error (" + detail + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        throw IoError(path_ + ": another process kept the database locked for more than 10 s; try again");
    case SQLITE_READONLY: throw StoreError(path_ + ": the database cannot be written (" + detail + ")");
    case SQLITE_CANTOPEN: throw StoreError(path_ + ": cannot open the database (" + detail + ")");
    case SQLITE_NOMEM: throw IoError(path_ + ": out of memory");
    default: throw StoreError(path_ + ": " + what + ": " + detail);
    }
}

SqliteStatement::SqliteStatement(const SqliteDatabase& owner, const std::string& sql) : owner_(&owner)
{
    if (sqlite3_prepare_v2(owner.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
        owner.fail("cannot prepare a statement");
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept : owner_(other.owner_), stmt_(other.stmt_)
{
    other.stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value)
{
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
        owner_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value)
{
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK)
        owner_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, const std::string& value)
{
    if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        owner_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bindBlob(int index, const void* data, size_t bytes)
{
    if (sqlite3_bind_blob64(stmt_, index, bytes ? data : "", bytes, SQLITE_TRANSIENT) != SQLITE_OK)
        owner_->fail("bind");
    return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index)
{
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK)
        owner_->fail("bind");
    return *this;
}

bool SqliteStatement::step()
{
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    owner_->fail("statement failed");
}

void SqliteStatement::reset()
{
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStatement::int64At(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqliteStatement::doubleAt(int column) const { return sqlite3_column_double(stmt_, column); }
bool SqliteStatement::isNullAt(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string SqliteStatement::textAt(int column) const
{
    const auto* text = sqlite3_column_text(stmt_, column);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
}

std::string SqliteStatement::blobAt(int column) const
{
    const void* data = sqlite3_column_blob(stmt_, column);
    const int bytes = sqlite3_column_bytes(stmt_, column);
    return data && bytes > 0 ? std::string(static_cast<const char*>(data), static_cast<size_t>(bytes)) : std::string();
}

SqliteDatabase::SqliteDatabase(const std::string& path) : path_(path)
{
    const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError(path + ": cannot open the database (" + msg + ")");
    }
    sqlite3_extended_result_codes(db_, 0);
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

void SqliteDatabase::exec(const std::string& sql)
{
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        sqlite3_free(error);
        fail("statement failed");
    }
}

SqliteStatement SqliteDatabase::prepare(const std::string& sql) { return SqliteStatement(*this, sql); }

int64_t SqliteDatabase::queryInt64(const std::string& sql)
{
    auto stmt = prepare(sql);
    return stmt.step() ? stmt.int64At(0) : 0;
}

int64_t SqliteDatabase::lastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t SqliteDatabase::changes() const { return sqlite3_changes(db_); }

SqliteTransaction::SqliteTransaction(SqliteDatabase& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

SqliteTransaction::~SqliteTransaction()
{
    if (!done_) {
        try {
            db_.exec("ROLLBACK");
        } catch (...) {
        }
    }
}

void SqliteTransaction::commit()
{
    db_.exec("COMMIT");
    done_ = true;
}

std::string sqliteVersion() { return sqlite3_libversion(); }

} // namespace reclab
