#include "crcr/text.hpp"

#include <doctest/doctest.h>

TEST_CASE("iequals and trim_space") {
    CHECK(crcr::iequals("Content-Length", "content-length"));
    CHECK(crcr::iequals("", ""));
    CHECK_FALSE(crcr::iequals("X-Hub-Signature", "X-Hub-Signature-256"));
    CHECK_FALSE(crcr::iequals("abc", "abd"));
    struct Case {
        std::string_view text;
        std::string_view want;
    };
    const Case cases[] = {
        {"  value \r\n", "value"},
        {"\tvalue\t", "value"},
        {"a b", "a b"},
        {" \r\n\t", ""},
        {"", ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK(crcr::trim_space(c.text) == c.want);
    }
}

TEST_CASE("to_lower_ascii: GitHub's case folding, ASCII only") {
    CHECK(crcr::to_lower_ascii("Ascend/PyTorch") == "ascend/pytorch");
    CHECK(crcr::to_lower_ascii("a_b-1") == "a_b-1");
    CHECK(crcr::to_lower_ascii("\xc3\x89Z") == "\xc3\x89z"); // a UTF-8 capital stays as it is
    static_assert(crcr::to_lower_ascii('Q') == 'q' && crcr::to_lower_ascii('@') == '@'
                  && crcr::to_lower_ascii('[') == '[');
}
