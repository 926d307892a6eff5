#include "lessons/LessonPanel.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace reclab {

LessonChooser::LessonChooser(const QList<LessonSummary>& lessons, QWidget* parent)
    : QDialog(parent), list_(new QListWidget), start_(new QPushButton(tr("Start lesson")))
{
    setWindowTitle(tr("Lessons"));
    auto* intro = new QLabel(tr("Short guided scenarios on the bundled sample data. Each one trains what it needs "
                                "and then shows you where to look, one step at a time."));
    intro->setWordWrap(true);
    list_->setWordWrap(true);
    list_->setSpacing(4);
    for (const LessonSummary& l : lessons) {
        auto* item = new QListWidgetItem(QStringLiteral("%1\n%2").arg(l.title, l.summary), list_);
        item->setToolTip(l.summary);
    }
    list_->setCurrentRow(0);
    start_->setDefault(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    buttons->addButton(start_, QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(list_, &QListWidget::itemDoubleClicked, this, &QDialog::accept);
    connect(this, &QDialog::accepted, this, [this] {
        if (chosen() >= 0)
            emit lessonChosen(chosen());
    });
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(list_, 1);
    layout->addWidget(buttons);
    resize(560, 420);
}

int LessonChooser::chosen() const { return list_->currentRow(); }

LessonPanel::LessonPanel(QWidget* parent)
    : QWidget(parent), lesson_(new QLabel), title_(new QLabel), text_(new QLabel), status_(new QLabel),
      busy_(new QProgressBar), back_(new QPushButton(tr("Back"))), next_(new QPushButton(tr("Next"))),
      end_(new QPushButton(tr("End lesson")))
{
    lesson_->setStyleSheet(QStringLiteral("color: palette(mid);"));
    QFont big = title_->font();
    big.setPointSizeF(big.pointSizeF() * 1.2);
    big.setBold(true);
    title_->setFont(big);
    title_->setWordWrap(true);
    text_->setWordWrap(true);
    text_->setTextFormat(Qt::RichText);
    text_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    status_->setWordWrap(true);
    busy_->setRange(0, 0); // busy while runs train
    busy_->setMaximumHeight(8);
    busy_->setTextVisible(false);
    busy_->hide();
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(end_);
    buttons->addStretch(1);
    buttons->addWidget(back_);
    buttons->addWidget(next_);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(lesson_);
    layout->addWidget(title_);
    layout->addWidget(text_, 1);
    layout->addWidget(busy_);
    layout->addWidget(status_);
    layout->addLayout(buttons);
    connect(next_, &QPushButton::clicked, this, &LessonPanel::nextClicked);
    connect(back_, &QPushButton::clicked, this, &LessonPanel::backClicked);
    connect(end_, &QPushButton::clicked, this, &LessonPanel::endClicked);
}

void LessonPanel::showStep(const QString& lesson, int step, int steps, const QString& title, const QString& text)
{
    lesson_->setText(tr("%1 · step %2 of %3").arg(lesson).arg(step + 1).arg(steps));
    title_->setText(title);
    text_->setText(text);
    back_->setEnabled(step > 0);
    last_ = step + 1 == steps;
    next_->setText(last_ ? tr("Finish") : tr("Next"));
    setReady(QString());
}

void LessonPanel::setWaiting(const QString& status)
{
    status_->setText(status);
    busy_->show();
    next_->setEnabled(false);
}

void LessonPanel::setReady(const QString& status)
{
    status_->setText(status);
    busy_->hide();
    next_->setEnabled(true);
}

} // namespace reclab
