// The projector's search, selection with cosine neighbours, and export.
#include "inspection/Projection.h"
#include "util/Error.h"

#include "inspect/ProjectorState.h"
#include "inspect/ScatterPlot.h"

#include <QDir>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QTreeWidget>

namespace reclab {

void ProjectorView::search(const QString& text)
{
    QVector<int> matches;
    const QString needle = text.trimmed();
    if (!needle.isEmpty()) {
        const ProjectorRows& rows = state_->shown();
        for (int r = 0; r < rows.ids.size(); ++r)
            if (rows.ids[r] == needle || rows.titles[r].contains(needle, Qt::CaseInsensitive))
                matches << r;
    }
    plot_->setHighlighted(matches);
    if (!needle.isEmpty())
        status_->setText(tr("%n match(es) for “%1”", nullptr, static_cast<int>(matches.size())).arg(needle));
    if (matches.size() == 1)
        selectPoint(matches.front());
}

void ProjectorView::selectPoint(int index)
{
    neighbours_->clear();
    if (index < 0 || !state_->unit.defined() || index >= state_->unit.size(0)) {
        plot_->setSelected(-1);
        return;
    }
    // Cosine in the embedding space itself, not in the map.
    const Neighbours near = cosineNeighbours(state_->unit, index, 10);
    QVector<int> nearest;
    auto* header = new QTreeWidgetItem(neighbours_, {tr("Selected"), QString()});
    header->setFlags(Qt::ItemIsEnabled);
    const QStringList& titles = state_->shown().titles;
    header->setText(0, titles[index]);
    QFont bold = header->font(0);
    bold.setBold(true);
    header->setFont(0, bold);
    for (size_t j = 0; j < near.rows.size(); ++j) {
        const int r = static_cast<int>(near.rows[j]);
        nearest << r;
        auto* item = new QTreeWidgetItem(neighbours_, {titles[r], QString::number(near.similarity[j], 'f', 3)});
        item->setData(0, Qt::UserRole, r);
    }
    plot_->setSelected(index, nearest);
}

bool ProjectorView::exportTo(const QString& folder, QString* error) const
{
    try {
        if (!state_->vectors.defined())
            throw Error("nothing to export: no table is shown");
        const std::string dir = folder.toStdString();
        writeProjectorFiles(dir, state_->vectors, state_->shown().metadata);
        writeCoordinatesCsv(dir + "/coordinates.csv", state_->coordinates, state_->shown().metadata);
        return true;
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
}

void ProjectorView::askExport()
{
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Export for the TensorBoard Projector"));
    if (folder.isEmpty())
        return;
    QString error;
    if (!exportTo(folder, &error))
        return fail(tr("Export failed: %1").arg(error));
    status_->setText(tr("Wrote vectors.tsv, metadata.tsv and coordinates.csv to %1").arg(QDir::toNativeSeparators(folder)));
}

} // namespace reclab
