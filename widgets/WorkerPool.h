// The widgets' background jobs (loading, statistics, preparation, downloads) run on Qt's global
// thread pool. Left alone, its idle threads end while the process exits, at the same time as
// LibTorch's static destructors run, and a thread's clean-up can then touch what is being torn
// down. joinPoolThreadsAtExit() makes the application object join them when it goes away,
// before any library is finalised. Call it from whatever starts pool jobs; once is enough.
#pragma once

namespace reclab {

void joinPoolThreadsAtExit();

} // namespace reclab
