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

// One of ML-100K's five predefined 80/20 splits (uK.base / uK.test, K = 1..5, whose test sets
// are disjoint), as rows of ds, a dataset loaded from the same folder. Throws ConfigError for
// a fold outside 1..5 and DataError for a missing or malformed file or an unknown id.
struct RatingFold {
    InteractionTable train, test;
};
RatingFold loadMovieLens100kFold(const std::string& dir, const Dataset& ds, int fold);

} // namespace reclab
