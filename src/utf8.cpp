#include "crcr/utf8.hpp"

#include <array>

namespace crcr {

std::optional<Utf8Char> decode_utf8(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80U) {
        return Utf8Char{lead, 1};
    }
    if ((lead & 0xE0U) == 0xC0U) {
        n = 2;
        cp = lead & 0x1FU;
    } else if ((lead & 0xF0U) == 0xE0U) {
        n = 3;
        cp = lead & 0x0FU;
    } else if ((lead & 0xF8U) == 0xF0U) {
        n = 4;
        cp = lead & 0x07U;
    } else {
        return std::nullopt;
    }
    if (i + n > text.size()) {
        return std::nullopt;
    }
    for (std::size_t k = 1; k < n; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0U) != 0x80U) {
            return std::nullopt;
        }
        cp = (cp << 6U) | (next & 0x3FU);
    }
    constexpr std::array<std::uint32_t, 5> k_min = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < k_min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return std::nullopt;
    }
    return Utf8Char{cp, n};
}

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::optional<Utf8Char> c = decode_utf8(text, i);
        if (!c) {
            return false;
        }
        i += c->length;
    }
    return true;
}

} // namespace crcr
