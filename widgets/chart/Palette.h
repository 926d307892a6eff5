// Colours for categories (runs, genres, block kinds): Okabe and Ito's eight, told apart with
// the common colour-vision deficiencies, then Paul Tol's muted set, then a hue walk.
#pragma once

#include <QColor>

namespace reclab {

// The k-th category colour (k >= 0); grey for k < 0 ("no category").
QColor categoryColour(int k);
// A run's colour, the same for a run id in every chart and session: the seven Okabe-Ito
// colours that read as lines on white (yellow left out), by id.
QColor runColour(qint64 runId);

} // namespace reclab
