#include "training/RunQueue.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

namespace reclab {

RunQueue::RunQueue(QWidget* parent)
    : QWidget(parent), list_(new QListWidget), add_(new QPushButton(tr("Add to queue"))),
      remove_(new QPushButton(tr("Remove"))), start_(new QPushButton(tr("Start queue"))), status_(new QLabel)
{
    list_->setMaximumHeight(110);
    list_->setSelectionMode(QAbstractItemView::SingleSelection);
    list_->setToolTip(tr("Runs waiting to train, one after another, with one Start"));
    add_->setToolTip(tr("Queue a run with the run setup's current settings"));
    start_->setToolTip(tr("Train the queued runs one after another"));
    status_->setWordWrap(true);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add_);
    buttons->addWidget(remove_);
    buttons->addStretch(1);
    buttons->addWidget(start_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("<b>Queue</b>")));
    layout->addWidget(list_);
    layout->addLayout(buttons);
    layout->addWidget(status_);
    connect(add_, &QPushButton::clicked, this, &RunQueue::addRequested);
    connect(start_, &QPushButton::clicked, this, &RunQueue::start);
    connect(remove_, &QPushButton::clicked, this, [this] {
        const int row = list_->currentRow();
        if (row >= 0 && row < entries_.size() && row != running_) {
            entries_.removeAt(row);
            if (running_ > row)
                --running_;
            refresh();
        }
    });
    connect(list_, &QListWidget::currentRowChanged, this,
            [this](int row) { remove_->setEnabled(row >= 0 && row != running_); });
    refresh();
}

void RunQueue::add(const TrainConfig& config, const QString& label)
{
    entries_.append(Entry{config, label, State::Waiting, 0, QString()});
    refresh();
}

void RunQueue::clear()
{
    QList<Entry> kept;
    for (int k = 0; k < entries_.size(); ++k)
        if (k == running_)
            kept.append(entries_[k]);
    running_ = kept.isEmpty() ? -1 : 0;
    entries_ = kept;
    refresh();
}

void RunQueue::start()
{
    if (isRunning())
        return;
    batch_.clear();
    launchNext();
}

QList<qint64> RunQueue::finishedRuns() const { return batch_; }

void RunQueue::launchNext()
{
    running_ = -1;
    for (int k = 0; k < entries_.size(); ++k)
        if (entries_[k].state == State::Waiting) {
            running_ = k;
            break;
        }
    refresh();
    if (running_ < 0) {
        if (!batch_.isEmpty())
            emit finished(batch_);
        return;
    }
    entries_[running_].state = State::Running;
    refresh();
    emit launchRequested(entries_[running_].config, entries_[running_].label);
}

void RunQueue::entryStarted(qint64 runId)
{
    if (running_ >= 0 && entries_[running_].runId == 0) {
        entries_[running_].runId = runId;
        refresh();
    }
}

void RunQueue::entryFinished(qint64 runId, const QString& status)
{
    if (running_ < 0 || (entries_[running_].runId != 0 && entries_[running_].runId != runId))
        return; // a run started outside the queue
    Entry& e = entries_[running_];
    e.runId = runId;
    e.status = status;
    e.state = status == QLatin1String("FINISHED") ? State::Done : State::Failed;
    if (runId > 0)
        batch_.append(runId);
    launchNext();
}

void RunQueue::refresh()
{
    const int current = list_->currentRow();
    const QSignalBlocker block(list_);
    list_->clear();
    int waiting = 0;
    for (const Entry& e : std::as_const(entries_)) {
        QString text;
        switch (e.state) {
        case State::Waiting: text = tr("waiting · %1").arg(e.label); ++waiting; break;
        case State::Running: text = tr("training · %1").arg(e.label); break;
        case State::Done: text = tr("#%1 done · %2").arg(e.runId).arg(e.label); break;
        case State::Failed: text = tr("#%1 %2 · %3").arg(e.runId).arg(e.status.toLower(), e.label); break;
        }
        auto* item = new QListWidgetItem(text, list_);
        item->setToolTip(QString::fromStdString(e.config.toJson().dump()));
    }
    list_->setCurrentRow(std::min(current, static_cast<int>(list_->count()) - 1));
    start_->setEnabled(!isRunning() && waiting > 0);
    remove_->setEnabled(list_->currentRow() >= 0 && list_->currentRow() != running_);
    status_->setText(isRunning() ? tr("Training %1 of %2").arg(running_ + 1).arg(entries_.size())
                                 : waiting ? tr("%n run(s) waiting", nullptr, waiting) : QString());
}

} // namespace reclab
