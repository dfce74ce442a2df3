#include "crcr/error.hpp"
#include "crcr/json_string.hpp"
#include "crcr/payload.hpp"
#include "crcr/random.hpp"
#include "crcr/utf8.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

namespace {

using Decoder = std::function<std::size_t(std::string_view, std::size_t, std::string&)>;

struct Named {
    std::string_view name;
    Decoder decode;
};

// The implementations this machine can run.
std::vector<Named> decoders() {
    std::vector<Named> all = {{"portable", crcr::detail::decode_json_string_portable},
                              {"dispatched", crcr::decode_json_string}};
    if (crcr::detail::have_avx512_decoder()) {
        all.push_back({"avx512", crcr::detail::decode_json_string_avx512});
    } else {
        MESSAGE("no AVX-512 VBMI2 here: the AVX-512 decoder is not tested");
    }
    return all;
}

// What each decoder makes of the literal at `at` in `text`: the decoded string and the end, or
// the error's text.
std::string outcome(const Decoder& decode, std::string_view text, std::size_t at) {
    std::string out = "left over";
    try {
        const std::size_t end = decode(text, at, out);
        return "end " + std::to_string(end) + ": " + out;
    } catch (const crcr::Error& e) {
        return std::string("error: ") + e.what();
    }
}

// A random string heavy in what JSON escapes, and in what captured bodies hold most.
std::string random_text(crcr::Random& random, std::size_t length) {
    static const std::vector<std::string> pieces = {"\"",
                                                    "\\",
                                                    "/",
                                                    "\n",
                                                    "\t",
                                                    "\r",
                                                    "\b",
                                                    "\f",
                                                    "\x01",
                                                    "\x1f",
                                                    "a",
                                                    "bc",
                                                    "{\"k\":",
                                                    "\xc3\xa9",
                                                    "\xe2\x9c\x93",
                                                    "\xf0\x9f\x9a\x80",
                                                    " ",
                                                    "0123456789abcdef0123456789abcdef"};
    std::string text;
    while (text.size() < length) {
        text += pieces[random.between(0, pieces.size() - 1)];
    }
    return text;
}

} // namespace

TEST_CASE("decode_json_string: every implementation decodes what nlohmann encodes") {
    crcr::Random random(11);
    for (int i = 0; i < 3000; ++i) {
        const std::string sample = random_text(random, random.between(0, i < 2000 ? 150 : 3000));
        // The literal, once as nlohmann writes it, once with every '/' escaped and non-ASCII as
        // \u escapes (surrogate pairs included), inside more text, as a record holds it.
        const std::string plain = crcr::Json(sample).dump();
        const std::string ascii =
            crcr::Json(sample).dump(-1, ' ', true, crcr::Json::error_handler_t::strict);
        std::string slashed;
        for (const char c : ascii) {
            slashed += c == '/' ? std::string("\\/") : std::string(1, c);
        }
        for (const std::string& literal : {plain, slashed}) {
            const std::string text = "{\"body\":" + literal + ",\"more\":\"x\"}";
            for (const Named& d : decoders()) {
                CAPTURE(d.name);
                CAPTURE(literal);
                CHECK(outcome(d.decode, text, 8)
                      == "end " + std::to_string(8 + literal.size()) + ": " + sample);
            }
        }
    }
}

