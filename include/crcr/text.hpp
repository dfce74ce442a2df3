#pragma once

// Small text helpers shared by the HTTP clients and the record readers.

#include <string>
#include <string_view>

namespace crcr {

// `c` in lower case when it is an ASCII capital, any other byte as it is: the case rules of GitHub
// names, HTTP header names and YAML's keywords are ASCII only, whatever the locale.
constexpr char to_lower_ascii(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `text` with its ASCII capitals in lower case.
std::string to_lower_ascii(std::string_view text);

// Whether `a` and `b` are equal ignoring ASCII case (HTTP header names, repository names).
bool iequals(std::string_view a, std::string_view b);

// Whether `haystack` contains `needle`, ignoring ASCII case (GitHub's messages, status texts).
bool icontains(std::string_view haystack, std::string_view needle);

// `text` without the spaces, tabs, CRs and LFs around it (an HTTP header line's name or value).
std::string_view trim_space(std::string_view text);

} // namespace crcr
