// The Inspect views' run lists: a combo box of runs that keeps the run chosen when it is still
// offered (else the first, the newest), with "(none)" first where a second run is optional.
#pragma once

#include <QComboBox>
#include <QList>
#include <QPair>
#include <QString>

#include <algorithm>

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

} // namespace reclab
