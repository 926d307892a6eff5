// Runs the real reclab-cli and collects its exit code and output, for the tests that drive it
// as a user would.
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QStringList>

// Sanitized builds (RECLAB_SANITIZE) run several times slower; the waits below allow for it.
#ifndef RECLAB_TEST_TIME_SCALE
#define RECLAB_TEST_TIME_SCALE 1
#endif

namespace reclab::test {

struct CliResult {
    int code = -1; // -1: it crashed or was killed
    QByteArray out, err;
};

// env: NAME=VALUE entries added to the environment.
inline CliResult runCli(const QStringList& args, int timeoutMs = 120000, const QStringList& env = {})
{
    QProcess p;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (const QString& kv : env)
        e.insert(kv.section('=', 0, 0), kv.section('=', 1));
    p.setProcessEnvironment(e);
    p.start(QStringLiteral(RECLAB_CLI_PATH), args);
    CliResult r;
    if (!p.waitForFinished(timeoutMs * RECLAB_TEST_TIME_SCALE)) {
        p.kill();
        p.waitForFinished();
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace reclab::test
