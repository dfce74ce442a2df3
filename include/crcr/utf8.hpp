#pragma once

// UTF-8, decoded strictly: no overlong forms, no surrogates, nothing above U+10FFFF.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace crcr {

struct Utf8Char {
    std::uint32_t code_point = 0;
    std::size_t length = 0; // bytes, 1 to 4
};

// The character whose encoding starts at `text[i]` (i < text.size()), or nothing when the bytes
// there are not valid UTF-8.
std::optional<Utf8Char> decode_utf8(std::string_view text, std::size_t i);

// U+FFFD REPLACEMENT CHARACTER, encoded: what stands for bytes that are not UTF-8.
inline constexpr std::string_view k_replacement_character = "\xEF\xBF\xBD";

// Whether all of `text` is valid UTF-8.
bool is_valid_utf8(std::string_view text);

} // namespace crcr
