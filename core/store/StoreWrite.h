// Every write of the experiment store goes through one Write (private to core/store).
#pragma once

#include "store/ExperimentStore.h"

#include <optional>

namespace reclab {

// Every write of the store: one IMMEDIATE transaction that also rewrites page 1 (the
// user_version carrying this database's tag), refused while the file is known to be damaged.
class ExperimentStore::Write {
public:
    explicit Write(ExperimentStore& store) : store_(store)
    {
        if (!store_.damage_.empty())
            store_.throwDamaged(store_.damage_);
        tx_.emplace(store_.db_);
    }
    void commit()
    {
        store_.db_.exec("PRAGMA user_version = " + std::to_string(store_.userVersion_));
        tx_->commit();
    }

private:
    ExperimentStore& store_;
    std::optional<SqliteTransaction> tx_;
};

} // namespace reclab
