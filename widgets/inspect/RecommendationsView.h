// Recommendations of two stored runs side by side for one user: rank, title, genres, score and
// "because" (the liked items nearest in the model's item space, co-raters for KNN, attention
// contributors for DIN), seen items left out; items both runs recommend are shaded. Each side
// is computed in a worker.
#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QWidget>

#include <array>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace reclab {

class InspectionCache;
class WordBars;

class RecommendationsView : public QWidget {
    Q_OBJECT
public:
    explicit RecommendationsView(std::shared_ptr<InspectionCache> cache, QWidget* parent = nullptr);

    void setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs);
    // Shows run A (and run B when > 0) for the user (asynchronously: shown() or failed()).
    void showRecommendations(qint64 runA, qint64 runB, const QString& userId, int k = 10);
    bool isBusy() const { return pending_ > 0; }

    QTableWidget* table(int side) const { return tables_[static_cast<size_t>(side)]; }
    QComboBox* runCombo(int side) const { return runs_[static_cast<size_t>(side)]; }
    QLineEdit* userEdit() const { return user_; }
    QLabel* statusLabel() const { return status_; }
    QLabel* timingLabel(int side) const { return timings_[static_cast<size_t>(side)]; }
    int commonCount() const { return common_; }
    // The words that moved run A's score of the selected item most (text models; empty otherwise).
    WordBars* wordBars() const { return bars_; }

signals:
    void shown();
    void failed(const QString& error);

private:
    void showSide(int side, qint64 runId, const QString& userId, int k, int generation);
    void markCommon();
    // Run A's selected row: its words' effects, computed in a worker.
    void explainWords(int row);

    std::shared_ptr<InspectionCache> cache_;
    QString databasePath_;
    int generation_ = 0;
    int pending_ = 0;
    int common_ = 0;
    std::array<QComboBox*, 2> runs_;
    std::array<QTableWidget*, 2> tables_;
    std::array<QLabel*, 2> timings_;
    QLineEdit* user_;
    QSpinBox* k_;
    QPushButton* showButton_;
    QLabel* status_;
    WordBars* bars_;
    qint64 shownRun_ = 0; // run A of the table shown
    QString shownUser_;
    int wordsGeneration_ = 0;
};

} // namespace reclab
