// The run setup's queue: several configurations, one Start. Entries run one after another
// (each with every core), in order; a run that fails or is stopped does not stop the queue.
// The window launches each entry and reports back (started, finished); lessons fill the same
// queue.
#pragma once

#include "CoreMetaTypes.h"

#include <QList>
#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;

namespace reclab {

class RunQueue : public QWidget {
    Q_OBJECT
public:
    enum class State { Waiting, Running, Done, Failed };
    struct Entry {
        TrainConfig config;
        QString label;
        State state = State::Waiting;
        qint64 runId = 0;
        QString status; // FINISHED, FAILED, STOPPED once done
    };

    explicit RunQueue(QWidget* parent = nullptr);

    void add(const TrainConfig& config, const QString& label);
    void clear(); // the waiting and finished entries (not a running one)
    // Starts the first waiting entry (nextReady), unless one is running.
    void start();
    bool isRunning() const { return running_ >= 0; }
    const QList<Entry>& entries() const { return entries_; }
    // The run ids of the entries that finished since the queue last started, in queue order.
    QList<qint64> finishedRuns() const;

    QListWidget* list() const { return list_; }
    QPushButton* addButton() const { return add_; }
    QPushButton* startButton() const { return start_; }

public slots:
    // The window's reports on the entry it launched.
    void entryStarted(qint64 runId);
    void entryFinished(qint64 runId, const QString& status);

signals:
    // The panel's current settings should be added (the window knows them).
    void addRequested();
    // Launch this entry now; the window answers with entryStarted/entryFinished.
    void launchRequested(const reclab::TrainConfig& config, const QString& label);
    // Every entry has run.
    void finished(const QList<qint64>& runIds);

private:
    void launchNext();
    void refresh();

    QList<Entry> entries_;
    int running_ = -1; // the running entry
    QList<qint64> batch_; // runs of this start
    QListWidget* list_;
    QPushButton* add_;
    QPushButton* remove_;
    QPushButton* start_;
    QLabel* status_;
};

} // namespace reclab
