#include "crcr/files.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <istream>
#include <memory>

namespace crcr {

namespace {

using FileHandle = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

} // namespace

std::string read_file(const std::string& path, std::size_t max_bytes) {
    const FileHandle file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    }
    struct stat info {};
    if (fstat(fileno(file.get()), &info) == 0 && S_ISDIR(info.st_mode)) {
        throw Error(fmt::format("cannot read '{}': Is a directory", path));
    }
    std::string content;
    if (info.st_size > 0 && S_ISREG(info.st_mode)) {
        content.reserve(static_cast<std::size_t>(info.st_size));
    }
    char buffer[65536];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        content.append(buffer, n);
        if (content.size() > max_bytes) {
            throw Error(fmt::format("cannot read '{}': larger than {} bytes", path, max_bytes));
        }
        if (n < sizeof buffer) {
            break;
        }
    }
    if (std::ferror(file.get()) != 0) {
        throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    }
    return content;
}

std::string read_stream(std::istream& in, const std::string& name, std::size_t max_bytes) {
    std::string content;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        content.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (content.size() > max_bytes) {
            throw Error(fmt::format("cannot read {}: larger than {} bytes", name, max_bytes));
        }
    }
    if (in.bad()) {
        throw Error(fmt::format("cannot read {}", name));
    }
    return content;
}

void write_file_atomically(const std::string& path, const std::string& content, bool force) {
    if (!force && std::filesystem::exists(path)) {
        throw Error(fmt::format("'{}' already exists: use --force to overwrite it", path));
    }
    const std::filesystem::path target(path);
    std::string temp = (target.parent_path() / (".crcr-tmp-XXXXXX")).string();
    const int fd = mkstemp(temp.data());
    if (fd < 0) {
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    }
    const FileHandle file(fdopen(fd, "wb"), &std::fclose);
    bool ok = file && std::fwrite(content.data(), 1, content.size(), file.get()) == content.size()
              && std::fflush(file.get()) == 0 && fsync(fd) == 0;
    const int saved = errno;
    if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
        const int reason = ok ? errno : saved;
        std::remove(temp.c_str());
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(reason)));
    }
}

} // namespace crcr
