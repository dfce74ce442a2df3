#pragma once

#include <cstdio>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

class Error;

// The whole content of the file at `path`, as bytes. Throws `crcr::Error` naming the path when it
// is missing, unreadable, a directory, or larger than `max_bytes`.
std::string read_file(const std::string& path, std::size_t max_bytes = 256U << 20U);

// Writes `content` to `path` atomically: a temporary file in the same folder, flushed, then
// renamed over `path`, so readers see the old file or the new one, never a part. Unless `force`,
// an existing `path` is an error; with it, the new file keeps the old one's permissions. Throws
// `crcr::Error` naming the path on any failure.
void write_file_atomically(const std::string& path, const std::string& content, bool force);

// A file written in pieces and published atomically: the pieces go to a temporary file in the
// same folder, and `commit` renames it over `path`. Until then (and if `commit` is never
// reached, e.g. after an error) readers see the old file or none; the destructor removes the
// temporary file. Memory stays flat however much is written. Throws `crcr::Error` naming `path`.
// The temporary file is named `.crcr-tmp-XXXXXX` and locked (flock) while in use; ones that a
// killed crcr left behind, untouched for an hour and unlocked, are removed from the folder when
// the next one is made there.
class AtomicFileWriter {
public:
    AtomicFileWriter(std::string path, bool force);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(std::string_view data);
    // Flushes, syncs and renames the temporary file over `path`.
    void commit();

private:
    std::string m_path;
    std::string m_temp;
    std::FILE* m_file = nullptr;
};

// A log that survives a crash: lines are appended with one write(2) to a file opened with
// O_APPEND, so a process killed (kill -9 included) leaves whole lines, and `sync` (also run by
// the destructor) makes them durable. A power loss, or a kill in the middle of a long write
// (the kernel may stop one between pages), can cut the last line short: `read_complete_lines`
// ignores such a line, and the next AppendFile on the file ends it before appending. Not
// thread-safe: callers serialise appends.
class AppendFile {
public:
    // Opens (or creates) `path`. Throws `crcr::Error` naming it when it cannot, or when it is a
    // symbolic link (never followed: the lines would land in whatever file it points to).
    explicit AppendFile(const std::string& path);
    ~AppendFile();
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;

    // Appends `text`: whole lines, each ending in a newline, with one write(2).
    void append(std::string_view text);
    // fsync: what was appended is on disk. May run beside an append from another thread.
    void sync();

private:
    std::string m_path;
    int m_fd = -1;
};

// The lines of `path` that end with a newline (a torn last line is left out); nothing when
// the file does not exist. Throws `crcr::Error` when it cannot be read.
std::vector<std::string> read_complete_lines(const std::string& path);

// The files `path` names: itself, or for a folder every regular file under it (recursively) in
// name order. Throws `crcr::Error` when it does not exist (or is a loop of symbolic links).
// Entries under it that cannot be read (symbolic links in a loop or to nothing, a folder that
// cannot be listed) are left out, each given to `unreadable` as an error naming it.
std::vector<std::string> files_under(const std::string& path,
                                     const std::function<void(const Error&)>& unreadable);

// Creates the folder `path` and any missing parents, as `mkdir -p` does. Throws `crcr::Error`
// naming the path when that fails (a file is in the way, no permission).
void make_directories(const std::string& path);

// Everything left on `in` (standard input, say), up to `max_bytes`. Throws `crcr::Error` naming
// `name` when reading fails or there is more.
std::string
read_stream(std::istream& in, const std::string& name, std::size_t max_bytes = 256U << 20U);

// The content of `path`, or of `in` when `path` is "-" (standard input, as git and gh read it).
std::string read_input(const std::string& path, std::istream& in);

} // namespace crcr
