#include "data/DatasetTextPanel.h"

#include "WorkerPool.h"
#include "data/WordVectorsBox.h"
#include "text/ItemText.h"
#include "util/Error.h"

#include <QCheckBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSpinBox>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace reclab {

namespace {

constexpr int kShownWords = 500;
constexpr int kItemWords = 80;

QString number(qulonglong n) { return QLocale::system().toString(n); }

// A cell that sorts by its number, not its text.
QTableWidgetItem* numberCell(qlonglong n)
{
    auto* cell = new QTableWidgetItem;
    cell->setData(Qt::DisplayRole, n);
    cell->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return cell;
}

} // namespace

DatasetTextPanel::DatasetTextPanel(QWidget* parent)
    : QWidget(parent), minCount_(new QSpinBox(this)), stopWords_(new QCheckBox(tr("Drop stop words"), this)),
      summary_(new QLabel(this)), words_(new QTableWidget(0, 3, this)), itemEdit_(new QLineEdit(this)),
      itemWords_(new QLabel(this)), vectorsBox_(new WordVectorsBox(this)), watcher_(new QFutureWatcher<std::pair<std::shared_ptr<const ItemText>, QString>>(this))
{
    joinPoolThreadsAtExit();
    auto* options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Fields:"), this));
    for (int f = 0; f < kTextFieldCount; ++f) {
        fields_[f] = new QCheckBox(QString::fromLatin1(textFieldName(static_cast<TextField>(f))), this);
        fields_[f]->setChecked(true);
        options->addWidget(fields_[f]);
        connect(fields_[f], &QCheckBox::toggled, this, &DatasetTextPanel::rebuild);
    }
    options->addSpacing(16);
    options->addWidget(new QLabel(tr("Minimum count:"), this));
    minCount_->setRange(1, 1000);
    minCount_->setValue(TextOptions().minCount);
    minCount_->setToolTip(tr("Words seen fewer times in the item text leave the vocabulary"));
    options->addWidget(minCount_);
    stopWords_->setChecked(true);
    options->addWidget(stopWords_);
    options->addStretch();
    connect(minCount_, &QSpinBox::valueChanged, this, &DatasetTextPanel::rebuild);
    connect(stopWords_, &QCheckBox::toggled, this, &DatasetTextPanel::rebuild);

    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    words_->setHorizontalHeaderLabels({tr("Word"), tr("Occurrences"), tr("Items")});
    words_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    words_->verticalHeader()->setVisible(false);
    words_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    words_->setSelectionBehavior(QAbstractItemView::SelectRows);

    itemEdit_->setPlaceholderText(tr("item id or part of a title"));
    itemEdit_->setClearButtonEnabled(true);
    itemWords_->setWordWrap(true);
    itemWords_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(itemEdit_, &QLineEdit::returnPressed, this, [this] { showItem(itemEdit_->text()); });
    auto* item = new QHBoxLayout;
    item->addWidget(new QLabel(tr("An item's words:"), this));
    item->addWidget(itemEdit_, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(options);
    layout->addWidget(summary_);
    auto* middle = new QHBoxLayout;
    middle->addWidget(words_, 3);
    middle->addWidget(vectorsBox_, 2);
    layout->addLayout(middle, 1);
    connect(words_, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (const QTableWidgetItem* cell = row >= 0 ? words_->item(row, 0) : nullptr)
            vectorsBox_->showNearest(cell->text());
    });
    layout->addLayout(item);
    layout->addWidget(itemWords_);

    connect(watcher_, &QFutureWatcherBase::finished, this, [this] {
        if (pending_) { // the options changed while this one ran
            pending_ = false;
            rebuild();
            return;
        }
        const auto [text, error] = watcher_->result();
        text_ = text;
        vectorsBox_->setText(text_);
        if (!text_) {
            summary_->setText(tr("<span style='color:#b00020'>%1</span>").arg(error.toHtmlEscaped()));
            words_->setRowCount(0);
            itemWords_->clear();
        } else {
            showVocabulary();
        }
        emit vocabularyReady();
    });
}

DatasetTextPanel::~DatasetTextPanel() { watcher_->waitForFinished(); }

bool DatasetTextPanel::isBusy() const { return watcher_->isRunning() || vectorsBox_->isBusy(); }

void DatasetTextPanel::setDataset(std::shared_ptr<const Dataset> dataset)
{
    dataset_ = std::move(dataset);
    text_.reset();
    words_->setRowCount(0);
    itemWords_->clear();
    const unsigned have = dataset_ ? availableTextFields(*dataset_) : 0;
    for (int f = 0; f < kTextFieldCount; ++f) {
        const QSignalBlocker quiet(fields_[f]); // one rebuild below, not one per box
        fields_[f]->setEnabled(have & (1u << f));
        fields_[f]->setChecked(have & (1u << f));
    }
    rebuild();
}

