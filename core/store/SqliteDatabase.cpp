#include "store/SqliteDatabase.h"

#include "util/Error.h"

#include <sqlite3.h>

namespace reclab {

namespace {
[[noreturn]] void fail(sqlite3* db, const std::string& path, const std::string& what)
{
    const int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    std::string detail = db ? sqlite3_errmsg(db) : "out of memory";
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        detail = "the file is not an SQLite database or is corrupt (" + detail + ")";
    throw StoreError(path + ": " + what + ": " + detail);
}
} // namespace

SqliteStatement::SqliteStatement(sqlite3* db, const std::string& sql, const std::string& path)
    : db_(db), path_(path)
{
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
        fail(db_, path_, "cannot prepare '" + sql.substr(0, 60) + "'");
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), path_(std::move(other.path_))
{
    other.stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value)
{
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
        fail(db_, path_, "bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value)
{
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK)
        fail(db_, path_, "bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, const std::string& value)
{
    if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        fail(db_, path_, "bind");
    return *this;
}

SqliteStatement& SqliteStatement::bindBlob(int index, const void* data, size_t bytes)
{
    if (sqlite3_bind_blob64(stmt_, index, bytes ? data : "", bytes, SQLITE_TRANSIENT) != SQLITE_OK)
        fail(db_, path_, "bind");
    return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index)
{
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK)
        fail(db_, path_, "bind");
    return *this;
}

bool SqliteStatement::step()
{
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    fail(db_, path_, "statement failed");
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
        throw StoreError(path + ": cannot open the database: " + msg);
    }
    sqlite3_extended_result_codes(db_, 0);
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

void SqliteDatabase::exec(const std::string& sql)
{
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string msg = error ? error : "unknown error";
        sqlite3_free(error);
        const int code = sqlite3_errcode(db_);
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
            throw StoreError(path_ + ": the file is not an SQLite database or is corrupt (" + msg + ")");
        throw StoreError(path_ + ": " + msg);
    }
}

SqliteStatement SqliteDatabase::prepare(const std::string& sql) { return SqliteStatement(db_, sql, path_); }

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

} // namespace reclab
