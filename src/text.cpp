#include "crcr/text.hpp"

#include <strings.h>

#include <algorithm>

namespace crcr {

std::string to_lower_ascii(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        c = to_lower_ascii(c);
    }
    return lower;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool icontains(std::string_view haystack, std::string_view needle) {
    return std::search(haystack.begin(),
                       haystack.end(),
                       needle.begin(),
                       needle.end(),
                       [](char a, char b) { return to_lower_ascii(a) == to_lower_ascii(b); })
           != haystack.end();
}

std::string_view trim_space(std::string_view text) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace crcr
