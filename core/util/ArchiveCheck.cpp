#include "util/ArchiveCheck.h"

#include "util/Error.h"
#include "util/Files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace reclab {

namespace {

uint32_t le16(const unsigned char* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t le32(const unsigned char* p) { return le16(p) | (le16(p + 2) << 16); }
uint64_t le64(const unsigned char* p) { return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32); }

// CRC-32 (IEEE, as zip uses), four bytes at a time.
class Crc32 {
public:
    Crc32()
    {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table_[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; ++i)
            for (int t = 1; t < 4; ++t)
                table_[t][i] = (table_[t - 1][i] >> 8) ^ table_[0][table_[t - 1][i] & 0xFF];
    }
    uint32_t update(uint32_t crc, const unsigned char* p, size_t n) const
    {
        crc = ~crc;
        for (; n >= 4; n -= 4, p += 4) {
            crc ^= le32(p);
            crc = table_[3][crc & 0xFF] ^ table_[2][(crc >> 8) & 0xFF] ^ table_[1][(crc >> 16) & 0xFF] ^ table_[0][crc >> 24];
        }
        for (; n > 0; --n, ++p)
            crc = table_[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

private:
    std::array<std::array<uint32_t, 256>, 4> table_{};
};

bool isIdentifier(std::string_view s)
{
    if (s.empty() || s.size() > 256 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
        return false;
    for (const char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
            return false;
    return true;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Tensor, int, float, str, bool, NoneType, __torch__.a.b, Optional[T], List[T], Dict[T, T],
// Tuple[T, ...], with a bounded depth.
bool isType(std::string_view& s, int depth = 0)
{
    if (depth > 8)
        return false;
    for (const char* simple : {"Tensor", "int", "float", "str", "bool", "NoneType", "complex"}) {
        const size_t n = std::strlen(simple);
        if (startsWith(s, simple) && (s.size() == n || !(std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_'))) {
            s.remove_prefix(n);
            return true;
        }
    }
    if (startsWith(s, "__torch__")) {
        s.remove_prefix(9);
        while (!s.empty() && s[0] == '.') {
            s.remove_prefix(1);
            size_t n = 0;
            while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_'))
                ++n;
            if (!isIdentifier(s.substr(0, n)))
                return false;
            s.remove_prefix(n);
        }
        return true;
    }
    for (const char* generic : {"Optional[", "List[", "Dict[", "Tuple["}) {
        if (!startsWith(s, generic))
            continue;
        s.remove_prefix(std::strlen(generic));
        while (true) {
            if (!isType(s, depth + 1))
                return false;
            if (startsWith(s, ", ")) {
                s.remove_prefix(2);
                continue;
            }
            if (startsWith(s, "]")) {
                s.remove_prefix(1);
                return true;
            }
            return false;
        }
    }
    return false;
}

bool isWholeType(std::string_view s) { return isType(s) && s.empty(); }

// `["a", "b", ]`: names as LibTorch lists them (a name may hold dots: "optimizer.state1").
bool isNameList(std::string_view s)
{
    if (!startsWith(s, "["))
        return false;
    s.remove_prefix(1);
    while (startsWith(s, "\"")) {
        const size_t close = s.find('"', 1);
        if (close == std::string_view::npos)
            return false;
        for (const char c : s.substr(1, close - 1))
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
                return false;
        s.remove_prefix(close + 1);
        if (!startsWith(s, ", "))
            return false;
        s.remove_prefix(2);
    }
    return s == "]";
}

bool isSourceLine(std::string_view line)
{
    if (line.empty())
        return true;
    if (!startsWith(line, "  "))
        return false;
    line.remove_prefix(2);
    for (const char* list : {"__parameters__ = ", "__buffers__ = "})
        if (startsWith(line, list))
            return isNameList(line.substr(std::strlen(list)));
    if (line == "__annotations__ = []")
        return true;
    if (startsWith(line, "__annotations__[\"")) {
        const size_t close = line.find("\"] = ");
        if (close == std::string_view::npos)
            return false;
        for (const char c : line.substr(17, close - 17))
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
                return false;
        return isWholeType(line.substr(close + 5));
    }
    const size_t colon = line.find(" : ");
    return colon != std::string_view::npos && isIdentifier(line.substr(0, colon)) && isWholeType(line.substr(colon + 3));
}

} // namespace

void refuseArchive(const ReadableFile& file, const std::string& what, const std::string& why)
{
    throw DataError(file.path(), 0, "", "not " + what + " (" + why + ")");
}

uint32_t crc32Update(uint32_t crc, const void* bytes, size_t size)
{
    static const Crc32 table;
    return table.update(crc, static_cast<const unsigned char*>(bytes), size);
}

bool isCodeRecord(const ZipRecord& r)
{
    return r.name.find("/code/") != std::string::npos && r.name.size() > 3 && r.name.compare(r.name.size() - 3, 3, ".py") == 0;
}

std::vector<ZipRecord> readZipDirectory(const ReadableFile& file, const std::string& what)
{
    auto refuse = [&](const std::string& why) { refuseArchive(file, what, why); };
    const size_t size = file.size();
    // The end of central directory record: within the last 64 KiB + 22 bytes.
    const size_t tail = std::min<size_t>(size, (1 << 16) + 22);
    std::vector<unsigned char> end(tail);
    if (file.read(end.data(), tail, size - tail) != tail || tail < 22)
        refuse("not a zip archive");
    size_t at = tail - 22 + 1;
    do {
        --at;
        if (le32(&end[at]) == 0x06054b50u)
            break;
    } while (at > 0);
    if (le32(&end[at]) != 0x06054b50u)
        refuse("not a zip archive: no end of central directory");
    uint64_t entries = le16(&end[at + 10]);
    uint64_t dirSize = le32(&end[at + 12]);
    uint64_t dirOffset = le32(&end[at + 16]);
    if (at >= 20 && le32(&end[at - 20]) == 0x07064b50u) { // zip64 locator
        const uint64_t zip64End = le64(&end[at - 12]);
        unsigned char z[56];
        if (zip64End > size || file.read(z, sizeof z, zip64End) != sizeof z || le32(z) != 0x06064b50u)
            refuse("a damaged zip64 directory");
        entries = le64(z + 32);
        dirSize = le64(z + 40);
        dirOffset = le64(z + 48);
    }
    if (dirOffset > size || dirSize > size - dirOffset || entries > dirSize / 46 || dirSize > (uint64_t(64) << 20))
        refuse("a damaged zip directory");
    std::vector<unsigned char> dir(static_cast<size_t>(dirSize));
    if (file.read(dir.data(), dir.size(), dirOffset) != dir.size())
        refuse("a truncated zip directory");
    std::vector<ZipRecord> records;
    size_t p = 0;
    for (uint64_t k = 0; k < entries; ++k) {
        if (p + 46 > dir.size() || le32(&dir[p]) != 0x02014b50u)
            refuse("a damaged zip directory entry");
        const unsigned char* e = &dir[p];
        const uint32_t method = le16(e + 10);
        ZipRecord r;
        r.crc = le32(e + 16);
        uint64_t compressed = le32(e + 20);
        r.size = le32(e + 24);
        const size_t nameLength = le16(e + 28), extraLength = le16(e + 30), commentLength = le16(e + 32);
        uint64_t offset = le32(e + 42);
        if (p + 46 + nameLength + extraLength + commentLength > dir.size())
            refuse("a damaged zip directory entry");
        r.name.assign(reinterpret_cast<const char*>(e + 46), nameLength);
        // The zip64 extra field holds the sizes and offset that did not fit 32 bits, in order.
        for (size_t x = 0; x + 4 <= extraLength;) {
            const unsigned char* f = e + 46 + nameLength + x;
            const size_t fieldSize = le16(f + 2);
            if (x + 4 + fieldSize > extraLength)
                break;
            if (le16(f) == 1) {
                size_t q = 4;
                for (uint64_t* value : {&r.size, &compressed, &offset})
                    if (*value == 0xFFFFFFFFu && q + 8 <= 4 + fieldSize) {
                        *value = le64(f + q);
                        q += 8;
                    }
            }
            x += 4 + fieldSize;
        }
        if ((method != 0 && method != 8) || (method == 0 && compressed != r.size))
            refuse("record " + r.name + " is stored in a way LibTorch does not write");
        r.compressed = method == 8;
        r.compressedSize = compressed;
        for (const char c : r.name)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-'))
                refuse("a record name holds an unexpected character");
        const size_t top = r.name.find('/');
        if (top == 0 || top == std::string::npos || r.name.find("..") != std::string::npos ||
            (!records.empty() && r.name.compare(0, top + 1, records.front().name, 0, top + 1) != 0))
            refuse("record " + r.name + " is not under the archive's one top folder");
        unsigned char local[30];
        if (offset > size || file.read(local, sizeof local, offset) != sizeof local || le32(local) != 0x04034b50u)
            refuse("record " + r.name + " is damaged");
        // The name in the local header must be the directory's (neither is covered by a CRC).
        std::string localName(le16(local + 26), '\0');
        if (localName.size() != r.name.size() || file.read(localName.data(), localName.size(), offset + 30) != localName.size() ||
            localName != r.name)
            refuse("record " + r.name + " is damaged: its names differ");
        r.data = offset + 30 + le16(local + 26) + le16(local + 28);
        if (r.data > size || compressed > size - r.data)
            refuse("record " + r.name + " is truncated");
        if (isCodeRecord(r) && r.size > (1 << 20))
            refuse("record " + r.name + " is too large to be a module's source");
        records.push_back(std::move(r));
        p += 46 + nameLength + extraLength + commentLength;
    }
    return records;
}

bool isSavedModuleSource(const std::string& text, ModuleSource* out)
{
    std::string_view rest(text);
    bool header = false;
    while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (startsWith(line, "class ")) {
            // class Name(Base):
            const size_t open = line.find('('), close = line.find("):");
            if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
                close + 2 != line.size() || !isIdentifier(line.substr(6, open - 6)))
                return false;
            std::string_view base = line.substr(open + 1, close - open - 1);
            if (!isWholeType(base) && !isIdentifier(base))
                return false;
            header = true;
            if (out)
                out->classes.emplace_back(line.substr(6, open - 6));
        } else if (!header || !isSourceLine(line)) {
            return false;
        }
    }
    if (out && header) // the grammar above allows __torch__ only as a whole qualified type name
        for (size_t at = text.find("__torch__"); at != std::string::npos; at = text.find("__torch__", at + 1)) {
            size_t end = at;
            while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' || text[end] == '.'))
                ++end;
            out->references.push_back(text.substr(at, end - at));
            at = end - 1;
        }
    return header;
}

void checkModuleReferences(const ReadableFile& file, const std::string& what,
                           const std::vector<std::pair<std::string, ModuleSource>>& sources)
{
    for (const auto& [record, source] : sources)
        for (const std::string& type : source.references) {
            // __torch__.a.b.Name is class Name in code/__torch__/a/b.py.
            const size_t dot = type.rfind('.');
            std::string path = "code/" + type.substr(0, dot) + ".py";
            for (size_t k = 5; k < path.size() - 3; ++k)
                if (path[k] == '.')
                    path[k] = '/';
            const std::string name = type.substr(dot + 1);
            const auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& s) { return s.first == path; });
            if (dot == std::string::npos || it == sources.end() ||
                std::find(it->second.classes.begin(), it->second.classes.end(), name) == it->second.classes.end())
                refuseArchive(file, what, record + " refers to " + type + ", which the archive does not define");
        }
}

void checkStoredRecord(const ReadableFile& file, const ZipRecord& r, const std::string& what, std::string* source)
{
    std::vector<unsigned char> buffer(static_cast<size_t>(std::min<uint64_t>(r.size, 1 << 20)));
    uint32_t crc = 0;
    for (uint64_t done = 0; done < r.size;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), r.size - done));
        if (file.read(buffer.data(), n, r.data + done) != n)
            refuseArchive(file, what, "record " + r.name + " is truncated");
        crc = crc32Update(crc, buffer.data(), n);
        if (source)
            source->append(reinterpret_cast<const char*>(buffer.data()), n);
        done += n;
    }
    if (crc != r.crc)
        refuseArchive(file, what, "record " + r.name + " is damaged: its CRC-32 does not match");
}

} // namespace reclab
