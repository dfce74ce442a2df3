#include "crcr/files.hpp"

#include "crcr/error.hpp"
#include "crcr/memory.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <istream>
#include <memory>

namespace crcr {

namespace {

using FileHandle = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

constexpr std::string_view k_temp_prefix = ".crcr-tmp-";
constexpr std::size_t k_temp_random = 6; // mkstemp's XXXXXX, letters and digits

// A temporary file left by a writer that died (kill -9, power loss) is removed by the next write
// to its folder, once it is this old. A live writer's file is never removed: it is locked until
// renamed, and its time changes at each write.
constexpr std::chrono::hours k_stale_after{1};

bool is_temp_name(std::string_view name) {
    return name.size() == k_temp_prefix.size() + k_temp_random && name.starts_with(k_temp_prefix)
           && std::all_of(name.begin() + static_cast<std::ptrdiff_t>(k_temp_prefix.size()),
                          name.end(),
                          [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// Removes what crcr's dead writers left in `folder`: files named as crcr names its temporary
// files, owned by this user, untouched for `k_stale_after`, that nobody holds locked. Best
// effort: whatever cannot be checked or removed is left.
void remove_stale_temporaries(const std::filesystem::path& folder) {
    std::error_code ec;
    std::filesystem::directory_iterator entries(folder.empty() ? "." : folder, ec);
    const auto stale_before = std::chrono::system_clock::now() - k_stale_after;
    for (; !ec && entries != std::filesystem::directory_iterator(); entries.increment(ec)) {
        const std::filesystem::path& path = entries->path();
        struct stat named {};
        if (!is_temp_name(path.filename().string()) || ::lstat(path.c_str(), &named) != 0
            || !S_ISREG(named.st_mode) || named.st_uid != ::geteuid()
            || std::chrono::system_clock::from_time_t(named.st_mtime) > stale_before) {
            continue;
        }
        const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        struct stat opened {};
        // Locked: a writer is alive. Another inode: the name was reused since lstat.
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &opened) == 0
            && opened.st_ino == named.st_ino && opened.st_dev == named.st_dev) {
            ::unlink(path.c_str());
        }
        ::close(fd);
    }
}

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
        prefer_huge_pages(content.data(), content.capacity());
    }
    std::array<char, 65536> buffer{};
    while (true) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
        content.append(buffer.data(), n);
        if (content.size() > max_bytes) {
            throw Error(fmt::format("cannot read '{}': larger than {} bytes", path, max_bytes));
        }
        if (n < buffer.size()) {
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
    std::array<char, 65536> buffer{};
    while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
        content.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
        if (content.size() > max_bytes) {
            throw Error(fmt::format("cannot read {}: larger than {} bytes", name, max_bytes));
        }
    }
    if (in.bad()) {
        throw Error(fmt::format("cannot read {}", name));
    }
    return content;
}

AtomicFileWriter::AtomicFileWriter(std::string path, bool force) : m_path(std::move(path)) {
    std::error_code ignored;
    const std::filesystem::file_status status = std::filesystem::symlink_status(m_path, ignored);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
        // Renaming over a symlink, a device or a FIFO would replace it, not write to it.
        throw Error(fmt::format("'{}' is not a regular file: crcr writes files by replacing them "
                                "atomically; name a regular file",
                                m_path));
    }
    if (!force && std::filesystem::exists(status)) {
        throw Error(fmt::format("'{}' already exists: use --force to overwrite it", m_path));
    }
    const std::filesystem::path target(m_path);
    remove_stale_temporaries(target.parent_path());
    m_temp = (target.parent_path() / (std::string(k_temp_prefix) + std::string(k_temp_random, 'X')))
                 .string(); // mkstemp's template
    const int fd = mkstemp(m_temp.data());
    if (fd < 0) {
        throw Error(fmt::format("cannot write '{}': {}", m_path, std::strerror(errno)));
    }
    // Held until the file is renamed (or this process dies): tells remove_stale_temporaries
    // of another crcr that the file is in use.
    ::flock(fd, LOCK_EX);
    // mkstemp creates the file 0600: give it the mode of the file it replaces (--force keeps a
    // private file private), or the mode any new file gets.
    struct stat existing {};
    if (::stat(m_path.c_str(), &existing) == 0) {
        fchmod(fd, existing.st_mode & 07777);
    } else {
        const mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    m_file = fdopen(fd, "wb");
    if (m_file == nullptr) {
        ::close(fd);
        std::remove(m_temp.c_str());
        throw Error(fmt::format("cannot write '{}': {}", m_path, std::strerror(errno)));
    }
}

AtomicFileWriter::~AtomicFileWriter() {
    if (m_file != nullptr) {
        std::remove(m_temp.c_str()); // before closing, which ends the lock
        std::fclose(m_file);
    }
}

void AtomicFileWriter::write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), m_file) != data.size()) {
        throw Error(fmt::format("cannot write '{}': {}", m_path, std::strerror(errno)));
    }
}

