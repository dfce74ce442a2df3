#include "test_server.hpp"
#include "test_support.hpp"

#include "crcr/github.hpp"
#include "crcr/payload.hpp"

#include <doctest/doctest.h>

using crcr::HttpResponse;
using crcr::test::Reply;
using crcr::test::TestClock;
using crcr::test::TestServer;

namespace {

const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));

HttpResponse answer(int status, crcr::HttpHeaders headers, std::string body = "") {
    return HttpResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

crcr::GitHubWaits waits(TestClock& clock, std::vector<std::string>& notices, int max_wait = 900) {
    return crcr::GitHubWaits{.now = [&clock] { return clock.now(); },
                             .sleep = [&clock](std::chrono::milliseconds d) { clock.sleep(d); },
                             .notice = [&notices](const std::string& n) { notices.push_back(n); },
                             .max_wait = std::chrono::seconds(max_wait)};
}

} // namespace

TEST_CASE("rate_limit_of: GitHub's three ways of saying wait, and what is not a rate limit") {
    struct Case {
        std::string name;
        HttpResponse response;
        int attempt;
        long long want_wait; // -1: not a rate limit
        std::string want_why;
    };
    const std::string secondary =
        R"({"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})";
    const Case cases[] = {
        {"429 retry-after", answer(429, {{"Retry-After", "7"}}), 0, 7, "it sent retry-after: 7"},
        {"403 retry-after", answer(403, {{"retry-after", "30"}}), 0, 30, "it sent retry-after: 30"},
        {"retry-after 0 still waits a second", answer(429, {{"retry-after", "0"}}), 0, 1, ""},
        {"primary limit until reset",
         answer(403,
                {{"x-ratelimit-remaining", "0"},
                 {"x-ratelimit-reset", "1790000100"},
                 {"x-ratelimit-resource", "core"}},
                R"({"message":"API rate limit exceeded for user ID 1."})"),
         0,
         101,
         "primary rate limit (core) resets at 14:15:00 UTC"},
        {"reset already passed",
         answer(429, {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1"}}),
         0,
         1,
         ""},
        {"secondary limit, first", answer(403, {}, secondary), 0, 60, "secondary rate limit"},
        {"secondary limit, backs off", answer(403, {}, secondary), 2, 240, "secondary rate limit"},
        {"backoff is capped", answer(403, {}, secondary), 30, 960, "secondary rate limit"},
        {"429 with nothing", answer(429, {}), 0, 60, "rate limit, no wait given"},
        {"403 permission",
         answer(403, {}, R"({"message":"Resource not accessible by integration"})"),
         0,
         -1,
         ""},
        {"remaining 0 on a 404 is not a limit",
         answer(404, {{"x-ratelimit-remaining", "0"}}),
         0,
         -1,
         ""},
        {"500", answer(500, {{"retry-after", "5"}}), 0, -1, ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const auto limit = crcr::rate_limit_of(c.response, k_now, c.attempt);
        if (c.want_wait < 0) {
            CHECK_FALSE(limit);
            continue;
        }
        REQUIRE(limit);
        CHECK(limit->wait.count() == c.want_wait);
        if (!c.want_why.empty()) {
            CHECK(limit->why == c.want_why);
        }
    }
}

TEST_CASE("github_error_message: GitHub's message and errors, on one bounded line") {
    struct Case {
        std::string body;
        std::string want;
    };
    const Case cases[] = {
        {R"({"message":"Not Found","documentation_url":"x"})", "Not Found"},
        {R"({"message":"Invalid request.\n\nFor 'properties/client_payload', \"x\" is not an object."})",
         "Invalid request. For 'properties/client_payload', \"x\" is not an object."},
        {R"({"message":"Validation Failed","errors":[{"resource":"Repo","code":"missing_field","field":"event_type"}]})",
         "Validation Failed; event_type missing_field"},
        {R"({"message":"Validation Failed","errors":["client_payload is too large"]})",
         "Validation Failed; client_payload is too large"},
        {"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"},
        {"", "Bad Gateway"},
        {std::string(1000, 'x'), std::string(400, 'x') + "..."},
        {"a\x1b[31mb", "a [31mb"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.body);
        CHECK(crcr::github_error_message(
                  HttpResponse{.status = 502, .reason = "Bad Gateway", .body = c.body})
              == c.want);
    }
}

TEST_CASE("parse_http_date reads GitHub's Date header") {
    CHECK(crcr::parse_http_date("Mon, 21 Sep 2026 13:20:00 GMT")
          == crcr::parse_time("2026-09-21T13:20:00Z"));
    CHECK_FALSE(crcr::parse_http_date("yesterday"));
    CHECK_FALSE(crcr::parse_http_date("Mon, 31 Feb 2026 13:20:00 GMT"));
    CHECK_FALSE(crcr::parse_http_date("Mon, 21 Foo 2026 13:20:00 GMT"));
}

