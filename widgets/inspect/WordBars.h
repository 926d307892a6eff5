// A bar per word: how much each word of an item's text moved a user's score (TextExplain.h
// wordEffects), positive to the right in blue, negative to the left in red, largest first.
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

namespace reclab {

class WordBars : public QWidget {
    Q_OBJECT
public:
    explicit WordBars(QWidget* parent = nullptr);
    // title: what is explained; measure: how the effects were measured.
    void setEffects(const QString& title, const QStringList& words, const QVector<double>& effects,
                    const QString& measure);
    void clear();
    const QString& title() const { return title_; }
    const QStringList& words() const { return words_; }
    const QVector<double>& effects() const { return effects_; }
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QString title_, measure_;
    QStringList words_;
    QVector<double> effects_;
};

} // namespace reclab
