// The Inspect tab as the window sees it: torch-free, so the window builds without LibTorch and
// puts the engine's page (InspectView) in once the engine is loaded.
#pragma once

#include <QString>
#include <QWidget>

namespace reclab {

class RunsTableModel;

class InspectPage : public QWidget {
    Q_OBJECT
public:
    using QWidget::QWidget;

    // The runs table's finished runs (and stopped ones), newest first; the lists are rebuilt
    // only when what they show changed.
    virtual void offerRuns(const QString& databasePath, const RunsTableModel& runsModel) = 0;
    // Opens a run: runs whose model weighs behaviours in the attention view, others in the projector.
    virtual void inspect(qint64 runId, bool hasAttention) = 0;
    // Lessons: one user's attention map of a run, and a run's embeddings by t-SNE (played
    // through its snapshots when play).
    virtual void showAttention(qint64 runId, const QString& user) = 0;
    virtual void showEmbeddings(qint64 runId, bool play) = 0;
};

} // namespace reclab
