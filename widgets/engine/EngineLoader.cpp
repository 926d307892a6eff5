#include "engine/EngineLoader.h"

#include "engine/Engine.h"
#include "util/Error.h"

#include <QLibrary>

#include <condition_variable>
#include <mutex>
#include <thread>

// Defined by the engine's objects (engine/TorchEngine.cpp): present when a program links them
// (the tests), absent (null) in the workbench, which loads the same function from the library.
extern "C" reclab::Engine* reclab_engine_instance() __attribute__((weak));

namespace reclab {

namespace {

enum class LoadState { NotStarted, Loading, Ready, Failed };

// Shared with worker threads, so plain state under a mutex rather than the QObject's.
struct LoadStatus {
    std::mutex mutex;
    std::condition_variable changed;
    LoadState state = LoadState::NotStarted;
    Engine* engine = nullptr;
    QString problem;
};

LoadStatus& status()
{
    static LoadStatus s;
    return s;
}

Engine* linkedEngine() { return reclab_engine_instance ? reclab_engine_instance() : nullptr; }

} // namespace

EngineLoader& EngineLoader::instance()
{
    static EngineLoader* loader = new EngineLoader; // never destroyed: queued results may still reach it at exit
    return *loader;
}

Engine* EngineLoader::engineIfReady() const
{
    if (Engine* linked = linkedEngine())
        return linked;
    LoadStatus& s = status();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.state == LoadState::Ready ? s.engine : nullptr;
}

bool EngineLoader::isLoading() const
{
    LoadStatus& s = status();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.state == LoadState::Loading;
}

QString EngineLoader::problem() const
{
    LoadStatus& s = status();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.problem;
}

void EngineLoader::startLoading(const QString& libraryPath)
{
    if (linkedEngine())
        return;
    LoadStatus& s = status();
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.state != LoadState::NotStarted)
            return;
        s.state = LoadState::Loading;
    }
    std::thread([this, libraryPath] {
        Engine* loaded = nullptr;
        QString why;
        QLibrary library(libraryPath);
        if (!library.load()) {
            why = tr("LibTorch's engine could not be loaded (%1); training and inspection are unavailable")
                      .arg(library.errorString());
        } else if (auto create = reinterpret_cast<Engine* (*)()>(library.resolve("reclab_engine_instance")); !create) {
            why = tr("%1 is not RecLab's engine library (no reclab_engine_instance)").arg(libraryPath);
        } else {
            try {
                loaded = create();
            } catch (const std::exception& e) {
                why = tr("LibTorch's engine failed to start: %1").arg(QString::fromUtf8(e.what()));
            }
        }
        {
            LoadStatus& s = status();
            std::lock_guard<std::mutex> lock(s.mutex);
            s.engine = loaded;
            s.problem = why;
            s.state = loaded ? LoadState::Ready : LoadState::Failed;
        }
        status().changed.notify_all();
        QMetaObject::invokeMethod(this, [this, why, ok = loaded != nullptr] { ok ? emit ready() : emit failed(why); },
                                  Qt::QueuedConnection);
    }).detach();
}

void EngineLoader::whenReady(QObject* context, std::function<void()> f)
{
    if (engineIfReady()) {
        f();
        return;
    }
    connect(this, &EngineLoader::ready, context, std::move(f), Qt::SingleShotConnection);
}

void EngineLoader::wait() const
{
    LoadStatus& s = status();
    std::unique_lock<std::mutex> lock(s.mutex);
    s.changed.wait(lock, [&s] { return s.state != LoadState::Loading; });
}

Engine& engine()
{
    if (Engine* linked = linkedEngine())
        return *linked;
    LoadStatus& s = status();
    std::unique_lock<std::mutex> lock(s.mutex);
    s.changed.wait(lock, [&s] { return s.state != LoadState::Loading; });
    if (s.state == LoadState::Ready)
        return *s.engine;
    throw Error(s.state == LoadState::Failed ? s.problem.toStdString()
                                             : std::string("LibTorch's engine is not loaded (RecLab's workbench loads it at start)"));
}

} // namespace reclab
