// The window's Inspect page as the engine's InspectView: the GUI tests link the engine, so the
// page is there as soon as the window is.
#pragma once

#include "MainWindow.h"
#include "inspect/InspectView.h"

inline reclab::InspectView* inspectView(const reclab::MainWindow& w)
{
    return qobject_cast<reclab::InspectView*>(w.inspectPage());
}
