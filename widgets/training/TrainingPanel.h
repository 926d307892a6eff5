// The run setup: the dataset in use, a model of the registry or the editor's graph, and every
// hyperparameter of a run (optimizer, learning rate, weight decay, momentum, batch size,
// epochs, negatives, embedding size, the history's length and the next-item loss (with its label
// smoothing) for models that read the behaviour sequence, seed, device, threads, protocol, early
// stopping). Model changes load the model's defaults; the protocol and validation metric lists
// follow the task.
#pragma once

#include "runs/ModelTraits.h"
#include "runs/TrainConfig.h"

#include <QWidget>

#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace reclab {

class GraphDocument;
struct ModelInfo;

class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(GraphDocument* graphs, QWidget* parent = nullptr);

    void setDatasetText(const QString& html, const QString& toolTip);
    // The run described; throws ConfigError naming the field when a value is refused.
    TrainConfig config() const;
    // "NeuMF", or "Graph <name>" for the editor's graph.
    QString modelText() const;
    bool isGraphModel() const;
    void selectModel(const QString& name);
    // Shows a configuration (a stored run's, the last session's, a lesson's): its model (not a
    // custom graph: the editor holds that), values, protocol, device and early stopping.
    void setConfig(const TrainConfig& config);
    // The devices to offer ("cpu", "cuda:0", ...); the one a config asked for stays chosen.
    void setDevices(const std::vector<std::string>& devices);
    bool isTrainable() const;
    bool isSampled() const; // a model fitted by Gibbs sweeps (no optimizer)

    QComboBox* modelCombo() const { return model_; }
    QComboBox* protocolCombo() const { return protocol_; }
    QComboBox* optimizerCombo() const { return optimizer_; }
    QComboBox* deviceCombo() const { return device_; }
    QComboBox* validationMetricCombo() const { return validationMetric_; }
    // Rows that repeat a (user, item) pair: "" (refuse, for ranking), "latest" or "keep".
    QComboBox* duplicatesCombo() const { return duplicates_; }
    QCheckBox* earlyStoppingCheck() const { return earlyStopping_; }
    QCheckBox* pretrainCheck() const { return pretrain_; }
    QSpinBox* epochsSpin() const { return epochs_; }
    QComboBox* lossCombo() const { return loss_; }        // next-item models: ce, bce, bpr
    QDoubleSpinBox* smoothingSpin() const { return smoothing_; } // next-item models with ce
    QSpinBox* maxLengthSpin() const { return maxLength_; } // models that read the history
    QSpinBox* batchSpin() const { return batch_; }
    QSpinBox* negativesSpin() const { return negatives_; }
    QSpinBox* factorsSpin() const { return factors_; }
    QSpinBox* burnInSpin() const { return burnIn_; } // models fitted by Gibbs sweeps
    QSpinBox* patienceSpin() const { return patience_; }
    QSpinBox* seedSpin() const { return seed_; }
    QSpinBox* threadsSpin() const { return threads_; }
    QSpinBox* processesSpin() const { return processes_; }
    QDoubleSpinBox* learningRateSpin() const { return learningRate_; }
    QDoubleSpinBox* weightDecaySpin() const { return weightDecay_; }
    QComboBox* scheduleCombo() const { return schedule_; }
    QDoubleSpinBox* momentumSpin() const { return momentum_; }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    TaskKind currentTask() const;
    ModelAbilities currentAbilities() const; // nothing when the model or graph cannot be analysed
    // Keeps the wrapped description's height for its current width: a scroll area sizes the form
    // before its scroll bar narrows it, and the last lines would be clipped.
    void fitProtocolText();
    const ModelInfo* currentDefaults() const;
    void applyModelDefaults();
    void showValues(const TrainConfig& values);
    void fillProtocols();
    void fillValidationMetrics();
    void describeProtocol();
    void updateEnabled();

    GraphDocument* graphs_;
    QLabel* dataset_;
    QComboBox* model_;
    QSpinBox* epochs_;
    QComboBox* loss_;
    QDoubleSpinBox* smoothing_;
    QSpinBox* maxLength_;
    QCheckBox* pretrain_;
    QComboBox* optimizer_;
    QDoubleSpinBox* learningRate_;
    QComboBox* schedule_;
    QDoubleSpinBox* weightDecay_;
    QDoubleSpinBox* momentum_;
    QSpinBox* batch_;
    QSpinBox* negatives_;
    QSpinBox* factors_;
    QSpinBox* burnIn_;
    QSpinBox* seed_;
    QComboBox* device_;
    QString wantedDevice_ = QStringLiteral("cpu");
    QSpinBox* threads_;
    QSpinBox* processes_;
    QComboBox* protocol_; // data: "loo", "full", "holdout", "din" or "folds:K"
    QComboBox* duplicates_;
    QLabel* protocolText_;
    QCheckBox* earlyStopping_;
    QComboBox* validationMetric_;
    QSpinBox* patience_;
    TaskKind protocolTask_ = TaskKind::ImplicitRanking; // the task the lists were filled for
};

} // namespace reclab
