#pragma once

// JSON string literals decoded at memory speed (a replayed capture record holds its 25 KB body
// as one JSON string with an escape every few bytes, decoded once per delivery), and written
// without building a JSON document (replay's state and report lines).

#include <cstddef>
#include <string>
#include <string_view>

namespace crcr {

// Decodes the JSON string literal whose opening quote is at `at` in `text` into `out`: `\"`,
// `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u` with four hex digits (surrogate pairs
// joined, a lone surrogate written as its three bytes). Returns the position just past the
// closing quote. Throws `crcr::Error` for an unknown escape, a raw control character (below
// U+0020, which JSON allows only escaped) or an unclosed literal. Uses AVX-512 (VBMI2) where the
// CPU has it, 64 bytes at a time.
std::size_t decode_json_string(std::string_view text, std::size_t at, std::string& out);

// The closing quote of the string whose content continues at `from` (not inside an escape), or
// npos when `text` ends first; then `resume` is where to go on once more text is appended (at
// or past an escape cut by the end). For finding where a record ends without decoding it.
std::size_t find_json_string_end(std::string_view text, std::size_t from, std::size_t& resume);

// Appends `text` to `out` as a JSON string literal, quotes included: `"` and `\` escaped,
// control characters as `\n`, `\t`, ... or `\u00xx` (as nlohmann's `dump` writes them), other
// UTF-8 as it is, and each byte that is not part of valid UTF-8 as U+FFFD: the literal is valid
// JSON whatever `text` holds (what it stands for is then not `text` exactly).
void append_json_string(std::string& out, std::string_view text);

namespace detail {

// The implementations behind the functions above, for tests that hold them to each other.
std::size_t decode_json_string_portable(std::string_view text, std::size_t at, std::string& out);
std::size_t
find_json_string_end_portable(std::string_view text, std::size_t from, std::size_t& resume);
// Only where `have_avx512_decoder()`.
std::size_t decode_json_string_avx512(std::string_view text, std::size_t at, std::string& out);
std::size_t
find_json_string_end_avx512(std::string_view text, std::size_t from, std::size_t& resume);
bool have_avx512_decoder();

} // namespace detail

} // namespace crcr
