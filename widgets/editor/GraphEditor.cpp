#include "editor/GraphEditor.h"

#include "editor/GraphScene.h"
#include "graph/GraphTemplates.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDrag>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QScrollBar>
#include <QSplitter>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace reclab {

namespace {

// The palette: blocks grouped by category, dragged out with their type as the payload.
class PaletteTree : public QTreeWidget {
public:
    using QTreeWidget::QTreeWidget;

protected:
    QMimeData* mimeData(const QList<QTreeWidgetItem*>& items) const override
    {
        if (items.isEmpty() || items.front()->data(0, Qt::UserRole).toString().isEmpty())
            return nullptr;
        auto* mime = new QMimeData;
        mime->setData(kBlockMimeType, items.front()->data(0, Qt::UserRole).toString().toUtf8());
        return mime;
    }
    QStringList mimeTypes() const override { return {kBlockMimeType}; }
};

QString paramText(const nlohmann::json& v)
{
    if (v.is_string())
        return QString::fromStdString(v.get<std::string>());
    if (v.is_array()) {
        QStringList parts;
        for (const auto& x : v)
            parts << (x.is_string() ? QString::fromStdString(x.get<std::string>()) : QString::fromStdString(x.dump()));
        return parts.join(", ");
    }
    return QString::fromStdString(v.dump());
}

// Text typed into a parameter's field, as JSON of the parameter's kind ("$name" stays text).
nlohmann::json paramValue(const ParamSpec& p, const QString& text)
{
    const QString t = text.trimmed();
    if (t.startsWith('$'))
        return t.toStdString();
    bool ok = false;
    switch (p.kind) {
    case ParamKind::Int: {
        const qlonglong v = t.toLongLong(&ok);
        return ok ? nlohmann::json(v) : nlohmann::json(t.toStdString());
    }
    case ParamKind::Real: {
        const double v = t.toDouble(&ok);
        return ok ? nlohmann::json(v) : nlohmann::json(t.toStdString());
    }
    case ParamKind::IntList: {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& part : t.split(',', Qt::SkipEmptyParts)) {
            const qlonglong v = part.trimmed().toLongLong(&ok);
            list.push_back(ok ? nlohmann::json(v) : nlohmann::json(part.trimmed().toStdString()));
        }
        return list;
    }
    case ParamKind::TextList: {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& part : t.split(',', Qt::SkipEmptyParts))
            list.push_back(part.trimmed().toStdString());
        return list;
    }
    default: return t.toStdString();
    }
}

// Text typed for a graph variable, as JSON of the kind the variable holds now.
nlohmann::json variableValue(const nlohmann::json& current, const QString& text)
{
    ParamSpec as;
    if (current.is_array())
        as.kind = std::all_of(current.begin(), current.end(), [](const auto& x) { return x.is_number_integer(); })
                      ? ParamKind::IntList
                      : ParamKind::TextList;
    else if (current.is_number_integer())
        as.kind = ParamKind::Int;
    else if (current.is_number())
        as.kind = ParamKind::Real;
    else if (current.is_boolean())
        return text.trimmed().compare("true", Qt::CaseInsensitive) == 0;
    else
        as.kind = ParamKind::Name;
    return paramValue(as, text);
}

} // namespace

GraphView::GraphView(GraphScene* scene, QWidget* parent) : QGraphicsView(scene, parent), scene_(scene)
{
    setRenderHint(QPainter::Antialiasing);
    setAcceptDrops(true);
    setDragMode(QGraphicsView::RubberBandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::BoundingRectViewportUpdate);
}

void GraphView::zoomBy(qreal factor)
{
    const qreal scale = transform().m11() * factor;
    if (scale < 0.1 || scale > 5)
        return;
    this->scale(factor, factor);
}

void GraphView::fitAll()
{
    const QRectF bounds = scene_->itemsBoundingRect().adjusted(-40, -40, 40, 40);
    if (!bounds.isEmpty())
        fitInView(bounds, Qt::KeepAspectRatio);
    if (transform().m11() > 1.5)
        setTransform(QTransform::fromScale(1.5, 1.5));
}

