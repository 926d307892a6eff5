#include "inspect/ProjectorRows.h"

#include "data/Dataset.h"

#include <QCoreApplication>

#include <algorithm>

namespace reclab {

ProjectorRows describeProjectorRows(const Dataset& data, const std::string& kind)
{
    ProjectorRows r;
    r.metadata = kind == "users" ? userMetadata(data) : itemMetadata(data);
    const auto& columns = r.metadata.columns;
    const auto title = std::find(columns.begin(), columns.end(), "title");
    const auto count = std::find(columns.begin(), columns.end(), "interactions");
    for (const auto& row : r.metadata.rows) {
        r.ids << QString::fromStdString(row[0]);
        r.titles << (title != columns.end() && !row[static_cast<size_t>(title - columns.begin())].empty()
                         ? QString::fromStdString(row[static_cast<size_t>(title - columns.begin())])
                         : (kind == "users" ? QCoreApplication::translate("ProjectorView", "user %1") : QCoreApplication::translate("ProjectorView", "item %1")).arg(r.ids.back()));
        r.labels << r.titles.back() +
                        (count != columns.end()
                             ? QCoreApplication::translate("ProjectorView", " · %1 interactions").arg(QString::fromStdString(row[static_cast<size_t>(count - columns.begin())]))
                             : QString());
    }
    return r;
}

} // namespace reclab
