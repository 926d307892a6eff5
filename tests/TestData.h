// Where the tests find real data: MovieLens-100K beside the checkout (../shared/datasets).
#pragma once

#include <QDir>
#include <QString>
#include <QtTest>

namespace reclab::test {

inline QString ml100kDir() { return QStringLiteral(RECLAB_ML100K_DIR); }
inline bool hasMl100k() { return QFileInfo::exists(ml100kDir() + QStringLiteral("/u.data")); }

} // namespace reclab::test

// Skips the current test when MovieLens-100K is not beside the checkout.
#define RECLAB_REQUIRE_ML100K()                                                                    \
    do {                                                                                           \
        if (!reclab::test::hasMl100k())                                                            \
            QSKIP("MovieLens-100K not found at " RECLAB_ML100K_DIR);                               \
    } while (0)
