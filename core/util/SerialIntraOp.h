// Serial LibTorch ops on the calling thread, for a scope (part of reclab_core: LibTorch's).
#pragma once

namespace reclab {

// LibTorch's OpenMP pool is per calling thread (its thread count is the thread's own OpenMP
// setting). While one of these lives, the thread's LibTorch ops run serially: on an evaluation
// thread, as a slice is already one thread's share, or around work spread over RecLab's own
// threads; the setting is restored afterwards.
class SerialIntraOp {
public:
    SerialIntraOp();
    ~SerialIntraOp();
    SerialIntraOp(const SerialIntraOp&) = delete;
    SerialIntraOp& operator=(const SerialIntraOp&) = delete;

private:
    void (*set_)(int) = nullptr;
    int before_ = 0;
};

} // namespace reclab
