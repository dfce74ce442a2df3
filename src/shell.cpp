#include "crcr/shell.hpp"

#include "crcr/utf8.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace crcr {

namespace {

bool is_safe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

// The code point of the UTF-8 sequence at `text[i]` and its length; a stray byte is itself.
std::pair<std::uint32_t, std::size_t> decode(std::string_view text, std::size_t i) {
    if (const auto c = decode_utf8(text, i)) {
        return {c->code_point, c->length};
    }
    return {static_cast<unsigned char>(text[i]), 1};
}

bool needs_ansi_c(std::uint32_t cp) {
    return cp < 0x20 || cp == 0x7F || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0U | (cp >> 6U));
        out += static_cast<char>(0x80U | (cp & 0x3FU));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0U | (cp >> 12U));
        out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (cp & 0x3FU));
    } else {
        out += static_cast<char>(0xF0U | (cp >> 18U));
        out += static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
        out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (cp & 0x3FU));
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Reads up to `max` hex digits at `line[i]`, advancing `i`; nothing when there is none.
std::optional<std::uint32_t> read_hex(std::string_view line, std::size_t& i, int max) {
    std::uint32_t value = 0;
    int digits = 0;
    while (digits < max && i < line.size() && hex_value(line[i]) >= 0) {
        value = value * 16 + static_cast<std::uint32_t>(hex_value(line[i]));
        ++i;
        ++digits;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    return value;
}

// The escape after a backslash inside $'...', at `line[i]`; advances `i` past it.
void ansi_c_escape(std::string_view line, std::size_t& i, std::string& word) {
    const char c = line[i++];
    switch (c) {
    case 'n':
        word += '\n';
        return;
    case 't':
        word += '\t';
        return;
    case 'r':
        word += '\r';
        return;
    case 'a':
        word += '\a';
        return;
    case 'b':
        word += '\b';
        return;
    case 'e':
    case 'E':
        word += '\x1b';
        return;
    case 'f':
        word += '\f';
        return;
    case 'v':
        word += '\v';
        return;
    case 'x':
    case 'u':
    case 'U': {
        const std::optional<std::uint32_t> value = read_hex(line,
                                                            i,
                                                            c == 'x'   ? 2
                                                            : c == 'u' ? 4
                                                                       : 8);
        if (!value) {
            word += '\\';
            word += c;
        } else if (c == 'x') {
            word += static_cast<char>(*value);
        } else {
            append_utf8(word, *value);
        }
        return;
    }
    case '\\':
    case '\'':
    case '"':
    case '?':
        word += c;
        return;
    default:
        word += '\\';
        word += c;
        return;
    }
}

} // namespace

std::string shell_quote(std::string_view word) {
    bool safe = !word.empty();
    bool ansi_c = false;
    for (std::size_t i = 0; i < word.size();) {
        const auto [cp, n] = decode(word, i);
        safe = safe && n == 1 && is_safe(word[i]);
        ansi_c = ansi_c || needs_ansi_c(cp);
        i += n;
    }
    if (safe) {
        return std::string(word);
    }
    if (!ansi_c) {
        std::string out = "'";
        for (const char c : word) {
            out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        return out + "'";
    }
    std::string out = "$'";
    for (std::size_t i = 0; i < word.size();) {
        const auto [cp, n] = decode(word, i);
        if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\\' || cp == '\'') {
            out += '\\';
            out += static_cast<char>(cp);
        } else if (n == 1 && cp >= 0x80) {
            out += fmt::format("\\x{:02x}", cp); // a byte that is not UTF-8, kept as a byte
        } else if (needs_ansi_c(cp)) {
            out += cp < 0x80 ? fmt::format("\\x{:02x}", cp) : fmt::format("\\u{:04x}", cp);
        } else {
            out += word.substr(i, n);
        }
        i += n;
    }
    return out + "'";
}

std::string shell_join(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& arg : args) {
        if (!out.empty()) {
            out += ' ';
        }
        out += shell_quote(arg);
    }
    return out;
}

std::optional<std::vector<std::string>> shell_split(std::string_view line, std::string* why) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    const auto fail = [why](std::string_view reason) {
        if (why != nullptr) {
            *why = std::string(reason);
        }
        return std::nullopt;
    };
    std::size_t i = 0;
    while (i < line.size()) {
        const char c = line[i];
        if (c == ' ' || c == '\t') {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
            ++i;
            continue;
        }
        in_word = true;
        if (c == '\'') {
            const std::size_t end = line.find('\'', i + 1);
            if (end == std::string_view::npos) {
                return fail("a single quote is never closed");
            }
            word += line.substr(i + 1, end - i - 1);
            i = end + 1;
        } else if (c == '$' && i + 1 < line.size() && line[i + 1] == '\'') {
            i += 2;
            while (i < line.size() && line[i] != '\'') {
                if (line[i] == '\\' && i + 1 < line.size()) {
                    ++i;
                    ansi_c_escape(line, i, word);
                } else {
                    word += line[i++];
                }
            }
            if (i >= line.size()) {
                return fail("a $'...' quote is never closed");
            }
            ++i;
        } else if (c == '"') {
            ++i;
            while (i < line.size() && line[i] != '"') {
                if (line[i] == '\\' && i + 1 < line.size()
                    && std::string_view("$`\"\\\n").find(line[i + 1]) != std::string_view::npos) {
                    ++i;
                }
                word += line[i++];
            }
            if (i >= line.size()) {
                return fail("a double quote is never closed");
            }
            ++i;
        } else if (c == '\\' && i + 1 < line.size()) {
            word += line[i + 1];
            i += 2;
        } else {
            word += c;
            ++i;
        }
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    return words;
}

} // namespace crcr
