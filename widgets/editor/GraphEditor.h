// The model graph editor: a searchable block palette (drag a block onto the canvas), the
// canvas (zoom with the wheel, pan with the middle button or Space + drag, fit), a properties
// panel for the selected block, the problems list, and the actions (templates, open, save,
// undo/redo, cut/copy/paste/delete, arrange). The status line shows the graph's parameter
// total and whether it is valid.
#pragma once

#include "editor/GraphDocument.h"

#include <QGraphicsView>
#include <QWidget>

class QAction;
class QLabel;
class QLineEdit;
class QListWidget;
class QTreeWidget;
class QFormLayout;
class QToolBar;

namespace reclab {

class GraphScene;

// The palette's drag payload: the block type.
inline constexpr const char* kBlockMimeType = "application/x-reclab-block";

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);
    void zoomBy(qreal factor);
    void fitAll();

protected:
    void wheelEvent(QWheelEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragMoveEvent(QDragMoveEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;

private:
    GraphScene* scene_;
};

class GraphEditor : public QWidget {
    Q_OBJECT
public:
    explicit GraphEditor(QWidget* parent = nullptr);
    // The scene and its items refer to the document: they go first.
    ~GraphEditor() override;

    GraphDocument& document() { return doc_; }
    GraphScene* scene() const { return scene_; }
    GraphView* view() const { return view_; }
    QTreeWidget* palette() const { return palette_; }
    QLineEdit* paletteSearch() const { return search_; }
    QLabel* statusLabel() const { return status_; }
    QListWidget* problems() const { return problems_; }
    QWidget* properties() const { return propertiesBox_; }
    QAction* trainAction() const { return trainAction_; }
    // The editor's actions, for the window's File and Edit menus.
    struct EditActions {
        QAction *open = nullptr, *save = nullptr, *undo = nullptr, *redo = nullptr, *cut = nullptr, *copy = nullptr,
                *paste = nullptr, *remove = nullptr;
    };
    const EditActions& editActions() const { return edit_; }

    void loadTemplate(const QString& name);
    void copySelection();
    void pasteClipboard();

signals:
    // The user asked to train the graph in the editor (valid graphs only).
    void trainRequested();

protected:
    // The first time the editor is shown (at its real size), its graph is fitted to the view.
    void showEvent(QShowEvent* event) override;

private:
    void buildActions(QToolBar* bar);
    void filterPalette(const QString& text);
    void showProperties(const QString& id);
    void showVariables(); // when no block is selected
    void refreshStatus();
    void openFile();
    void saveFile();

    GraphDocument doc_;
    GraphScene* scene_ = nullptr;
    GraphView* view_ = nullptr;
    QTreeWidget* palette_ = nullptr;
    QLineEdit* search_ = nullptr;
    QWidget* propertiesBox_ = nullptr;
    QFormLayout* propertiesForm_ = nullptr;
    QLabel* propertiesTitle_ = nullptr;
    QListWidget* problems_ = nullptr;
    QLabel* status_ = nullptr;
    QAction* trainAction_ = nullptr;
    EditActions edit_;
    QString selected_;
    bool fitted_ = false; // the graph was fitted to the view when first shown
};

} // namespace reclab
