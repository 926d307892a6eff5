#include "store/ExperimentStore.h"

#include "store/StoreFile.h"
#include "store/StoreWrite.h"
#include "util/Error.h"
#include "util/Files.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>
#include <set>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace reclab {

namespace {

// The artifact kind of a file the trainer writes, by name.
std::string artifactKind(const std::string& relativePath)
{
    const std::string name = fs::path(relativePath).filename().string();
    if (name == "last.pt" || name == "best.pt")
        return "checkpoint";
    if (name.rfind("graph", 0) == 0)
        return "graph";
    if (name.rfind("embeddings", 0) == 0 || relativePath.rfind("embeddings/", 0) == 0)
        return "embeddings";
    return "other";
}

double valueOrNaN(const SqliteStatement& s, int column)
{
    return s.isNullAt(column) ? std::numeric_limits<double>::quiet_NaN() : s.doubleAt(column);
}

RunRecord readRun(const SqliteStatement& s)
{
    RunRecord r;
    r.id = s.int64At(0);
    r.model = s.textAt(1);
    r.dataset = s.textAt(2);
    r.datasetSource = s.textAt(3);
    r.datasetFingerprint = s.textAt(4);
    r.paramsJson = s.textAt(5);
    r.seed = s.int64At(6);
    r.status = runStatusFromName(s.textAt(7));
    r.message = s.textAt(8);
    r.startedAt = s.textAt(9);
    r.endedAt = s.textAt(10);
    r.experimentId = s.int64At(11);
    r.experiment = s.textAt(12);
    r.name = s.textAt(13);
    r.notes = s.textAt(14);
    r.splitFingerprint = s.textAt(15);
    r.parentRunId = s.int64At(16);
    return r;
}

const char* const kRunColumns =
    "SELECT r.id, r.model, r.dataset, r.dataset_source, r.dataset_fingerprint, r.params, r.seed, r.status, "
    "r.message, r.started_at, r.ended_at, r.experiment_id, coalesce(e.name, ''), r.name, r.notes, "
    "r.split_fingerprint, coalesce(r.parent_run_id, 0) FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id";

std::string trimmed(const std::string& text)
{
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return {};
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

} // namespace

std::vector<std::pair<std::string, std::string>> flattenParams(const std::string& paramsJson)
{
    std::vector<std::pair<std::string, std::string>> out;
    const nlohmann::json params = nlohmann::json::parse(paramsJson, nullptr, false);
    if (params.is_discarded() || !params.is_object())
        return out;
    for (auto it = params.begin(); it != params.end(); ++it) {
        const nlohmann::json& v = it.value();
        if (it.key() == "graph" && v.is_object()) {
            const auto name = v.find("name");
            out.emplace_back("graph", name != v.end() && name->is_string() ? name->get<std::string>() : "unnamed");
        } else {
            out.emplace_back(it.key(), v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    return out;
}

void ExperimentStore::writeParams(int64_t runId, const std::string& paramsJson)
{
    auto drop = db_.prepare("DELETE FROM params WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    auto s = db_.prepare("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)");
    for (const auto& [key, value] : flattenParams(paramsJson)) {
        s.bind(1, runId).bind(2, key).bind(3, value);
        s.step();
        s.reset();
    }
}

int64_t ExperimentStore::experimentId(const std::string& name)
{
    const std::string clean = trimmed(name);
    if (clean.empty())
        throw StoreError(db_.path() + ": an experiment needs a name");
    {
        auto s = db_.prepare("SELECT id FROM experiments WHERE name = ?");
        s.bind(1, clean);
        if (s.step())
            return s.int64At(0);
    }
    Write write(*this);
    auto insert = db_.prepare("INSERT INTO experiments (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING");
    insert.bind(1, clean).bind(2, isoTimestampNow());
    insert.step();
    auto s = db_.prepare("SELECT id FROM experiments WHERE name = ?");
    s.bind(1, clean);
    s.step();
    const int64_t id = s.int64At(0);
    write.commit();
    return id;
}

std::vector<ExperimentRecord> ExperimentStore::listExperiments()
{
    auto s = db_.prepare("SELECT e.id, e.name, e.description, e.created_at, "
                         "(SELECT count(*) FROM runs r WHERE r.experiment_id = e.id) FROM experiments e ORDER BY e.id");
    std::vector<ExperimentRecord> out;
    while (s.step())
        out.push_back({s.int64At(0), s.textAt(1), s.textAt(2), s.textAt(3), s.int64At(4)});
    return out;
}

void ExperimentStore::moveRun(int64_t runId, int64_t experimentId)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET experiment_id = ? WHERE id = ? AND EXISTS (SELECT 1 FROM experiments WHERE id = ?)");
    s.bind(1, experimentId).bind(2, runId).bind(3, experimentId);
    s.step();
    if (db_.changes() == 0)
        throw StoreError(db_.path() + ": no run " + std::to_string(runId) + " or no experiment " + std::to_string(experimentId));
    write.commit();
}

int64_t ExperimentStore::beginRun(const RunRecord& run)
{
    Write write(*this);
    auto s = db_.prepare("INSERT INTO runs (model, dataset, dataset_source, dataset_fingerprint, params, "
                         "seed, status, started_at, pid, experiment_id, name, notes, split_fingerprint, parent_run_id, "
                         "process) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, run.model)
        .bind(2, run.dataset)
        .bind(3, run.datasetSource)
        .bind(4, run.datasetFingerprint)
        .bind(5, run.paramsJson)
        .bind(6, run.seed)
        .bind(7, std::string(runStatusName(RunStatus::Running)))
        .bind(8, run.startedAt.empty() ? isoTimestampNow() : run.startedAt)
        .bind(9, static_cast<int64_t>(::getpid()))
        .bind(10, run.experimentId > 0 ? run.experimentId : kDefaultExperiment)
        .bind(11, trimmed(run.name))
        .bind(12, run.notes)
        .bind(13, run.splitFingerprint);
    if (run.parentRunId > 0)
        s.bind(14, run.parentRunId);
    else
        s.bindNull(14);
    s.bind(15, processIdentity(::getpid()));
    s.step();
    const int64_t id = db_.lastInsertRowId();
    writeParams(id, run.paramsJson);
    if (!run.tags.empty()) {
        auto tag = db_.prepare("INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)");
        for (const auto& t : run.tags)
            if (const std::string clean = trimmed(t); !clean.empty()) {
                tag.bind(1, id).bind(2, clean);
                tag.step();
                tag.reset();
            }
    }
    write.commit();
    return id;
}

template <typename... Values> void ExperimentStore::writeStatement(const char* sql, const Values&... values)
{
    Write write(*this);
    auto s = db_.prepare(sql);
    int index = 0;
    (s.bind(++index, values), ...);
    s.step();
    write.commit();
}

void ExperimentStore::setSplitFingerprint(int64_t runId, const std::string& fingerprint)
{
    writeStatement("UPDATE runs SET split_fingerprint = ? WHERE id = ?", fingerprint, runId);
}

void ExperimentStore::recordMetrics(int64_t runId, const std::vector<MetricPoint>& points)
{
    Write write(*this);
    auto s = db_.prepare("INSERT INTO metrics (run_id, key, step, epoch, value, wall_time) VALUES (?, ?, ?, ?, ?, ?)");
    auto latest = db_.prepare(
        "INSERT INTO latest_metrics (run_id, key, step, epoch, value) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, epoch = excluded.epoch, value = excluded.value "
        "WHERE excluded.step >= latest_metrics.step");
    for (const auto& p : points) {
        s.bind(1, runId).bind(2, p.key).bind(3, p.step).bind(4, static_cast<int64_t>(p.epoch));
        latest.bind(1, runId).bind(2, p.key).bind(3, p.step).bind(4, static_cast<int64_t>(p.epoch));
        if (std::isnan(p.value)) {
            s.bindNull(5);
            latest.bindNull(5);
        } else {
            s.bind(5, p.value);
            latest.bind(5, p.value);
        }
        s.bind(6, p.wallTime);
        s.step();
        s.reset();
        latest.step();
        latest.reset();
    }
    write.commit();
}

void ExperimentStore::recordUserMetrics(int64_t runId, const UserMetrics& metrics)
{
    Write write(*this);
    auto drop = db_.prepare("DELETE FROM user_metrics WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    auto s = db_.prepare("INSERT INTO user_metrics (run_id, key, users, vals) VALUES (?, ?, ?, ?)");
    for (const auto& m : metrics) {
        if (m.users.size() != m.values.size())
            throw StoreError(db_.path() + ": per-user metric " + m.name + " has " + std::to_string(m.users.size()) +
                             " users but " + std::to_string(m.values.size()) + " values");
        s.bind(1, runId).bind(2, m.name);
        s.bindBlob(3, m.users.data(), m.users.size() * sizeof(int32_t));
        s.bindBlob(4, m.values.data(), m.values.size() * sizeof(double));
        s.step();
        s.reset();
    }
    write.commit();
}

UserMetrics ExperimentStore::userMetrics(int64_t runId)
{
    auto s = db_.prepare("SELECT key, users, vals FROM user_metrics WHERE run_id = ? ORDER BY key");
    s.bind(1, runId);
    UserMetrics out;
    while (s.step()) {
        const std::string users = s.blobAt(1), values = s.blobAt(2);
        UserMetric m{s.textAt(0), std::vector<int32_t>(users.size() / sizeof(int32_t)),
                     std::vector<double>(values.size() / sizeof(double))};
        if (m.users.size() != m.values.size())
            throw StoreError(db_.path() + ": run " + std::to_string(runId) + ": per-user metric " + m.name +
                             " is damaged (" + std::to_string(m.users.size()) + " users, " +
                             std::to_string(m.values.size()) + " values)");
        std::memcpy(m.users.data(), users.data(), m.users.size() * sizeof(int32_t));
        std::memcpy(m.values.data(), values.data(), m.values.size() * sizeof(double));
        out.push_back(std::move(m));
    }
    return out;
}

void ExperimentStore::finishRun(int64_t runId, RunStatus status, const std::string& message)
{
    writeStatement("UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?", std::string(runStatusName(status)),
                   message, isoTimestampNow(), runId);
}

std::vector<RunRecord> ExperimentStore::listRuns()
{
    // One read transaction, so the runs and their tags are of one moment.
    db_.exec("BEGIN");
    try {
        auto s = db_.prepare(std::string(kRunColumns) + " ORDER BY r.id DESC");
        std::vector<RunRecord> out;
        std::unordered_map<int64_t, size_t> row;
        while (s.step()) {
            out.push_back(readRun(s));
            row.emplace(out.back().id, out.size() - 1);
        }
        auto tags = db_.prepare("SELECT run_id, tag FROM tags ORDER BY run_id, tag");
        while (tags.step())
            if (const auto it = row.find(tags.int64At(0)); it != row.end())
                out[it->second].tags.push_back(tags.textAt(1));
        db_.exec("COMMIT");
        return out;
    } catch (...) {
        db_.exec("ROLLBACK");
        throw;
    }
}

std::optional<RunRecord> ExperimentStore::findRun(int64_t runId)
{
    auto s = db_.prepare(std::string(kRunColumns) + " WHERE r.id = ?");
    s.bind(1, runId);
    if (!s.step())
        return std::nullopt;
    return withTags(readRun(s));
}

RunRecord ExperimentStore::withTags(RunRecord run)
{
    auto s = db_.prepare("SELECT tag FROM tags WHERE run_id = ? ORDER BY tag");
    s.bind(1, run.id);
    while (s.step())
        run.tags.push_back(s.textAt(0));
    return run;
}

std::vector<std::pair<std::string, std::string>> ExperimentStore::params(int64_t runId)
{
    auto s = db_.prepare("SELECT key, value FROM params WHERE run_id = ? ORDER BY key");
    s.bind(1, runId);
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step())
        out.emplace_back(s.textAt(0), s.textAt(1));
    return out;
}

std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> ExperimentStore::allParams()
{
    auto s = db_.prepare("SELECT run_id, key, value FROM params ORDER BY run_id, key");
    std::unordered_map<int64_t, std::vector<std::pair<std::string, std::string>>> out;
    while (s.step())
        out[s.int64At(0)].emplace_back(s.textAt(1), s.textAt(2));
    return out;
}

double ExperimentStore::trainingSeconds(int64_t runId)
{
    auto s = db_.prepare("SELECT coalesce(sum(value), 0) FROM metrics WHERE run_id = ? AND key IN ('train_seconds', 'pretrain_seconds')");
    s.bind(1, runId);
    s.step();
    return s.doubleAt(0);
}

double ExperimentStore::wallSeconds(int64_t runId)
{
    auto s = db_.prepare("SELECT (julianday(ended_at) - julianday(started_at)) * 86400.0 FROM runs "
                         "WHERE id = ? AND ended_at IS NOT NULL AND ended_at <> ''");
    s.bind(1, runId);
    return s.step() && !s.isNullAt(0) ? s.doubleAt(0) : std::numeric_limits<double>::quiet_NaN();
}

void ExperimentStore::renameRun(int64_t runId, const std::string& name)
{
    writeStatement("UPDATE runs SET name = ? WHERE id = ?", trimmed(name), runId);
}

void ExperimentStore::setNotes(int64_t runId, const std::string& notes)
{
    writeStatement("UPDATE runs SET notes = ? WHERE id = ?", notes, runId);
}

void ExperimentStore::setTags(int64_t runId, const std::vector<std::string>& tags)
{
    std::set<std::string> clean;
    for (const auto& t : tags)
        if (std::string c = trimmed(t); !c.empty())
            clean.insert(std::move(c));
    Write write(*this);
    auto drop = db_.prepare("DELETE FROM tags WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    auto s = db_.prepare("INSERT INTO tags (run_id, tag) VALUES (?, ?)");
    for (const auto& t : clean) {
        s.bind(1, runId).bind(2, t);
        s.step();
        s.reset();
    }
    write.commit();
}

void ExperimentStore::deleteRun(int64_t runId, std::string* movedAside)
{
    if (movedAside)
        movedAside->clear();
    const auto run = findRun(runId);
    if (!run)
        throw StoreError(db_.path() + " has no run " + std::to_string(runId));
    if (!damage_.empty())
        throwDamaged(damage_);
    if (run->status == RunStatus::Running) {
        auto s = db_.prepare("SELECT coalesce(pid, 0), process FROM runs WHERE id = ?");
        s.bind(1, runId);
        s.step();
        if (processAlive(static_cast<pid_t>(s.int64At(0)), s.textAt(1)))
            throw StoreError("run " + std::to_string(runId) + " is still training; stop it before deleting it");
    }
    const fs::path dir(runArtifactDir(db_.path(), runId));
    const fs::path aside = dir.string() + ".deleting";
    std::error_code ec;
    fs::remove_all(aside, ec);
    const bool moved = fs::exists(dir, ec) && (fs::rename(dir, aside, ec), !ec);
    if (fs::exists(dir) && !moved)
        throw StoreError(dir.string() + ": cannot move the run's files aside: " + ec.message());
    try {
        Write write(*this);
        auto s = db_.prepare("DELETE FROM runs WHERE id = ?");
        s.bind(1, runId);
        s.step();
        write.commit();
    } catch (...) {
        if (moved)
            fs::rename(aside, dir, ec);
        throw;
    }
    if (moved && movedAside)
        *movedAside = aside.string();
    else if (moved)
        fs::remove_all(aside, ec);
}

void ExperimentStore::recordArtifact(int64_t runId, const std::string& relativePath, const std::string& kind)
{
    std::error_code ec;
    const auto size = fs::file_size(fs::path(runArtifactDir(db_.path(), runId)) / relativePath, ec);
    auto s = db_.prepare("INSERT INTO artifacts (run_id, path, kind, bytes, created_at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT(run_id, path) DO UPDATE SET bytes = excluded.bytes, kind = excluded.kind");
    s.bind(1, runId)
        .bind(2, relativePath)
        .bind(3, kind.empty() ? artifactKind(relativePath) : kind)
        .bind(4, static_cast<int64_t>(ec ? 0 : size))
        .bind(5, isoTimestampNow());
    s.step();
}

void ExperimentStore::syncArtifacts(int64_t runId)
{
    const std::vector<std::string> files = filesIn(runArtifactDir(db_.path(), runId));
    Write write(*this);
    auto drop = db_.prepare("DELETE FROM artifacts WHERE run_id = ?");
    drop.bind(1, runId);
    drop.step();
    for (const auto& file : files)
        if (!isPartialFile(file))
            recordArtifact(runId, file, "");
    write.commit();
}

std::vector<ArtifactRecord> ExperimentStore::artifacts(int64_t runId)
{
    auto s = db_.prepare("SELECT path, kind, bytes, created_at FROM artifacts WHERE run_id = ? ORDER BY path");
    s.bind(1, runId);
    std::vector<ArtifactRecord> out;
    while (s.step())
        out.push_back({s.textAt(0), s.textAt(1), s.int64At(2), s.textAt(3)});
    return out;
}

std::vector<MetricPoint> ExperimentStore::metrics(int64_t runId, const std::string& key)
{
    auto s = db_.prepare("SELECT key, step, epoch, value, wall_time FROM metrics WHERE run_id = ?" +
                         std::string(key.empty() ? "" : " AND key = ?") + " ORDER BY step, rowid");
    s.bind(1, runId);
    if (!key.empty())
        s.bind(2, key);
    std::vector<MetricPoint> out;
    while (s.step())
        out.push_back({s.textAt(0), s.int64At(1), static_cast<int>(s.int64At(2)), valueOrNaN(s, 3), s.doubleAt(4)});
    return out;
}

std::vector<ExperimentStore::LatestMetric> ExperimentStore::readLatest(SqliteStatement& s)
{
    std::vector<LatestMetric> out;
    while (s.step())
        out.push_back({s.int64At(0), s.textAt(1), valueOrNaN(s, 2), static_cast<int>(s.int64At(3))});
    return out;
}

std::vector<ExperimentStore::LatestMetric> ExperimentStore::latestMetrics(const std::vector<std::string>& keys)
{
    std::string placeholders;
    for (size_t k = 0; k < keys.size(); ++k)
        placeholders += k ? ", ?" : "?";
    auto s = db_.prepare("SELECT run_id, key, value, epoch FROM latest_metrics" +
                         (keys.empty() ? std::string() : " WHERE key IN (" + placeholders + ")") + " ORDER BY run_id, key");
    for (size_t k = 0; k < keys.size(); ++k)
        s.bind(static_cast<int>(k) + 1, keys[k]);
    return readLatest(s);
}

std::vector<ExperimentStore::LatestMetric> ExperimentStore::latestMetricsOf(int64_t runId)
{
    auto s = db_.prepare("SELECT run_id, key, value, epoch FROM latest_metrics WHERE run_id = ? ORDER BY key");
    s.bind(1, runId);
    return readLatest(s);
}

std::vector<std::string> ExperimentStore::metricKeys()
{
    auto s = db_.prepare("SELECT DISTINCT key FROM latest_metrics ORDER BY key");
    std::vector<std::string> out;
    while (s.step())
        out.push_back(s.textAt(0));
    return out;
}

std::string runArtifactDir(const std::string& databasePath, int64_t runId)
{
    return databasePath + ".artifacts/run-" + std::to_string(runId);
}

std::string defaultDatabasePath()
{
    const char* xdg = std::getenv("XDG_DATA_HOME");
    fs::path base;
    if (xdg && *xdg && fs::path(xdg).is_absolute())
        base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = fs::path(home) / ".local" / "share";
    else
        base = fs::temp_directory_path();
    return (base / "reclab" / "reclab.db").string();
}

} // namespace reclab
