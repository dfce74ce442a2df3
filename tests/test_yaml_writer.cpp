#include "hostile_strings.hpp"

#include "crcr/error.hpp"
#include "crcr/yaml.hpp"
#include "crcr/yaml_writer.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

// The string value of `key` in the mapping `root`, as crcr's (PyYAML-faithful) loader reads it.
std::string read_back(const std::string& yaml_text, const std::string& key) {
    const crcr::yaml::Document doc = crcr::yaml::load(yaml_text);
    REQUIRE(doc.errors.empty());
    REQUIRE(doc.root);
    for (const crcr::yaml::Entry entry : doc.root.entries()) {
        if (entry.key.text() == key) {
            CHECK(entry.value.kind() == crcr::yaml::Kind::string);
            return std::string(entry.value.text());
        }
    }
    FAIL("no key " << key);
    return {};
}

} // namespace

TEST_CASE("yaml::is_plain_safe") {
    struct Case {
        std::string text;
        bool want;
    };
    const Case cases[] = {
        {"ubuntu-latest", true},
        {"actions/checkout@v4", true},
        {"Build and test", true},
        {"github.event.client_payload.payload.action != 'closed'", true},
        {"${{ github.run_id }}", true},
        {"a:b", true},
        {"./build.sh", true},
        {"", false},
        {"yes", false},
        {"No", false},
        {"on", false},
        {"null", false},
        {"~", false},
        {"123", false},
        {"1.5", false},
        {".5", false},
        {"- x", false},
        {"a: b", false},
        {"a #b", false},
        {"ends:", false},
        {" x", false},
        {"x ", false},
        {"\u00e9", false},
        {"'q'", false},
        {"*x", false},
        {"&x", false},
        {"!x", false},
        {"%x", false},
        {"@x", false},
        {"`x", false},
        {"{x", false},
        {"[x", false},
        {"|", false},
        {">", false},
        {"#", false},
        {"=", false},
        {"<<", false},
        {"tab\t", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK(crcr::yaml::is_plain_safe(c.text) == c.want);
    }
}

TEST_CASE("yaml::double_quoted") {
    struct Case {
        std::string text;
        std::string want;
    };
    const Case cases[] = {
        {"", "\"\""},
        {"a \"b\" \\c", "\"a \\\"b\\\" \\\\c\""},
        {"a\nb\tc\rd", "\"a\\nb\\tc\\rd\""},
        {"\x01\x7f", "\"\\u0001\\u007F\""},
        {"\u00e9\U0001F680", "\"\u00e9\U0001F680\""},
        {"\u0085\u2028\u2029\ufeff", "\"\\u0085\\u2028\\u2029\\uFEFF\""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK(crcr::yaml::double_quoted(c.text) == c.want);
    }
    CHECK_THROWS_AS(crcr::yaml::double_quoted("bad \xff byte"), crcr::Error);
}

TEST_CASE("yaml::write") {
    SUBCASE("block style, two spaces per level") {
        using crcr::yaml::map;
        using crcr::yaml::seq;
        using crcr::yaml::str;
        const crcr::yaml::Value doc = map({
            {"on", map({{"repository_dispatch", map({{"types", seq({str("pull_request")})}})}})},
            {"steps",
             seq({map({{"name", str("Build")}, {"run", str("make\nmake test\n")}}),
                  map({{"run", str("a: b")}, {"with", map({})}}),
                  seq({str("nested")})})},
            {"empty", seq({})},
            {"count", crcr::yaml::verbatim("3")},
            {"true", str("key quoted in YAML 1.2")},
            {"odd key", str("x")},
        });
        CHECK(crcr::yaml::write(doc)
              == "on:\n"
                 "  repository_dispatch:\n"
                 "    types:\n"
                 "      - pull_request\n"
                 "steps:\n"
                 "  - name: Build\n"
                 "    run: |\n"
                 "      make\n"
                 "      make test\n"
                 "  - run: \"a: b\"\n"
                 "    with: {}\n"
                 "  -\n"
                 "    - nested\n"
                 "empty: []\n"
                 "count: 3\n"
                 "\"true\": key quoted in YAML 1.2\n"
                 "\"odd key\": x\n");
    }
    SUBCASE("every hostile string reads back exactly, alone, in a list and nested") {
        for (const std::string& s : crcr::test::hostile_strings()) {
            CAPTURE(s);
            using crcr::yaml::map;
            using crcr::yaml::str;
            const std::string text = crcr::yaml::write(
                map({{"value", str(s)},
                     {"nested", map({{"steps", crcr::yaml::seq({map({{"run", str(s)}})})}})}}));
            CHECK(read_back(text, "value") == s);
            const crcr::yaml::Document doc = crcr::yaml::load(text);
            REQUIRE(doc.root);
            REQUIRE(doc.root.entries().size() == 2);
            const crcr::yaml::Node nested = doc.root.entries()[1].value;
            REQUIRE(nested.entries().size() == 1);
            const crcr::yaml::Node steps = nested.entries()[0].value;
            REQUIRE(steps.items().size() == 1);
            const crcr::yaml::Node step = steps.items()[0];
            REQUIRE(step.entries().size() == 1);
            CHECK(step.entries()[0].value.text() == s);
        }
    }
    SUBCASE("multi-line text is a literal block when it reads back exactly, else quoted") {
        using crcr::yaml::map;
        using crcr::yaml::str;
        CHECK(crcr::yaml::write(map({{"run", str("a\n  b")}})) == "run: |-\n  a\n    b\n");
        CHECK(crcr::yaml::write(map({{"run", str("a\n\nb\n")}})) == "run: |\n  a\n\n  b\n");
        CHECK(crcr::yaml::write(map({{"run", str(" a\nb")}})) == "run: \" a\\nb\"\n");
        CHECK(crcr::yaml::write(map({{"run", str("a \nb")}})) == "run: \"a \\nb\"\n");
        CHECK(crcr::yaml::write(map({{"run", str("a\n\n")}})) == "run: \"a\\n\\n\"\n");
    }
}
