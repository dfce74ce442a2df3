#include "test_support.hpp"

#include "crcr/capture.hpp"
#include "crcr/delivery.hpp"
#include "crcr/error.hpp"
#include "crcr/signature.hpp"

#include <doctest/doctest.h>

#include <sstream>

namespace {

struct Read {
    std::string text;
    std::size_t line = 0;
    std::size_t index = 0;
};

std::vector<Read> read_all(const std::string& text) {
    std::istringstream in(text);
    crcr::JsonValueReader reader(in, "in.json");
    std::vector<Read> values;
    while (auto value = reader.next()) {
        values.push_back({std::string(value->text), value->line, value->index});
    }
    return values;
}

std::string header(const crcr::HttpRequest& request, const std::string& name) {
    for (const auto& [key, value] : request.headers) {
        if (key == name) {
            return value;
        }
    }
    return "(none)";
}

} // namespace

TEST_CASE(
    "JsonValueReader: JSON Lines, concatenated and pretty-printed documents, a top-level array") {
    struct Case {
        std::string name;
        std::string text;
        std::vector<std::string> want;
        std::vector<std::size_t> want_lines;
    };
    const Case cases[] = {
        {"JSON Lines", "{\"a\":1}\n{\"b\":\"}{\"}\n", {"{\"a\":1}", "{\"b\":\"}{\"}"}, {1, 2}},
        {"no final newline, CRLF", "{\"a\":1}\r\n{\"b\":2}", {"{\"a\":1}", "{\"b\":2}"}, {1, 2}},
        {"pretty-printed",
         "{\n  \"a\": {\n    \"b\": [1, 2]\n  }\n}\n\n{\"c\": \"\\\"\"}\n",
         {"{\n  \"a\": {\n    \"b\": [1, 2]\n  }\n}", "{\"c\": \"\\\"\"}"},
         {1, 7}},
        {"an array of records",
         "[\n {\"a\": 1},\n {\"b\": [{}]}\n]\n",
         {"{\"a\": 1}", "{\"b\": [{}]}"},
         {2, 3}},
        {"empty", "  \n", {}, {}},
        {"an empty array", "[]", {}, {}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const auto values = read_all(c.text);
        std::vector<std::string> texts;
        std::vector<std::size_t> lines;
        for (const auto& v : values) {
            texts.push_back(v.text);
            lines.push_back(v.line);
        }
        CHECK(texts == c.want);
        CHECK(lines == c.want_lines);
    }
}

TEST_CASE("JsonValueReader reads values longer than its buffer, across reads") {
    std::string big = "{\"body\":\"" + std::string(200'000, 'x') + "\\\"}\"}";
    const auto values = read_all(big + "\n" + big + "\n{\"n\":3}");
    REQUIRE(values.size() == 3);
    CHECK(values[0].text == big);
    CHECK(values[1].text == big);
    CHECK(values[1].line == 2);
    CHECK(values[2].text == "{\"n\":3}");
    CHECK(values[2].index == 2);
}

TEST_CASE("JsonValueReader: what is not a sequence of records, with a location") {
    struct Case {
        std::string text;
        std::string want;
    };
    const Case cases[] = {
        {"{\"a\":1}\n  x", "in.json:2:3: expected a JSON object (a record), found 'x'"},
        {"42", "in.json:1:1: expected a JSON object (a record), found '4'"},
        {"{\"a\":1}\n{\"b\":", "in.json:2: the JSON value starting here is not closed"},
        {"[{\"a\":1}", "in.json:1:9: the JSON array is not closed with ']'"},
        {"[{\"a\":1}] {}", "text after the closing ']' of the JSON array"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK_THROWS_WITH_AS(read_all(c.text), doctest::Contains(c.want.c_str()), crcr::Error);
    }
}

TEST_CASE("unescape_json_string decodes exactly what nlohmann does") {
    const std::string samples[] = {
        "",
        "plain",
        "quote \" backslash \\ slash / controls \b\f\n\r\t",
        "unicode \xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80",
        std::string("nul \0 byte", 10),
        "\x01\x1f",
    };
    for (const std::string& sample : samples) {
        CAPTURE(sample);
        CHECK(crcr::unescape_json_string(nlohmann::json(sample).dump()) == sample);
    }
    struct Case {
        std::string literal;
        std::string want;
    };
    const Case cases[] = {
        {R"("\u00e9\u2713")", "\xc3\xa9\xe2\x9c\x93"},
        {R"("\ud83d\ude80")", "\xf0\x9f\x9a\x80"}, // a surrogate pair
        {R"("\/")", "/"},
        {R"("\u0041\u0042")", "AB"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.literal);
        CHECK(crcr::unescape_json_string(c.literal)
              == nlohmann::json::parse(c.literal).get<std::string>());
        CHECK(crcr::unescape_json_string(c.literal) == c.want);
    }
    crcr::Random random(3);
    for (int i = 0; i < 600; ++i) { // random strings of every byte but invalid UTF-8 lead bytes
        std::string sample;
        const auto length = random.between(0, i < 300 ? 40 : 600);
        for (std::uint64_t j = 0; j < length; ++j) {
            sample += static_cast<char>(random.between(0, 127));
        }
        CHECK(crcr::unescape_json_string(nlohmann::json(sample).dump()) == sample);
    }
    CHECK_THROWS_WITH(crcr::unescape_json_string(R"("\x")"), "an unknown escape '\\x'");
    CHECK_THROWS_WITH(crcr::unescape_json_string(R"("\u12")"),
                      "a \\u escape needs four hex digits");
    CHECK_THROWS_WITH(crcr::unescape_json_string("abc"), "not a JSON string");
    CHECK_THROWS_WITH(crcr::unescape_json_string(R"("abc)"), "an unclosed string");
    CHECK_THROWS_WITH(crcr::unescape_json_string(R"("abc\)"), "an unclosed string");
    CHECK_THROWS_WITH(crcr::unescape_json_string(R"("a"b")"), "not a JSON string");
}

TEST_CASE("parse_replay_record decodes bodies of every length, escapes at every offset") {
    // Strings are decoded into the string's own small buffer, grown to a few hundred bytes, then
    // to the bound: put escapes of each kind across those points, in a body followed by more
    // members (the bound is the rest of the record, not the string).
    for (const std::string escape : {"\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude80", "\\n"}) {
        for (std::size_t at = 0; at < 280; at += at < 30 || at >= 230 ? 1 : 200) {
            std::string literal(1, '"'); // built piece by piece: GCC 12 -O3 misreads "..." + s
            literal += std::string(at, 'x');
            literal += escape;
            literal += "tail\"";
            const std::string record = "{\"crcr_capture\":1,\"body\":" + literal
                                       + ",\"event\":\"push\",\"headers\":{\"A\":\"b\"}}";
            CAPTURE(at);
            CAPTURE(escape);
            const crcr::ReplayRecord parsed = crcr::parse_replay_record(record, "t:1", "");
            CHECK(parsed.body == nlohmann::json::parse(literal).get<std::string>());
            CHECK(parsed.event == "push");
            REQUIRE(parsed.headers.size() == 1);
            CHECK(parsed.headers[0].second == "b");
        }
    }
}

TEST_CASE("parse_replay_record detects each format") {
    crcr::Random random(1);
    const std::string body = "{\"action\":\"opened\",  \"number\" : 5, \"t\":\"\\u00e9\"}";
    const crcr::Delivery delivery =
        crcr::make_delivery("pull_request", "opened", body, std::string("s"), random, "d-1");
    const crcr::ReplayRecord capture =
        crcr::parse_replay_record(crcr::capture_record(delivery), "c.jsonl:3", "");
    CHECK(capture.format == crcr::RecordFormat::capture);
    CHECK(capture.body == body); // the raw bytes, spacing and escapes kept
    CHECK(capture.event == "pull_request");
    CHECK(capture.action == "opened");
    CHECK(capture.delivery_id == "d-1");
    CHECK(capture.key == "d-1");
    CHECK(capture.headers.size() == delivery.headers.size());

    const std::string github =
        R"({"id":12345678,"guid":"0b989ba4-242f-11e5-81e1-c7b6966d2516","delivered_at":"2019-06-03T00:57:16Z","redelivery":false,"duration":0.27,"status":"OK","status_code":200,"event":"push","action":null,"installation_id":123,"repository_id":456,"url":"https://www.example.com","request":{"headers":{"X-GitHub-Delivery":"0b989ba4-242f-11e5-81e1-c7b6966d2516","X-Hub-Signature-256":"sha256=old","Accept":"*/*","X-GitHub-Event":"push","User-Agent":"GitHub-Hookshot/b8c71d8","Content-Type":"application/json"},"payload":{"before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","ref":"refs/heads/main"}},"response":{"headers":{},"payload":"ok"}})";
    const crcr::ReplayRecord delivery_record = crcr::parse_replay_record(github, "g.json:1", "");
    CHECK(delivery_record.format == crcr::RecordFormat::github_delivery);
    CHECK(delivery_record.event == "push");
    CHECK(delivery_record.action == "");
    CHECK(delivery_record.delivery_id == "0b989ba4-242f-11e5-81e1-c7b6966d2516");
    CHECK(
        delivery_record.body
        == R"({"before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","ref":"refs/heads/main"})");

    const crcr::ReplayRecord payload =
        crcr::parse_replay_record("{ \"action\": \"closed\" }", "p.json:1", "pull_request");
    CHECK(payload.format == crcr::RecordFormat::payload);
    CHECK(payload.body == "{ \"action\": \"closed\" }");
    CHECK(payload.action == "closed");
    CHECK(payload.key == "p.json:1");
}

TEST_CASE("parse_replay_record: a capture without 'delivery_id' takes its header's") {
    const crcr::ReplayRecord record = crcr::parse_replay_record(
        R"({"crcr_capture":1,"event":"push","headers":{"x-github-delivery":"d-9"},"body":"{}"})",
        "c.jsonl:1",
        "");
    CHECK(record.delivery_id == "d-9");
    CHECK(record.key == "d-9");
}

TEST_CASE("parse_replay_record: records that lack what they need, named by format and location") {
    struct Case {
        std::string text;
        std::string want;
    };
    const Case cases[] = {
        {R"({"action":"opened"})",
         "p.json:4: a payload without a record around it (no 'crcr_capture', no 'guid' and "
         "'request'): give its event with --event"},
        {R"({"crcr_capture":1,"event":"push","headers":{}})",
         "p.json:4: crcr capture record without 'event', 'headers' and a 'body' string"},
        {R"({"crcr_capture":1,"event":"push","headers":[],"body":"{}"})",
         "p.json:4: crcr capture record whose 'headers' is not an object"},
        {R"({"guid":"g","request":{"headers":{}},"event":"push"})",
         "p.json:4: GitHub delivery record without 'guid', 'event' and 'request.payload'"},
        {R"({"crcr_capture":2,"event":"push","headers":{},"body":"{}"})",
         "p.json:4: crcr capture record of a version this crcr does not read ('crcr_capture' is "
         "not 1): a newer crcr wrote it?"},
        {R"({"crcr_capture":"1","event":"push","headers":{},"body":"{}"})",
         "p.json:4: crcr capture record of a version this crcr does not read"},
        {std::string(R"({"crcr_capture":1,"event":"push","headers":{},"body":"{)") + '\0' + "}\"}",
         "p.json:4 is not JSON: line 1, column 56: syntax error while parsing value - invalid "
         "string: control character U+0000 (NUL) must be escaped"},
        {R"({"crcr_capture":1,"event":"push","headers":{},"body":"\q"})",
         "p.json:4 is not JSON: line 1, column 56: syntax error while parsing value - invalid "
         "string: forbidden character after backslash"},
        // Header injection and request smuggling: what would end a header line early.
        {R"({"crcr_capture":1,"delivery_id":"smug-1","event":"push","headers":{"X-GitHub-Delivery":"smug-1","X-Evil":"a\r\nContent-Length: 0\r\n\r\nPOST /SMUGGLED HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"},"body":"{}"})",
         "p.json:4: crcr capture record: not sent: header 'X-Evil' has a CR in its value (byte 2)"},
        {R"({"crcr_capture":1,"delivery_id":"a\r\nX-Injected: 1","event":"push","headers":{},"body":"{}"})",
         "p.json:4: crcr capture record: not sent: header 'X-GitHub-Delivery' has a CR"},
        {R"({"crcr_capture":1,"event":"push\nX: 1","headers":{},"body":"{}"})",
         "p.json:4: crcr capture record: not sent: header 'X-GitHub-Event' has a LF"},
        {R"({"crcr_capture":1,"event":"push","headers":{"X Evil":"1"},"body":"{}"})",
         "p.json:4: crcr capture record: not sent: a header name with byte 0x20"},
        {R"({"guid":"g","event":"push","request":{"headers":{"X-A":"1\u0000"},"payload":{}}})",
         "p.json:4: GitHub delivery record: not sent: header 'X-A' has a NUL"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        CHECK_THROWS_WITH_AS(crcr::parse_replay_record(c.text, "p.json:4", ""),
                             doctest::Contains(c.want.c_str()),
                             crcr::Error);
    }
}

TEST_CASE("record filters") {
    crcr::ReplayRecord record;
    record.event = "pull_request";
    record.action = "synchronize";
    record.delivery_id = "d-9";
    record.body =
        R"({"action":"synchronize","number":42,"repository":{"full_name":"PyTorch/PyTorch"}})";
    struct Case {
        std::vector<std::string> filters;
        bool want;
    };
    const Case cases[] = {
        {{}, true},
        {{"event=pull_request"}, true},
        {{"event=push"}, false},
        {{"event=pull_request",
          "action=synchronize",
          "pr=42",
          "repo=pytorch/pytorch",
          "delivery=d-9"},
         true},
        {{"event=pull_request", "action=opened"}, false},
        {{"pr=43"}, false},
        {{"repo=pytorch/vision"}, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.filters);
        std::vector<crcr::RecordFilter> filters;
        for (const auto& f : c.filters) {
            filters.push_back(crcr::parse_record_filter(f));
        }
        CHECK(crcr::record_matches(record, filters) == c.want);
    }
    record.body = R"({"pull_request":{"number":7}})";
    CHECK(crcr::record_matches(record, {crcr::parse_record_filter("pr=7")}));
    record.body = "not json";
    CHECK_FALSE(crcr::record_matches(record, {crcr::parse_record_filter("pr=7")}));
    CHECK_THROWS_WITH(crcr::parse_record_filter("sender=x"), doctest::Contains("is not KEY=VALUE"));
    CHECK_THROWS_WITH(crcr::parse_record_filter("event"), doctest::Contains("is not KEY=VALUE"));
}

TEST_CASE(
    "webhook_request: captured headers kept, signatures computed again, hop-by-hop left out") {
    crcr::ReplayRecord record;
    record.event = "push";
    record.delivery_id = "old";
    record.body = "{\"a\": 1}";
    record.headers = {{"X-GitHub-Delivery", "old"},
                      {"X-GitHub-Event", "push"},
                      {"X-Hub-Signature-256", "sha256=stale"},
                      {"X-Hub-Signature", "sha1=stale"},
                      {"Content-Length", "999"},
                      {"Host", "github.com"},
                      {"User-Agent", "GitHub-Hookshot/abc"},
                      {"Content-Type", "application/json"}};
    const crcr::HttpRequest same = crcr::webhook_request(record,
                                                         "http://relay/github/webhook",
                                                         std::string("s3cret"),
                                                         crcr::Signatures::sha256_and_sha1,
                                                         "");
    CHECK(header(same, "X-GitHub-Delivery") == "old");
    CHECK(header(same, "User-Agent") == "GitHub-Hookshot/abc");
    CHECK(header(same, "X-Hub-Signature-256") == crcr::sign_sha256("s3cret", record.body));
    CHECK(header(same, "X-Hub-Signature") == crcr::sign_sha1("s3cret", record.body));
    const crcr::HttpRequest only_256 =
        crcr::webhook_request(record, "u", std::string("s3cret"), crcr::Signatures::sha256, "");
    CHECK(header(only_256, "X-Hub-Signature-256") == crcr::sign_sha256("s3cret", record.body));
    CHECK(header(only_256, "X-Hub-Signature") == "(none)"); // the stale one is not kept either
    CHECK(header(same, "Content-Length") == "(none)");
    CHECK(header(same, "Host") == "(none)");
    CHECK(same.body == record.body);
    const crcr::HttpRequest renamed = crcr::webhook_request(
        record, "u", std::nullopt, crcr::Signatures::sha256_and_sha1, "new-id");
    CHECK(header(renamed, "X-GitHub-Delivery") == "new-id");
    CHECK(header(renamed, "X-Hub-Signature-256") == "(none)"); // unsigned without a secret
    CHECK(header(renamed, "X-Hub-Signature") == "(none)");
    crcr::ReplayRecord bare;
    bare.event = "pull_request";
    bare.body = "{}";
    const crcr::HttpRequest payload =
        crcr::webhook_request(bare, "u", std::string("k"), crcr::Signatures::sha256, "fresh");
    CHECK(header(payload, "X-GitHub-Event") == "pull_request");
    CHECK(header(payload, "X-GitHub-Delivery") == "fresh");
    CHECK(header(payload, "Content-Type") == "application/json");
    CHECK(header(payload, "X-Hub-Signature-256") == crcr::sign_sha256("k", "{}"));
}

TEST_CASE("webhook_request: a record's delivery id is sent whether its headers had it or not") {
    crcr::ReplayRecord record; // a capture record with "delivery_id", its headers without it
    record.event = "push";
    record.delivery_id = "d-1";
    record.body = "{}";
    record.headers = {{"X-GitHub-Event", "push"}};
    CHECK(header(crcr::webhook_request(record, "u", std::nullopt, crcr::Signatures::sha256, ""),
                 "X-GitHub-Delivery")
          == "d-1");
    CHECK(header(crcr::webhook_request(record, "u", std::nullopt, crcr::Signatures::sha256, "new"),
                 "X-GitHub-Delivery")
          == "new");
}

TEST_CASE("JsonValueReader: escapes cut by the end of a read, at every offset around it") {
    // The reader reads k_chunk bytes at a time: put an escaped quote and an escaped backslash
    // across that boundary, and check that the value (and the string's end) is found exactly.
    constexpr std::size_t k_chunk = crcr::JsonValueReader::k_chunk;
    for (std::size_t at = k_chunk - 6; at < k_chunk + 4; ++at) {
        for (const std::string escape : {"\\\"", "\\\\", "\\\\\\\"", "\\u00e9"}) {
            const std::string head = "{\"body\":\"";
            const std::string value =
                head + std::string(at - head.size(), 'x') + escape + "\"}\"tail\"}";
            const std::string text = value.substr(0, value.size() - 8) + "}"; // {"body":"xx..\"}
            CAPTURE(at);
            CAPTURE(escape);
            const auto values = read_all(text + "\n{\"n\":1}\n");
            REQUIRE(values.size() == 2);
            CHECK(values[0].text == text);
            CHECK(values[1].text == "{\"n\":1}");
            const crcr::ReplayRecord record = crcr::parse_replay_record(
                "{\"crcr_capture\":1,\"event\":\"push\",\"headers\":{},\"body\":"
                    + text.substr(8, text.size() - 9) + "}",
                "t:1",
                "");
            CHECK(record.body
                  == std::string(at - head.size(), 'x')
                         + nlohmann::json::parse("\"" + escape + "\"").get<std::string>());
        }
    }
}
