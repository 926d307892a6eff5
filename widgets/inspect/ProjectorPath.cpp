// The projector's user path: a next-item model's state after each of a user's latest
// behaviours, computed in a worker and drawn over the item map.
#include "inspection/Recommendations.h"
#include "inspection/StoredRun.h"
#include "util/Error.h"

#include "inspect/ProjectorState.h"
#include "inspect/ScatterPlot.h"

#include <QFutureWatcher>
#include <QLabel>
#include <QLineEdit>
#include <QtConcurrent>

namespace reclab {

void ProjectorView::showUserPath(const QString& userId)
{
    const int generation = ++pathGeneration_;
    plot_->setPath({}, {});
    if (userId.isEmpty())
        return;
    pathUser_->setText(userId);
    if (state_->kind != "items" || !state_->coordinates.defined())
        return fail(tr("A user's path is drawn over an item table: pick one (and a run of a next-item model)."));
    struct Answer {
        QVector<QVector<QPair<int, double>>> anchors;
        QStringList labels;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Answer>(this);
    connect(watcher, &QFutureWatcher<Answer>::finished, this, [this, watcher, generation, userId] {
        watcher->deleteLater();
        if (generation != pathGeneration_)
            return;
        const Answer a = watcher->result();
        if (!a.error.isEmpty())
            return fail(a.error);
        plot_->setPath(a.anchors, a.labels);
        status_->setText(tr("User %1's path: the model's state after each of their latest %n behaviour(s), 1 the oldest; "
                            "each state sits among the 10 items it scores highest (hover a step for what was watched).",
                            nullptr, static_cast<int>(a.anchors.size()))
                             .arg(userId));
        emit pathShown();
    });
    const std::string db = databasePath_.toStdString(), user = userId.toStdString();
    const qint64 runId = runId_;
    const auto rows = state_->coordinates.size(0);
    auto cache = cache_;
    watcher->setFuture(QtConcurrent::run([cache, db, runId, user, rows]() -> Answer {
        Answer a;
        try {
            const auto entry = cache->model(db, runId);
            const Dataset& data = *entry->data->dataset;
            if (data.numItems() != rows)
                throw Error("the table shown has " + std::to_string(rows) + " rows, not one per item");
            const int32_t u = userIndexOf(data, user);
            std::lock_guard lock(entry->use);
            const UserPath path = userPath(*entry->stored.model, *entry->data->index, u, entry->stored.config.historyLength);
            for (size_t t = 0; t < path.items.size(); ++t) {
                QVector<QPair<int, double>> step;
                for (const auto& [item, weight] : path.anchors[t])
                    step.append({item, weight});
                a.anchors.append(step);
                a.labels << QObject::tr("after %1").arg(QString::fromStdString(itemTitle(data, path.items[t])));
            }
        } catch (const std::exception& e) {
            a.error = QObject::tr("Run %1: %2").arg(runId).arg(QString::fromStdString(e.what()));
        }
        return a;
    }));
}

} // namespace reclab
