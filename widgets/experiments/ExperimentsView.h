// The Runs view: every stored run in a sortable table with search and filters (experiment,
// model, dataset, tag, status, any param), status icons, and what people do with runs: rename
// and tag in place, notes, move to an experiment, delete with the run's files, clone (train
// again with the same config, seed, graph and split), open in the training chart, and compare.
// The window decides what clone, open and compare do; this view edits the database itself.
#pragma once

#include <QList>
#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace reclab {

class RunsFilterProxy;
class RunsTableModel;
struct RunRecord;

class ExperimentsView : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentsView(RunsTableModel* model, QWidget* parent = nullptr);

    QTableView* table() const { return table_; }
    RunsFilterProxy* proxy() const { return proxy_; }
    QLineEdit* searchEdit() const { return search_; }
    QLineEdit* paramEdit() const { return params_; }
    QComboBox* experimentCombo() const { return experiment_; }
    QComboBox* modelCombo() const { return modelFilter_; }
    QComboBox* datasetCombo() const { return dataset_; }
    QComboBox* tagCombo() const { return tag_; }
    QComboBox* statusCombo() const { return status_; }
    QLabel* countLabel() const { return count_; }
    QAction* compareAction() const { return compare_; }
    QAction* openAction() const { return open_; }
    QAction* inspectAction() const { return inspect_; }
    QAction* cloneAction() const { return clone_; }
    QAction* deleteAction() const { return delete_; }
    QAction* notesAction() const { return notes_; }
    QAction* moveAction() const { return move_; }

    // Ids of the selected runs, in table order; the first selected run (null if none).
    QList<qint64> selectedRunIds() const;
    const RunRecord* selectedRun() const;
    void selectRuns(const QList<qint64>& runIds);

    // Re-reads the database, keeping the selection and the filter combos' choices; the
    // asynchronous form reads in a worker thread (the model's refreshFailed tells of errors).
    bool refresh(QString* error = nullptr);
    void refreshAsync();
    // Without asking: deletes the runs with their files; false (error) on the first refusal.
    bool deleteRuns(const QList<qint64>& runIds, QString* error = nullptr);
    bool setNotes(qint64 runId, const QString& notes, QString* error = nullptr);
    bool moveRuns(const QList<qint64>& runIds, const QString& experiment, QString* error = nullptr);

signals:
    void selectionChanged();
    void compareRequested(const QList<qint64>& runIds);
    void openRequested(const QList<qint64>& runIds);
    void inspectRequested(qint64 runId);
    void cloneRequested(qint64 runId);
    void problem(const QString& message); // for the status bar

private:
    void applyFilter();
    void fillCombos();
    void updateActions();
    void askDelete();
    void askNotes();
    void askMove();
    void afterReset();

    QList<qint64> keptSelection_; // across a model reset

    RunsTableModel* runs_;
    RunsFilterProxy* proxy_;
    QTableView* table_;
    QLineEdit* search_;
    QLineEdit* params_;
    QComboBox* experiment_;
    QComboBox* modelFilter_;
    QComboBox* dataset_;
    QComboBox* tag_;
    QComboBox* status_;
    QLabel* count_;
    QAction* compare_;
    QAction* open_;
    QAction* inspect_;
    QAction* clone_;
    QAction* notes_;
    QAction* move_;
    QAction* delete_;
};

} // namespace reclab
