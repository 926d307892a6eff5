#include "data/ImportDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace reclab {

namespace {

constexpr size_t kPreviewRows = 50;
const ColumnRole kRoles[] = {ColumnRole::Ignore, ColumnRole::User, ColumnRole::Item, ColumnRole::Rating,
                             ColumnRole::Timestamp};

QString separatorLabel(const std::string& sep)
{
    if (sep == ",")
        return QObject::tr("comma-separated");
    if (sep == "\t")
        return QObject::tr("tab-separated");
    if (sep == " ")
        return QObject::tr("space-separated");
    return QObject::tr("'%1'-separated").arg(QString::fromStdString(sep));
}

bool rolesUsable(const std::vector<ColumnRole>& roles)
{
    auto count = [&](ColumnRole r) { return std::count(roles.begin(), roles.end(), r); };
    return count(ColumnRole::User) == 1 && count(ColumnRole::Item) == 1 && count(ColumnRole::Rating) <= 1 &&
           count(ColumnRole::Timestamp) <= 1;
}

} // namespace

ImportDialog::ImportDialog(const QString& path, QWidget* parent)
    : QDialog(parent), path_(path), separator_(new QComboBox(this)), header_(new QComboBox(this)),
      ids_(new QComboBox(this)), skipBadRows_(new QCheckBox(tr("Skip malformed rows and report how many"), this)), table_(new QTableWidget(this)),
      status_(new QLabel(this)), buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Import %1").arg(QFileInfo(path).fileName()));
    separator_->addItem(tr("Detect"), QString());
    separator_->addItem(tr("Comma  ,"), QStringLiteral(","));
    separator_->addItem(tr("Tab"), QStringLiteral("\t"));
    separator_->addItem(tr("Double colon  ::"), QStringLiteral("::"));
    separator_->addItem(tr("Semicolon  ;"), QStringLiteral(";"));
    separator_->addItem(tr("Pipe  |"), QStringLiteral("|"));
    separator_->addItem(tr("Space"), QStringLiteral(" "));
    header_->addItem(tr("Detect"), -1);
    header_->addItem(tr("First line names the columns"), 1);
    header_->addItem(tr("No header: the first line is data"), 0);
    ids_->addItem(tr("Detect (numbers when most of the first rows' are)"), static_cast<int>(IdKinds::Detect));
    ids_->addItem(tr("Numbers"), static_cast<int>(IdKinds::Numeric));
    ids_->addItem(tr("Text"), static_cast<int>(IdKinds::Text));
    ids_->setToolTip(tr("How user and item ids are read. In a column of numbers a stray text value is a bad row; "
                        "choose Text when the ids are names or codes"));
    skipBadRows_->setToolTip(tr("Messy real data: load the rows that parse, count the others and show the first problems"));

    auto* fileLabel = new QLabel(tr("<b>%1</b> (%2 KB)").arg(path.toHtmlEscaped()).arg(QFileInfo(path).size() / 1024), this);
    fileLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* form = new QFormLayout;
    form->addRow(tr("Separator"), separator_);
    form->addRow(tr("Header"), header_);
    form->addRow(tr("Ids"), ids_);
    form->addRow(QString(), skipBadRows_);

    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionMode(QAbstractItemView::NoSelection);
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
    table_->setMinimumSize(620, 320);
    table_->horizontalHeader()->setStretchLastSection(true);

    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    buttons_->button(QDialogButtonBox::Ok)->setText(tr("Import"));
    connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(fileLabel);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("First rows, and the role of each column:"), this));
    layout->addWidget(table_, 1);
    layout->addWidget(status_);
    layout->addWidget(buttons_);

    auto restart = [this] {
        roles_.clear();
        refresh();
    };
    connect(separator_, &QComboBox::currentIndexChanged, this, restart);
    connect(header_, &QComboBox::currentIndexChanged, this, restart);
    connect(ids_, &QComboBox::currentIndexChanged, this, restart);
    // The preview checks rows the same way either way; only the verdict changes.
    connect(skipBadRows_, &QCheckBox::toggled, this, &ImportDialog::showVerdict);
    refresh();
    resize(760, 560);
}

QComboBox* ImportDialog::roleCombo(int column) const
{
    return qobject_cast<QComboBox*>(table_->cellWidget(0, column));
}

bool ImportDialog::canImport() const { return valid_; }

DelimitedFormat ImportDialog::currentFormat() const
{
    DelimitedFormat f;
    f.separator = separator_->currentData().toString().toStdString();
    f.header = header_->currentData().toInt();
    f.columns = roles_;
    f.skipBadRows = skipBadRows_->isChecked();
    f.ids = static_cast<IdKinds>(ids_->currentData().toInt());
    return f;
}

LoadOptions ImportDialog::options() const
{
    LoadOptions o;
    o.format = DataFormat::Delimited;
    o.delimited = resolved_;
    o.delimited.skipBadRows = skipBadRows_->isChecked();
    o.delimited.ids = static_cast<IdKinds>(ids_->currentData().toInt());
    o.delimited.threads = 0;
    return o;
}

void ImportDialog::refresh()
{
    showPreview(previewDelimited(path_.toStdString(), currentFormat(), kPreviewRows));
}

void ImportDialog::rolesChanged()
{
    if (updating_)
        return;
    std::vector<ColumnRole> roles;
    for (int c = 0; c < table_->columnCount(); ++c)
        if (QComboBox* combo = roleCombo(c))
            roles.push_back(kRoles[combo->currentIndex()]);
    roles_ = roles;
    if (!rolesUsable(roles)) {
        showVerdict(); // nothing to re-read until the roles make sense
        return;
    }
    refresh();
}

