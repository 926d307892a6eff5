// Who trains a run: a resume claims it in one transaction (refused while a live process has
// it), a refused or failed resume gives it back, and runs whose process is gone are marked
// interrupted.
#include "store/ExperimentStore.h"

#include "store/StoreFile.h"
#include "store/StoreWrite.h"
#include "util/Error.h"

#include <unistd.h>

namespace reclab {

RunClaim ExperimentStore::claimRun(int64_t runId)
{
    Write write(*this);
    auto s = db_.prepare("SELECT status, message, coalesce(ended_at, ''), coalesce(pid, 0), process FROM runs WHERE id = ?");
    s.bind(1, runId);
    const std::string run = "run " + std::to_string(runId);
    if (!s.step())
        throw StoreError(db_.path() + " has no " + run);
    RunClaim claim{runId, runStatusFromName(s.textAt(0)), s.textAt(1), s.textAt(2), s.int64At(3), s.textAt(4)};
    if (claim.status == RunStatus::Running && processAlive(static_cast<pid_t>(claim.pid), claim.process))
        throw StoreError(run + " is being trained by process " + std::to_string(claim.pid) +
                         (claim.pid == ::getpid() ? " (this one)" : "") + "; wait for it to end or stop it");
    if (claim.status != RunStatus::Stopped && claim.status != RunStatus::Interrupted && claim.status != RunStatus::Running)
        throw StoreError(run + " is " + runStatusName(claim.status) + "; only a stopped or interrupted run can be resumed");
    if (claim.status == RunStatus::Running) { // its process is gone: it was interrupted
        claim.status = RunStatus::Interrupted;
        claim.message = "the process ended while the run was in progress";
        claim.endedAt = isoTimestampNow();
    }
    auto set = db_.prepare("UPDATE runs SET status = ?, message = '', ended_at = NULL, pid = ?, process = ? WHERE id = ?");
    set.bind(1, std::string(runStatusName(RunStatus::Running)))
        .bind(2, static_cast<int64_t>(::getpid()))
        .bind(3, processIdentity(::getpid()))
        .bind(4, runId);
    set.step();
    write.commit();
    return claim;
}

void ExperimentStore::releaseClaim(const RunClaim& claim)
{
    Write write(*this);
    auto s = db_.prepare("UPDATE runs SET status = ?, message = ?, ended_at = ?, pid = ?, process = ? "
                         "WHERE id = ? AND status = 'RUNNING' AND pid = ?");
    s.bind(1, std::string(runStatusName(claim.status))).bind(2, claim.message);
    if (claim.endedAt.empty())
        s.bindNull(3);
    else
        s.bind(3, claim.endedAt);
    s.bind(4, claim.pid).bind(5, claim.process).bind(6, claim.runId).bind(7, static_cast<int64_t>(::getpid()));
    s.step();
    write.commit();
}

void ExperimentStore::resumeRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch)
{
    Write write(*this);
    // Pre-training curves count their own epochs and stay.
    auto drop = db_.prepare("DELETE FROM metrics WHERE run_id = ? AND epoch > ? AND key NOT LIKE 'pretrain\\_%' ESCAPE '\\'");
    drop.bind(1, runId).bind(2, static_cast<int64_t>(keepThroughEpoch));
    drop.step();
    for (const char* sql : {"DELETE FROM latest_metrics WHERE run_id = ?", "DELETE FROM user_metrics WHERE run_id = ?",
                            "INSERT INTO latest_metrics SELECT run_id, key, max(step), epoch, value FROM metrics "
                            "WHERE run_id = ? GROUP BY key"}) {
        auto q = db_.prepare(sql);
        q.bind(1, runId);
        q.step();
    }
    writeParams(runId, paramsJson);
    auto s = db_.prepare("UPDATE runs SET params = ? WHERE id = ?");
    s.bind(1, paramsJson).bind(2, runId);
    s.step();
    write.commit();
}

void ExperimentStore::reopenRun(int64_t runId, const std::string& paramsJson, int keepThroughEpoch)
{
    claimRun(runId);
    resumeRun(runId, paramsJson, keepThroughEpoch);
}

int ExperimentStore::recoverInterruptedRuns()
{
    std::vector<int64_t> gone;
    {
        auto s = db_.prepare("SELECT id, coalesce(pid, 0), process FROM runs WHERE status = 'RUNNING'");
        while (s.step()) {
            const auto pid = static_cast<pid_t>(s.int64At(1));
            const std::string process = s.textAt(2);
            // Without a process identity (runs of older versions), this process's own RUNNING
            // rows at start-up are left from an earlier process that had the same pid.
            if (!processAlive(pid, process) || (process.empty() && pid == ::getpid()))
                gone.push_back(s.int64At(0));
        }
    }
    for (const int64_t id : gone) {
        finishRun(id, RunStatus::Interrupted, "the process ended while the run was in progress");
        syncArtifacts(id); // the checkpoint written after its last recorded epoch
    }
    return static_cast<int>(gone.size());
}

} // namespace reclab
