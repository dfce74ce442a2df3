#include "crcr/python_value.hpp"

#include "crcr/utf8.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

namespace crcr {

namespace {

// Code points above U+007F that repr() escapes (categories Cc, Cf, Zs, Zl, Zp, Co; unassigned
// ones, which Python escapes too, are printed as they are).
constexpr std::array<std::pair<char32_t, char32_t>, 27> k_unprintable = {{
    {0x80, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},       {0x61C, 0x61C},
    {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},       {0x8E2, 0x8E2},
    {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},     {0x2028, 0x202F},
    {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},     {0xD800, 0xF8FF},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},   {0x110CD, 0x110CD},
    {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},   {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
}};

// The digit zeros of Unicode's decimal digits (category Nd) beyond ASCII: int() reads each of
// the ten characters from one of these as 0 to 9.
constexpr std::array<char32_t, 65> k_digit_zeros = {
    0x660,   0x6F0,   0x7C0,   0x966,   0x9E6,   0xA66,   0xAE6,   0xB66,   0xBE6,   0xC66,
    0xCE6,   0xD66,   0xDE6,   0xE50,   0xED0,   0xF20,   0x1040,  0x1090,  0x17E0,  0x1810,
    0x1946,  0x19D0,  0x1A80,  0x1A90,  0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,  0xA8D0,
    0xA900,  0xA9D0,  0xA9F0,  0xAA50,  0xABF0,  0xFF10,  0x104A0, 0x10D30, 0x11066, 0x110F0,
    0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950,
    0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
};

// Whitespace beyond ASCII, as str.isspace() has it.
constexpr std::array<char32_t, 19> k_spaces = {0x85,
                                               0xA0,
                                               0x1680,
                                               0x2000,
                                               0x2001,
                                               0x2002,
                                               0x2003,
                                               0x2004,
                                               0x2005,
                                               0x2006,
                                               0x2007,
                                               0x2008,
                                               0x2009,
                                               0x200A,
                                               0x2028,
                                               0x2029,
                                               0x202F,
                                               0x205F,
                                               0x3000};

// The longest integer string int() converts (sys.get_int_max_str_digits()).
constexpr std::size_t k_max_str_digits = 4300;

bool unprintable(char32_t c) {
    return std::any_of(k_unprintable.begin(), k_unprintable.end(), [c](const auto& range) {
        return range.first <= c && c <= range.second;
    });
}

std::string repr_string(const std::string& text) {
    const char quote =
        text.find('\'') != std::string::npos && text.find('"') == std::string::npos ? '"' : '\'';
    std::string out(1, quote);
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            if (c == static_cast<unsigned char>(quote) || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c == '\t') {
                out += "\\t";
            } else if (c == '\n') {
                out += "\\n";
            } else if (c == '\r') {
                out += "\\r";
            } else if (c < 0x20 || c == 0x7F) {
                out += fmt::format("\\x{:02x}", c);
            } else {
                out += static_cast<char>(c);
            }
            continue;
        }
        const std::optional<Utf8Char> decoded = decode_utf8(text, i);
        if (!decoded) { // not from a JSON parser, which checks UTF-8; shown as the byte
            out += fmt::format("\\x{:02x}", c);
            ++i;
            continue;
        }
        const char32_t code_point = decoded->code_point;
        if (!unprintable(code_point)) {
            out.append(text, i, decoded->length);
        } else if (code_point < 0x100) {
            out += fmt::format("\\x{:02x}", static_cast<std::uint32_t>(code_point));
        } else if (code_point < 0x10000) {
            out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(code_point));
        } else {
            out += fmt::format("\\U{:08x}", static_cast<std::uint32_t>(code_point));
        }
        i += decoded->length;
    }
    return out + quote;
}

// repr() of a float: the shortest digits that read back as it, positional from 1e-4 up to 1e16,
// else with an exponent of at least two digits.
std::string repr_float(double value) {
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value < 0 ? "-inf" : "inf";
    }
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(
        buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
    const std::string scientific(buffer.data(), result.ptr);
    const std::size_t e = scientific.find('e');
    const bool negative = scientific.front() == '-';
    std::string digits = scientific.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    const int exponent = std::stoi(scientific.substr(e + 1));
    const std::string_view sign = negative ? "-" : "";
    const std::string_view shown = digits;
    if (exponent < -4 || exponent >= 16) {
        return fmt::format("{}{}{}{}e{}{:02}",
                           sign,
                           shown.substr(0, 1),
                           shown.size() > 1 ? "." : "",
                           shown.substr(1),
                           exponent < 0 ? '-' : '+',
                           std::abs(exponent));
    }
    if (exponent < 0) {
        return fmt::format(
            "{}0.{}{}", sign, std::string(static_cast<std::size_t>(-exponent - 1), '0'), shown);
    }
    const auto point = static_cast<std::size_t>(exponent) + 1;
    if (shown.size() <= point) {
        return fmt::format("{}{}{}.0", sign, shown, std::string(point - shown.size(), '0'));
    }
    return fmt::format("{}{}.{}", sign, shown.substr(0, point), shown.substr(point));
}

