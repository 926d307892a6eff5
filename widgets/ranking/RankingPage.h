// The Ranking tab as the window sees it: torch-free, so the window builds without LibTorch and
// puts the engine's page (RankingView) in once the engine is loaded.
#pragma once

#include <QString>
#include <QWidget>

#include <memory>

namespace reclab {

class Dataset;
class RunsTableModel;

class RankingPage : public QWidget {
    Q_OBJECT
public:
    using QWidget::QWidget;

    // The finished runs a policy can re-rank or a simulator can be built from.
    virtual void offerRuns(const QString& databasePath, const RunsTableModel& runsModel) = 0;
    // The workbench's data: what the replay reads when no base run is chosen.
    virtual void setDataset(std::shared_ptr<const Dataset> dataset) = 0;

signals:
    // New runs are in the database (the runs table refreshes).
    void runsStored();
};

} // namespace reclab