void ImportDialog::showPreview(const DelimitedPreview& preview)
{
    updating_ = true;
    resolved_ = preview.resolved.format;
    const auto& names = preview.resolved.headerNames;
    int columns = static_cast<int>(preview.resolved.fieldCount);
    for (const auto& row : preview.rows)
        columns = std::max(columns, static_cast<int>(row.size()));
    table_->clear();
    table_->setColumnCount(columns);
    table_->setRowCount(static_cast<int>(preview.rows.size()) + 1);
    QStringList headers;
    for (int c = 0; c < columns; ++c)
        headers << (c < static_cast<int>(names.size()) && !names[static_cast<size_t>(c)].empty()
                        ? QString::fromStdString(names[static_cast<size_t>(c)])
                        : tr("Column %1").arg(c + 1));
    table_->setHorizontalHeaderLabels(headers);
    QStringList rowLabels{tr("Role")};
    const long firstLine = resolved_.header == 1 ? 2 : 1;
    for (size_t r = 0; r < preview.rows.size(); ++r)
        rowLabels << QString::number(firstLine + static_cast<long>(r));
    table_->setVerticalHeaderLabels(rowLabels);
    for (int c = 0; c < columns; ++c) {
        auto* combo = new QComboBox(table_);
        for (ColumnRole role : kRoles)
            combo->addItem(role == ColumnRole::Ignore ? tr("ignore") : QString::fromLatin1(columnRoleName(role)));
        const ColumnRole role = c < static_cast<int>(resolved_.columns.size()) ? resolved_.columns[static_cast<size_t>(c)]
                                                                                : ColumnRole::Ignore;
        combo->setCurrentIndex(static_cast<int>(std::find(std::begin(kRoles), std::end(kRoles), role) - std::begin(kRoles)));
        combo->setEnabled(preview.resolved.fieldCount > 0);
        connect(combo, &QComboBox::currentIndexChanged, this, [this] { rolesChanged(); });
        table_->setCellWidget(0, c, combo);
    }
    for (size_t r = 0; r < preview.rows.size(); ++r)
        for (size_t c = 0; c < preview.rows[r].size(); ++c) {
            auto* item = new QTableWidgetItem(QString::fromStdString(preview.rows[r][c]));
            if (c < resolved_.columns.size() && resolved_.columns[c] == ColumnRole::Ignore)
                item->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
            table_->setItem(static_cast<int>(r) + 1, static_cast<int>(c), item);
        }
    table_->resizeColumnsToContents();
    updating_ = false;
    preview_ = preview;
    showVerdict();
}

void ImportDialog::showVerdict()
{
    const DelimitedPreview& preview = preview_;
    const QString red = QStringLiteral("<span style='color:#b00020'>%1</span>");
    if (!roles_.empty() && !rolesUsable(roles_)) {
        // Roles chosen by hand that the last preview has not seen.
        valid_ = false;
        status_->setText(red.arg(tr("Choose exactly one user and one item column, and at most one rating and one "
                                    "timestamp column.")));
    } else if (!preview.problem.empty()) {
        valid_ = false;
        status_->setText(red.arg(QString::fromStdString(preview.problem).toHtmlEscaped()) +
                         (preview.resolved.fieldCount > 0 ? tr(" Give the columns their roles above.") : QString()));
    } else {
        QStringList roleNames;
        for (ColumnRole role : resolved_.columns)
            roleNames << (role == ColumnRole::Ignore ? QStringLiteral("–") : QString::fromLatin1(columnRoleName(role)));
        QString text = tr("%1, %2, %3 columns: %4. ")
                           .arg(separatorLabel(resolved_.separator),
                                resolved_.header == 1 ? tr("header line") : tr("no header"))
                           .arg(preview.resolved.fieldCount)
                           .arg(roleNames.join(QStringLiteral(", ")));
        if (std::find(resolved_.columns.begin(), resolved_.columns.end(), ColumnRole::Rating) == resolved_.columns.end())
            text += tr("No rating column: every row counts as an implicit interaction (rating 1). ");
        const bool usable = rolesUsable(resolved_.columns);
        if (!usable) {
            valid_ = false;
            status_->setText(text.toHtmlEscaped() + red.arg(tr("Choose exactly one user and one item column.")));
        } else if (preview.badRows == 0 && preview.rowProblems.empty()) {
            valid_ = true;
            status_->setText((text + tr("The first %n rows all parse.", nullptr, static_cast<int>(preview.checkedRows))).toHtmlEscaped());
        } else {
            valid_ = skipBadRows_->isChecked() && preview.checkedRows > preview.badRows;
            const QString first = preview.rowProblems.empty() ? QString() : QString::fromStdString(preview.rowProblems.front());
            const QString verdict = tr("%1 of the first %2 rows would be rejected; the first: %3")
                                        .arg(preview.badRows)
                                        .arg(preview.checkedRows)
                                        .arg(first);
            status_->setText(text.toHtmlEscaped() + red.arg(verdict.toHtmlEscaped()) +
                             (skipBadRows_->isChecked() ? tr(" They will be skipped and counted.")
                                                        : tr(" Fix the file, change the roles, or skip malformed rows.")));
        }
    }
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(valid_);
}

} // namespace reclab
