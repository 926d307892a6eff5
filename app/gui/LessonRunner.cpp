#include "LessonRunner.h"

#include "MainWindow.h"
#include "data/SampleGenerator.h"
#include "experiments/CompareView.h"
#include "experiments/RunsTableModel.h"
#include "inspect/InspectPage.h"
#include "lessons/LessonPanel.h"
#include "training/RunQueue.h"
#include "training/TrainingDashboard.h"
#include "zoo/ModelRegistry.h"

#include <QComboBox>
#include <QTabWidget>
#include <QTimer>

namespace reclab {

namespace {

// A lesson's run: the model's defaults on the given protocol, shortened where the defaults
// train longer than a class can wait (the sample is small).
TrainConfig lessonConfig(const std::string& model, const std::string& protocol, int epochs)
{
    TrainConfig c = defaultConfigFor(model);
    c.protocol = protocol;
    c.epochs = epochs;
    c.pretrain = false;
    return c;
}

// A sample user whose planted favourite genre changes over the timeline, with a long history:
// there DIN's attention has something to find.
QString driftingUser()
{
    const auto planted = plantedInterests();
    for (size_t u = 0; u < planted.size(); ++u)
        if (!planted[u].endGenres.empty() && planted[u].startGenres != planted[u].endGenres)
            return QString::number(u + 1); // the sample's user ids count from 1
    return QStringLiteral("1");
}

std::vector<LessonRunner::Lesson> buildLessons()
{
    using Step = LessonRunner::Step;
    std::vector<LessonRunner::Lesson> all;

    all.push_back(
        {LessonRunner::tr("CF vs NCF vs DIN"),
         LessonRunner::tr("Biased MF, NeuMF and DIN trained on one split and compared on the metrics they share; then "
                          "where DIN's attention looks and what NeuMF's item embeddings learned."),
         {Step{LessonRunner::tr("Three families, one split"),
               LessonRunner::tr(
                   "<p>Three models train one after another on the <b>common protocol</b>: each user's latest "
                   "interaction is held out and ranked against the same 99 sampled items, so all three answer the "
                   "same question.</p><p><b>Biased MF</b> (collaborative filtering) predicts ratings from a vector "
                   "per user and item; <b>NeuMF</b> (neural CF) learns to score what a user picked above what they "
                   "did not; <b>DIN</b> weighs each past behaviour by its relevance to the candidate. Watch the "
                   "loss curves fall in the Training tab.</p>"),
               [](LessonRunner& r) {
                   r.train({{QStringLiteral("Biased MF"), lessonConfig("mf", "common", 20)},
                            {QStringLiteral("NeuMF"), lessonConfig("neumf", "common", 4)},
                            {QStringLiteral("DIN"), lessonConfig("din", "common", 2)}});
               },
               true},
          Step{LessonRunner::tr("Compare on shared metrics"),
               LessonRunner::tr(
                   "<p>The <b>Models × metrics</b> table has a value in every shared column: HR@10, NDCG@10 and "
                   "MRR@10 against the 99 sampled items, the <code>full_</code> ones against every unseen item, AUC "
                   "and GAUC. The best of each column is marked.</p><p>MF ranks by predicted <i>rating</i>, which "
                   "says how much a user would like an item, not whether they would pick it: its HR@10 is far "
                   "lower. The <b>Significance</b> tab's Friedman test says whether the differences hold user by "
                   "user, not only on average.</p>"),
               [](LessonRunner& r) { r.compareAll(); }},
          Step{LessonRunner::tr("Where DIN looks"),
               LessonRunner::tr(
                   "<p>Each column is a candidate item, each row one of the user's past behaviours (oldest at the "
                   "top), both with their genres. The number is the weight DIN gives that behaviour when scoring "
                   "that candidate; the colour runs, within each candidate, from its least attended behaviour "
                   "(white) to its most attended (dark red). Outlined cells are each candidate's top "
                   "contributors.</p><p>The sample plants genre interests that drift over each user's timeline: "
                   "look for candidates whose weight comes from recent behaviours of their own genre.</p>"),
               [](LessonRunner& r) { r.showAttention(2); }},
          Step{LessonRunner::tr("What NeuMF's embeddings learned"),
               LessonRunner::tr(
                   "<p>Each point is an item, placed by t-SNE from NeuMF's item embeddings and coloured by genre. "
                   "Nothing told the model about genres, yet items of one genre gather: it found them in who chose "
                   "what.</p><p>Click a point to list its nearest neighbours.</p>"),
               [](LessonRunner& r) { r.showEmbeddings(1, false); }}}});

    all.push_back({LessonRunner::tr("What attention finds"),
                   LessonRunner::tr("DIN's weights over one user's history, on a user whose planted interest drifts "
                                    "from one genre to another."),
                   {Step{LessonRunner::tr("Train DIN"),
                         LessonRunner::tr("<p>DIN scores a candidate item from the user's behaviour history, "
                                          "weighting each behaviour by an attention unit that compares it with the "
                                          "candidate. It trains for two epochs on the sample's behaviour split.</p>"),
                         [](LessonRunner& r) { r.train({{QStringLiteral("DIN"), lessonConfig("din", "din", 2)}}); },
                         true},
                    Step{LessonRunner::tr("Read the heatmap"),
                         LessonRunner::tr(
                             "<p>Rows: the user's behaviours, oldest first; columns: candidates. Genres are on both "
                             "axes. The weights are not a softmax and can all be negative, so each candidate's "
                             "column is coloured from its least attended behaviour (white) to its most attended "
                             "(dark red); untick <b>Relative colour</b> for the raw scale about zero, tick "
                             "<b>Shares</b> for each weight as a share of its candidate's total.</p><p>This user's favourite genre changes over time: candidates of "
                             "the new genre take their weight from the recent rows.</p>"),
                         [](LessonRunner& r) { r.showAttention(0); }}}});

    all.push_back({LessonRunner::tr("Embeddings learn genres"),
                   LessonRunner::tr("NeuMF's item embeddings after each epoch, projected by t-SNE and coloured by "
                                    "genre, played from the first epoch to the last."),
                   {Step{LessonRunner::tr("Train NeuMF"),
                         LessonRunner::tr("<p>NeuMF trains for eight epochs; after each, its embedding tables are "
                                          "kept so the projector can show how they changed.</p>"),
                         [](LessonRunner& r) {
                             r.train({{QStringLiteral("NeuMF"), lessonConfig("neumf", "loo", 8)}});
                         },
                         true},
                    Step{LessonRunner::tr("Watch genres form"),
                         LessonRunner::tr("<p>The map plays through the epochs. After the first, items are still "
                                          "mixed; genre by genre they gather as the model learns who chooses "
                                          "what. Drag the epoch slider to go back.</p>"),
                         [](LessonRunner& r) { r.showEmbeddings(0, true); }}}});

    TrainConfig overfit = lessonConfig("mf", "holdout", 40);
    overfit.l2 = 0.0;
    overfit.learningRate = 5e-3;
    overfit.factors = 128;
    TrainConfig stopped = overfit;
    stopped.validationMetric = "rmse";
    stopped.patience = 3;
    all.push_back(
        {LessonRunner::tr("Overfitting and early stopping"),
         LessonRunner::tr("A large MF without regularisation, trained too long, beside the same model stopped early on "
                          "a validation part."),
         {Step{LessonRunner::tr("Train too long, and stop in time"),
               LessonRunner::tr("<p>Two runs of the same big matrix factorisation with no weight penalty: one for 40 "
                                "epochs, one that holds out a validation part and stops after 3 epochs without "
                                "improvement, keeping its best epoch.</p>"),
               [overfit, stopped](LessonRunner& r) {
                   r.train({{QStringLiteral("MF, 40 epochs"), overfit}, {QStringLiteral("MF, early stopping"), stopped}});
               },
               true},
          Step{LessonRunner::tr("The test error turns"),
               LessonRunner::tr("<p>The upper chart: the training loss keeps falling. The lower chart: test RMSE "
                                "falls for a few epochs, then rises while the model memorises the training ratings. "
                                "The early-stopped run ends near the lowest point.</p>"),
               [](LessonRunner& r) { r.showTraining(QStringLiteral("rmse"), 1); }},
          Step{LessonRunner::tr("Compare the two"),
               LessonRunner::tr("<p>Same model, same data: the run that stopped early has the lower test RMSE, in a "
                                "fraction of the epochs. The banner notes that the two splits differ: the early-stopped "
                                "run set a validation part aside to watch.</p>"),
               [](LessonRunner& r) { r.compareAll(); }}}});
    return all;
}

} // namespace

const std::vector<LessonRunner::Lesson>& LessonRunner::lessons()
{
    static const std::vector<Lesson> all = buildLessons();
    return all;
}

LessonRunner::LessonRunner(MainWindow* window, LessonPanel* panel) : QObject(window), window_(window), panel_(panel)
{
    connect(panel_, &LessonPanel::nextClicked, this, [this] {
        if (step_ + 1 < static_cast<int>(lessons()[static_cast<size_t>(lesson_)].steps.size()))
            go(step_ + 1);
        else
            end();
    });
    connect(panel_, &LessonPanel::backClicked, this, [this] {
        if (step_ > 0)
            go(step_ - 1);
    });
    connect(panel_, &LessonPanel::endClicked, this, &LessonRunner::end);
    connect(window_->runQueue(), &RunQueue::finished, this, [this](const QList<qint64>& ids) {
        if (!waiting_)
            return;
        waiting_ = false;
        runs_ = ids;
        emit runsTrained(ids);
        panel_->setReady(tr("Trained: %n run(s).", nullptr, static_cast<int>(ids.size())));
        go(step_ + 1); // on to what the runs show
    });
}

void LessonRunner::start(int lesson)
{
    if (lesson < 0 || lesson >= static_cast<int>(lessons().size()))
        return;
    lesson_ = lesson;
    runs_.clear();
    waiting_ = false;
    // Lessons are written for the sample: load it first when other data is open.
    if (!window_->dataset() || window_->dataset()->name != "sample") {
        connect(window_, &MainWindow::datasetLoaded, this, [this] { go(0); }, Qt::SingleShotConnection);
        window_->loadDataset(QStringLiteral("sample"));
        return;
    }
    go(0);
}

void LessonRunner::end()
{
    lesson_ = -1;
    step_ = -1;
    waiting_ = false;
    emit ended();
}

void LessonRunner::go(int step)
{
    const Lesson& lesson = lessons()[static_cast<size_t>(lesson_)];
    if (step >= static_cast<int>(lesson.steps.size()))
        return;
    step_ = step;
    const Step& s = lesson.steps[static_cast<size_t>(step)];
    panel_->showStep(lesson.title, step, static_cast<int>(lesson.steps.size()), s.title, s.text);
    // Going back to a training step shows it again without training anew.
    if (!(s.trainsRuns && !runs_.isEmpty()))
        s.enter(*this);
    emit stepShown(lesson_, step_);
}

void LessonRunner::train(const QList<QPair<QString, TrainConfig>>& runs)
{
    RunQueue* queue = window_->runQueue();
    for (const auto& [label, config] : runs)
        queue->add(config, label);
    waiting_ = true;
    panel_->setWaiting(tr("Training %n run(s) one after another…", nullptr, static_cast<int>(runs.size())));
    window_->centralTabs()->setCurrentWidget(window_->dashboard());
    queue->start();
}

void LessonRunner::compareAll()
{
    if (runs_.size() >= 2)
        window_->compareRuns(runs_);
}

void LessonRunner::showTraining(const QString& metric, int xAxis)
{
    TrainingDashboard* d = window_->dashboard();
    window_->centralTabs()->setCurrentWidget(d);
    d->xAxisCombo()->setCurrentIndex(xAxis);
    const int k = d->metricCombo()->findText(metric);
    if (k >= 0) {
        d->metricCombo()->setCurrentIndex(k);
        emit d->metricCombo()->activated(k);
    }
}

void LessonRunner::showAttention(int run)
{
    if (run >= runs_.size())
        return;
    window_->runsModel()->refresh(); // the views list the lesson's runs before one is opened
    window_->withInspectPage([id = runs_[run], user = driftingUser()](InspectPage& page) { page.showAttention(id, user); });
}

void LessonRunner::showEmbeddings(int run, bool play)
{
    if (run >= runs_.size())
        return;
    window_->runsModel()->refresh();
    window_->withInspectPage([id = runs_[run], play](InspectPage& page) { page.showEmbeddings(id, play); });
}

} // namespace reclab
