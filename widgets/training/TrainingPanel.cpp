#include "training/TrainingPanel.h"

#include "runs/Metrics.h"
#include "runs/Protocols.h"
#include "editor/GraphDocument.h"
#include "zoo/ModelRegistry.h"
#include "runs/TrainFields.h"
#include "dist/World.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QThread>

#include <algorithm>
#include <limits>

namespace reclab {

namespace {

const QString kGraphModel = QString::fromLatin1(kCustomGraphModel);

// The template model whose training defaults a graph of this task starts from.
const char* defaultsModelFor(TaskKind task)
{
    switch (task) {
    case TaskKind::RatingPrediction: return "mf";
    case TaskKind::ClickThrough: return "din";
    default: return "neumf";
    }
}

QDoubleSpinBox* rateSpin(int decimals, double low, double high, double step)
{
    auto* s = new QDoubleSpinBox;
    s->setDecimals(decimals);
    s->setRange(low, high);
    s->setSingleStep(step);
    s->setKeyboardTracking(false); // a typed value counts when editing ends
    return s;
}

// A widget's range and tooltip from the training options table (runs/TrainFields.h).
void fromField(QSpinBox* box, const char* option)
{
    const TrainField& f = *trainField(option);
    box->setRange(static_cast<int>(f.min), static_cast<int>(std::min<int64_t>(f.max, std::numeric_limits<int>::max())));
    box->setToolTip(QString::fromUtf8(f.help));
}

void fromField(QWidget* widget, const char* option) { widget->setToolTip(QString::fromUtf8(trainField(option)->help)); }

} // namespace

TrainingPanel::TrainingPanel(GraphDocument* graphs, QWidget* parent)
    : QWidget(parent), graphs_(graphs), dataset_(new QLabel(tr("loading…"))), model_(new QComboBox),
      epochs_(new QSpinBox), loss_(new QComboBox), smoothing_(rateSpin(2, 0.0, 0.99, 0.05)), maxLength_(new QSpinBox), pretrain_(new QCheckBox(tr("Pre-train GMF and MLP first"))), optimizer_(new QComboBox),
      learningRate_(rateSpin(5, 0.00001, 10.0, 0.0005)), schedule_(new QComboBox), weightDecay_(rateSpin(6, 0.0, 1.0, 0.0001)),
      momentum_(rateSpin(3, 0.0, 0.999, 0.05)), batch_(new QSpinBox), negatives_(new QSpinBox), factors_(new QSpinBox), burnIn_(new QSpinBox),
      seed_(new QSpinBox), device_(new QComboBox), threads_(new QSpinBox), processes_(new QSpinBox), protocol_(new QComboBox),
      duplicates_(new QComboBox), protocolText_(new QLabel), earlyStopping_(new QCheckBox(tr("Early stopping on a validation part"))),
      validationMetric_(new QComboBox), patience_(new QSpinBox)
{
    auto* form = new QFormLayout(this);
    // Long entries ("Leave-one-out, 99 negatives") must not widen the dock past its width.
    for (QComboBox* combo : {model_, optimizer_, device_, protocol_, duplicates_, validationMetric_}) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(10);
    }
    dataset_->setWordWrap(true);
    dataset_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Dataset"), dataset_);

    for (const auto& m : modelRegistry()) {
        model_->addItem(QString::fromStdString(m.displayName), QString::fromStdString(m.name));
        model_->setItemData(model_->count() - 1, QString::fromStdString(m.summary), Qt::ToolTipRole);
    }
    model_->addItem(tr("Model graph (editor)"), kGraphModel);
    model_->setItemData(model_->count() - 1, tr("The graph in the Model graph tab; its output decides the task"),
                        Qt::ToolTipRole);
    form->addRow(tr("Model"), model_);
    fromField(epochs_, "epochs");
    form->addRow(tr("Epochs"), epochs_);
    pretrain_->setToolTip(tr("NeuMF: train a GMF and an MLP for the same epochs, start NeuMF from them "
                             "(He et al. 2017, 3.4.1) and continue with SGD"));
    form->addRow(QString(), pretrain_);

