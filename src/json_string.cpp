#include "crcr/json_string.hpp"

#include "crcr/error.hpp"
#include "crcr/utf8.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace crcr {

namespace {

// Writes `code` as UTF-8 at `o`; returns the end of what it wrote (1 to 4 bytes).
char* append_utf8(char* o, std::uint32_t code) {
    if (code < 0x80) {
        *o++ = static_cast<char>(code);
    } else if (code < 0x800) {
        *o++ = static_cast<char>(0xC0 | (code >> 6U));
        *o++ = static_cast<char>(0x80 | (code & 0x3FU));
    } else if (code < 0x10000) {
        *o++ = static_cast<char>(0xE0 | (code >> 12U));
        *o++ = static_cast<char>(0x80 | ((code >> 6U) & 0x3FU));
        *o++ = static_cast<char>(0x80 | (code & 0x3FU));
    } else {
        *o++ = static_cast<char>(0xF0 | (code >> 18U));
        *o++ = static_cast<char>(0x80 | ((code >> 12U) & 0x3FU));
        *o++ = static_cast<char>(0x80 | ((code >> 6U) & 0x3FU));
        *o++ = static_cast<char>(0x80 | (code & 0x3FU));
    }
    return o;
}

std::uint32_t hex4(std::string_view text, std::size_t at) {
    if (at + 4 > text.size()) {
        throw Error("a \\u escape needs four hex digits");
    }
    std::uint32_t value = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
        const char c = text[i];
        value <<= 4U;
        if (c >= '0' && c <= '9') {
            value |= static_cast<std::uint32_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            value |= static_cast<std::uint32_t>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            value |= static_cast<std::uint32_t>(c - 'A' + 10);
        } else {
            throw Error("a \\u escape needs four hex digits");
        }
    }
    return value;
}

// JSON forbids raw control characters in a string: a raw NUL would end a C string, and a raw
// newline would split a JSON Lines record.
Error raw_control(char c) {
    return Error(fmt::format("a raw control character (U+{:04X}) in a string: JSON writes it as "
                             "an escape",
                             static_cast<unsigned char>(c)));
}

bool is_control(char c) {
    return static_cast<unsigned char>(c) < 0x20;
}

// Decodes the escape whose backslash is at `i` to `o` (at most 4 bytes, never more than the
// escape's own length), moving both on past it.
void decode_escape(std::string_view text, std::size_t& i, char*& o) {
    if (i + 1 >= text.size()) {
        throw Error("an unclosed string");
    }
    const char c = text[i + 1];
    i += 2;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        *o++ = c;
        return;
    case 'b':
        *o++ = '\b';
        return;
    case 'f':
        *o++ = '\f';
        return;
    case 'n':
        *o++ = '\n';
        return;
    case 'r':
        *o++ = '\r';
        return;
    case 't':
        *o++ = '\t';
        return;
    case 'u': {
        std::uint32_t code = hex4(text, i);
        i += 4;
        if (code >= 0xD800 && code <= 0xDBFF && i + 6 <= text.size() && text[i] == '\\'
            && text[i + 1] == 'u') {
            const std::uint32_t low = hex4(text, i + 2);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                code = 0x10000 + ((code - 0xD800) << 10U) + (low - 0xDC00);
                i += 6;
            }
        }
        o = append_utf8(o, code); // at most 4 bytes, from a 6 (or 12) byte escape
        return;
    }
    default:
        if (is_control(c)) {
            throw raw_control(c);
        }
        throw Error(fmt::format("an unknown escape '\\{}'", c));
    }
}

// The output buffer of a decode. Decoding never makes text longer, so what is left of the
// input bounds what is left to write. A string grows its buffer twice at most: from what needs
// no allocation to a few hundred bytes (header values, ids), then to that bound (a body), after
// which the room left is never less than the input left.
class Output {
public:
    Output(std::string& out, std::size_t most) : m_out(out), m_most(most) {
        m_out.resize(std::min(most, std::string().capacity()));
    }
    // The write position, with at least `needed` bytes of room or the full bound.
    char* at(std::size_t needed) {
        if (m_out.size() - m_written < needed && m_out.size() < m_most) {
            m_out.resize(m_out.size() < k_small ? std::min(m_most, k_small) : m_most);
            return at(needed);
        }
        return m_out.data() + m_written;
    }
    std::size_t room() const { return m_out.size() - m_written; }
    bool bounded() const { return m_out.size() >= m_most; } // room() covers all input left
    void moved_to(const char* o) { m_written = static_cast<std::size_t>(o - m_out.data()); }
    void finish() { m_out.resize(m_written); }

private:
    static constexpr std::size_t k_small = 256;
    std::string& m_out;
    std::size_t m_most;
    std::size_t m_written = 0;
};

// At the quote, backslash or control character where a decoder's fast part stopped (`i`): the
// end of the string, just past its closing quote, or nothing once the escape there is decoded
// and passed.
std::optional<std::size_t>
close_or_unescape(std::string_view text, std::size_t& i, Output& output) {
    if (text[i] == '"') {
        output.finish();
        return i + 1;
    }
    if (is_control(text[i])) {
        throw raw_control(text[i]);
    }
    char* o = output.at(4);
    decode_escape(text, i, o);
    output.moved_to(o);
    return std::nullopt;
}

