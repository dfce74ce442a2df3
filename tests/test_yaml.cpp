#include "test_support.hpp"

#include "crcr/yaml.hpp"

#include <doctest/doctest.h>

#include <sys/mman.h>

#include <string>

using crcr::yaml::Kind;

namespace {

// What `text` loads as, written as a list's only item, with the document that keeps it alive.
struct Scalar {
    crcr::yaml::Document doc;
    crcr::yaml::Node node;
};

Scalar scalar(const std::string& text) {
    crcr::yaml::Document doc = crcr::yaml::load("- " + text + "\n");
    REQUIRE(doc.errors.empty());
    REQUIRE(doc.root);
    REQUIRE(doc.root.items().size() == 1);
    const crcr::yaml::Node node = doc.root.items()[0];
    return {std::move(doc), node};
}

std::string repeat(std::string_view text, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) {
        out += text;
    }
    return out;
}

std::string first_error_rule(std::string_view text) {
    const crcr::yaml::Document doc = crcr::yaml::load(text);
    return doc.errors.empty() ? std::string() : doc.errors.front().rule;
}

} // namespace

TEST_CASE("yaml::load resolves plain scalars as PyYAML's safe_load") {
    struct Case {
        std::string text;
        Kind kind;
        std::string str; // Python's str() of the value
    };
    const Case cases[] = {
        {"org/repo", Kind::string, "org/repo"},
        {"yes", Kind::boolean, "True"},
        {"Off", Kind::boolean, "False"},
        {"y", Kind::string, "y"},
        {"~", Kind::null, "None"},
        {"null", Kind::null, "None"},
        {"123", Kind::integer, "123"},
        {"010", Kind::integer, "8"},
        {"0x1F", Kind::integer, "31"},
        {"0b101", Kind::integer, "5"},
        {"1_000", Kind::integer, "1000"},
        {"1:30", Kind::integer, "90"},
        {"-0", Kind::integer, "0"},
        {"99999999999999999999999", Kind::integer, "99999999999999999999999"},
        {"1.5", Kind::floating, "1.5"},
        {"1e3", Kind::string, "1e3"},
        {".inf", Kind::floating, ".inf"},
        {"2026-08-01", Kind::timestamp, "2026-08-01"},
        {"'yes'", Kind::string, "yes"},
        {"\"010\"", Kind::string, "010"},
        {"!!str 123", Kind::string, "123"},
        {"!!int \"12\"", Kind::integer, "12"},
        {"<<x", Kind::string, "<<x"},
        {std::string(50000, '1'), Kind::integer, std::string(50000, '1')},
        {std::string(30000, '1') + "." + std::string(30000, '2'),
         Kind::floating,
         std::string(30000, '1') + "." + std::string(30000, '2')},
        {std::string("1").append(100, '0') + "x",
         Kind::string,
         std::string("1").append(100, '0') + "x"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        const Scalar value = scalar(c.text);
        CHECK(value.node.kind() == c.kind);
        CHECK(crcr::yaml::python_str(value.node) == c.str);
    }
}

TEST_CASE("yaml::is_falsy") {
    struct Case {
        std::string text;
        bool falsy;
    };
    const Case cases[] = {
        {"~", true},
        {"false", true},
        {"0", true},
        {"0.0", true},
        {"''", true},
        {"[]", true},
        {"{}", true},
        {"no", true},
        {"1", false},
        {"a", false},
        {"[a]", false},
        {".nan", false},
        {"0.5", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK(crcr::yaml::is_falsy(scalar(c.text).node) == c.falsy);
    }
}

TEST_CASE("yaml::load keeps the last of duplicate keys at the first key's place") {
    const crcr::yaml::Document doc = crcr::yaml::load("a: 1\nb: 2\na: 3\n");
    REQUIRE(doc.root);
    REQUIRE(doc.root.entries().size() == 2);
    CHECK(doc.root.entries()[0].key.text() == "a");
    CHECK(doc.root.entries()[0].value.text() == "3");
    REQUIRE(doc.duplicates.size() == 1);
    CHECK(doc.duplicates[0].first.location().line == 1);
    CHECK(doc.duplicates[0].second.location().line == 3);
    CHECK(doc.duplicates[0].dropped.text() == "1");
    CHECK(doc.duplicates[0].path.empty());

    SUBCASE("keys equal as Python values are duplicates") {
        const crcr::yaml::Document ints = crcr::yaml::load("x:\n  1: a\n  0x1: b\n  true: c\n");
        REQUIRE(ints.duplicates.size() == 2);
        CHECK(ints.duplicates[0].path == "x");
    }
    SUBCASE("the path names list items by their index") {
        const crcr::yaml::Document nested =
            crcr::yaml::load("jobs:\n  a: [1, 2]\n  b:\n    - {x: 1}\n    - {x: 1, x: 2}\n");
        REQUIRE(nested.duplicates.size() == 1);
        CHECK(nested.duplicates[0].path == "jobs.b[1]");
        CHECK(nested.root.entries()[0].value.entries()[1].value.items()[1].entries().size() == 1);
    }
    SUBCASE("a key as long as the file is named by its first 200 bytes, once per mapping") {
        // 40,000 duplicates under a 400 KB key: a whole path kept with each one was 16 GB.
        std::string text = "? " + std::string(400'000, 'k') + "\n: {";
        for (int i = 0; i < 40'000; ++i) {
            text += "a: 1, ";
        }
        text += "}\n";
        const crcr::yaml::Document big = crcr::yaml::load(text);
        REQUIRE(big.duplicates.size() == 39'999);
        CHECK(big.duplicates.front().path == std::string(200, 'k') + "...");
        CHECK(big.duplicates.back().path == big.duplicates.front().path);
    }
}

TEST_CASE("yaml::load applies merge keys and aliases") {
    const crcr::yaml::Document doc = crcr::yaml::load("base: &b {x: 1, y: 2}\n"
                                                      "other: &o {z: 9}\n"
                                                      "m:\n  <<: [*b, *o]\n  y: 3\n"
                                                      "list: [&s a, *s]\n");
    REQUIRE(doc.errors.empty());
    const crcr::yaml::Node m = doc.root.entries()[2].value;
    REQUIRE(m.entries().size() == 3);
    // Later mappings of a merge list come first, as in PyYAML.
    CHECK(m.entries()[0].key.text() == "z");
    CHECK(m.entries()[1].key.text() == "x");
    CHECK(m.entries()[2].key.text() == "y");
    CHECK(m.entries()[2].value.text() == "3");
    CHECK(doc.duplicates.empty()); // overriding a merged key is not a duplicate
    const crcr::yaml::Node list = doc.root.entries()[3].value;
    REQUIRE(list.items().size() == 2);
    CHECK(list.items()[1].text() == "a");
}

TEST_CASE("yaml::load rejects what PyYAML rejects, with a location") {
    struct Case {
        std::string name;
        std::string text;
        std::string rule;
        int line;
        int column;
    };
    const Case cases[] = {
        {"tab indentation", "L1:\n\t- a/b\n", "yaml-tab", 2, 1},
        {"tab after a value", "L1:\n  - a/b\t# c\n", "yaml-tab", 2, 8},
        {"tab after dash", "L1:\n  -\ta/b\n", "yaml-tab", 2, 4},
        {"at sign", "L4:\n  - org/repo: @a, b\n", "yaml-syntax", 2, 15},
        {"backtick", "a: `b`\n", "yaml-syntax", 1, 4},
        {"unclosed quote", "a: \"b\n", "yaml-syntax", 2, 1},
        {"two documents", "a: 1\n---\nb: 2\n", "yaml-syntax", 2, 1},
        {"a second document is not parsed", "a: 1\n---\n[\n", "yaml-syntax", 2, 1},
        {"unclosed flow", "L1: [a/b\n", "yaml-syntax", 2, 1},
        {"unknown tag", "a: !foo x\n", "yaml-syntax", 1, 4},
        {"python tag", "a: !!python/object x\n", "yaml-syntax", 1, 4},
        {"list as key", "? [a]\n: b\n", "yaml-syntax", 1, 3},
        {"bad merge", "a:\n  <<: 5\n", "yaml-syntax", 2, 7},
        {"invalid utf-8", "a: b\nc: \xff\n", "invalid-utf8", 2, 4},
        {"overlong utf-8", "a: \xc0\xaf\n", "invalid-utf8", 1, 4},
        {"NUL byte", std::string("a: b\0c\n", 7), "non-printable-character", 1, 5},
        {"escape char", "a: \x1b[0m\n", "non-printable-character", 1, 4},
        {"NEL",
         "a: b\xc2\x85"
         "c: d\n",
         "hidden-line-break",
         1,
         5},
        {"comma at the start", ",\n", "yaml-syntax", 1, 1},
        {"comma after a key", "a: , x\n", "yaml-syntax", 1, 4},
        {"scalar tag on a list", "L1: !!str\n  - a/b\n", "yaml-syntax", 1, 5},
        {"deep nesting",
         "a: " + std::string(600, '[') + std::string(600, ']') + "\n",
         "yaml-syntax",
         1,
         259},
        // Inputs that made yaml-cpp hang, overflow the stack or take gigabytes (issue #17)
        {"a tag with a comma (yaml-cpp looped forever)", "!a,b\n", "yaml-syntax", 1, 3},
        {"a comma in a tagged value", "L1:\n  - !a,b\n", "yaml-syntax", 2, 7},
        {"an alias inside its own anchor", "L1: &a\n  - *a\n", "yaml-syntax", 2, 5},
        {"an alias inside its own mapping", "a: &a {b: *a}\n", "yaml-syntax", 1, 11},
        {"100000 open brackets", std::string(100000, '['), "yaml-syntax", 1, 257},
        {"100000 nested block lists", repeat("- ", 100000) + "x\n", "yaml-syntax", 1, 513},
        {"an alias with no anchor", "a: *b\n", "yaml-syntax", 1, 4},
        {"an anchor defined twice", "a: &x 1\nb: &x 2\n", "yaml-syntax", 2, 4},
        // What PyYAML rejects and crcr used to accept
        {"a value with no key", ": x\n", "yaml-syntax", 1, 1},
        {"a directive without a name", "%#x\n", "yaml-syntax", 1, 2},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::yaml::Document doc = crcr::yaml::load(c.text);
        REQUIRE_FALSE(doc.errors.empty());
        CHECK_FALSE(doc.root);
        CHECK(doc.errors[0].rule == c.rule);
        CHECK(doc.errors[0].location.line == c.line);
        CHECK(doc.errors[0].location.column == c.column);
    }
}

TEST_CASE("yaml::load accepts tabs where PyYAML does") {
    CHECK(first_error_rule("a: \"x\ty\"\n") == "");
    CHECK(first_error_rule("a: 'x\ty'\n") == "");
    CHECK(first_error_rule("a: b # c\td\n") == "");
    CHECK(first_error_rule("a: |\n  x\ty\nb: c\n") == "");
    CHECK(first_error_rule("# \t\na: b\n") == "");
    CHECK(first_error_rule("a: x, y\nb: [c, d]\n") == ""); // commas inside values and flow lists
    CHECK(first_error_rule("a: {b: 1, c: [2, 3]}\n") == "");
}

TEST_CASE("yaml::load on empty and comment-only input gives no document") {
    for (const std::string text : {"", "# only a comment\n", "\n\n", "---\n"}) {
        CAPTURE(text);
        const crcr::yaml::Document doc = crcr::yaml::load(text);
        CHECK(doc.errors.empty());
        CHECK_FALSE(doc.root);
    }
}

TEST_CASE("yaml::load bounds alias expansion") {
    const std::string bomb = crcr::test::alias_bomb(11);
    const crcr::yaml::Document doc = crcr::yaml::load(bomb);
    REQUIRE_FALSE(doc.errors.empty());
    CHECK(doc.errors[0].message.find("more than " + std::to_string(10'000 + bomb.size())
                                     + " nodes once its aliases are expanded")
          != std::string::npos);
    CHECK(doc.errors[0].location.line == 4);

    SUBCASE("the bytes of the values they repeat") {
        std::string text = "a: &a " + std::string(100'000, 'x') + "\nb: [*a";
        for (int i = 0; i < 20; ++i) {
            text += ", *a";
        }
        text += "]\n";
        const crcr::yaml::Document big = crcr::yaml::load(text);
        REQUIRE_FALSE(big.errors.empty());
        CHECK(big.errors[0].message.find("values add up to more than") != std::string::npos);
    }
    SUBCASE("the depth of what they stand for") {
        const std::string deep = std::string(200, '[') + std::string(200, ']');
        const crcr::yaml::Document nested = crcr::yaml::load(
            "a: &a " + deep + "\nb: " + deep.substr(0, 100) + "*a" + deep.substr(200, 100) + "\n");
        REQUIRE_FALSE(nested.errors.empty());
        CHECK(nested.errors[0].message.find("nested more than 256 levels") != std::string::npos);
        CHECK(nested.errors[0].location == crcr::SourceLocation{2, 104, 2});
    }
    SUBCASE("not the aliases within the limits") {
        const crcr::yaml::Document ok = crcr::yaml::load(
            "a: &a " + std::string(200, '[') + std::string(200, ']') + "\nb: [*a, *a]\n");
        CHECK(ok.errors.empty());
        REQUIRE(ok.root);
        CHECK(ok.root.entries()[1].value.items()[0] == ok.root.entries()[0].value);
    }
}

TEST_CASE("yaml::load reads what yaml-cpp misread as PyYAML does") {
    const crcr::yaml::Document comment = crcr::yaml::load("L1 #c:\n");
    REQUIRE(comment.root);
    CHECK(comment.root.kind() == Kind::string);
    CHECK(comment.root.text() == "L1");
    const Scalar tagged = scalar("! 123");
    CHECK(tagged.node.kind() == Kind::integer); // `!` alone leaves the value to be resolved
    const crcr::yaml::Document empty = crcr::yaml::load("a:\nb: 1\n");
    REQUIRE(empty.root);
    CHECK(empty.root.entries()[0].value.kind() == Kind::null);
    CHECK(empty.root.entries()[0].value.location() == crcr::SourceLocation{1, 2, 1});
}

TEST_CASE("yaml::python_type") {
    CHECK(crcr::yaml::python_type(Kind::null) == "NoneType");
    CHECK(crcr::yaml::python_type(Kind::mapping) == "dict");
    CHECK(crcr::yaml::python_type(Kind::sequence) == "list");
    CHECK(crcr::yaml::python_type(Kind::integer) == "int");
}

TEST_CASE("yaml::load refuses a text over 1 GiB before reading any of it") {
    // Pages mapped but never touched: the loader must say no from the size alone.
    const std::size_t size = crcr::yaml::k_max_text + 1;
    void* const pages =
        mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE(pages != MAP_FAILED);
    const crcr::yaml::Document doc =
        crcr::yaml::load(std::string_view(static_cast<const char*>(pages), size));
    munmap(pages, size);
    REQUIRE(doc.errors.size() == 1);
    CHECK(doc.errors[0].message
          == "the file is 1073741825 bytes; crcr reads YAML files of at most 1073741824 bytes");
    CHECK_FALSE(doc.root);
}
