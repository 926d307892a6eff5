// Turning item text into words: lower case, runs of letters and digits (an apostrophe inside a
// word is dropped, so "don't" is one word), punctuation and symbols as separators, and an
// English stop-word list. Letters outside ASCII stay in their word ("amélie"); the capitals of
// Latin-1 are lowered as ASCII ones are.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reclab {

// Appends the words of text to out (each lower case, none empty).
void tokenizeInto(std::string_view text, std::vector<std::string>& out);
std::vector<std::string> tokenize(std::string_view text);

// Whether a lower-case word is on the stop-word list (articles, pronouns, auxiliaries,
// prepositions and conjunctions; with apostrophes dropped, "dont" and "its" as well).
bool isStopWord(std::string_view word);
size_t stopWordCount();

// A title without its trailing year: "Toy Story (1995)" -> "Toy Story".
std::string_view titleWithoutYear(std::string_view title);

// One token for a category name: its words joined by '-' ("Sci-Fi" -> "sci-fi",
// "Children's" -> "childrens"), so a genre stays one word apart from the title's words.
std::string categoryToken(std::string_view name);

} // namespace reclab
