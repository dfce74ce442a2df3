#include "crcr/random.hpp"

#include <fmt/format.h>

namespace crcr {

std::uint64_t Random::next() {
    std::uint64_t z = (m_state += k_gamma);
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
}

std::uint64_t Random::between(std::uint64_t low, std::uint64_t high) {
    return low + next() % (high - low + 1);
}

std::string Random::hex(std::size_t length) {
    constexpr std::string_view k_digits = "0123456789abcdef";
    std::string out;
    out.reserve(length);
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < length; ++i) {
        if (i % 16 == 0) {
            bits = next();
        }
        out += k_digits[bits & 0xFU];
        bits >>= 4U;
    }
    return out;
}

std::string Random::uuid_v4() {
    const std::uint64_t high = (next() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
    const std::uint64_t low = (next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                       high >> 32U,
                       (high >> 16U) & 0xFFFFU,
                       high & 0xFFFFU,
                       low >> 48U,
                       low & 0xFFFFFFFFFFFFULL);
}

} // namespace crcr
