// Registers core's plain structs as Qt metatypes so they travel in queued signals between the
// training thread and the GUI thread.
#pragma once

#include "runs/TrainConfig.h"
#include "runs/TrainingEvents.h"

#include <QMetaType>

Q_DECLARE_METATYPE(reclab::BatchProgress)
Q_DECLARE_METATYPE(reclab::EpochStats)
Q_DECLARE_METATYPE(reclab::StepReport)
Q_DECLARE_METATYPE(reclab::TrainConfig)

namespace reclab {
// Call once before the first queued connection carrying these types.
void registerCoreMetaTypes();
} // namespace reclab
