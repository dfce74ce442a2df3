#pragma once

#include <iosfwd>
#include <string>

namespace crcr {

// The whole content of the file at `path`, as bytes. Throws `crcr::Error` naming the path when it
// is missing, unreadable, a directory, or larger than `max_bytes`.
std::string read_file(const std::string& path, std::size_t max_bytes = 256U << 20U);

// Writes `content` to `path` atomically: a temporary file in the same folder, flushed, then
// renamed over `path`, so readers see the old file or the new one, never a part. Unless `force`,
// an existing `path` is an error. Throws `crcr::Error` naming the path on any failure.
void write_file_atomically(const std::string& path, const std::string& content, bool force);

// Everything left on `in` (standard input, say), up to `max_bytes`. Throws `crcr::Error` naming
// `name` when reading fails or there is more.
std::string
read_stream(std::istream& in, const std::string& name, std::size_t max_bytes = 256U << 20U);

} // namespace crcr
