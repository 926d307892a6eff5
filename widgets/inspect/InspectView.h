// The Inspect tab: look inside any stored run. Embeddings (the projector), Attention (DIN's
// weights over a user's behaviours) and Recommendations (two runs side by side), sharing one
// cache of loaded runs and datasets.
#pragma once

#include "inspect/InspectPage.h"

#include <QList>
#include <QPair>

#include <memory>

class QTabWidget;

namespace reclab {

class AttentionView;
class InspectionCache;
class ProjectorView;
class RecommendationsView;
class ReplayView;
class WordsView;
class InspectView : public InspectPage {
    Q_OBJECT
public:
    explicit InspectView(QWidget* parent = nullptr);
    ~InspectView() override;

    // The finished runs to offer, as (id, label); the attention view lists only those of them
    // whose model weighs behaviours (attentionRuns; all of them when not given).
    void setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs,
                 const QList<qint64>* attentionRuns = nullptr);
    void offerRuns(const QString& databasePath, const RunsTableModel& runsModel) override;
    void inspect(qint64 runId, bool hasAttention) override;
    void showAttention(qint64 runId, const QString& user) override;
    void showEmbeddings(qint64 runId, bool play) override;

    QTabWidget* tabs() const { return tabs_; }
    ProjectorView* projector() const { return projector_; }
    AttentionView* attention() const { return attention_; }
    RecommendationsView* recommendations() const { return recommendations_; }
    WordsView* words() const { return words_; }
    ReplayView* replay() const { return replay_; }

private:
    std::shared_ptr<InspectionCache> cache_;
    QTabWidget* tabs_;
    ProjectorView* projector_;
    AttentionView* attention_;
    RecommendationsView* recommendations_;
    WordsView* words_;
    ReplayView* replay_;
    QList<QPair<qint64, QString>> offeredRuns_; // the last list offered
    size_t offeredKey_ = 0;                     // a hash of what that list shows
};

} // namespace reclab
