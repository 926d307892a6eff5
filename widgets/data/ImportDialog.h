// The import dialog for delimited interaction files (CSV, TSV, "::", ";", "|", space): pick the
// separator, say whether the first line is a header, give each column its role (user, item,
// rating, timestamp or ignored), and see the first rows split that way at once, with the
// verdict of the real parser on the file's first rows (the line, column and expected form of
// any row it would reject).
#pragma once

#include "data/DatasetSource.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QTableWidget;

namespace reclab {

class ImportDialog : public QDialog {
    Q_OBJECT
public:
    explicit ImportDialog(const QString& path, QWidget* parent = nullptr);

    // The options to load the file with, as the dialog shows them.
    LoadOptions options() const;
    QString path() const { return path_; }

    // For tests and scripting.
    QComboBox* separatorCombo() const { return separator_; }
    QComboBox* headerCombo() const { return header_; }
    QComboBox* idsCombo() const { return ids_; }
    QCheckBox* skipBadRowsBox() const { return skipBadRows_; }
    QTableWidget* previewTable() const { return table_; }
    QComboBox* roleCombo(int column) const;
    QLabel* statusLabel() const { return status_; }
    bool canImport() const;

private:
    void refresh();          // re-reads the head with the current choices
    void rolesChanged();     // a role combo was changed by the user
    void showPreview(const DelimitedPreview& preview); // the table, then the verdict
    void showVerdict();                                // status line and Import button
    DelimitedFormat currentFormat() const;

    QString path_;
    QComboBox* separator_;
    QComboBox* header_;
    QComboBox* ids_; // IdKinds of the user and item columns
    QCheckBox* skipBadRows_;
    QTableWidget* table_;
    QLabel* status_;
    QDialogButtonBox* buttons_;
    std::vector<ColumnRole> roles_; // chosen by hand; empty: as detected
    DelimitedFormat resolved_;      // the last preview's resolved format
    DelimitedPreview preview_;      // the last preview
    bool valid_ = false;
    bool updating_ = false;
};

} // namespace reclab
