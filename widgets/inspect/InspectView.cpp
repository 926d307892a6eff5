#include "project/StoredRun.h"

#include "inspect/AttentionView.h"
#include "inspect/InspectView.h"
#include "inspect/ProjectorView.h"
#include "inspect/RecommendationsView.h"

#include <QComboBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace reclab {

InspectView::InspectView(QWidget* parent)
    : QWidget(parent), cache_(std::make_shared<InspectionCache>()), tabs_(new QTabWidget),
      projector_(new ProjectorView(cache_)), attention_(new AttentionView(cache_)),
      recommendations_(new RecommendationsView(cache_))
{
    tabs_->addTab(projector_, tr("Embeddings"));
    tabs_->addTab(attention_, tr("Attention"));
    tabs_->addTab(recommendations_, tr("Recommendations"));
    tabs_->setDocumentMode(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tabs_);
}

InspectView::~InspectView() = default;

void InspectView::setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs)
{
    std::vector<int64_t> ids;
    for (const auto& run : runs)
        ids.push_back(run.first);
    cache_->retain(databasePath.toStdString(), ids);
    projector_->setRuns(databasePath, runs);
    attention_->setRuns(databasePath, runs);
    recommendations_->setRuns(databasePath, runs);
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

} // namespace reclab
