#include "zoo/ModelRegistry.h"
#include "inspection/StoredRun.h"
#include "rl/BanditRecords.h"

#include "inspect/AttentionView.h"
#include "inspect/InspectView.h"

#include "experiments/RunsTableModel.h"
#include "store/ExperimentStore.h"
#include "inspect/ProjectorView.h"
#include "inspect/RecommendationsView.h"
#include "inspect/ReplayView.h"
#include "inspect/RunChoice.h"
#include "inspect/WordsView.h"

#include <QComboBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>

namespace reclab {

InspectView::InspectView(QWidget* parent)
    : InspectPage(parent), cache_(std::make_shared<InspectionCache>()), tabs_(new QTabWidget),
      projector_(new ProjectorView(cache_)), attention_(new AttentionView(cache_)),
      recommendations_(new RecommendationsView(cache_)), words_(new WordsView(cache_)), replay_(new ReplayView(cache_))
{
    tabs_->addTab(projector_, tr("Embeddings"));
    tabs_->addTab(attention_, tr("Attention"));
    tabs_->addTab(recommendations_, tr("Recommendations"));
    tabs_->addTab(words_, tr("Words"));
    tabs_->addTab(replay_, tr("Over time"));
    tabs_->setDocumentMode(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tabs_);
}

InspectView::~InspectView() = default;

void InspectView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs,
                          const QList<qint64>* attentionRuns)
{
    std::vector<int64_t> ids;
    for (const auto& run : runs)
        ids.push_back(run.first);
    cache_->retain(databasePath.toStdString(), ids);
    projector_->setRuns(databasePath, runs);
    QList<QPair<qint64, QString>> withAttention;
    for (const auto& run : runs)
        if (!attentionRuns || attentionRuns->contains(run.first))
            withAttention.append(run);
    attention_->setRuns(databasePath, withAttention);
    recommendations_->setRuns(databasePath, runs);
    words_->setRuns(databasePath, runs);
    replay_->setRuns(databasePath, runs);
}

void InspectView::offerRuns(const QString& databasePath, const RunsTableModel& runsModel)
{
    // Rebuilt (10,000 labels formatted) only when what it shows changed (a run finished, was
    // renamed or deleted). Bandit runs hold no model to look inside.
    auto inspectable = [](const RunRecord& run) { return run.status != RunStatus::Running && run.model != kBanditModel; };
    const size_t key = offeredRunsKey(runsModel, inspectable);
    if (key == offeredKey_ && !offeredRuns_.isEmpty())
        return;
    offeredKey_ = key;
    // Finished runs and stopped ones that kept a checkpoint; the newest first.
    QList<QPair<qint64, QString>> runs;
    for (int row = 0; row < runsModel.runCount(); ++row) {
        const RunRecord* run = runsModel.runAt(row);
        if (!run || !inspectable(*run))
            continue;
        runs.append({run->id, tr("#%1 %2 · %3 · %4")
                                  .arg(run->id)
                                  .arg(QString::fromStdString(run->name.empty() ? run->model : run->name))
                                  .arg(QString::fromStdString(run->model))
                                  .arg(QString::fromStdString(run->dataset))});
    }
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (runs == offeredRuns_)
        return;
    offeredRuns_ = runs;
    // What each run's model offers (a registry model's answer is the same for all its runs):
    // the attention view lists the runs that weigh behaviours; the projector opens on the
    // newest run with embedding tables.
    std::map<std::string, ModelAbilities> byModel;
    QList<qint64> attentionRuns;
    qint64 newestWithEmbeddings = 0;
    for (int row = 0; row < runsModel.runCount(); ++row) {
        const RunRecord* run = runsModel.runAt(row);
        if (!run || !inspectable(*run))
            continue;
        const bool custom = run->model == kCustomGraphModel;
        ModelAbilities abilities;
        if (const auto known = byModel.find(run->model); !custom && known != byModel.end()) {
            abilities = known->second;
        } else {
            abilities = abilitiesOfRun(run->paramsJson).value_or(ModelAbilities{});
            if (!custom)
                byModel.emplace(run->model, abilities);
        }
        if (abilities.weighsBehaviours || abilities.sequenceAttention)
            attentionRuns.append(run->id);
        if (abilities.itemEmbeddings)
            newestWithEmbeddings = std::max<qint64>(newestWithEmbeddings, run->id);
    }
    projector_->setDefaultRun(newestWithEmbeddings);
    setRuns(databasePath, runs, &attentionRuns);
}

void InspectView::inspect(qint64 runId, bool hasAttention)
{
    if (hasAttention) {
        tabs_->setCurrentWidget(attention_);
        attention_->runCombo()->setCurrentIndex(std::max(0, attention_->runCombo()->findData(runId)));
    } else {
        tabs_->setCurrentWidget(projector_);
        projector_->showRun(runId);
    }
    recommendations_->runCombo(0)->setCurrentIndex(std::max(0, recommendations_->runCombo(0)->findData(runId)));
}

void InspectView::showAttention(qint64 runId, const QString& user)
{
    inspect(runId, true);
    attention_->showAttention(runId, user);
}

void InspectView::showEmbeddings(qint64 runId, bool play)
{
    tabs_->setCurrentWidget(projector_);
    if (const int index = projector_->runCombo()->findData(runId); index >= 0)
        projector_->runCombo()->setCurrentIndex(index);
    // t-SNE, as the lessons say: it follows the PCA frame once the snapshot is read.
    if (const int tsne = projector_->methodCombo()->findText(QStringLiteral("t-SNE")); tsne >= 0)
        projector_->methodCombo()->setCurrentIndex(tsne);
    projector_->showRun(runId);
    if (play)
        connect(projector_, &ProjectorView::shown, projector_, [this] { projector_->play(true); }, Qt::SingleShotConnection);
}

} // namespace reclab