void GraphView::wheelEvent(QWheelEvent* event)
{
    zoomBy(event->angleDelta().y() > 0 ? 1.15 : 1 / 1.15);
    event->accept();
}

void GraphView::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasFormat(kBlockMimeType))
        event->acceptProposedAction();
}

void GraphView::dragMoveEvent(QDragMoveEvent* event)
{
    if (event->mimeData()->hasFormat(kBlockMimeType))
        event->acceptProposedAction();
}

void GraphView::dropEvent(QDropEvent* event)
{
    const QString type = QString::fromUtf8(event->mimeData()->data(kBlockMimeType));
    if (type.isEmpty())
        return;
    scene_->document().addBlock(type, mapToScene(event->position().toPoint()) - QPointF(85, 20));
    event->acceptProposedAction();
}

void GraphView::mousePressEvent(QMouseEvent* event)
{
    if (event->button() == Qt::MiddleButton) {
        // Pan: the hand drag, driven by a synthetic left press.
        setDragMode(QGraphicsView::ScrollHandDrag);
        QMouseEvent press(QEvent::MouseButtonPress, event->position(), event->globalPosition(), Qt::LeftButton,
                          Qt::LeftButton, event->modifiers());
        QGraphicsView::mousePressEvent(&press);
        return;
    }
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent* event)
{
    QGraphicsView::mouseReleaseEvent(event);
    if (event->button() == Qt::MiddleButton)
        setDragMode(QGraphicsView::RubberBandDrag);
}

void GraphView::keyPressEvent(QKeyEvent* event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat())
        setDragMode(QGraphicsView::ScrollHandDrag);
    else
        QGraphicsView::keyPressEvent(event);
}

void GraphView::keyReleaseEvent(QKeyEvent* event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat())
        setDragMode(QGraphicsView::RubberBandDrag);
    QGraphicsView::keyReleaseEvent(event);
}

GraphEditor::GraphEditor(QWidget* parent) : QWidget(parent)
{
    scene_ = new GraphScene(doc_, this);
    view_ = new GraphView(scene_, this);

    auto* paletteBox = new QWidget(this);
    auto* paletteLayout = new QVBoxLayout(paletteBox);
    paletteLayout->setContentsMargins(0, 0, 0, 0);
    search_ = new QLineEdit(paletteBox);
    search_->setPlaceholderText(tr("Search blocks"));
    search_->setClearButtonEnabled(true);
    palette_ = new PaletteTree(paletteBox);
    palette_->setHeaderHidden(true);
    palette_->setDragEnabled(true);
    palette_->setDragDropMode(QAbstractItemView::DragOnly);
    std::map<std::string, QTreeWidgetItem*> groups;
    for (const auto& b : blockCatalog()) {
        QTreeWidgetItem*& group = groups[b.category];
        if (!group) {
            group = new QTreeWidgetItem(palette_, {QString::fromStdString(b.category)});
            group->setFlags(Qt::ItemIsEnabled);
            group->setExpanded(true);
        }
        auto* item = new QTreeWidgetItem(group, {QString::fromStdString(b.displayName)});
        item->setData(0, Qt::UserRole, QString::fromStdString(b.type));
        item->setToolTip(0, blockToolTip(b));
    }
    paletteLayout->addWidget(search_);
    paletteLayout->addWidget(palette_);
    connect(search_, &QLineEdit::textChanged, this, &GraphEditor::filterPalette);
    // Double-click adds the block in the middle of the view.
    connect(palette_, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        const QString type = item->data(0, Qt::UserRole).toString();
        if (!type.isEmpty())
            doc_.addBlock(type, view_->mapToScene(view_->viewport()->rect().center()));
    });

    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    propertiesTitle_ = new QLabel(side);
    propertiesTitle_->setWordWrap(true);
    propertiesBox_ = new QWidget(side);
    propertiesForm_ = new QFormLayout(propertiesBox_);
    problems_ = new QListWidget(side);
    problems_->setWordWrap(true);
    sideLayout->addWidget(propertiesTitle_);
    sideLayout->addWidget(propertiesBox_);
    sideLayout->addWidget(new QLabel(tr("Problems"), side));
    sideLayout->addWidget(problems_, 1);
    connect(problems_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        const QString id = item->data(Qt::UserRole).toString();
        if (BlockItem* b = scene_->block(id.toStdString())) {
            scene_->clearSelection();
            b->setSelected(true);
            view_->centerOn(b);
        }
    });

    auto* splitter = new QSplitter(this);
    splitter->addWidget(paletteBox);
    splitter->addWidget(view_);
    splitter->addWidget(side);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({180, 700, 240});

    auto* bar = new QToolBar(this);
    buildActions(bar);
    status_ = new QLabel(this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(bar);
    layout->addWidget(splitter, 1);
    layout->addWidget(status_);

    connect(&doc_, &GraphDocument::changed, this, [this] {
        refreshStatus();
        showProperties(selected_);
    });
    connect(scene_, &GraphScene::blockSelected, this, &GraphEditor::showProperties);
    connect(scene_, &GraphScene::connectionRefused, this,
            [this](const QString& why) { status_->setText(tr("Not connected: %1").arg(why)); });
    loadTemplate("neumf");
}

