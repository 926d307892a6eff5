#include "CoreMetaTypes.h"

namespace reclab {

void registerCoreMetaTypes()
{
    qRegisterMetaType<reclab::BatchProgress>();
    qRegisterMetaType<reclab::EpochStats>();
    qRegisterMetaType<reclab::StepReport>();
}

} // namespace reclab
