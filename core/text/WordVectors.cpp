#include "text/WordVectors.h"

#include "util/Error.h"
#include "util/Files.h"
#include "util/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <cstdio>
#include <sstream>

namespace reclab {

const char* vectorsFormatName(VectorsFormat f)
{
    switch (f) {
    case VectorsFormat::Word2VecText: return "word2vec text";
    case VectorsFormat::Word2VecBinary: return "word2vec binary";
    case VectorsFormat::GloVe: return "GloVe text";
    }
    return "word2vec text";
}

const float* WordVectors::find(const std::string& word) const
{
    const auto it = index_.find(word);
    return it == index_.end() ? nullptr : row(static_cast<size_t>(it->second));
}

void WordVectors::add(std::string word, const float* v)
{
    if (index_.count(word))
        return; // the first row of a repeated word wins, as word2vec's readers do
    index_.emplace(word, static_cast<int32_t>(words.size()));
    words.push_back(std::move(word));
    values.insert(values.end(), v, v + dim);
}

namespace {

// Splits a text row into the word and its numbers; false when a number does not parse.
bool parseRow(const std::string& line, std::string& word, std::vector<float>& numbers, std::string& bad)
{
    numbers.clear();
    const char* p = line.c_str();
    const char* end = p + line.size();
    while (p < end && *p == ' ')
        ++p;
    const char* w = p;
    while (p < end && *p != ' ' && *p != '\t')
        ++p;
    word.assign(w, p);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            ++p;
        if (p >= end)
            break;
        char* stop = nullptr;
        const float v = std::strtof(p, &stop);
        if (stop == p || !std::isfinite(v) || (stop < end && *stop != ' ' && *stop != '\t' && *stop != '\r')) {
            const char* e = p;
            while (e < end && *e != ' ' && *e != '\t')
                ++e;
            bad.assign(p, std::min<size_t>(static_cast<size_t>(e - p), 40));
            return false;
        }
        numbers.push_back(v);
        p = stop;
    }
    return true;
}

// "count dimension" of a word2vec header; false when the line is not one.
bool parseHeader(const std::string& line, long long& count, long long& dim)
{
    std::istringstream in(line);
    std::string rest;
    return static_cast<bool>(in >> count >> dim) && !(in >> rest) && count >= 0 && dim > 0 && dim <= 100000;
}

[[noreturn]] void notVectors(const std::string& path, long line, const std::string& what)
{
    throw DataError(path, line, "", "not a word vectors file (" + what +
                                        "): expected a 'count dimension' header then 'word v1 v2 ...' rows (word2vec, fastText .vec) "
                                        "or 'word v1 v2 ...' rows alone (GloVe)");
}

void readBinary(std::ifstream& in, const std::string& path, long long count, WordVectors& out,
                const std::unordered_set<std::string>* wanted)
{
    std::vector<float> v(static_cast<size_t>(out.dim));
    for (long long k = 0; k < count; ++k) {
        std::string word;
        int c = 0;
        while ((c = in.get()) != EOF && c != ' ') {
            if (c != '\n')
                word.push_back(static_cast<char>(c));
            if (word.size() > 1000)
                throw DataError(path, 0, "word " + std::to_string(k + 1), "a word longer than 1000 bytes: the binary rows are damaged");
        }
        if (!in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float))))
            throw DataError(path, 0, "word " + std::to_string(k + 1),
                            "the file ends inside the vectors: the header promised " + std::to_string(count) + " words");
        for (const float x : v)
            if (!std::isfinite(x))
                throw DataError(path, 0, "word " + std::to_string(k + 1) + " (" + word + ")", "a value that is not a finite number");
        if (!wanted || wanted->count(word))
            out.add(std::move(word), v.data());
        else
            ++out.skippedWords;
    }
}

} // namespace