void DatasetTextPanel::rebuild()
{
    if (!dataset_) {
        summary_->setText(tr("No dataset"));
        return;
    }
    if (watcher_->isRunning()) {
        pending_ = true;
        return;
    }
    TextOptions o;
    o.fields = 0;
    for (int f = 0; f < kTextFieldCount; ++f)
        if (fields_[f]->isChecked())
            o.fields |= 1u << f;
    o.minCount = minCount_->value();
    o.stopWords = stopWords_->isChecked();
    summary_->setText(tr("Building the vocabulary…"));
    watcher_->setFuture(QtConcurrent::run([d = dataset_, o]() -> std::pair<std::shared_ptr<const ItemText>, QString> {
        try {
            return {std::make_shared<const ItemText>(buildItemText(*d, o)), {}};
        } catch (const Error& e) {
            return {nullptr, QString::fromStdString(e.what())};
        }
    }));
}

void DatasetTextPanel::showVocabulary()
{
    const ItemText& t = *text_;
    summary_->setText(
        tr("<b>%1 words</b> (seen at least %2 times) from %3 — %4 words in %5 of %6 items, %7 per item on average. "
           "Left out: %8 stop words, %9 rare words.%10")
            .arg(number(t.vocabulary.size()))
            .arg(t.options.minCount)
            .arg(QString::fromStdString(textFieldList(t.fields)))
            .arg(number(t.token.size()))
            .arg(number(static_cast<qulonglong>(t.itemsWithText)))
            .arg(number(static_cast<qulonglong>(t.numItems())))
            .arg(t.itemsWithText ? static_cast<double>(t.token.size()) / t.itemsWithText : 0.0, 0, 'f', 1)
            .arg(number(t.stopWordsDropped))
            .arg(number(t.rareDropped))
            .arg(t.reviewsUsed ? tr(" %1 reviews read.").arg(number(t.reviewsUsed)) : QString()));
    words_->setSortingEnabled(false);
    const int rows = static_cast<int>(std::min<size_t>(t.vocabulary.size(), kShownWords));
    words_->setRowCount(rows);
    for (int w = 0; w < rows; ++w) {
        words_->setItem(w, 0, new QTableWidgetItem(QString::fromStdString(t.vocabulary.word(w))));
        words_->setItem(w, 1, numberCell(t.vocabulary.count(w)));
        words_->setItem(w, 2, numberCell(t.itemsWithWord[static_cast<size_t>(w)]));
    }
    words_->setSortingEnabled(true);
    words_->sortByColumn(1, Qt::DescendingOrder);
    showItem(itemEdit_->text().isEmpty() && dataset_->numItems() > 0 ? QString::fromStdString(dataset_->itemIds.front())
                                                                       : itemEdit_->text());
}

void DatasetTextPanel::showItem(const QString& idOrTitle)
{
    if (!text_ || !dataset_)
        return;
    const std::string key = idOrTitle.trimmed().toStdString();
    int32_t item = -1;
    for (int32_t i = 0; i < dataset_->numItems() && item < 0; ++i)
        if (dataset_->itemIds[static_cast<size_t>(i)] == key)
            item = i;
    const QString needle = idOrTitle.trimmed();
    for (size_t i = 0; i < dataset_->items.title.size() && item < 0 && !needle.isEmpty(); ++i)
        if (QString::fromStdString(dataset_->items.title[i]).contains(needle, Qt::CaseInsensitive))
            item = static_cast<int32_t>(i);
    if (item < 0) {
        itemWords_->setText(tr("No item with the id or a title containing “%1”").arg(needle.toHtmlEscaped()));
        return;
    }
    const auto i = static_cast<size_t>(item);
    QString html = tr("<b>%1</b>").arg(QString::fromStdString(dataset_->itemIds[i]).toHtmlEscaped());
    if (i < dataset_->items.title.size())
        html += " " + QString::fromStdString(dataset_->items.title[i]).toHtmlEscaped();
    QStringList parts;
    for (int f = 0; f < kTextFieldCount; ++f) {
        QStringList words;
        int more = 0; // past the first kItemWords of a field (reviews can hold thousands)
        for (uint32_t k = text_->start[i]; k < text_->start[i + 1]; ++k)
            if (static_cast<int>(text_->field[k]) == f && words.size() < kItemWords)
                words << QString::fromStdString(text_->vocabulary.word(text_->token[k])).toHtmlEscaped();
            else if (static_cast<int>(text_->field[k]) == f)
                ++more;
        if (more)
            words << tr("… (%1 more)").arg(more);
        if (!words.isEmpty())
            parts << tr("<i>%1:</i> %2").arg(QString::fromLatin1(textFieldName(static_cast<TextField>(f))), words.join(' '));
    }
    html += "<br>" + (parts.isEmpty() ? tr("no words in the vocabulary") : parts.join(" · "));
    itemWords_->setText(html);
}

} // namespace reclab