GraphEditor::~GraphEditor()
{
    scene_->disconnect(this);
    view_->setScene(nullptr);
    delete scene_;
}

void GraphEditor::buildActions(QToolBar* bar)
{
    auto* templates = new QToolButton(bar);
    templates->setText(tr("Templates"));
    templates->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(templates);
    menu->addAction(tr("Empty graph"), this, [this] { doc_.reset(GraphSpec{}); });
    for (const auto& name : graphTemplateNames()) {
        const QString n = QString::fromStdString(name);
        menu->addAction(QString::fromStdString(graphTemplate(name).name), this, [this, n] { loadTemplate(n); });
    }
    templates->setMenu(menu);
    bar->addWidget(templates);
    // Open and Save keep no shortcut here: Ctrl+O and Ctrl+S are the File menu's, which offers
    // these two as "Open graph…" and "Save graph…".
    edit_.open = bar->addAction(tr("Open…"), this, &GraphEditor::openFile);
    edit_.save = bar->addAction(tr("Save…"), this, &GraphEditor::saveFile);
    bar->addSeparator();
    edit_.undo = doc_.undoStack()->createUndoAction(this, tr("Undo"));
    edit_.undo->setShortcut(QKeySequence::Undo);
    edit_.redo = doc_.undoStack()->createRedoAction(this, tr("Redo"));
    edit_.redo->setShortcut(QKeySequence::Redo);
    bar->addAction(edit_.undo);
    bar->addAction(edit_.redo);
    bar->addSeparator();
    edit_.cut = bar->addAction(tr("Cut"), this, [this] {
        copySelection();
        scene_->deleteSelection();
    });
    edit_.cut->setShortcut(QKeySequence::Cut);
    edit_.copy = bar->addAction(tr("Copy"), this, &GraphEditor::copySelection);
    edit_.copy->setShortcut(QKeySequence::Copy);
    edit_.paste = bar->addAction(tr("Paste"), this, &GraphEditor::pasteClipboard);
    edit_.paste->setShortcut(QKeySequence::Paste);
    edit_.remove = bar->addAction(tr("Delete"), scene_, &GraphScene::deleteSelection);
    edit_.remove->setShortcuts({QKeySequence(QKeySequence::Delete), QKeySequence(Qt::Key_Backspace)});
    bar->addSeparator();
    bar->addAction(tr("Zoom in"), this, [this] { view_->zoomBy(1.25); })->setShortcut(QKeySequence::ZoomIn);
    bar->addAction(tr("Zoom out"), this, [this] { view_->zoomBy(0.8); })->setShortcut(QKeySequence::ZoomOut);
    bar->addAction(tr("Fit"), view_, &GraphView::fitAll);
    bar->addAction(tr("Arrange"), this, [this] {
        doc_.autoLayout();
        view_->fitAll();
    });
    bar->addSeparator();
    trainAction_ = bar->addAction(tr("Train this graph"), this, [this] {
        if (doc_.analysis().ok())
            emit trainRequested();
        else
            status_->setText(
                tr("Fix the problems first: %1").arg(QString::fromStdString(doc_.analysis().issues.front().text())));
    });
    for (QAction* a : bar->actions())
        if (!a->shortcut().isEmpty())
            a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
}

