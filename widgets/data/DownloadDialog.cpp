#include "data/DownloadDialog.h"
#include "WorkerPool.h"

#include "data/Downloader.h"
#include "util/Error.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace reclab {

namespace {

QString megabytes(qulonglong bytes) { return QString::number(double(bytes) / 1e6, 'f', 1) + QStringLiteral(" MB"); }

} // namespace

QString DownloadDialog::defaultTargetDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/datasets");
}

DownloadDialog::DownloadDialog(const QString& targetDir, QWidget* parent)
    : QDialog(parent), list_(new QTreeWidget(this)), folderEdit_(new QLineEdit(targetDir, this)),
      urlEdit_(new QLineEdit(this)), md5Edit_(new QLineEdit(this)),
      replace_(new QCheckBox(tr("Replace the folder if it exists"), this)), progress_(new QProgressBar(this)),
      status_(new QLabel(this)), downloadButton_(new QPushButton(tr("Download"), this)),
      cancelButton_(new QPushButton(tr("Cancel download"), this)),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Close, this))
{
    joinPoolThreadsAtExit();
    setWindowTitle(tr("Download a MovieLens dataset"));
    list_->setColumnCount(4);
    list_->setHeaderLabels({tr("Archive"), tr("Size"), tr("In folder"), tr("Contents")});
    list_->setRootIsDecorated(false);
    for (const ArchiveSpec& a : movieLensArchives()) {
        auto* item = new QTreeWidgetItem(list_, {QString::fromStdString(a.name), megabytes(a.approxBytes), QString(),
                                                 QString::fromStdString(a.description)});
        item->setData(0, Qt::UserRole, QString::fromStdString(a.name));
        item->setToolTip(3, QString::fromStdString(a.description + "\n" + a.url +
                                                   (a.md5.empty() ? "\nMD5 published beside the archive"
                                                                  : "\nMD5 " + a.md5)));
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    }
    list_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    list_->header()->setStretchLastSection(true);
    list_->setCurrentItem(list_->topLevelItem(0));

    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Download into"), folderEdit_->text());
        if (!dir.isEmpty())
            folderEdit_->setText(dir);
    });
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(folderEdit_, 1);
    folderRow->addWidget(browse);
    urlEdit_->setPlaceholderText(tr("files.grouplens.org (default); or a mirror, or a file:// path to a downloaded zip"));
    md5Edit_->setPlaceholderText(tr("the digest GroupLens publishes (default)"));

    auto* advanced = new QGroupBox(tr("Source"), this);
    auto* advancedForm = new QFormLayout(advanced);
    advancedForm->addRow(tr("URL"), urlEdit_);
    advancedForm->addRow(tr("Expected MD5"), md5Edit_);

    auto* form = new QFormLayout;
    form->addRow(tr("Folder"), folderRow);
    form->addRow(QString(), replace_);

    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->setTextVisible(true);
    progress_->setFormat(tr("idle"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_->setText(tr("The archive is checked against its MD5 digest before anything is extracted; entries that "
                        "would land outside the folder are refused."));

    auto* actionRow = new QHBoxLayout;
    actionRow->addWidget(progress_, 1);
    actionRow->addWidget(downloadButton_);
    actionRow->addWidget(cancelButton_);
    downloadButton_->setDefault(true);
    connect(downloadButton_, &QPushButton::clicked, this, &DownloadDialog::startDownload);
    connect(cancelButton_, &QPushButton::clicked, this, &DownloadDialog::cancelDownload);
    connect(buttons_, &QDialogButtonBox::rejected, this, &DownloadDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(list_, 1);
    layout->addLayout(form);
    layout->addWidget(advanced);
    layout->addLayout(actionRow);
    layout->addWidget(status_);
    layout->addWidget(buttons_);

    connect(folderEdit_, &QLineEdit::textChanged, this, &DownloadDialog::markPresent);
    markPresent();
    updateButtons();
    resize(820, 460);
}

DownloadDialog::~DownloadDialog()
{
    // The worker reports to this object: it must be done before the object goes.
    if (cancel_)
        *cancel_ = true;
    future_.waitForFinished();
}

void DownloadDialog::markPresent()
{
    for (int i = 0; i < list_->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = list_->topLevelItem(i);
        const QString dir = folderEdit_->text() + QLatin1Char('/') + item->data(0, Qt::UserRole).toString();
        item->setText(2, QFileInfo::exists(dir + QStringLiteral("/.reclab-download.json")) ? tr("yes") : QString());
    }
}

void DownloadDialog::selectArchive(const QString& name)
{
    for (int i = 0; i < list_->topLevelItemCount(); ++i)
        if (list_->topLevelItem(i)->data(0, Qt::UserRole).toString() == name)
            list_->setCurrentItem(list_->topLevelItem(i));
}

void DownloadDialog::updateButtons()
{
    downloadButton_->setEnabled(!running_);
    cancelButton_->setEnabled(running_);
    list_->setEnabled(!running_);
    folderEdit_->setEnabled(!running_);
    urlEdit_->setEnabled(!running_);
    md5Edit_->setEnabled(!running_);
    replace_->setEnabled(!running_);
}

void DownloadDialog::startDownload()
{
    if (running_)
        return;
    QTreeWidgetItem* item = list_->currentItem();
    const QString folder = folderEdit_->text().trimmed();
    if (!item || folder.isEmpty()) {
        status_->setText(tr("<span style='color:#b00020'>Choose an archive and a folder.</span>"));
        return;
    }
    DownloadRequest request;
    request.name = item->data(0, Qt::UserRole).toString().toStdString();
    request.targetDir = folder.toStdString();
    request.url = urlEdit_->text().trimmed().toStdString();
    request.md5 = md5Edit_->text().trimmed().toStdString();
    request.force = replace_->isChecked();

    cancel_ = std::make_shared<std::atomic<bool>>(false);
    running_ = true;
    folder_.clear();
    updateButtons();
    progress_->setValue(0);
    progress_->setFormat(tr("connecting"));
    status_->setText(tr("Fetching %1…").arg(QString::fromStdString(request.url.empty() ? findArchive(request.name)->url
                                                                                         : request.url)));
    auto cancel = cancel_;
    future_ = QtConcurrent::run([this, request, cancel] {
        Outcome outcome;
        try {
            const DownloadResult r = downloadArchive(
                request,
                [this](const DownloadProgress& p) {
                    QMetaObject::invokeMethod(
                        this, [this, p] { onProgress(int(p.stage), p.done, p.total); }, Qt::QueuedConnection);
                },
                cancel.get());
            outcome.folder = QString::fromStdString(r.datasetDir.string());
            outcome.alreadyPresent = r.alreadyPresent;
            outcome.seconds = r.seconds;
            outcome.bytes = r.archiveBytes;
        } catch (const CancelledError&) {
            outcome.cancelled = true;
        } catch (const std::exception& e) {
            outcome.error = QString::fromUtf8(e.what());
        }
        QMetaObject::invokeMethod(this, [this, outcome] { finished(outcome); }, Qt::QueuedConnection);
    });
}

void DownloadDialog::cancelDownload()
{
    if (!running_ || !cancel_)
        return;
    *cancel_ = true;
    cancelButton_->setEnabled(false);
    progress_->setFormat(tr("cancelling"));
}

void DownloadDialog::reject()
{
    if (running_) {
        closeWhenDone_ = true;
        cancelDownload();
        return;
    }
    QDialog::reject();
}

void DownloadDialog::onProgress(int stage, qulonglong done, qulonglong total)
{
    if (!running_)
        return;
    const auto s = static_cast<DownloadStage>(stage);
    const QString name = QString::fromLatin1(downloadStageName(s));
    progress_->setValue(total ? int(1000 * done / total) : 0);
    if (s == DownloadStage::Downloading)
        progress_->setFormat(tr("%1: %2 of %3").arg(name, megabytes(done), total ? megabytes(total) : tr("?")));
    else
        progress_->setFormat(tr("%1 %p%").arg(name));
}

void DownloadDialog::finished(const Outcome& outcome)
{
    running_ = false;
    updateButtons();
    if (closeWhenDone_) {
        QDialog::reject();
        return;
    }
    if (outcome.cancelled) {
        progress_->setValue(0);
        progress_->setFormat(tr("cancelled"));
        status_->setText(tr("Cancelled; nothing was kept in %1.").arg(folderEdit_->text()));
        return;
    }
    if (!outcome.error.isEmpty()) {
        progress_->setValue(0);
        progress_->setFormat(tr("failed"));
        status_->setText(QStringLiteral("<span style='color:#b00020'>%1</span>").arg(outcome.error.toHtmlEscaped()));
        return;
    }
    folder_ = outcome.folder;
    progress_->setValue(1000);
    progress_->setFormat(tr("done"));
    status_->setText(outcome.alreadyPresent
                         ? tr("%1 was downloaded and verified before.").arg(folder_)
                         : tr("%1: %2 in %3 s, MD5 verified.").arg(folder_, megabytes(outcome.bytes)).arg(outcome.seconds, 0, 'f', 1));
    markPresent();
    emit downloaded(folder_);
}

} // namespace reclab
