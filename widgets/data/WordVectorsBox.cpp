#include "data/WordVectorsBox.h"

#include "WorkerPool.h"
#include "text/ItemText.h"
#include "text/WordTraining.h"
#include "text/WordVectors.h"
#include "util/Error.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace reclab {

WordVectorsBox::WordVectorsBox(QWidget* parent)
    : QWidget(parent), train_(new QPushButton(tr("Train word vectors"), this)), cancel_(new QPushButton(tr("Cancel"), this)),
      progress_(new QProgressBar(this)), status_(new QLabel(this)), nearest_(new QListWidget(this)), poll_(new QTimer(this)),
      stop_(std::make_shared<std::atomic<bool>>(false)), done_(std::make_shared<std::atomic<int>>(0)),
      watcher_(new QFutureWatcher<std::pair<std::shared_ptr<const WordVectors>, QString>>(this))
{
    joinPoolThreadsAtExit();
    train_->setToolTip(tr("fastText skip-gram with subwords on one line of words per item (one thread, seed 42)"));
    cancel_->setEnabled(false);
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    progress_->setVisible(false);
    status_->setWordWrap(true);
    nearest_->setSelectionMode(QAbstractItemView::NoSelection);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(train_);
    buttons->addWidget(cancel_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(buttons);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    layout->addWidget(nearest_, 1);
    connect(train_, &QPushButton::clicked, this, &WordVectorsBox::train);
    connect(cancel_, &QPushButton::clicked, this, &WordVectorsBox::cancel);
    poll_->setInterval(100);
    connect(poll_, &QTimer::timeout, this, [this] { progress_->setValue(done_->load()); });
    connect(watcher_, &QFutureWatcherBase::finished, this, [this] {
        running_ = false;
        poll_->stop();
        progress_->setVisible(false);
        cancel_->setEnabled(false);
        train_->setEnabled(text_ != nullptr && !text_->empty());
        const auto [vectors, message] = watcher_->result();
        status_->setText(message);
        if (vectors) { // a stopped training leaves the vectors there were
            vectors_ = vectors;
            showNearest(shownWord_);
            emit vectorsReady();
        }
    });
    if (!canTrainWordVectors()) {
        train_->setEnabled(false);
        status_->setText(tr("This build has no fastText library: word vectors cannot be trained here."));
    }
}

WordVectorsBox::~WordVectorsBox()
{
    *stop_ = true;
    watcher_->waitForFinished();
}

bool WordVectorsBox::isBusy() const { return running_; }

void WordVectorsBox::setText(std::shared_ptr<const ItemText> text)
{
    cancel();
    text_ = std::move(text);
    vectors_.reset();
    nearest_->clear();
    if (canTrainWordVectors()) {
        train_->setEnabled(text_ && !text_->empty() && !isBusy());
        status_->setText(text_ && !text_->empty() ? tr("Train vectors to see each word's nearest words.") : QString());
    }
}

void WordVectorsBox::train()
{
    if (!text_ || text_->empty() || isBusy() || !canTrainWordVectors())
        return;
    stop_ = std::make_shared<std::atomic<bool>>(false);
    done_->store(0);
    running_ = true;
    train_->setEnabled(false);
    cancel_->setEnabled(true);
    progress_->setValue(0);
    progress_->setVisible(true);
    status_->setText(tr("Training word vectors…"));
    poll_->start();
    watcher_->setFuture(QtConcurrent::run([text = text_, stop = stop_, done = done_]()
                                              -> std::pair<std::shared_ptr<const WordVectors>, QString> {
        QElapsedTimer clock;
        clock.start();
        try {
            WordTraining options;
            options.seed = 42;
            auto vectors = std::make_shared<const WordVectors>(trainWordVectors(*text, options, [&](double share, double) {
                done->store(static_cast<int>(share * 1000));
                return !stop->load();
            }));
            return {vectors, tr("%1 words: %2 (%3 s)")
                                 .arg(vectors->size())
                                 .arg(QString::fromStdString(vectors->source))
                                 .arg(clock.elapsed() / 1000.0, 0, 'f', 1)};
        } catch (const CancelledError&) {
            return {nullptr, tr("Training stopped; the vectors trained before (if any) are kept.")};
        } catch (const Error& e) {
            return {nullptr, QString::fromStdString(e.what())};
        }
    }));
}

void WordVectorsBox::cancel()
{
    if (isBusy())
        *stop_ = true;
}

void WordVectorsBox::showNearest(const QString& word)
{
    shownWord_ = word;
    nearest_->clear();
    if (!vectors_ || word.isEmpty())
        return;
    const auto near = nearestWords(*vectors_, word.toStdString(), 12);
    if (near.empty())
        return;
    nearest_->addItem(tr("Nearest to “%1”:").arg(word));
    for (const auto& [w, cosine] : near)
        nearest_->addItem(QStringLiteral("%1   %2").arg(QString::fromStdString(w)).arg(static_cast<double>(cosine), 0, 'f', 3));
}

} // namespace reclab
