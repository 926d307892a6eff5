// Reads the MovieLens-100K folder: u.data (ratings), u.item (titles, dates, 19 genre flags),
// u.user (demographics) and u.genre (genre names). Titles are Latin-1 and become UTF-8.
#pragma once

#include "data/Dataset.h"

#include <string>

namespace reclab {

// True when dir holds the files of MovieLens-100K.
bool looksLikeMovieLens100k(const std::string& dir);

// Throws DataError naming file, line and field on any malformed row; never returns a
// partially read dataset.
Dataset loadMovieLens100k(const std::string& dir);

} // namespace reclab
