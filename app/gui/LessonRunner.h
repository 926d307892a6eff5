// Lesson mode: short guided scenarios on the sample data, in the spirit of TensorFlow
// Playground's presets. A lesson is a list of steps; a step may queue runs (the run setup's
// queue trains them one after another) and then opens the view to look at, with a sentence or
// two on what to see. The runner loads the sample when another dataset is open, waits for a
// step's runs, and moves on by itself when they finish.
#pragma once

#include "runs/TrainConfig.h"

#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <vector>

namespace reclab {

class LessonPanel;
class MainWindow;

class LessonRunner : public QObject {
    Q_OBJECT
public:
    struct Step {
        QString title;
        QString text; // what to look at (rich text)
        std::function<void(LessonRunner&)> enter;
        bool trainsRuns = false; // Next waits for the queued runs
    };
    struct Lesson {
        QString title;
        QString summary;
        std::vector<Step> steps;
    };

    LessonRunner(MainWindow* window, LessonPanel* panel);

    static const std::vector<Lesson>& lessons();
    void start(int lesson);
    void end();
    bool isActive() const { return lesson_ >= 0; }
    int lessonIndex() const { return lesson_; }
    int stepIndex() const { return step_; }
    // The runs this lesson trained, in the order it queued them.
    const QList<qint64>& runs() const { return runs_; }

    // What steps do.
    void train(const QList<QPair<QString, TrainConfig>>& runs);
    void compareAll();
    void showTraining(const QString& metric, int xAxis);
    void showAttention(int run);
    void showEmbeddings(int run, bool play);

signals:
    void stepShown(int lesson, int step);
    // A step's runs finished; the comparison (or view) it opens follows.
    void runsTrained(const QList<qint64>& runIds);
    void ended();

private:
    void go(int step);

    MainWindow* window_;
    LessonPanel* panel_;
    int lesson_ = -1;
    int step_ = -1;
    QList<qint64> runs_;
    bool waiting_ = false;
};

} // namespace reclab
