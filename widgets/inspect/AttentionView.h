// The attention view for DIN: a user's latest behaviours (oldest at the top) against candidate
// items, each cell the activation weight the attention unit gave the behaviour for the
// candidate (or its share of the candidate's total), titles and genres on both axes, the top
// contributors of each candidate outlined. Candidates default to the user's top
// recommendations. For SASRec and seq2seq runs the columns are what attends instead, one map at
// a time (Map): each behaviour under a self-attention head (layer, head), or each decoder step.
// Computed in a worker.
#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace reclab {

class InspectionCache;

// The heatmap itself; rows and columns carry labels, cells a value and a mark.
class AttentionHeatmap : public QWidget {
    Q_OBJECT
public:
    explicit AttentionHeatmap(QWidget* parent = nullptr);
    // values: rows x columns, row-major, the numbers shown; colours: the same shape, what the
    // cells' colour encodes on the diverging scale [-1, 1] (empty: values, scaled to their
    // largest magnitude); marked: true for top contributors; legend: what the colour means.
    void setData(const QStringList& rowLabels, const QStringList& columnLabels, const QVector<double>& values,
                 const QVector<bool>& marked, const QString& valueName, const QVector<double>& colours = {},
                 const QString& legend = {});
    const QString& legend() const { return legend_; }
    const QString& columnLabel(int column) const { return columnLabels_[column]; }
    int rows() const { return static_cast<int>(rowLabels_.size()); }
    int columns() const { return static_cast<int>(columnLabels_.size()); }
    double value(int row, int column) const { return values_[row * columns() + column]; }
    bool isMarked(int row, int column) const { return marked_[row * columns() + column]; }
    QRect cellRect(int row, int column) const;
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent*) override;
    bool event(QEvent* event) override;

private:
    QStringList rowLabels_, columnLabels_;
    QVector<double> values_, colours_;
    QVector<bool> marked_;
    QString valueName_, legend_;
    int labelWidth_ = 320, headerHeight_ = 150;
};

class AttentionView : public QWidget {
    Q_OBJECT
public:
    explicit AttentionView(std::shared_ptr<InspectionCache> cache, QWidget* parent = nullptr);

    void setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs);
    // Computes the map (asynchronously: shown() or failed() follows). itemIds empty: the
    // user's top recommendations.
    void showAttention(qint64 runId, const QString& userId, const QStringList& itemIds = {});
    void setShowShares(bool shares);
    bool isBusy() const { return busy_; }

    AttentionHeatmap* heatmap() const { return heatmap_; }
    QComboBox* runCombo() const { return run_; }
    QLineEdit* userEdit() const { return user_; }
    QLineEdit* itemsEdit() const { return items_; }
    QCheckBox* sharesCheck() const { return shares_; }
    // On (the default): each candidate's weights coloured from its lowest to its highest, so the
    // eye goes to the behaviours it attends to most; off: the diverging scale about zero.
    QCheckBox* relativeCheck() const { return relative_; }
    // A sequence model's maps (layer · head, decoder); hidden for DIN.
    QComboBox* mapCombo() const { return map_; }
    // Users where the planted structure shows (the sample's users whose favourite genre drifts).
    QComboBox* suggestedUsers() const { return suggested_; }
    QLabel* statusLabel() const { return status_; }
    // The last map, as the heatmap shows it: candidates' item ids and history items' ids.
    const QStringList& candidateIds() const { return candidateIds_; }
    const QStringList& historyIds() const { return historyIds_; }
    // The history rows' planted genre labels, for tests: each history row's genres.
    const QList<QStringList>& historyGenres() const { return historyGenres_; }
    const QList<QStringList>& candidateGenres() const { return candidateGenres_; }

signals:
    void shown();
    void failed(const QString& error);

private:
    void refill();
    void runChanged();

    std::shared_ptr<InspectionCache> cache_;
    QString databasePath_;
    int generation_ = 0;
    bool busy_ = false;
    AttentionHeatmap* heatmap_;
    QComboBox* run_;
    QLineEdit* user_;
    QLineEdit* items_;
    QSpinBox* top_;
    QCheckBox* shares_;
    QCheckBox* relative_;
    QComboBox* suggested_;
    QComboBox* map_;
    QPushButton* showButton_;
    QLabel* status_;
    // The last answer.
    QStringList historyLabels_, candidateLabels_, candidateIds_, historyIds_;
    QList<QStringList> historyGenres_, candidateGenres_;
    QVector<double> weights_, shareValues_;
    QList<QVector<double>> maps_; // a sequence model's maps, history × columns
    QList<QStringList> mapColumns_;
    void showMap(int k);
};

} // namespace reclab
