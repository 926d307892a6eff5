#include "inspect/WordBars.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace reclab {

namespace {
constexpr int kRow = 18, kHead = 22, kLabel = 110, kValue = 64;
}

WordBars::WordBars(QWidget* parent) : QWidget(parent) { setMinimumHeight(kHead); }

void WordBars::setEffects(const QString& title, const QStringList& words, const QVector<double>& effects,
                          const QString& measure)
{
    title_ = title;
    words_ = words;
    effects_ = effects;
    measure_ = measure;
    setMinimumHeight(kHead + kRow * static_cast<int>(words_.size()) + 4);
    updateGeometry();
    update();
}

void WordBars::clear() { setEffects({}, {}, {}, {}); }

QSize WordBars::sizeHint() const { return {420, kHead + kRow * static_cast<int>(std::max<qsizetype>(words_.size(), 1)) + 4}; }

void WordBars::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(palette().color(QPalette::WindowText));
    if (words_.isEmpty()) {
        p.drawText(rect().adjusted(4, 2, -4, -2), Qt::AlignLeft | Qt::AlignTop, title_);
        return;
    }
    p.drawText(QRect(4, 2, width() - 8, kHead - 4), Qt::AlignLeft | Qt::AlignVCenter,
               tr("%1 — %2").arg(title_, measure_));
    double largest = 0;
    for (const double e : effects_)
        largest = std::max(largest, std::abs(e));
    const bool negatives = std::any_of(effects_.begin(), effects_.end(), [](double e) { return e < 0; });
    const int barArea = std::max(40, width() - kLabel - kValue - 12);
    const int zero = kLabel + 8 + (negatives ? barArea / 3 : 0);
    const int right = negatives ? barArea - barArea / 3 : barArea;
    const int left = negatives ? barArea / 3 : 0;
    for (int k = 0; k < words_.size(); ++k) {
        const int y = kHead + k * kRow;
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(QRect(4, y, kLabel, kRow), Qt::AlignRight | Qt::AlignVCenter, words_[k]);
        const double e = effects_[k];
        const double share = largest > 0 ? std::abs(e) / largest : 0;
        const int length = static_cast<int>(std::round(share * (e >= 0 ? right : left)));
        const QRect bar = e >= 0 ? QRect(zero, y + 3, std::max(length, 1), kRow - 6)
                                 : QRect(zero - length, y + 3, std::max(length, 1), kRow - 6);
        p.fillRect(bar, e >= 0 ? QColor(0x3b7dd8) : QColor(0xd8453b));
        p.drawText(QRect(kLabel + 8 + barArea + 4, y, kValue, kRow), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::number(e, 'f', 3));
    }
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.drawLine(zero, kHead, zero, kHead + kRow * static_cast<int>(words_.size()));
}

} // namespace reclab
