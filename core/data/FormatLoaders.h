// Loaders for the public dataset layouts RecLab recognises, each built on loadDelimited for the
// interactions plus the format's side files. All throw DataError naming file, line and field.
#pragma once

#include "data/Dataset.h"
#include "data/DelimitedLoader.h"

#include <string>

namespace reclab {

// MovieLens 1M and 10M: "::"-separated ratings.dat, movies.dat (Latin-1 titles, '|' genres),
// users.dat (1M: gender, age group, occupation) and tags.dat (10M).
Dataset loadMovieLensDat(const std::string& dir, const DelimitedFormat& options);

// MovieLens 20M, 25M, latest and latest-small: ratings.csv with a header, movies.csv with quoted
// titles and '|' genres, tags.csv.
Dataset loadMovieLensCsv(const std::string& dir, const DelimitedFormat& options);

// RecBole atomic files: NAME.inter with "field:type" headers and optional NAME.item / NAME.user
// beside it (token_seq genres are space-separated).
Dataset loadRecBoleAtomic(const std::string& interFile, const DelimitedFormat& options);

// Amazon reviews as JSON lines (reviewerID, asin, overall, unixReviewTime), with titles and
// categories from a meta file (asin, title, category or categories) when metaFile is not empty.
Dataset loadAmazonJson(const std::string& file, const std::string& metaFile, bool skipBadRows);

// Amazon ratings-only CSV: user,item,rating,timestamp without a header.
Dataset loadAmazonRatingsCsv(const std::string& file, const DelimitedFormat& options);

} // namespace reclab
