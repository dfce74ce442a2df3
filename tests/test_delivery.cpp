#include "crcr/delivery.hpp"
#include "crcr/signature.hpp"

#include <doctest/doctest.h>

#include <regex>

namespace {

const auto k_now = crcr::parse_time("2026-11-26T10:00:00Z");

std::string header(const crcr::Delivery& d, std::string_view name) {
    for (const auto& [key, value] : d.headers) {
        if (key == name) {
            return value;
        }
    }
    return "<missing>";
}

} // namespace

TEST_CASE("make_delivery") {
    crcr::Random random(1);
    const std::string body = R"({"action":"opened","x":1})";
    SUBCASE("GitHub's header set, signed over the exact bytes") {
        const crcr::Delivery d =
            crcr::make_delivery("pull_request", "opened", body, std::string("s3cret"), random);
        CHECK(d.body == body);
        CHECK(d.action == "opened");
        CHECK(header(d, "Content-Type") == "application/json");
        CHECK(std::regex_match(header(d, "User-Agent"), std::regex("GitHub-Hookshot/[0-9a-f]{7}")));
        CHECK(header(d, "X-GitHub-Event") == "pull_request");
        CHECK(header(d, "X-GitHub-Delivery") == d.id);
        CHECK(std::regex_match(
            d.id,
            std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
        CHECK(std::regex_match(header(d, "X-GitHub-Hook-ID"), std::regex("[0-9]+")));
        CHECK(header(d, "X-GitHub-Hook-Installation-Target-Type") == "integration");
        CHECK(header(d, "X-Hub-Signature-256") == crcr::sign_sha256("s3cret", body));
        CHECK(header(d, "X-Hub-Signature") == crcr::sign_sha1("s3cret", body));
    }
    SUBCASE("unsigned without a secret; a given delivery id") {
        const crcr::Delivery d =
            crcr::make_delivery("push", "", body, std::nullopt, random, "my-id");
        CHECK(d.id == "my-id");
        CHECK(header(d, "X-Hub-Signature-256") == "<missing>");
    }
}

TEST_CASE("capture_record keeps the exact body") {
    crcr::Random random(1);
    const std::string body = "{\"a\": \"\\u00e9 \\\"q\\\"\",\n \"b\": 1}";
    const crcr::Delivery d = crcr::make_delivery("push", "", body, std::string("k"), random);
    const crcr::Json record = crcr::Json::parse(crcr::capture_record(d));
    CHECK(record["crcr_capture"] == 1);
    CHECK(record["delivery_id"] == d.id);
    CHECK(record["event"] == "push");
    CHECK(record["action"].is_null());
    CHECK(record["body"] == body);
    CHECK(record["headers"]["X-Hub-Signature-256"] == crcr::sign_sha256("k", body));
    CHECK(crcr::capture_record(d).find('\n') == std::string::npos);
}

TEST_CASE("http_request_text") {
    crcr::Random random(1);
    const crcr::Delivery d = crcr::make_delivery("push", "", "{}", std::nullopt, random, "id-1");
    const std::string text = crcr::http_request_text(d);
    CHECK(text.starts_with(
        "POST /github/webhook HTTP/1.1\r\nAccept: */*\r\nContent-Type: application/json\r\n"));
    CHECK(text.find("X-GitHub-Delivery: id-1\r\nX-GitHub-Event: push\r\n") != std::string::npos);
    CHECK(text.ends_with("Content-Length: 2\r\n\r\n{}"));
}

TEST_CASE("dispatch_event is what the downstream run sees") {
    crcr::Random random(1);
    crcr::PayloadShape shape;
    shape.event = "pull_request";
    shape.action = "opened";
    const crcr::Json payload = crcr::build_payload(shape, random, k_now);
    const crcr::Delivery d = crcr::make_delivery(
        "pull_request", crcr::action_of(payload), payload.dump(), std::nullopt, random);
    const crcr::Json event = crcr::dispatch_event(d, payload, "example-org/ci", random, k_now);
    CHECK(event["action"] == "pull_request");
    CHECK(event["branch"] == "main");
    CHECK(event["client_payload"]["event_type"] == "pull_request");
    CHECK(event["client_payload"]["delivery_id"] == d.id);
    CHECK(event["client_payload"]["payload"] == payload);
    CHECK(event["repository"]["full_name"] == "example-org/ci");
    CHECK(event["sender"]["type"] == "Bot");
    CHECK(event["installation"]["id"].is_number());
}

TEST_CASE("route_webhook follows the relay's decisions") {
    const crcr::Json upstream = {{"full_name", "PyTorch/PyTorch"}};
    struct Case {
        std::string name;
        std::string event;
        crcr::Json payload;
        crcr::Route::Kind kind;
    };
    const Case cases[] = {
        {"issues", "issues", {{"repository", upstream}}, crcr::Route::Kind::ignored},
        {"another repository",
         "push",
         {{"repository", {{"full_name", "a/b"}}}},
         crcr::Route::Kind::ignored},
        {"no repository", "push", crcr::Json::object(), crcr::Route::Kind::ignored},
        {"push (case-insensitive repo)",
         "push",
         {{"repository", upstream}},
         crcr::Route::Kind::dispatch},
        {"opened",
         "pull_request",
         {{"action", "opened"}, {"repository", upstream}},
         crcr::Route::Kind::dispatch},
        {"synchronize",
         "pull_request",
         {{"action", "synchronize"}, {"repository", upstream}},
         crcr::Route::Kind::dispatch},
        {"closed",
         "pull_request",
         {{"action", "closed"}, {"repository", upstream}},
         crcr::Route::Kind::dispatch},
        {"edited",
         "pull_request",
         {{"action", "edited"}, {"repository", upstream}},
         crcr::Route::Kind::ignored},
        {"ciflow label",
         "pull_request",
         {{"action", "labeled"},
          {"label", {{"name", "ciflow/crcr/npu"}}},
          {"repository", upstream}},
         crcr::Route::Kind::backfill},
        {"other label",
         "pull_request",
         {{"action", "labeled"}, {"label", {{"name", "bug"}}}, {"repository", upstream}},
         crcr::Route::Kind::ignored},
        {"rerequested",
         "check_suite",
         {{"action", "rerequested"}, {"repository", upstream}},
         crcr::Route::Kind::rerun},
        {"check_run completed",
         "check_run",
         {{"action", "completed"}, {"repository", upstream}},
         crcr::Route::Kind::ignored},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::Route route = crcr::route_webhook(c.event, c.payload);
        CHECK(route.kind == c.kind);
        CHECK_FALSE(route.reason.empty());
    }
}

TEST_CASE("BodyVariants") {
    const std::string sha_a(40, 'a');
    const std::string sha_b(40, 'b');
    const std::string zeros(crcr::k_null_sha);
    const std::string body = R"({"after":")" + sha_a + R"(","head":{"sha":")" + sha_a
                             + R"("},"before":")" + sha_b + R"(","none":")" + zeros
                             + R"(","at":"2026-11-26T10:00:00Z","short":"abc"})";
    const crcr::BodyVariants variants(body);
    crcr::Random random(1);
    const crcr::Json one = crcr::Json::parse(variants.next(random, std::chrono::seconds(0)));
    const crcr::Json two = crcr::Json::parse(variants.next(random, std::chrono::seconds(90)));
    CHECK(one["after"] != sha_a);
    CHECK(one["after"] == one["head"]["sha"]); // the same SHA is replaced the same way
    CHECK(one["after"] != one["before"]);
    CHECK(one["after"] != two["after"]);
    CHECK(one["none"] == zeros);
    CHECK(one["short"] == "abc");
    CHECK(one["at"] == "2026-11-26T10:00:00Z");
    CHECK(two["at"] == "2026-11-26T10:01:30Z");
}

