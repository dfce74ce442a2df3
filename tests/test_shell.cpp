#include "hostile_strings.hpp"

#include "crcr/shell.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("shell_quote") {
    struct Case {
        std::string word;
        std::string want;
    };
    const Case cases[] = {
        {"plain", "plain"},
        {"--level=L2", "--level=L2"},
        {"a/b.c:d,e@f%g+h", "a/b.c:d,e@f%g+h"},
        {"", "''"},
        {"two words", "'two words'"},
        {"it's", "'it'\\''s'"},
        {"$HOME", "'$HOME'"},
        {"\u00e9", "'\u00e9'"},
        {"a\nb", "$'a\\nb'"},
        {"it's\n", "$'it\\'s\\n'"},
        {"tab\there", "$'tab\\there'"},
        {"\x01", "$'\\x01'"},
        {"a\u2028b", "$'a\\u2028b'"},
        {"back\\slash\n", "$'back\\\\slash\\n'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.word);
        CHECK(crcr::shell_quote(c.word) == c.want);
    }
}

TEST_CASE("shell_split") {
    SUBCASE("reads back what shell_join writes, for every hostile string") {
        for (const std::string& s : crcr::test::hostile_strings()) {
            CAPTURE(s);
            const std::vector<std::string> args = {"--build=" + s, s, "x"};
            const std::string line = crcr::shell_join(args);
            CHECK(line.find('\n') == std::string::npos);
            CHECK(crcr::shell_split(line) == std::optional(args));
        }
    }
    SUBCASE("the quoting forms of bash") {
        struct Case {
            std::string line;
            std::vector<std::string> want;
        };
        const Case cases[] = {
            {"", {}},
            {"  a   b\t c ", {"a", "b", "c"}},
            {"'a b' \"c d\" e\\ f", {"a b", "c d", "e f"}},
            {"\"a \\\"b\\\" \\$c \\x\"", {"a \"b\" $c \\x"}},
            {"$'\\x41\\u00e9\\t\\''", {"A\u00e9\t'"}},
            {"a'b'\"c\"", {"abc"}},
            {"''", {""}},
        };
        for (const Case& c : cases) {
            CAPTURE(c.line);
            CHECK(crcr::shell_split(c.line) == std::optional(c.want));
        }
    }
    SUBCASE("an open quote is an error that says which") {
        const std::string lines[] = {"'a", "\"a", "$'a"};
        for (const std::string& line : lines) {
            CAPTURE(line);
            std::string why;
            CHECK_FALSE(crcr::shell_split(line, &why).has_value());
            CHECK(why.find("never closed") != std::string::npos);
        }
    }
}
