// The embedding projector: a stored run's user or item table at any epoch snapshot, projected
// with PCA or t-SNE (in a worker, the map redrawn as it converges, with progress and Stop),
// coloured by a metadata column (genre, popularity, activity), with hover titles, search and
// highlight, the cosine nearest neighbours of a clicked point, export to the TensorBoard
// Projector's vectors.tsv / metadata.tsv plus coordinates.csv, and Play through the epochs
// (PCA, each frame rotated onto the previous one). For a next-item model, a user's path: the
// state after each of their latest 20 behaviours, drawn among the items it scores highest.
#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;
class QTreeWidget;

namespace reclab {

class InspectionCache;
class ScatterPlot;

class ProjectorView : public QWidget {
    Q_OBJECT
public:
    explicit ProjectorView(std::shared_ptr<InspectionCache> cache, QWidget* parent = nullptr);
    ~ProjectorView() override;

    // The runs offered (id, label); keeps the current one when it is still there.
    void setRuns(const QString& databasePath, const QList<QPair<qint64, QString>>& runs);
    // Loads the run's snapshots (asynchronously: shown() or failed() follows).
    void showRun(qint64 runId);
    // The run opened when the view is first shown with none picked (the newest with embeddings).
    void setDefaultRun(qint64 runId);
    void setEpochIndex(int index);      // among the run's snapshots, oldest first
    void setTable(const QString& name); // a table of the snapshot, e.g. "user_gmf"
    void project();                     // with the chosen method (t-SNE in a worker)
    void stop();
    void play(bool on);
    void search(const QString& text);
    void selectPoint(int index);
    // A next-item model's states for the user, as a path over the item map (asynchronously:
    // pathShown() or failed() follows); an empty id clears it.
    void showUserPath(const QString& userId);
    bool exportTo(const QString& folder, QString* error = nullptr) const;
    bool isBusy() const;
    qint64 runId() const { return runId_; }
    int epoch() const;
    QString method() const;

    ScatterPlot* plot() const { return plot_; }
    QComboBox* runCombo() const { return run_; }
    QComboBox* tableCombo() const { return table_; }
    QComboBox* methodCombo() const { return method_; }
    QComboBox* colourCombo() const { return colour_; }
    QSpinBox* perplexitySpin() const { return perplexity_; }
    QSpinBox* iterationsSpin() const { return iterations_; }
    QSlider* epochSlider() const { return epochSlider_; }
    QLineEdit* searchEdit() const { return search_; }
    QLineEdit* pathEdit() const { return pathUser_; }
    QTreeWidget* neighboursList() const { return neighbours_; }
    QLabel* statusLabel() const { return status_; }
    QProgressBar* progressBar() const { return progress_; }

protected:
    void showEvent(QShowEvent* event) override;

signals:
    void shown();     // a run's snapshot is on screen
    void projected(); // a projection finished (or was stopped)
    void pathShown(); // a user's path is drawn
    void failed(const QString& error);

private:
    struct State;
    void loadEpoch();
    void presentVectors();
    void recolour();
    void setBusy(const QString& message);
    void setIdle(const QString& message);
    void fail(const QString& error);
    void askExport();

    std::shared_ptr<InspectionCache> cache_;
    std::unique_ptr<State> state_;
    QString databasePath_;
    qint64 runId_ = 0;
    qint64 defaultRun_ = 0; // opened on first show when none is picked
    int generation_ = 0;
    ScatterPlot* plot_;
    QComboBox* run_;
    QComboBox* table_;
    QComboBox* method_;
    QComboBox* colour_;
    QSpinBox* perplexity_;
    QSpinBox* iterations_;
    QSlider* epochSlider_;
    QLabel* epochLabel_;
    QPushButton* play_;
    QPushButton* project_;
    QPushButton* stop_;
    QPushButton* export_;
    QLineEdit* search_;
    QLineEdit* pathUser_;
    int pathGeneration_ = 0;
    QTreeWidget* neighbours_;
    QLabel* status_;
    QProgressBar* progress_;
    QTimer* playTimer_;
};

} // namespace reclab
