#include "chart/Palette.h"

#include <iterator>

namespace reclab {

namespace {

const QRgb kOkabeIto[] = {0x0072b2, 0xe69f00, 0x009e73, 0xd55e00, 0x56b4e9, 0xcc79a7, 0x000000, 0xf0e442};
const QRgb kTolMuted[] = {0xcc6677, 0x332288, 0xddcc77, 0x117733, 0x88ccee, 0x882255, 0x44aa99, 0x999933, 0xaa4499};

} // namespace

QColor categoryColour(int k)
{
    if (k < 0)
        return QColor(0x9a9a9a);
    const int okabe = static_cast<int>(std::size(kOkabeIto)), tol = static_cast<int>(std::size(kTolMuted));
    if (k < okabe)
        return QColor(kOkabeIto[k]);
    if (k < okabe + tol)
        return QColor(kTolMuted[k - okabe]);
    return QColor::fromHsv((k * 137) % 360, 160, 200);
}

QColor runColour(qint64 runId)
{
    constexpr qint64 lines = 7;
    return categoryColour(static_cast<int>(((runId - 1) % lines + lines) % lines));
}

} // namespace reclab