TEST_CASE("BodyVariants: a variant patched in place, with its literal, equals a fresh one") {
    const std::string sha(40, 'a');
    const std::string body = R"({"sha":")" + sha + R"(","text":"a \"quoted\"\n\\ line","at":)"
                             + R"("2026-11-26T10:00:00Z","head":")" + sha + R"("})";
    const crcr::BodyVariants variants(body);
    crcr::Random fresh(3);
    crcr::Random patched(3);
    crcr::BodyVariants::Variant variant;
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        const std::string expected = variants.next(fresh, std::chrono::seconds(i * 100));
        variants.next(patched, std::chrono::seconds(i * 100), variant);
        CHECK(variant.body == expected);
        CHECK(variant.literal == crcr::Json(expected).dump());
    }
}

TEST_CASE("write_capture_records writes what capture_record gives in a loop, on any threads") {
    crcr::PayloadShape shape;
    shape.event = "pull_request";
    shape.action = "synchronize";
    crcr::Random payload_random(5);
    const std::string body = crcr::build_payload(shape, payload_random, k_now).dump();
    const crcr::BodyVariants variants(body);
    for (const std::optional<std::string>& secret :
         {std::optional<std::string>("s"), std::optional<std::string>()}) {
        for (const std::uint64_t count : {1ULL, 2ULL, 64ULL, 200ULL}) {
            crcr::Random random(9);
            std::string expected;
            for (std::uint64_t i = 0; i < count; ++i) {
                const crcr::Delivery d =
                    crcr::make_delivery("pull_request",
                                        "synchronize",
                                        variants.next(random, std::chrono::seconds(i)),
                                        secret,
                                        random);
                expected += crcr::capture_record(d) + "\n";
            }
            const std::uint64_t after = random.next();
            for (const unsigned threads : {1U, 2U, 3U}) {
                CAPTURE(count);
                CAPTURE(threads);
                crcr::Random again(9);
                std::string written;
                crcr::write_capture_records("pull_request",
                                            "synchronize",
                                            variants,
                                            secret,
                                            again,
                                            count,
                                            threads,
                                            [&](std::string_view records) { written += records; });
                CHECK(written == expected);
                CHECK(again.next() == after);
            }
        }
    }
}

TEST_CASE("capture_record escapes bodies exactly as JSON does") {
    crcr::Random random(1);
    for (const std::string& body : {std::string(R"({"a":"x\"y\\z","b":"\u00e9"})"),
                                    std::string("{\n  \"pretty\": \"\t\x01\"\r\n}"),
                                    std::string(R"("\\\\")"),
                                    std::string()}) {
        CAPTURE(body);
        const crcr::Delivery d = crcr::make_delivery("push", "", body, std::nullopt, random);
        CHECK(crcr::Json::parse(crcr::capture_record(d))["body"] == body);
    }
}
