#include "crcr/utf8.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("decode_utf8: valid characters, and every way bytes fail to be one") {
    struct Row {
        std::string_view name;
        std::string bytes;
        std::uint32_t code_point; // 0 with length 0: invalid
        std::size_t length;
    };
    const std::vector<Row> rows = {
        {"ASCII", "a", 'a', 1},
        {"two bytes", "\xC3\xA9", 0xE9, 2},
        {"three bytes", "\xE2\x80\xA8", 0x2028, 3},
        {"four bytes", "\xF0\x9F\x98\x80", 0x1F600, 4},
        {"a stray continuation byte", "\x80", 0, 0},
        {"overlong NUL", "\xC0\x80", 0, 0},
        {"overlong three bytes", "\xE0\x80\xAF", 0, 0},
        {"a surrogate", "\xED\xA0\x80", 0, 0},
        {"above U+10FFFF", "\xF4\x90\x80\x80", 0, 0},
        {"cut short", "\xE2\x80", 0, 0},
        {"a lead byte of five", "\xF8\x88\x80\x80\x80", 0, 0},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        const auto c = crcr::decode_utf8(row.bytes, 0);
        if (row.length == 0) {
            CHECK_FALSE(c);
        } else {
            REQUIRE(c);
            CHECK(c->code_point == row.code_point);
            CHECK(c->length == row.length);
        }
    }
}

TEST_CASE("is_valid_utf8") {
    CHECK(crcr::is_valid_utf8(""));
    CHECK(crcr::is_valid_utf8("a\xC3\xA9\xF0\x9F\x98\x80"));
    CHECK_FALSE(crcr::is_valid_utf8("caf\xE9"));      // Latin-1
    CHECK_FALSE(crcr::is_valid_utf8("ok\xE2\x80"));   // cut short at the end
    CHECK_FALSE(crcr::is_valid_utf8("\xED\xA0\x80")); // a surrogate (a lone \ud800, decoded)
    CHECK_FALSE(crcr::is_valid_utf8("\xC3\xA9\xFF")); // valid, then not
}