// Copies `text` from `i` up to the next quote, backslash or control character (or the end) to
// `o`, moving both on past what it copied. Sixteen bytes at a time where SSE2 is there, inline: in
// a captured body the next backslash is usually a few bytes away, where a call to memchr or memcpy
// costs more than the work. A store may write up to 15 bytes past what it copies, never past as
// many bytes from `o` as `text` has from `i`.
void copy_plain(std::string_view text, std::size_t& i, char*& o) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i last_control = _mm_set1_epi8(0x1F);
    while (i + 16 <= text.size()) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), chunk);
        // A byte is a control character when it is its minimum with 0x1F (unsigned).
        const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, last_control), chunk);
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
            control)));
        const unsigned copied = mask == 0 ? 16 : static_cast<unsigned>(__builtin_ctz(mask));
        i += copied;
        o += copied;
        if (mask != 0) {
            return;
        }
    }
#endif
    while (i < text.size() && text[i] != '"' && text[i] != '\\' && !is_control(text[i])) {
        *o++ = text[i++];
    }
}

#if defined(__x86_64__)

#define CRCR_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,popcnt")))

// Given the backslashes of a block (none escaped by the block before), the backslashes that
// start an escape and the bytes they escape (as simdjson finds them: in a run of backslashes,
// every other one escapes the next).
struct Escapes {
    std::uint64_t escape;  // backslashes that start an escape
    std::uint64_t escaped; // the bytes right after them
};

CRCR_AVX512 Escapes find_escapes(std::uint64_t backslash) {
    constexpr std::uint64_t k_odd = 0xAAAAAAAAAAAAAAAAULL;
    const std::uint64_t maybe_escaped_and_odd = (backslash << 1U) | k_odd;
    const std::uint64_t escape_and_terminal = (maybe_escaped_and_odd - backslash) ^ k_odd;
    return {escape_and_terminal & backslash, escape_and_terminal ^ backslash};
}

#endif

} // namespace

namespace detail {

std::size_t decode_json_string_portable(std::string_view text, std::size_t at, std::string& out) {
    std::size_t i = at + 1;
    Output output(out, text.size() - std::min(i, text.size()));
    while (true) {
        char* o = output.at(1);
        // Plain bytes, no more than the buffer holds.
        const std::size_t end =
            output.bounded() ? text.size() : std::min(text.size(), i + output.room());
        copy_plain(text.substr(0, end), i, o);
        output.moved_to(o);
        if (i == end) {
            if (end == text.size()) {
                throw Error("an unclosed string");
            }
            continue; // the first buffer is full
        }
        if (const std::optional<std::size_t> closed = close_or_unescape(text, i, output)) {
            return *closed;
        }
    }
}

// Sixteen bytes at a time where SSE2 is there: a 25 KB body holds a backslash every few bytes,
// which makes byte loops and memchr loops slow alike.
std::size_t
find_json_string_end_portable(std::string_view text, std::size_t from, std::size_t& resume) {
    const char* const begin = text.data();
    const char* const end = begin + text.size();
    const char* p = begin + std::min(from, text.size());
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    unsigned carry = 0; // 1 when the previous chunk ended with a backslash: byte 0 is escaped
    while (end - p >= 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const auto quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, quote)));
        unsigned mask =
            (quotes | static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash))))
            & ~carry;
        carry = 0;
        // Each escape clears its backslash and the byte after it; the first quote left ends the
        // string. Every escape in the chunk is handled without loading it again.
        while (mask != 0) {
            const auto first = static_cast<unsigned>(__builtin_ctz(mask));
            if ((quotes & (1U << first)) != 0) {
                return static_cast<std::size_t>(p + first - begin);
            }
            if (first == 15) {
                carry = 1;
                break;
            }
            mask &= ~(3U << first);
        }
        p += 16;
    }
    p += carry; // an escape cut by the last chunk: skip the escaped byte
#endif
    while (p < end) {
        if (*p == '"') {
            return static_cast<std::size_t>(p - begin);
        }
        p += *p == '\\' ? 2 : 1;
    }
    resume = static_cast<std::size_t>(p - begin);
    return std::string_view::npos;
}

#if defined(__x86_64__)

bool have_avx512_decoder() {
    static const bool have = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
               && __builtin_cpu_supports("avx512vbmi2");
    }();
    return have;
}