    optimizer_->addItem(QStringLiteral("Adam"), QStringLiteral("adam"));
    optimizer_->addItem(QStringLiteral("SGD"), QStringLiteral("sgd"));
    optimizer_->addItem(QStringLiteral("Adagrad"), QStringLiteral("adagrad"));
    fromField(optimizer_, "optimizer");
    fromField(learningRate_, "lr");
    fromField(weightDecay_, "weight-decay");
    fromField(momentum_, "momentum");
    form->addRow(tr("Optimizer"), optimizer_);
    form->addRow(tr("Learning rate"), learningRate_);
    schedule_->addItem(tr("Constant"), QStringLiteral("constant"));
    schedule_->addItem(tr("Cosine to zero"), QStringLiteral("cosine"));
    fromField(schedule_, "lr-schedule");
    form->addRow(tr("Schedule"), schedule_);
    form->addRow(tr("Weight decay"), weightDecay_);
    form->addRow(tr("Momentum"), momentum_);
    fromField(batch_, "batch");
    form->addRow(tr("Batch size"), batch_);
    fromField(negatives_, "negatives");
    negatives_->setToolTip(tr("Sampled unconsumed items per training interaction"));
    form->addRow(tr("Negatives"), negatives_);
    fromField(factors_, "factors");
    factors_->setToolTip(tr("Embedding size: GMF/MF latent factors, DIN's size per field"));
    form->addRow(tr("Embedding size"), factors_);
    fromField(burnIn_, "burn-in");
    form->addRow(tr("Burn-in sweeps"), burnIn_);
    fromField(maxLength_, "history");
    form->addRow(tr("Max length"), maxLength_);
    loss_->addItem(tr("Cross-entropy over all items"), QStringLiteral("ce"));
    loss_->addItem(tr("BCE against sampled negatives"), QStringLiteral("bce"));
    loss_->addItem(tr("BPR against a sampled item"), QStringLiteral("bpr"));
    loss_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    fromField(loss_, "loss");
    form->addRow(tr("Next-item loss"), loss_);
    fromField(smoothing_, "label-smoothing");
    form->addRow(tr("Label smoothing"), smoothing_);
    seed_->setRange(0, 1 << 30);
    form->addRow(tr("Seed"), seed_);
    setDevices({"cpu"}); // the GPUs are known once LibTorch is loaded
    device_->setToolTip(tr("CPU, and every CUDA GPU this LibTorch sees"));
    form->addRow(tr("Device"), device_);
    threads_->setRange(0, QThread::idealThreadCount() * 4);
    threads_->setSpecialValueText(tr("default"));
    form->addRow(tr("Threads"), threads_);
    fromField(processes_, "processes");
    processes_->setMaximum(std::max(4, QThread::idealThreadCount() * 2));
    if (!distributedTrainingBuilt()) {
        processes_->setEnabled(false);
        processes_->setToolTip(tr("This build cannot train across processes: LibTorch's c10d with Gloo was not found "
                                  "when it was built"));
    }
    form->addRow(tr("Processes"), processes_);
    form->addRow(tr("Protocol"), protocol_);
    protocolText_->setWordWrap(true);
    protocolText_->setObjectName(QStringLiteral("protocolText"));
    protocolText_->setStyleSheet(QStringLiteral("color: palette(mid);"));
    form->addRow(protocolText_);
    protocolText_->installEventFilter(this);
    duplicates_->addItem(tr("Refuse data that repeats pairs"), QString());
    duplicates_->addItem(tr("Keep each pair's latest row"), QStringLiteral("latest"));
    duplicates_->addItem(tr("Keep every row"), QStringLiteral("keep"));
    duplicates_->setToolTip(tr("Rows that repeat a (user, item) pair. Leave-one-out would hold out one copy and train on "
                               "the other, so the ranking protocols refuse such data unless told what to do with them "
                               "(reclab-cli train --dedup or --keep-duplicates)"));
    form->addRow(tr("Repeated pairs"), duplicates_);
    earlyStopping_->setToolTip(tr("Hold out a validation part of the training data, keep the best epoch's weights, "
                                  "stop after `patience` epochs without improvement and test the best epoch once"));
    form->addRow(QString(), earlyStopping_);
    form->addRow(tr("Watch"), validationMetric_);
    fromField(patience_, "patience");
    patience_->setSpecialValueText(tr("never stop early"));
    patience_->setValue(3);
    form->addRow(tr("Patience"), patience_);

