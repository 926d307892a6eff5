// Word vectors for the Text page's vocabulary: trained by fastText in a worker thread (progress,
// Cancel), then the words nearest to the one chosen in the words table, by cosine — the first
// look at what the words learned, before any model uses them.
#pragma once

#include <QWidget>

#include <atomic>
#include <memory>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTimer;
template <typename T> class QFutureWatcher;

namespace reclab {

struct ItemText;
struct WordVectors;

class WordVectorsBox : public QWidget {
    Q_OBJECT
public:
    explicit WordVectorsBox(QWidget* parent = nullptr);
    ~WordVectorsBox() override;

    // A new vocabulary: vectors of the old one are dropped (and training stopped).
    void setText(std::shared_ptr<const ItemText> text);
    void train();
    void cancel();
    // Lists the words nearest to word (nothing when there are no vectors or no such word).
    void showNearest(const QString& word);

    // For tests.
    QPushButton* trainButton() const { return train_; }
    QListWidget* nearestList() const { return nearest_; }
    QLabel* statusLabel() const { return status_; }
    bool isBusy() const; // training, or its result not shown yet
    std::shared_ptr<const WordVectors> vectors() const { return vectors_; }

signals:
    void vectorsReady();

private:
    std::shared_ptr<const ItemText> text_;
    std::shared_ptr<const WordVectors> vectors_;
    QPushButton* train_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    QListWidget* nearest_;
    QTimer* poll_;
    QString shownWord_;
    bool running_ = false; // from train() until its result is shown (the worker may be done before)
    std::shared_ptr<std::atomic<bool>> stop_;
    std::shared_ptr<std::atomic<int>> done_; // per mille, written by the worker
    QFutureWatcher<std::pair<std::shared_ptr<const WordVectors>, QString>>* watcher_;
};

} // namespace reclab