TEST_CASE("GitHubApi: GitHub's headers on every request, the base URL normalised") {
    TestClock clock;
    std::vector<std::string> notices;
    TestServer server(std::vector<Reply>{Reply{.status = 204, .reason = "No Content"}});
    const auto http = crcr::make_curl_http_client();
    crcr::GitHubApi api(*http, server.url("/api/v3/"), waits(clock, notices));
    CHECK(api.base_url() == server.url("/api/v3"));
    const auto response = api.send(api.request("POST", "/repos/o/r/dispatches", "t0k3n", "{}"));
    CHECK(response.status == 204);
    const auto request = server.requests().at(0);
    CHECK(request.target == "/api/v3/repos/o/r/dispatches");
    CHECK(request.header("Accept") == "application/vnd.github+json");
    CHECK(request.header("X-GitHub-Api-Version") == "2022-11-28");
    CHECK(request.header("User-Agent").value_or("").starts_with("crcr/"));
    CHECK(request.header("Authorization") == "Bearer t0k3n");
    CHECK(request.header("Content-Type") == "application/json");
    CHECK_THROWS_WITH_AS(crcr::GitHubApi(*http, "api.github.com", waits(clock, notices)),
                         doctest::Contains("is not an http:// or https:// URL"),
                         crcr::Error);
}

TEST_CASE("GitHubApi::send waits out rate limits as asked, within the budget, and nothing else") {
    struct Case {
        std::string name;
        std::vector<Reply> script;
        int max_wait;
        std::vector<long long> want_sleeps;
        int want_status; // 0: an Error (unavailable)
        std::size_t want_requests;
    };
    const Reply ok{.status = 200, .body = "{}"};
    const Reply limited_7{
        .status = 429, .reason = "Too Many Requests", .headers = {{"Retry-After", "7"}}};
    const Reply secondary{.status = 403,
                          .reason = "Forbidden",
                          .body = R"({"message":"You have exceeded a secondary rate limit."})"};
    const Case cases[] = {
        {"429 retry-after then ok", {limited_7, ok}, 900, {7}, 200, 2},
        {"secondary twice then ok", {secondary, secondary, ok}, 900, {60, 120}, 200, 3},
        {"over the budget", {secondary, secondary, ok}, 100, {60}, 0, 2},
        {"no budget at all", {limited_7}, 0, {}, 0, 1},
        {"5xx is returned, not retried",
         {Reply{.status = 502, .reason = "Bad Gateway"}, ok},
         900,
         {},
         502,
         1},
        {"403 permission is returned",
         {Reply{.status = 403, .body = R"({"message":"nope"})"}, ok},
         900,
         {},
         403,
         1},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TestClock clock;
        std::vector<std::string> notices;
        TestServer server(c.script);
        const auto http = crcr::make_curl_http_client();
        crcr::GitHubApi api(*http, server.url(), waits(clock, notices, c.max_wait));
        if (c.want_status == 0) {
            try {
                api.send(api.request("GET", "/x", "t"));
                FAIL("no error");
            } catch (const crcr::Error& e) {
                CHECK(e.code() == crcr::ExitCode::unavailable);
                CHECK(std::string(e.what()).find("--max-wait") != std::string::npos);
            }
        } else {
            CHECK(api.send(api.request("GET", "/x", "t")).status == c.want_status);
        }
        CHECK(clock.sleeps() == c.want_sleeps);
        CHECK(notices.size() == c.want_sleeps.size());
        CHECK(server.requests().size() == c.want_requests);
    }
}

TEST_CASE("GitHubApi::send makes repeated GETs conditional and serves a 304 from the cache") {
    TestClock clock;
    std::vector<std::string> notices;
    TestServer server(std::vector<Reply>{
        Reply{.status = 200, .headers = {{"ETag", "W/\"abc\""}}, .body = R"({"n":1})"},
        Reply{.status = 304, .reason = "Not Modified", .headers = {{"ETag", "W/\"abc\""}}},
        Reply{.status = 200, .headers = {{"ETag", "W/\"def\""}}, .body = R"({"n":2})"},
    });
    const auto http = crcr::make_curl_http_client();
    crcr::GitHubApi api(*http, server.url(), waits(clock, notices));
    CHECK(api.send(api.request("GET", "/runs", "t")).body == R"({"n":1})");
    const HttpResponse cached = api.send(api.request("GET", "/runs", "t"));
    CHECK(cached.status == 200);
    CHECK(cached.body == R"({"n":1})");
    CHECK(api.send(api.request("GET", "/runs", "t")).body == R"({"n":2})");
    const auto requests = server.requests();
    CHECK_FALSE(requests[0].header("If-None-Match"));
    CHECK(requests[1].header("If-None-Match") == "W/\"abc\"");
    CHECK(requests[2].header("If-None-Match") == "W/\"abc\"");
}