    connect(model_, &QComboBox::currentIndexChanged, this, [this] {
        applyModelDefaults();
        fillProtocols();
    });
    connect(protocol_, &QComboBox::currentIndexChanged, this, [this] {
        describeProtocol();
        fillValidationMetrics();
    });
    connect(optimizer_, &QComboBox::currentIndexChanged, this, &TrainingPanel::updateEnabled);
    connect(loss_, &QComboBox::currentIndexChanged, this, &TrainingPanel::updateEnabled);
    connect(earlyStopping_, &QCheckBox::toggled, this, &TrainingPanel::updateEnabled);
    connect(graphs_, &GraphDocument::changed, this, [this] {
        if (!isGraphModel())
            return;
        const bool canPretrain = graphs_->graph().pretrain.has_value();
        if (currentTask() == protocolTask_ && canPretrain == pretrain_->isEnabled())
            return;
        applyModelDefaults();
        fillProtocols();
    });
    applyModelDefaults();
    fillProtocols();
}

void TrainingPanel::setDatasetText(const QString& html, const QString& toolTip)
{
    dataset_->setText(html);
    dataset_->setToolTip(toolTip);
}

bool TrainingPanel::isGraphModel() const { return model_->currentData().toString() == kGraphModel; }

void TrainingPanel::selectModel(const QString& name) { model_->setCurrentIndex(model_->findData(name)); }

bool TrainingPanel::isTrainable() const
{
    const ModelInfo* info = currentDefaults();
    return isGraphModel() || (info && info->trainable);
}

bool TrainingPanel::isSampled() const
{
    const ModelInfo* info = isGraphModel() ? nullptr : currentDefaults();
    return info && info->sampled;
}

QString TrainingPanel::modelText() const
{
    return isGraphModel() ? tr("Graph %1").arg(QString::fromStdString(graphs_->graph().name)) : model_->currentText();
}

TaskKind TrainingPanel::currentTask() const
{
    if (isGraphModel()) {
        // A graph being edited keeps the last task it had until it is valid again.
        const GraphAnalysis& a = graphs_->analysis();
        return a.ok() ? a.task : protocolTask_;
    }
    const ModelInfo* info = findModel(model_->currentData().toString().toStdString());
    return info ? info->task : TaskKind::ImplicitRanking;
}

ModelAbilities TrainingPanel::currentAbilities() const
{
    if (isGraphModel()) {
        const GraphAnalysis& a = graphs_->analysis();
        ModelAbilities out;
        if (a.ok()) {
            out.readsHistory = a.usesHistory;
            out.nextItems = a.nextItems;
        }
        return out;
    }
    const ModelInfo* info = currentDefaults();
    try {
        return info ? abilitiesOf(info->defaults) : ModelAbilities{};
    } catch (const std::exception&) { // a template that does not analyse: nothing to offer
        return {};
    }
}

const ModelInfo* TrainingPanel::currentDefaults() const
{
    const QString name = model_->currentData().toString();
    return findModel(name == kGraphModel ? defaultsModelFor(currentTask()) : name.toStdString());
}

void TrainingPanel::applyModelDefaults()
{
    if (const ModelInfo* info = currentDefaults())
        showValues(info->defaults);
}

void TrainingPanel::showValues(const TrainConfig& d)
{
    epochs_->setValue(d.epochs);
    batch_->setValue(d.batchSize);
    learningRate_->setValue(d.learningRate);
    optimizer_->setCurrentIndex(std::max(0, optimizer_->findData(QString::fromStdString(d.optimizer))));
    schedule_->setCurrentIndex(std::max(0, schedule_->findData(QString::fromStdString(d.lrSchedule))));
    weightDecay_->setValue(d.weightDecay);
    momentum_->setValue(d.momentum);
    negatives_->setValue(d.negatives);
    factors_->setValue(d.factors);
    burnIn_->setValue(d.burnIn);
    maxLength_->setValue(d.historyLength);
    loss_->setCurrentIndex(std::max(0, loss_->findData(QString::fromStdString(d.loss))));
    smoothing_->setValue(d.labelSmoothing);
    seed_->setValue(static_cast<int>(d.seed));
    // A graph that names the parts it starts from (NeuMF's template, or the editor's graph).
    const ModelInfo* model = isGraphModel() ? nullptr : currentDefaults();
    const bool canPretrain = isGraphModel() ? graphs_->graph().pretrain.has_value()
                                            : model && model->graph && model->graph(model->defaults).pretrain.has_value();
    pretrain_->setChecked(d.pretrain && canPretrain);
    pretrain_->setEnabled(canPretrain);
    updateEnabled();
}