// 64 bytes at a time: the escapes that stand for themselves (\" \\ \/, nearly all of them in a
// captured body) are removed by one compress; any other escape, and the end, are found from the
// same masks and handled a byte at a time.
CRCR_AVX512 std::size_t
decode_json_string_avx512(std::string_view text, std::size_t at, std::string& out) {
    std::size_t i = at + 1;
    Output output(out, text.size() - std::min(i, text.size()));
    const __m512i backslash = _mm512_set1_epi8('\\');
    const __m512i quote = _mm512_set1_epi8('"');
    const __m512i slash = _mm512_set1_epi8('/');
    const __m512i first_plain = _mm512_set1_epi8(0x20); // bytes below it are control characters
    while (true) {
        char* o = output.at(1);
        const std::size_t left = text.size() - std::min(i, text.size());
        if (left == 0) {
            throw Error("an unclosed string");
        }
        // A block never starts inside an escape, and writes no more than it reads.
        const std::size_t length = std::min<std::size_t>({left, 64, output.room()});
        const __mmask64 valid = length == 64 ? ~0ULL : (1ULL << length) - 1;
        const __m512i block = _mm512_maskz_loadu_epi8(valid, text.data() + i);
        const std::uint64_t backslashes = _mm512_mask_cmpeq_epi8_mask(valid, block, backslash);
        const std::uint64_t quotes = _mm512_mask_cmpeq_epi8_mask(valid, block, quote);
        const std::uint64_t slashes = _mm512_mask_cmpeq_epi8_mask(valid, block, slash);
        const Escapes escapes = find_escapes(backslashes);
        // Where this block's fast part stops: the closing quote, the backslash of an escape that
        // is not its own character, or one whose character is in the next block.
        std::size_t stop = length;
        if (const std::uint64_t closing = quotes & ~escapes.escaped; closing != 0) {
            stop = static_cast<std::size_t>(__builtin_ctzll(closing));
        }
        const std::uint64_t other = escapes.escaped & ~(quotes | backslashes | slashes) & valid;
        if (other != 0) {
            stop = std::min(stop, static_cast<std::size_t>(__builtin_ctzll(other)) - 1);
        }
        if (const std::uint64_t raw =
                _mm512_mask_cmplt_epu8_mask(valid, block, first_plain) & ~escapes.escaped;
            raw != 0) {
            stop = std::min(stop, static_cast<std::size_t>(__builtin_ctzll(raw)));
        }
        if ((escapes.escape >> (length - 1)) & 1U) {
            stop = std::min(stop, length - 1);
        }
        const std::uint64_t below = stop == 64 ? ~0ULL : (1ULL << stop) - 1;
        const std::uint64_t keep = ~escapes.escape & below;
        const auto kept = static_cast<unsigned>(__builtin_popcountll(keep));
        _mm512_mask_storeu_epi8(
            o, kept == 64 ? ~0ULL : (1ULL << kept) - 1, _mm512_maskz_compress_epi8(keep, block));
        o += kept;
        i += stop;
        output.moved_to(o);
        if (stop == length) {
            continue;
        }
        if (const std::optional<std::size_t> closed = close_or_unescape(text, i, output)) {
            return *closed;
        }
    }
}

// 64 bytes at a time, the escapes found as simdjson does.
CRCR_AVX512 std::size_t
find_json_string_end_avx512(std::string_view text, std::size_t from, std::size_t& resume) {
    const __m512i backslash = _mm512_set1_epi8('\\');
    const __m512i quote = _mm512_set1_epi8('"');
    std::size_t i = std::min(from, text.size());
    while (i < text.size()) {
        const std::size_t length = std::min<std::size_t>(text.size() - i, 64);
        const __mmask64 valid = length == 64 ? ~0ULL : (1ULL << length) - 1;
        const __m512i block = _mm512_maskz_loadu_epi8(valid, text.data() + i);
        const Escapes escapes = find_escapes(_mm512_mask_cmpeq_epi8_mask(valid, block, backslash));
        if (const std::uint64_t closing =
                _mm512_mask_cmpeq_epi8_mask(valid, block, quote) & ~escapes.escaped;
            closing != 0) {
            return i + static_cast<std::size_t>(__builtin_ctzll(closing));
        }
        if ((escapes.escape >> (length - 1)) & 1U) {
            i += length - 1; // the next block starts at an escape whose character it holds
            if (length < 64) {
                break;
            }
            continue;
        }
        i += length;
    }
    resume = i;
    return std::string_view::npos;
}

#else

bool have_avx512_decoder() {
    return false;
}

std::size_t
find_json_string_end_avx512(std::string_view text, std::size_t from, std::size_t& resume) {
    return find_json_string_end_portable(text, from, resume);
}

std::size_t decode_json_string_avx512(std::string_view text, std::size_t at, std::string& out) {
    return decode_json_string_portable(text, at, out);
}

#endif

} // namespace detail

std::size_t find_json_string_end(std::string_view text, std::size_t from, std::size_t& resume) {
    static const auto find = detail::have_avx512_decoder() ? detail::find_json_string_end_avx512
                                                           : detail::find_json_string_end_portable;
    return find(text, from, resume);
}

std::size_t decode_json_string(std::string_view text, std::size_t at, std::string& out) {
    static const auto decode = detail::have_avx512_decoder() ? detail::decode_json_string_avx512
                                                             : detail::decode_json_string_portable;
    return decode(text, at, out);
}

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    std::size_t plain = 0; // the start of the bytes not yet copied, all as they are
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const std::optional<Utf8Char> character = decode_utf8(text, i)) {
                i += character->length;
                continue;
            }
        }
        out.append(text, plain, i - plain);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
            } else {
                out += k_replacement_character;
            }
        }
        plain = ++i;
    }
    out.append(text, plain);
    out += '"';
}

} // namespace crcr
