// The Step panel: after one batch of a paused run, its loss and each block's gradient norm.
#pragma once

#include "CoreMetaTypes.h"
#include "runs/TrainingEvents.h"

#include <QWidget>

class QLabel;
class QTableWidget;

namespace reclab {

class StepPanel : public QWidget {
    Q_OBJECT
public:
    explicit StepPanel(QWidget* parent = nullptr);
    void showStep(const QString& runLabel, const StepReport& report);
    QTableWidget* table() const { return table_; }

private:
    QLabel* label_;
    QTableWidget* table_;
};

} // namespace reclab
