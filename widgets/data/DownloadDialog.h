// Downloads a public MovieLens archive (widgets over core/data/Downloader): pick an archive and a
// folder, watch the transfer, verification and extraction, cancel at any time. The work runs in
// a worker thread; closing the dialog mid-way cancels it and leaves nothing behind.
#pragma once

#include <QDialog>
#include <QFuture>

#include <atomic>
#include <memory>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;

namespace reclab {

struct DownloadProgress;

class DownloadDialog : public QDialog {
    Q_OBJECT
public:
    explicit DownloadDialog(const QString& targetDir, QWidget* parent = nullptr);
    ~DownloadDialog() override;

    // The default place for downloads: <app data>/datasets.
    static QString defaultTargetDir();

    bool isRunning() const { return running_; }
    QString datasetFolder() const { return folder_; }

    // For tests and scripting.
    QTreeWidget* archiveList() const { return list_; }
    QLineEdit* folderEdit() const { return folderEdit_; }
    QLineEdit* urlEdit() const { return urlEdit_; }
    QLineEdit* md5Edit() const { return md5Edit_; }
    QCheckBox* replaceBox() const { return replace_; }
    QPushButton* downloadButton() const { return downloadButton_; }
    QPushButton* cancelButton() const { return cancelButton_; }
    QProgressBar* progressBar() const { return progress_; }
    QLabel* statusLabel() const { return status_; }
    void selectArchive(const QString& name);

public slots:
    void startDownload();
    void cancelDownload();
    void reject() override;

signals:
    // A verified dataset folder is ready (downloaded now or found from an earlier download).
    void downloaded(const QString& folder);

private:
    struct Outcome {
        QString folder, error;
        bool cancelled = false, alreadyPresent = false;
        double seconds = 0;
        qulonglong bytes = 0;
    };
    void onProgress(int stage, qulonglong done, qulonglong total);
    void finished(const Outcome& outcome);
    void updateButtons();
    void markPresent(); // fills the "in folder" column

    QTreeWidget* list_;
    QLineEdit* folderEdit_;
    QLineEdit* urlEdit_;
    QLineEdit* md5Edit_;
    QCheckBox* replace_;
    QProgressBar* progress_;
    QLabel* status_;
    QPushButton* downloadButton_;
    QPushButton* cancelButton_;
    QDialogButtonBox* buttons_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    QFuture<void> future_;
    QString folder_;
    bool running_ = false;
    bool closeWhenDone_ = false;
};

} // namespace reclab