void GraphEditor::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (fitted_)
        return;
    fitted_ = true;
    // After the layout has given the view its size.
    QTimer::singleShot(0, view_, &GraphView::fitAll);
}

void GraphEditor::loadTemplate(const QString& name)
{
    doc_.reset(graphTemplate(name.toStdString()));
    view_->fitAll();
}

void GraphEditor::copySelection()
{
    const QStringList ids = scene_->selectedBlocks();
    if (!ids.isEmpty())
        QApplication::clipboard()->setText(QString::fromUtf8(doc_.copy(ids)));
}

void GraphEditor::pasteClipboard()
{
    const QStringList ids = doc_.paste(QApplication::clipboard()->text().toUtf8(), QPointF(40, 40));
    scene_->clearSelection();
    for (const auto& id : ids)
        if (BlockItem* b = scene_->block(id.toStdString()))
            b->setSelected(true);
}

void GraphEditor::filterPalette(const QString& text)
{
    for (int g = 0; g < palette_->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = palette_->topLevelItem(g);
        int shown = 0;
        for (int k = 0; k < group->childCount(); ++k) {
            QTreeWidgetItem* item = group->child(k);
            const bool match = text.isEmpty() || item->text(0).contains(text, Qt::CaseInsensitive) ||
                               item->data(0, Qt::UserRole).toString().contains(text, Qt::CaseInsensitive) ||
                               item->toolTip(0).contains(text, Qt::CaseInsensitive);
            item->setHidden(!match);
            shown += match;
        }
        group->setHidden(shown == 0);
    }
}

void GraphEditor::showProperties(const QString& id)
{
    selected_ = id;
    // The editors go later: this may run inside one of their own signals.
    while (propertiesForm_->rowCount() > 0) {
        const QFormLayout::TakeRowResult row = propertiesForm_->takeRow(0);
        for (QLayoutItem* item : {row.labelItem, row.fieldItem}) {
            if (!item)
                continue;
            if (QWidget* w = item->widget()) {
                w->hide();
                w->setObjectName(QString());
                w->deleteLater();
            }
            delete item;
        }
    }
    const GraphNode* node = doc_.graph().node(id.toStdString());
    const BlockSpec* spec = node ? findBlock(node->type) : nullptr;
    if (!spec) {
        showVariables();
        return;
    }
    const BlockAnalysis* info = doc_.analysis().block(node->id);
    propertiesTitle_->setText(
        QStringLiteral("<b>%1</b> — %2<br><code>%3</code>")
            .arg(id, QString::fromStdString(spec->displayName), QString::fromStdString(spec->formula).toHtmlEscaped()));
    for (const auto& p : spec->params) {
        const QString name = QString::fromStdString(p.name);
        const nlohmann::json current = node->params.value(p.name, p.defaultValue);
        QWidget* editor = nullptr;
        if (p.kind == ParamKind::Bool && current.is_boolean()) {
            auto* box = new QCheckBox(propertiesBox_);
            box->setChecked(current.get<bool>());
            connect(box, &QCheckBox::toggled, this, [this, id, name](bool on) { doc_.setParam(id, name, on); });
            editor = box;
        } else if (p.kind == ParamKind::Choice) {
            auto* combo = new QComboBox(propertiesBox_);
            combo->setEditable(true); // "$variable" too
            for (const auto& c : p.choices)
                combo->addItem(QString::fromStdString(c));
            combo->setCurrentText(paramText(current));
            connect(combo, &QComboBox::textActivated, this,
                    [this, id, name](const QString& text) { doc_.setParam(id, name, text.toStdString()); });
            editor = combo;
        } else {
            auto* line = new QLineEdit(paramText(current), propertiesBox_);
            connect(line, &QLineEdit::editingFinished, this,
                    [this, id, name, p, line] { doc_.setParam(id, name, paramValue(p, line->text())); });
            editor = line;
        }
        editor->setObjectName("param_" + name);
        QString tip = QString::fromStdString(p.help);
        if (info && info->params.contains(p.name) && current.is_string() && paramText(current).startsWith('$'))
            tip += tr(" (now %1)").arg(paramText(info->params[p.name]));
        editor->setToolTip(tip);
        propertiesForm_->addRow(QString::fromStdString(p.label), editor);
    }
    if (info && info->output)
        propertiesForm_->addRow(tr("Output"), new QLabel(QString::fromStdString(info->output->text()), propertiesBox_));
    if (info)
        propertiesForm_->addRow(tr("Parameters"),
                                new QLabel(QString::fromStdString(formatCount(info->parameters)), propertiesBox_));
}

