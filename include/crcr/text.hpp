#pragma once

// Small text helpers shared by the HTTP clients and the record readers.

#include <string_view>

namespace crcr {

// Whether `a` and `b` are equal ignoring ASCII case (HTTP header names, repository names).
bool iequals(std::string_view a, std::string_view b);

// Whether `haystack` contains `needle`, ignoring ASCII case (GitHub's messages, status texts).
bool icontains(std::string_view haystack, std::string_view needle);

// `text` without the spaces, tabs, CRs and LFs around it (an HTTP header line's name or value).
std::string_view trim_space(std::string_view text);

} // namespace crcr