TEST_CASE("decode_json_string: the same errors from every implementation") {
    crcr::Random random(12);
    std::vector<std::string> texts = {
        R"("abc)", R"("abc\)", R"("\x")", R"("\u12")", R"("\u12g4")", "\"", R"("\)"};
    // Broken literals of every length, an escape cut by the end at every offset around 64 bytes.
    for (std::size_t n = 55; n < 140; ++n) {
        // (appended to a string, not "..." + string: GCC 12 at -O3 warns about the latter)
        const std::string xs = std::string(1, '"').append(n, 'x');
        texts.push_back(xs + "\\");
        texts.push_back(xs + "\\u00");
        texts.push_back(xs + "\\q\"");
        texts.push_back(std::string(1, '"').append(n, '\\'));
        texts.push_back(xs);
        for (const char control : {'\0', '\n', '\x1f'}) { // raw, as JSON forbids
            texts.push_back(std::string(xs).append(1, control).append("x\""));
            texts.push_back(std::string(xs).append("\\").append(1, control).append("\""));
        }
    }
    for (int i = 0; i < 500; ++i) { // random bytes with quotes and backslashes: anything goes
        std::string text = "\"";
        const auto length = random.between(0, 200);
        for (std::uint64_t j = 0; j < length; ++j) {
            text += "\\\"xn/u0"[random.between(0, 6)];
        }
        texts.push_back(text);
    }
    const std::vector<Named> all = decoders();
    for (const std::string& text : texts) {
        CAPTURE(text);
        const std::string want = outcome(all[0].decode, text, 0);
        for (const Named& d : all) {
            CAPTURE(d.name);
            CHECK(outcome(d.decode, text, 0) == want);
        }
    }
    CHECK(outcome(crcr::decode_json_string, R"("\x")", 0) == "error: an unknown escape '\\x'");
    CHECK(outcome(crcr::decode_json_string, R"("abc)", 0) == "error: an unclosed string");
    for (const Named& d : all) {
        CAPTURE(d.name);
        CHECK(
            outcome(d.decode, std::string("\"a\0b\"", 5), 0)
            == "error: a raw control character (U+0000) in a string: JSON writes it as an escape");
        CHECK(
            outcome(d.decode, "\"a\tb\"", 0)
            == "error: a raw control character (U+0009) in a string: JSON writes it as an escape");
        CHECK(outcome(d.decode, "\"\\u0000 \\t \x7f\"", 0)
              == "end 13: " + std::string("\0 \t \x7f", 5));
    }
}

TEST_CASE("find_json_string_end: every implementation, text read in pieces cut anywhere") {
    using Finder = std::size_t (*)(std::string_view, std::size_t, std::size_t&);
    std::vector<std::pair<const char*, Finder>> finders = {
        {"portable", crcr::detail::find_json_string_end_portable},
        {"dispatched", crcr::find_json_string_end}};
    if (crcr::detail::have_avx512_decoder()) {
        finders.emplace_back("avx512", crcr::detail::find_json_string_end_avx512);
    }
    crcr::Random random(13);
    for (int i = 0; i < 2000; ++i) {
        // A literal and what follows it; its closing quote is where nlohmann's encoding ends.
        const std::string literal = crcr::Json(random_text(random, random.between(0, 300))).dump();
        const std::string text = literal + "\"tail\\\"\"";
        const std::size_t want = literal.size() - 1;
        const std::size_t cut = random.between(1, text.size()); // the first read ends here
        for (const auto& finder : finders) {
            const std::string_view name = finder.first; // CAPTURE's lambda: no structured binding
            const auto& find = finder.second;
            CAPTURE(name);
            CAPTURE(literal);
            CAPTURE(cut);
            std::size_t resume = 0;
            std::size_t found = find(std::string_view(text).substr(0, cut), 1, resume);
            if (found == std::string_view::npos) {
                CHECK(cut <= want);
                REQUIRE(resume <= cut + 1); // at or just past an escape cut by the end
                found = find(text, resume, resume);
            }
            CHECK(found == want);
        }
    }
}

TEST_CASE("append_json_string: writes what nlohmann writes, for any valid UTF-8") {
    crcr::Random random(14);
    for (int i = 0; i < 3000; ++i) {
        const std::string sample = random_text(random, random.between(0, 300));
        std::string out = "["; // appended after what is there
        crcr::append_json_string(out, sample);
        CAPTURE(out);
        CHECK(out.substr(1) == crcr::Json(sample).dump());
    }
}

TEST_CASE("append_json_string: bytes that are not UTF-8 become U+FFFD, the rest stays") {
    struct Row {
        std::string_view name;
        std::string text;
        std::string literal;
    };
    const std::vector<Row> rows = {
        {"empty", "", R"("")"},
        {"a stray continuation byte", "a\x80z", "\"a\xEF\xBF\xBDz\""},
        {"a sequence cut short", "\xE2\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"a surrogate (a lone \\ud800 decoded)",
         "\xED\xA0\x80",
         "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"Latin-1", "caf\xE9 \"ok\"", "\"caf\xEF\xBF\xBD \\\"ok\\\"\""},
        {"valid next to invalid", "\xFF\xC3\xA9", "\"\xEF\xBF\xBD\xC3\xA9\""},
        {"DEL is not escaped", "\x7F", "\"\x7F\""},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        std::string out;
        crcr::append_json_string(out, row.text);
        CHECK(out == row.literal);
        CHECK(crcr::Json::parse(out).is_string()); // valid JSON, whatever the bytes were
    }
}
