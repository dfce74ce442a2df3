// JSON string literals, decoded by each implementation (portable, and AVX-512 where the CPU has
// it), which must agree on the result, the end and the errors, and on where find_json_string_end
// puts the closing quote.
#include "crcr/error.hpp"
#include "crcr/json_string.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct Decoded {
    std::optional<std::size_t> end; // nothing: the literal was refused
    std::string out;
    bool operator==(const Decoded&) const = default;
};

template<typename Decode> Decoded decode(Decode decoder, std::string_view text) {
    Decoded result;
    try {
        result.end = decoder(text, 0, result.out);
    } catch (const crcr::Error&) {
        result.out.clear();
    }
    return result;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The literal starts at a quote, as the record reader calls it.
    const std::string text = '"' + std::string(reinterpret_cast<const char*>(data), size);
    const auto portable = decode(crcr::detail::decode_json_string_portable, text);
    std::size_t resume = 0;
    const auto end = crcr::detail::find_json_string_end_portable(text, 1, resume);
    if (portable.end && (end == std::string_view::npos || end + 1 != *portable.end))
        __builtin_trap();
    if (crcr::detail::have_avx512_decoder()) {
        if (decode(crcr::detail::decode_json_string_avx512, text) != portable)
            __builtin_trap();
        std::size_t resume_avx = 0;
        if (crcr::detail::find_json_string_end_avx512(text, 1, resume_avx) != end)
            __builtin_trap();
    }
    std::string literal;
    crcr::append_json_string(literal, text);
    if (decode(crcr::detail::decode_json_string_portable, literal).end != literal.size())
        __builtin_trap();
    return 0;
}
