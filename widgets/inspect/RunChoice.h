// The Inspect and Ranking views' run lists: a combo box of runs that keeps the run chosen when it
// is still offered (else the first, the newest), with "(none)" first where a second run is
// optional; and a hash of what a list would show, so it is rebuilt only when that changed.
#pragma once

#include "experiments/RunsTableModel.h"

#include <QComboBox>
#include <QList>
#include <QPair>
#include <QString>

#include <algorithm>
#include <functional>
#include <string>

namespace reclab {

inline void offerRuns(QComboBox* combo, const QList<QPair<qint64, QString>>& runs, const QString& none = {})
{
    const qint64 current = combo->currentData().toLongLong();
    combo->clear();
    if (!none.isEmpty())
        combo->addItem(none, qint64(0));
    for (const auto& [id, label] : runs)
        combo->addItem(label, id);
    combo->setCurrentIndex(std::max(0, combo->findData(current)));
}

// The runs table refreshes every epoch while runs train: a list of 10,000 runs is rebuilt only
// when this hash of its runs (id, name, model, data of each run `offered` accepts) changes.
template <typename Accept> size_t offeredRunsKey(const RunsTableModel& runsModel, Accept offered)
{
    size_t key = 0;
    auto mix = [&key](size_t h) { key ^= h + 0x9e3779b97f4a7c15ull + (key << 6) + (key >> 2); };
    for (int row = 0; row < runsModel.runCount(); ++row) {
        const RunRecord* run = runsModel.runAt(row);
        if (!run || !offered(*run))
            continue;
        mix(std::hash<int64_t>{}(run->id));
        for (const std::string* field : {&run->name, &run->model, &run->dataset})
            mix(std::hash<std::string>{}(*field));
    }
    return key;
}

} // namespace reclab
