#include "runs/TrainingEvents.h"

namespace reclab {

const char* runStatusName(RunStatus status)
{
    switch (status) {
    case RunStatus::Running: return "RUNNING";
    case RunStatus::Finished: return "FINISHED";
    case RunStatus::Failed: return "FAILED";
    case RunStatus::Stopped: return "STOPPED";
    case RunStatus::Interrupted: return "INTERRUPTED";
    }
    return "FAILED";
}

RunStatus runStatusFromName(const std::string& name)
{
    for (auto s : {RunStatus::Running, RunStatus::Finished, RunStatus::Failed, RunStatus::Stopped,
                   RunStatus::Interrupted})
        if (name == runStatusName(s))
            return s;
    return RunStatus::Failed;
}

} // namespace reclab