WordVectors readWordVectors(const std::string& path, const std::unordered_set<std::string>* wanted, VectorsFormat* format)
{
    requireRegularFile(path);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw DataError(path, 0, "", "cannot be opened");
    WordVectors out;
    out.source = path;
    std::string line, word;
    std::vector<float> numbers;
    if (!std::getline(in, line))
        notVectors(path, 1, "the file is empty");
    long long count = -1, dim = 0;
    VectorsFormat kind = VectorsFormat::GloVe;
    long number = 1;
    if (parseHeader(line, count, dim)) {
        out.dim = static_cast<int>(dim);
        // Binary when the first row after the header is not a line of text.
        const std::streampos rows = in.tellg();
        // Room for a text row of long numbers ("-0.123456789e-05" and a space: under 40 bytes each).
        std::string probe(static_cast<size_t>(dim * 40 + 4096), '\0');
        in.read(probe.data(), static_cast<std::streamsize>(probe.size()));
        probe.resize(static_cast<size_t>(in.gcount()));
        const size_t nl = probe.find('\n');
        std::string bad;
        const bool text = (nl != std::string::npos || in.eof()) && parseRow(probe.substr(0, nl), word, numbers, bad) &&
                          static_cast<long long>(numbers.size()) == dim;
        in.clear();
        in.seekg(rows);
        kind = text || count == 0 ? VectorsFormat::Word2VecText : VectorsFormat::Word2VecBinary;
        if (kind == VectorsFormat::Word2VecBinary)
            readBinary(in, path, count, out, wanted);
        ++number;
    } else {
        std::string bad;
        if (!parseRow(line, word, numbers, bad) || numbers.empty())
            notVectors(path, 1, bad.empty() ? "line 1 holds no numbers" : "line 1 has '" + bad + "' where a number belongs");
        out.dim = static_cast<int>(numbers.size());
        if (!wanted || wanted->count(word))
            out.add(word, numbers.data());
        else
            ++out.skippedWords;
        ++number;
    }
    if (kind != VectorsFormat::Word2VecBinary) {
        long rowsRead = kind == VectorsFormat::GloVe ? 1 : 0;
        for (; std::getline(in, line); ++number) {
            if (line.empty() || line == "\r")
                continue;
            std::string bad;
            if (!parseRow(line, word, numbers, bad))
                throw DataError(path, number, "vector", "'" + bad + "' is not a number");
            if (static_cast<int>(numbers.size()) != out.dim)
                throw DataError(path, number, "vector",
                                "expected " + std::to_string(out.dim) + " numbers as on the first row, found " + std::to_string(numbers.size()));
            ++rowsRead;
            if (!wanted || wanted->count(word))
                out.add(word, numbers.data());
            else
                ++out.skippedWords;
        }
        if (count >= 0 && rowsRead < count)
            throw DataError(path, number, "", "the file ends after " + std::to_string(rowsRead) + " of the " + std::to_string(count) +
                                                  " words its header promised (truncated?)");
    }
    if (format)
        *format = kind;
    return out;
}

void writeWordVectors(const WordVectors& v, const std::string& path)
{
    AtomicFileWriter file(path);
    file.write(std::to_string(v.size()) + ' ' + std::to_string(v.dim) + '\n');
    std::string row;
    char buf[32];
    for (size_t k = 0; k < v.size(); ++k) {
        row = v.words[k];
        for (int d = 0; d < v.dim; ++d) {
            std::snprintf(buf, sizeof buf, " %.6g", static_cast<double>(v.row(k)[d]));
            row += buf;
        }
        row += '\n';
        file.write(row);
    }
    file.commit();
}

VocabularyVectors alignVectors(const WordVectors& vectors, const Vocabulary& vocabulary, uint64_t seed)
{
    VocabularyVectors out;
    out.dim = vectors.dim;
    out.source = vectors.source;
    const auto d = static_cast<size_t>(vectors.dim);
    out.rows.assign(vocabulary.size() * d, 0.f);
    out.known.assign(vocabulary.size(), 0);
    // Unknown rows start at the scale of the known ones, so neither side dominates a mean.
    double sq = 0;
    for (const float x : vectors.values)
        sq += static_cast<double>(x) * x;
    const double scale = vectors.values.empty() ? 0.1 : std::sqrt(sq / static_cast<double>(vectors.values.size()));
    Random rng(seed);
    for (size_t w = 0; w < vocabulary.size(); ++w) {
        float* row = out.rows.data() + w * d;
        if (const float* v = vectors.find(vocabulary.word(static_cast<int32_t>(w)))) {
            std::copy(v, v + d, row);
            out.known[w] = 1;
        } else {
            for (size_t k = 0; k < d; ++k)
                row[k] = static_cast<float>(rng.normal() * scale);
            ++out.unknown;
        }
    }
    return out;
}

std::vector<std::pair<std::string, float>> nearestWords(const WordVectors& vectors, const std::string& word, int k)
{
    const float* q = vectors.find(word);
    if (!q)
        return {};
    const auto d = static_cast<size_t>(vectors.dim);
    auto norm = [d](const float* v) {
        double s = 0;
        for (size_t j = 0; j < d; ++j)
            s += static_cast<double>(v[j]) * v[j];
        return std::sqrt(s);
    };
    const double qn = norm(q);
    std::vector<std::pair<std::string, float>> all;
    for (size_t w = 0; w < vectors.size(); ++w) {
        const float* v = vectors.row(w);
        if (v == q)
            continue;
        double dot = 0;
        for (size_t j = 0; j < d; ++j)
            dot += static_cast<double>(q[j]) * v[j];
        const double n = qn * norm(v);
        all.emplace_back(vectors.words[w], n > 0 ? static_cast<float>(dot / n) : 0.f);
    }
    const size_t n = std::min(all.size(), static_cast<size_t>(std::max(0, k)));
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      [](const auto& a, const auto& b) { return a.second > b.second; });
    all.resize(n);
    return all;
}

} // namespace reclab
