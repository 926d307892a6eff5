// The word projector: a text run's word vectors and its items (each the mean of its words) in
// one PCA map, coloured by genre, with a word's nearest words listed and linked on the map. The
// map is computed in a worker.
#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;

namespace reclab {

class InspectionCache;
class ScatterPlot;
struct WordMap;

class WordsView : public QWidget {
    Q_OBJECT
public:
    explicit WordsView(std::shared_ptr<InspectionCache> cache, QWidget* parent = nullptr);
    ~WordsView() override;

    void setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs);
    // Maps the run's words (asynchronously: shown() or failed()).
    void showRun(qint64 runId);
    // Selects the word on the map and lists its nearest words (false: the run lacks it).
    bool showNear(const QString& word);

    QComboBox* runCombo() const { return runs_; }
    ScatterPlot* plot() const { return plot_; }
    QLineEdit* nearEdit() const { return near_; }
    QListWidget* nearList() const { return list_; }
    QLabel* statusLabel() const { return status_; }
    const WordMap* map() const { return map_.get(); }

signals:
    void shown();
    void failed(const QString& error);

private:
    std::shared_ptr<InspectionCache> cache_;
    QString databasePath_;
    std::shared_ptr<const WordMap> map_;
    int generation_ = 0;
    QComboBox* runs_;
    QLineEdit* near_;
    ScatterPlot* plot_;
    QListWidget* list_;
    QLabel* status_;
};

} // namespace reclab
