// Pictures of widgets for people to look at: kept only when RECLAB_SCREENSHOT_DIR names a folder.
#pragma once

#include <QByteArray>
#include <QString>
#include <QWidget>

namespace reclab::test {

inline void saveShot(QWidget* w, const char* name)
{
    const QByteArray dir = qgetenv("RECLAB_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        w->grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + QLatin1String(name));
}

} // namespace reclab::test
