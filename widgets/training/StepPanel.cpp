#include "training/StepPanel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace reclab {

StepPanel::StepPanel(QWidget* parent)
    : QWidget(parent), label_(new QLabel(tr("Pause a run and press Step to run one batch."))), table_(new QTableWidget(0, 2))
{
    table_->setHorizontalHeaderLabels({tr("Block"), tr("Gradient norm")});
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    label_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(label_);
    layout->addWidget(table_, 1);
}

void StepPanel::showStep(const QString& runLabel, const StepReport& r)
{
    label_->setText(tr("%1, epoch %2, batch %3 (step %4): loss %5")
                        .arg(runLabel)
                        .arg(r.epoch)
                        .arg(r.batch)
                        .arg(r.step)
                        .arg(r.loss, 0, 'f', 5));
    table_->setRowCount(static_cast<int>(r.gradientNorms.size()));
    for (int k = 0; k < table_->rowCount(); ++k) {
        const auto& [block, norm] = r.gradientNorms[static_cast<size_t>(k)];
        table_->setItem(k, 0, new QTableWidgetItem(QString::fromStdString(block)));
        table_->setItem(k, 1, new QTableWidgetItem(QString::number(norm, 'g', 4)));
    }
}

} // namespace reclab