// The text int() parses: ASCII kept, other whitespace as a space, other decimal digits as their
// ASCII digit; anything else ends it with a '?', which no integer literal holds.
std::string ascii_for_int(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const std::optional<Utf8Char> decoded = decode_utf8(text, i);
        const char32_t c = decoded ? decoded->code_point : 0xFFFD;
        i += decoded ? decoded->length : 1;
        if (c < 0x7F) {
            out += static_cast<char>(c);
        } else if (std::find(k_spaces.begin(), k_spaces.end(), c) != k_spaces.end()) {
            out += ' ';
        } else {
            const auto zero = std::find_if(k_digit_zeros.begin(),
                                           k_digit_zeros.end(),
                                           [c](char32_t z) { return z <= c && c < z + 10; });
            if (zero == k_digit_zeros.end()) {
                return out + '?';
            }
            out += static_cast<char>('0' + (c - *zero));
        }
    }
    return out;
}

bool ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// "-" and the digits without leading zeros; "0" for zero whatever its sign.
std::string canonical_integer(bool negative, const std::string& digits) {
    const std::size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) {
        return "0";
    }
    return fmt::format("{}{}", negative ? "-" : "", std::string_view(digits).substr(first));
}

PythonInt int_from_string(const std::string& original) {
    const auto invalid = [&] {
        std::string shown = repr_string(original);
        if (shown.size() > 200) { // "%.200R": the repr cut at 200 characters
            std::size_t cut = 0;
            for (int count = 0; count < 200 && cut < shown.size(); ++count) {
                const std::optional<Utf8Char> decoded = decode_utf8(shown, cut);
                cut += decoded ? decoded->length : 1;
            }
            shown.resize(cut);
        }
        return PythonInt{.value_error = "invalid literal for int() with base 10: " + shown};
    };
    const std::string text = ascii_for_int(original);
    std::size_t i = 0;
    while (i < text.size() && ascii_space(text[i])) {
        ++i;
    }
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        negative = text[i] == '-';
        ++i;
    }
    std::string digits;
    while (i < text.size()) {
        if (is_digit(text[i])) {
            digits += text[i++];
        } else if (text[i] == '_' && !digits.empty() && i + 1 < text.size()
                   && is_digit(text[i + 1])) {
            ++i; // one underscore between two digits
        } else {
            break;
        }
    }
    while (i < text.size() && ascii_space(text[i])) {
        ++i;
    }
    if (digits.empty() || i != text.size()) {
        return invalid();
    }
    if (digits.size() > k_max_str_digits) {
        return PythonInt{
            .value_error =
                fmt::format("Exceeds the limit ({} digits) for integer string conversion: value "
                            "has {} digits; use sys.set_int_max_str_digits() to increase the limit",
                            k_max_str_digits,
                            digits.size())};
    }
    return PythonInt{.value = canonical_integer(negative, digits)};
}

} // namespace

std::string python_repr(const Json& value) {
    switch (value.type()) {
    case Json::value_t::null:
        return "None";
    case Json::value_t::boolean:
        return value.get<bool>() ? "True" : "False";
    case Json::value_t::string:
        return repr_string(value.get_ref<const std::string&>());
    case Json::value_t::number_float:
        return repr_float(value.get<double>());
    case Json::value_t::array: {
        std::string out = "[";
        for (const Json& item : value) {
            out += out.size() > 1 ? ", " : "";
            out += python_repr(item);
        }
        return out + "]";
    }
    case Json::value_t::object: {
        std::string out = "{";
        for (const auto& item : value.items()) {
            out += out.size() > 1 ? ", " : "";
            out += repr_string(item.key());
            out += ": ";
            out += python_repr(item.value());
        }
        return out + "}";
    }
    default:
        return value.dump(); // integers
    }
}

std::string python_str(const Json& value) {
    return value.is_string() ? value.get<std::string>() : python_repr(value);
}

std::string python_type(const Json& value) {
    switch (value.type()) {
    case Json::value_t::null:
        return "NoneType";
    case Json::value_t::object:
        return "dict";
    case Json::value_t::array:
        return "list";
    case Json::value_t::string:
        return "str";
    case Json::value_t::boolean:
        return "bool";
    case Json::value_t::number_float:
        return "float";
    default:
        return "int";
    }
}

bool python_falsy(const Json& value) {
    return value.is_null() || (value.is_boolean() && !value.get<bool>())
           || (value.is_number() && value.get<double>() == 0.0)
           || (value.is_string() && value.get_ref<const std::string&>().empty())
           || ((value.is_array() || value.is_object()) && value.empty());
}

PythonInt python_int(const Json& value) {
    switch (value.type()) {
    case Json::value_t::boolean:
        return {.value = value.get<bool>() ? "1" : "0"};
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
        return {.value = value.dump()};
    case Json::value_t::number_float: {
        // A JSON parser gives only finite floats; int() drops the fraction, exactly.
        std::array<char, 400> buffer{};
        const auto result = std::to_chars(buffer.data(),
                                          buffer.data() + buffer.size(),
                                          std::trunc(value.get<double>()),
                                          std::chars_format::fixed,
                                          0);
        std::string text(buffer.data(), result.ptr);
        const bool negative = text.front() == '-';
        return {.value = canonical_integer(negative, text.substr(negative ? 1 : 0))};
    }
    case Json::value_t::string:
        return int_from_string(value.get_ref<const std::string&>());
    default:
        return {.type_error = fmt::format("int() argument must be a string, a bytes-like object "
                                          "or a real number, not '{}'",
                                          python_type(value))};
    }
}

std::string python_subscript_error(const Json& value) {
    if (value.is_string()) {
        return "string indices must be integers, not 'str'";
    }
    if (value.is_array()) {
        return "list indices must be integers or slices, not str";
    }
    return fmt::format("'{}' object is not subscriptable", python_type(value));
}

} // namespace crcr
