// The half of a block family's file this build compiles: what the blocks are (reclab_graph), or,
// with RECLAB_BLOCK_KERNELS, how they run (reclab_core).
#pragma once

#ifdef RECLAB_BLOCK_KERNELS
#include "compiled/BlockKernel.h"

#include <torch/types.h>
#else
#include "blocks/DefinitionKit.h"

namespace reclab {
using namespace blocks; // the definitions' shorthands
} // namespace reclab
#endif
