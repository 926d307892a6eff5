// The process's engine (Engine.h): linked in, or loaded from its library in a thread of its own
// so that the window paints and answers while LibTorch's libraries load.
#pragma once

#include <QObject>
#include <QString>

#include <functional>

namespace reclab {

class Engine;

class EngineLoader : public QObject {
    Q_OBJECT
public:
    // The one loader of the process (lives in the GUI thread).
    static EngineLoader& instance();

    // The engine when it is available: linked into this program, or loaded; null before.
    Engine* engineIfReady() const;
    // Starts loading the engine library (a path) unless the engine is linked in or loading has
    // started; ready() or failed() follow in the GUI thread.
    void startLoading(const QString& libraryPath);
    // Calls f in context's thread once the engine is available: at once when it is, never when
    // loading fails (failed() says why) or context is gone.
    void whenReady(QObject* context, std::function<void()> f);
    // True from startLoading() until the library is loaded or has failed to.
    bool isLoading() const;
    // Why loading failed; empty when it did not (yet).
    QString problem() const;
    // Blocks until loading has ended (the process's exit waits here rather than unload under it).
    void wait() const;

signals:
    void ready();
    void failed(const QString& message);

private:
    EngineLoader() = default;
};

// For worker threads: the engine, waiting for it while it loads; throws Error when it is not
// linked in, not being loaded, or failed to load.
Engine& engine();

} // namespace reclab
