#include "store/WalFile.h"

#include "util/Files.h"

#include <cstring>
#include <vector>

#include <sys/stat.h>

namespace reclab {

namespace {

uint32_t bigEndian32(const unsigned char* p)
{
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

uint32_t littleEndian32(const unsigned char* p)
{
    return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | uint32_t(p[0]);
}

// SQLite's WAL checksum: pairs of 32-bit words, in the byte order the magic number names.
void walChecksum(bool bigEndianWords, const unsigned char* data, size_t bytes, uint32_t& s0, uint32_t& s1)
{
    for (size_t k = 0; k + 8 <= bytes; k += 8) {
        const uint32_t x0 = bigEndianWords ? bigEndian32(data + k) : littleEndian32(data + k);
        const uint32_t x1 = bigEndianWords ? bigEndian32(data + k + 4) : littleEndian32(data + k + 4);
        s0 += x0 + s1;
        s1 += x1 + s0;
    }
}

DatabaseHeader headerOfPage(const unsigned char* page, uint32_t pageSize)
{
    DatabaseHeader h;
    h.pageSize = pageSize;
    h.userVersion = bigEndian32(page + 60);
    h.applicationId = bigEndian32(page + 68);
    return h;
}

bool validPageSize(uint32_t size)
{
    return size >= 512 && size <= 65536 && (size & (size - 1)) == 0;
}

} // namespace

std::optional<DatabaseHeader> readDatabaseHeader(const std::string& path)
{
    if (!isRegularFile(path))
        return std::nullopt;
    const ReadableFile file(path);
    unsigned char header[100];
    if (file.read(header, sizeof header, 0) != sizeof header)
        return std::nullopt;
    if (std::memcmp(header, "SQLite format 3", 16) != 0)
        return std::nullopt;
    uint32_t pageSize = (uint32_t(header[16]) << 8) | header[17];
    if (pageSize == 1)
        pageSize = 65536;
    return headerOfPage(header, pageSize);
}

std::optional<WalSummary> readWalSummary(const std::string& walPath)
{
    struct stat st {};
    if (::stat(walPath.c_str(), &st) != 0)
        return std::nullopt;
    const ReadableFile file(walPath); // a FIFO or a device in its place is refused, never read
    unsigned char header[32];
    if (file.read(header, sizeof header, 0) != sizeof header)
        return std::nullopt;
    const uint32_t magic = bigEndian32(header);
    if ((magic & 0xFFFFFFFEu) != 0x377F0682u)
        return std::nullopt;
    const bool bigEndianWords = (magic & 1u) != 0;
    WalSummary out;
    out.pageSize = bigEndian32(header + 8);
    if (!validPageSize(out.pageSize))
        return std::nullopt;
    uint32_t s0 = 0, s1 = 0;
    walChecksum(bigEndianWords, header, 24, s0, s1);
    if (s0 != bigEndian32(header + 24) || s1 != bigEndian32(header + 28))
        return std::nullopt;
    const uint32_t salt1 = bigEndian32(header + 16), salt2 = bigEndian32(header + 20);

    std::vector<unsigned char> frame(24 + out.pageSize);
    std::vector<unsigned char> pageOne;
    std::optional<DatabaseHeader> committedPageOne;
    size_t frames = 0;
    for (size_t offset = sizeof header; file.read(frame.data(), frame.size(), offset) == frame.size();
         offset += frame.size()) {
        const unsigned char* h = frame.data();
        if (bigEndian32(h + 8) != salt1 || bigEndian32(h + 12) != salt2)
            break; // a frame of an earlier generation of the log
        walChecksum(bigEndianWords, h, 8, s0, s1);
        walChecksum(bigEndianWords, h + 24, out.pageSize, s0, s1);
        if (s0 != bigEndian32(h + 16) || s1 != bigEndian32(h + 20))
            break; // torn or never finished
        const uint32_t page = bigEndian32(h);
        if (page == 0)
            break;
        ++frames;
        if (page == 1)
            pageOne.assign(h + 24, h + 24 + out.pageSize);
        if (bigEndian32(h + 4) != 0) { // a commit: everything so far is replayed
            out.committedFrames = frames;
            if (!pageOne.empty())
                committedPageOne = headerOfPage(pageOne.data(), out.pageSize);
        }
    }
    out.pageOne = committedPageOne;
    return out;
}

} // namespace reclab