void GraphEditor::showVariables()
{
    const GraphSpec& g = doc_.graph();
    propertiesTitle_->setText(
        tr("<b>%1</b> — graph variables<br>Blocks use them as <code>$name</code>. "
           "Select a block to see its parameters.")
            .arg(g.name.empty() ? tr("untitled") : QString::fromStdString(g.name).toHtmlEscaped()));
    for (const auto& [name, value] : g.variables.items()) {
        const QString key = QString::fromStdString(name);
        auto* line = new QLineEdit(paramText(value), propertiesBox_);
        line->setObjectName("var_" + key);
        connect(line, &QLineEdit::editingFinished, this, [this, key, line] {
            const nlohmann::json current = doc_.graph().variables.value(key.toStdString(), nlohmann::json());
            const nlohmann::json next = variableValue(current, line->text());
            if (next != current)
                doc_.setVariable(key, next);
        });
        propertiesForm_->addRow(QStringLiteral("$") + key, line);
    }
    propertiesForm_->addRow(
        tr("Parameters"),
        new QLabel(QString::fromStdString(formatCount(doc_.analysis().totalParameters)), propertiesBox_));
}

void GraphEditor::refreshStatus()
{
    const GraphAnalysis& a = doc_.analysis();
    problems_->clear();
    for (const auto& issue : a.issues) {
        auto* item = new QListWidgetItem(QString::fromStdString(issue.text()), problems_);
        item->setData(Qt::UserRole, QString::fromStdString(issue.node));
    }
    const QString name = doc_.graph().name.empty() ? tr("untitled") : QString::fromStdString(doc_.graph().name);
    status_->setText(tr("%1: %n block(s), %2 parameters — %3", nullptr, int(doc_.graph().nodes.size()))
                         .arg(name, QString::fromStdString(formatCount(a.totalParameters)),
                              a.ok() ? tr("valid") : tr("%n problem(s)", nullptr, int(a.issues.size()))));
}

void GraphEditor::openFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open graph"), {}, tr("Graphs (*.json)"));
    if (path.isEmpty())
        return;
    try {
        doc_.open(path);
        view_->fitAll();
    } catch (const Error& e) {
        QMessageBox::warning(this, tr("Open graph"), QString::fromStdString(e.what()));
    }
}

void GraphEditor::saveFile()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save graph"), doc_.fileName(), tr("Graphs (*.json)"));
    if (path.isEmpty())
        return;
    try {
        doc_.save(path);
    } catch (const Error& e) {
        QMessageBox::warning(this, tr("Save graph"), QString::fromStdString(e.what()));
    }
}

} // namespace reclab