void AtomicFileWriter::commit() {
    // Renamed while still open, so the lock lasts until the temporary name is gone.
    const bool ok = std::fflush(m_file) == 0 && fsync(fileno(m_file)) == 0
                    && std::rename(m_temp.c_str(), m_path.c_str()) == 0;
    const int reason = errno;
    if (!ok) {
        std::remove(m_temp.c_str());
    }
    std::fclose(m_file);
    m_file = nullptr;
    if (!ok) {
        throw Error(fmt::format("cannot write '{}': {}", m_path, std::strerror(reason)));
    }
}

void make_directories(const std::string& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) {
        throw Error(fmt::format("cannot create folder '{}': {}", path, error.message()));
    }
}

std::string read_input(const std::string& path, std::istream& in) {
    return path == "-" ? read_stream(in, "standard input") : read_file(path);
}

void write_file_atomically(const std::string& path, const std::string& content, bool force) {
    AtomicFileWriter writer(path, force);
    writer.write(content);
    writer.commit();
}

AppendFile::AppendFile(const std::string& path) : m_path(path) {
    // O_NOFOLLOW: a symbolic link planted where the log goes must not send the lines (and their
    // delivery ids) into some other file of the user's.
    constexpr int k_flags = O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
    m_fd = ::open(path.c_str(), O_RDWR | k_flags, 0666);
    if (m_fd < 0 && errno == EACCES) { // writable, not readable: nothing to look at, then
        m_fd = ::open(path.c_str(), O_WRONLY | k_flags, 0666);
    }
    if (m_fd < 0 && errno == ELOOP) {
        throw Error(fmt::format("cannot write '{}': it is a symbolic link, and crcr appends only "
                                "to a file itself; name the file it points to",
                                path));
    }
    if (m_fd < 0) {
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    }
    // A process killed in the middle of a write may have left a line cut short: end it, so the
    // next line starts on its own (and the torn one is ignored as it was).
    struct stat info {};
    char last = '\n';
    if (::fstat(m_fd, &info) == 0 && info.st_size > 0
        && ::pread(m_fd, &last, 1, info.st_size - 1) == 1 && last != '\n') {
        append("\n");
    }
}

AppendFile::~AppendFile() {
    if (m_fd >= 0) {
        ::fsync(m_fd);
        ::close(m_fd);
    }
}

void AppendFile::append(std::string_view text) {
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t n = ::write(m_fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw Error(fmt::format("cannot write '{}': {}", m_path, std::strerror(errno)));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

void AppendFile::sync() {
    if (::fsync(m_fd) != 0) {
        throw Error(fmt::format("cannot write '{}': {}", m_path, std::strerror(errno)));
    }
}

std::vector<std::string> read_complete_lines(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return {};
    }
    const std::string content = read_file(path, std::size_t{4} << 30U);
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end = content.find('\n'); end != std::string::npos;
         end = content.find('\n', start)) {
        lines.emplace_back(content, start, end - start);
        start = end + 1;
    }
    return lines;
}

std::vector<std::string> files_under(const std::string& path,
                                     const std::function<void(const Error&)>& unreadable) {
    // Why `what` cannot be read, and what to do when it is a loop of symbolic links.
    const auto cannot_read = [](const std::string& what, const std::error_code& ec) {
        return Error(fmt::format("cannot read '{}': {}{}",
                                 what,
                                 ec.message(),
                                 ec == std::errc::too_many_symbolic_link_levels
                                     ? " (symbolic links that point at each other: fix or remove "
                                       "them)"
                                     : ""));
    };
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
        throw cannot_read(path,
                          ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory));
    }
    if (!std::filesystem::is_directory(status)) {
        return {path};
    }
    // Folder by folder (recursive_directory_iterator ends the whole walk at the first folder it
    // cannot list): a folder that cannot be listed is reported, and its siblings still read.
    // Links to folders are not followed, so no loop of them makes the walk endless.
    std::vector<std::string> files;
    std::vector<std::filesystem::path> folders{path};
    while (!folders.empty()) {
        const std::filesystem::path folder = std::move(folders.back());
        folders.pop_back();
        ec.clear();
        for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
             it.increment(ec)) {
            std::error_code entry_ec;
            if (it->is_directory(entry_ec) && !it->is_symlink(entry_ec)) {
                folders.push_back(it->path());
            } else if (it->is_regular_file(entry_ec)) {
                files.push_back(it->path().string());
            } else if (entry_ec) {
                unreadable(cannot_read(it->path().string(), entry_ec));
            }
        }
        if (ec) { // what was found in it before the error is kept
            unreadable(cannot_read(folder.string(), ec));
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace crcr
