// Lesson mode's two widgets: the chooser (the lessons, one click to start one) and the panel
// that walks through a lesson's steps, each saying in a sentence or two what to look at, with
// Back and Next (Next waits while a step's runs train, then the lesson moves on by itself).
#pragma once

#include <QDialog>
#include <QStringList>
#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;
class QProgressBar;

namespace reclab {

struct LessonSummary {
    QString title;
    QString summary;
};

class LessonChooser : public QDialog {
    Q_OBJECT
public:
    explicit LessonChooser(const QList<LessonSummary>& lessons, QWidget* parent = nullptr);
    QListWidget* list() const { return list_; }
    QPushButton* startButton() const { return start_; }
    int chosen() const;

signals:
    void lessonChosen(int index);

private:
    QListWidget* list_;
    QPushButton* start_;
};

class LessonPanel : public QWidget {
    Q_OBJECT
public:
    explicit LessonPanel(QWidget* parent = nullptr);

    // Shows step `step` of `steps` of the lesson.
    void showStep(const QString& lesson, int step, int steps, const QString& title, const QString& text);
    // While a step's runs train: what is happening, and Next held back.
    void setWaiting(const QString& status);
    void setReady(const QString& status);

    QLabel* titleLabel() const { return title_; }
    QLabel* textLabel() const { return text_; }
    QLabel* statusLabel() const { return status_; }
    QPushButton* nextButton() const { return next_; }
    QPushButton* backButton() const { return back_; }

signals:
    void nextClicked();
    void backClicked();
    void endClicked();

private:
    QLabel* lesson_;
    QLabel* title_;
    QLabel* text_;
    QLabel* status_;
    QProgressBar* busy_;
    QPushButton* back_;
    QPushButton* next_;
    QPushButton* end_;
    bool last_ = false;
};

} // namespace reclab
