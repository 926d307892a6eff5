// The dataset browser's Text tab: the vocabulary the dataset's item text gives (which fields,
// how many words, what the stop-word list and the minimum count left out), its most frequent
// words with how many items use each, one item's words by field, and word vectors trained on the
// text with the words nearest to the one selected. The vocabulary is built in a worker thread; a
// newer request replaces an older one.
#pragma once

#include "data/Dataset.h"
#include "text/ItemText.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;
template <typename T> class QFutureWatcher;

namespace reclab {

struct ItemText;
class WordVectorsBox;

class DatasetTextPanel : public QWidget {
    Q_OBJECT
public:
    explicit DatasetTextPanel(QWidget* parent = nullptr);
    ~DatasetTextPanel() override;

    void setDataset(std::shared_ptr<const Dataset> dataset);
    // Shows the words of the item with this raw id or the first whose title contains the text.
    void showItem(const QString& idOrTitle);

    // For tests.
    QLabel* summaryLabel() const { return summary_; }
    QTableWidget* wordTable() const { return words_; }
    QLabel* itemWordsLabel() const { return itemWords_; }
    QSpinBox* minCountBox() const { return minCount_; }
    WordVectorsBox* vectorsBox() const { return vectorsBox_; }
    bool isBusy() const;
    std::shared_ptr<const ItemText> itemText() const { return text_; }

signals:
    void vocabularyReady();

private:
    void rebuild();
    void showVocabulary();

    std::shared_ptr<const Dataset> dataset_;
    std::shared_ptr<const ItemText> text_;
    QCheckBox* fields_[kTextFieldCount];
    QSpinBox* minCount_;
    QCheckBox* stopWords_;
    QLabel* summary_;
    QTableWidget* words_;
    QLineEdit* itemEdit_;
    QLabel* itemWords_;
    WordVectorsBox* vectorsBox_;
    QFutureWatcher<std::pair<std::shared_ptr<const ItemText>, QString>>* watcher_;
    bool pending_ = false; // a rebuild asked for while one runs
};

} // namespace reclab