void TrainingPanel::setDevices(const std::vector<std::string>& devices)
{
    const QSignalBlocker quiet(device_);
    device_->clear();
    for (const auto& d : devices)
        device_->addItem(d == "cpu" ? tr("CPU") : QStringLiteral("GPU %1").arg(QString::fromStdString(d)),
                         QString::fromStdString(d));
    device_->setCurrentIndex(std::max(0, device_->findData(wantedDevice_)));
}

void TrainingPanel::setConfig(const TrainConfig& c)
{
    if (!c.customGraph())
        selectModel(QString::fromStdString(c.model)); // its defaults and protocols first
    showValues(c);
    const QString protocol = c.protocol == "folds" ? QStringLiteral("folds:%1").arg(c.fold) : QString::fromStdString(c.protocol);
    if (const int k = protocol_->findData(protocol); k >= 0)
        protocol_->setCurrentIndex(k);
    wantedDevice_ = QString::fromStdString(c.device);
    if (const int k = device_->findData(wantedDevice_); k >= 0)
        device_->setCurrentIndex(k);
    threads_->setValue(c.threads);
    processes_->setValue(c.worldSize);
    if (const int k = duplicates_->findData(QString::fromStdString(c.duplicates)); k >= 0)
        duplicates_->setCurrentIndex(k);
    earlyStopping_->setChecked(!c.validationMetric.empty());
    if (!c.validationMetric.empty()) {
        if (const int k = validationMetric_->findText(QString::fromStdString(c.validationMetric)); k >= 0)
            validationMetric_->setCurrentIndex(k);
        patience_->setValue(c.patience);
    }
    updateEnabled();
}

void TrainingPanel::updateEnabled()
{
    const bool trainable = isTrainable(), sampled = isSampled();
    epochs_->setEnabled(trainable);
    earlyStopping_->setEnabled(trainable);
    // A sampler has no optimizer and no batches: its epochs are Gibbs sweeps after a burn-in.
    for (QWidget* w : {static_cast<QWidget*>(batch_), static_cast<QWidget*>(learningRate_), static_cast<QWidget*>(optimizer_),
                       static_cast<QWidget*>(schedule_), static_cast<QWidget*>(weightDecay_)})
        w->setEnabled(trainable && !sampled);
    burnIn_->setEnabled(sampled);
    momentum_->setEnabled(trainable && !sampled && optimizer_->currentData().toString() == QLatin1String("sgd"));
    const ModelAbilities abilities = currentAbilities();
    // BCE samples --negatives beside each target; BPR always one.
    const bool sampledLoss = abilities.nextItems && loss_->currentData().toString() == QLatin1String("bce");
    negatives_->setEnabled(trainable && (currentTask() == TaskKind::ImplicitRanking ||
                                         (abilities.readsHistory && !abilities.nextItems) || sampledLoss));
    loss_->setEnabled(trainable && abilities.nextItems);
    smoothing_->setEnabled(trainable && abilities.nextItems && loss_->currentData().toString() == QLatin1String("ce"));
    maxLength_->setEnabled(abilities.readsHistory);
    duplicates_->setEnabled(currentTask() == TaskKind::ImplicitRanking);
    factors_->setEnabled(trainable && !isGraphModel()); // a graph sets its own sizes
    validationMetric_->setEnabled(trainable && earlyStopping_->isChecked());
    patience_->setEnabled(trainable && earlyStopping_->isChecked());
}

void TrainingPanel::fillProtocols()
{
    // The protocols that fit the task; the current choice stays where it still fits.
    const QString before = protocol_->currentData().toString();
    const TaskKind task = currentTask();
    {
        const QSignalBlocker block(protocol_);
        protocol_->clear();
        const TrainConfig defaults;
        for (const ProtocolInfo* p : protocolsFor(task)) {
            const QString id = QString::fromStdString(p->id);
            if (!p->predefinedFolds) {
                protocol_->addItem(QString::fromStdString(protocolLabel(*p, defaults)), id);
                continue;
            }
            for (int k = 1; k <= 5; ++k) // one entry per fold: "folds:K"
                protocol_->addItem(QString::fromStdString(protocolLabel(*p, defaults, k)), id + QStringLiteral(":%1").arg(k));
        }
        protocol_->setCurrentIndex(std::max(0, protocol_->findData(before)));
    }
    protocolTask_ = task;
    describeProtocol();
    fillValidationMetrics();
    updateEnabled();
}

void TrainingPanel::fillValidationMetrics()
{
    const QString before = validationMetric_->currentText();
    const QString p = protocol_->currentData().toString();
    const QSignalBlocker block(validationMetric_);
    validationMetric_->clear();
    for (const auto& name : taskMetricNames(protocolTask_, p.toStdString(), TrainConfig{}.topK))
        validationMetric_->addItem(QString::fromStdString(name));
    // NDCG is the usual choice for rankings; otherwise the first (RMSE, AUC).
    const int ndcg = validationMetric_->findText(QStringLiteral("ndcg@10"));
    const int keep = validationMetric_->findText(before);
    validationMetric_->setCurrentIndex(keep >= 0 ? keep : std::max(0, ndcg));
}

void TrainingPanel::describeProtocol()
{
    const std::string id = protocol_->currentData().toString().section(QLatin1Char(':'), 0, 0).toStdString();
    protocolText_->setText(QString::fromStdString(protocolDescription(protocolOf(protocolTask_, id), TrainConfig{})));
    fitProtocolText();
}

void TrainingPanel::fitProtocolText()
{
    const int height = protocolText_->heightForWidth(protocolText_->width());
    if (height > 0 && height != protocolText_->minimumHeight())
        protocolText_->setMinimumHeight(height);
}

bool TrainingPanel::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == protocolText_ && event->type() == QEvent::Resize)
        fitProtocolText();
    return QWidget::eventFilter(watched, event);
}

TrainConfig TrainingPanel::config() const
{
    TrainConfig c = currentDefaults()->defaults;
    if (isGraphModel()) {
        c.model = kGraphModel.toStdString();
        c.graph = graphs_->graph().toJson();
    } else {
        c.factors = factors_->value();
    }
    c.epochs = epochs_->value();
    c.batchSize = batch_->value();
    c.learningRate = learningRate_->value();
    c.optimizer = optimizer_->currentData().toString().toStdString();
    c.lrSchedule = schedule_->currentData().toString().toStdString();
    c.weightDecay = weightDecay_->value();
    c.momentum = c.optimizer == "sgd" ? momentum_->value() : 0.0;
    c.negatives = negatives_->value();
    c.burnIn = burnIn_->value();
    c.historyLength = maxLength_->value();
    c.loss = loss_->currentData().toString().toStdString();
    c.labelSmoothing = smoothing_->isEnabled() ? smoothing_->value() : 0.0;
    c.seed = static_cast<uint64_t>(seed_->value());
    c.device = device_->currentData().toString().toStdString();
    c.threads = threads_->value();
    c.worldSize = processes_->value();
    c.pretrain = pretrain_->isEnabled() && pretrain_->isChecked();
    const QString protocol = protocol_->currentData().toString();
    if (protocol.startsWith(QLatin1String("folds:"))) {
        c.protocol = "folds";
        c.fold = protocol.mid(6).toInt();
    } else {
        c.protocol = protocol.toStdString();
    }
    if (duplicates_->isEnabled())
        c.duplicates = duplicates_->currentData().toString().toStdString();
    if (earlyStopping_->isChecked() && isTrainable()) {
        c.validationMetric = validationMetric_->currentText().toStdString();
        c.patience = patience_->value();
    }
    checkConfig(c);
    return c;
}

} // namespace reclab
