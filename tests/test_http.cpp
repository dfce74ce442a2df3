#include "crcr/error.hpp"
#include "crcr/http.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <sstream>

namespace {

class LambdaHttpClient final : public crcr::HttpClient {
public:
    explicit LambdaHttpClient(std::function<crcr::HttpResponse(const crcr::HttpRequest&)> answer)
        : m_answer(std::move(answer)) {}
    crcr::HttpResponse send(const crcr::HttpRequest& request) override { return m_answer(request); }

private:
    std::function<crcr::HttpResponse(const crcr::HttpRequest&)> m_answer;
};

} // namespace

TEST_CASE("HttpResponse::header") {
    const crcr::HttpResponse response{
        200, "OK", {{"Retry-After", "5"}, {"retry-after", "6"}}, "", {}};
    CHECK(response.header("retry-after") == "5");
    CHECK_FALSE(response.header("x"));
}

TEST_CASE("is_secret_header") {
    for (const char* name : {"Authorization",
                             "authorization",
                             "Cookie",
                             "Set-Cookie",
                             "X-Api-Key",
                             "X-GitHub-Token",
                             "Proxy-Authorization"}) {
        CAPTURE(std::string(name));
        CHECK(crcr::is_secret_header(name));
    }
    for (const char* name :
         {"Content-Type", "User-Agent", "X-GitHub-Delivery", "X-Hub-Signature-256"}) {
        CAPTURE(std::string(name));
        CHECK_FALSE(crcr::is_secret_header(name));
    }
}

TEST_CASE("user_agent") {
    CHECK(crcr::user_agent().starts_with("crcr/"));
}

TEST_CASE("TracingHttpClient") {
    std::ostringstream trace;
    SUBCASE("redacts secrets, shows status and timing") {
        LambdaHttpClient inner([](const crcr::HttpRequest& request) {
            CHECK(request.headers.at(0).second == "Bearer ghs_secret"); // the real value is sent
            return crcr::HttpResponse{204,
                                      "No Content",
                                      {{"Set-Cookie", "s=1"}, {"X-Id", "7"}},
                                      "",
                                      std::chrono::milliseconds(12)};
        });
        crcr::TracingHttpClient client(inner, trace);
        const crcr::HttpResponse response = client.send(
            {"POST", "https://api.example/x", {{"Authorization", "Bearer ghs_secret"}}, "{}"});
        CHECK(response.status == 204);
        CHECK(trace.str()
              == "> POST https://api.example/x\n> Authorization: Bearer ***\n> (2 bytes of body)\n"
                 "< 204 No Content (12 ms)\n< Set-Cookie: ***\n< X-Id: 7\n< (0 bytes of body)\n");
        CHECK(trace.str().find("ghs_secret") == std::string::npos);
    }
    SUBCASE("an error is traced and passed on") {
        LambdaHttpClient inner([](const crcr::HttpRequest&) -> crcr::HttpResponse {
            throw crcr::Error("GET x: refused", crcr::ExitCode::unavailable);
        });
        crcr::TracingHttpClient client(inner, trace);
        CHECK_THROWS_AS(client.send({"GET", "x", {}, ""}), crcr::Error);
        CHECK(trace.str() == "> GET x\n< no response: GET x: refused\n");
    }
}

TEST_CASE("format_request shows a request for --dry-run, secrets redacted") {
    struct Case {
        std::string name;
        crcr::HttpRequest request;
        std::string want;
    };
    const Case cases[] = {
        {"bearer token and body",
         {"POST",
          "https://api.github.com/x",
          {{"Authorization", "Bearer ghs_x"}, {"X-A", "1"}},
          "{}"},
         "POST https://api.github.com/x\nAuthorization: Bearer ***\nX-A: 1\n\n{}\n"},
        {"no scheme",
         {"GET", "https://h/x", {{"Authorization", "ghs_secretvalue"}}, ""},
         "GET https://h/x\nAuthorization: ***\n"},
        {"URL credentials; a signature is not a secret",
         {"POST", "http://u:p@h/", {{"X-Hub-Signature-256", "sha256=ab"}}, "b"},
         "POST http://***@h/\nX-Hub-Signature-256: sha256=ab\n\nb\n"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(crcr::format_request(c.request) == c.want);
    }
}

TEST_CASE("DryRunHttpClient prints each request and answers without sending") {
    std::ostringstream out;
    int answered = 0;
    crcr::DryRunHttpClient client(out, [&answered](const crcr::HttpRequest& r) {
        ++answered;
        return crcr::HttpResponse{.status = r.method == "GET" ? 200 : 204};
    });
    CHECK(client.send({"GET", "https://h/a", {}, ""}).status == 200);
    CHECK(client.send({"POST", "https://h/b", {{"Authorization", "token t"}}, "x"}).status == 204);
    CHECK(answered == 2);
    CHECK(out.str() == "GET https://h/a\n\nPOST https://h/b\nAuthorization: token ***\n\nx\n\n");
}

TEST_CASE("SequentialHttpClient") {
    std::vector<std::string> sent;
    LambdaHttpClient inner([&sent](const crcr::HttpRequest& request) -> crcr::HttpResponse {
        sent.push_back(request.url);
        if (request.url == "refused") {
            throw crcr::Error("GET refused: no", crcr::ExitCode::unavailable);
        }
        if (request.url == "broken") {
            throw crcr::Error("cannot load libcurl");
        }
        return crcr::HttpResponse{.status = 200, .body = request.url};
    });
    crcr::SequentialHttpClient client(inner);
    CHECK(client.wait(std::chrono::milliseconds(0)).empty());
    client.start(1, {"GET", "a", {}, ""});
    client.start(2, {"GET", "refused", {}, ""});
    client.start(3, {"GET", "broken", {}, ""});
    CHECK(sent.empty()); // nothing goes before `wait`
    std::vector<crcr::HttpCompletion> first = client.wait(std::chrono::milliseconds(0));
    REQUIRE(first.size() == 1);
    CHECK(first[0].tag == 1);
    CHECK(first[0].request.url == "a");
    REQUIRE(first[0].response);
    CHECK(first[0].response->body == "a");
    std::vector<crcr::HttpCompletion> second = client.wait(std::chrono::milliseconds(0));
    REQUIRE(second.size() == 1);
    CHECK(second[0].tag == 2);
    CHECK_FALSE(second[0].response);
    CHECK(second[0].error == "GET refused: no");
    CHECK_THROWS_WITH_AS(
        client.wait(std::chrono::milliseconds(0)), "cannot load libcurl", crcr::Error);
    CHECK(sent == std::vector<std::string>{"a", "refused", "broken"});
}

TEST_CASE("TracingConcurrentHttpClient writes each exchange whole when it finishes") {
    LambdaHttpClient scripted([](const crcr::HttpRequest& request) -> crcr::HttpResponse {
        if (request.url == "down") {
            throw crcr::Error("POST down: refused", crcr::ExitCode::unavailable);
        }
        return crcr::HttpResponse{202, "Accepted", {}, "ok", std::chrono::milliseconds(3)};
    });
    std::ostringstream trace;
    std::mutex trace_mutex;
    crcr::TracingConcurrentHttpClient client(
        std::make_unique<crcr::SequentialHttpClient>(scripted), trace, trace_mutex);
    client.start(1, {"POST", "up", {{"Authorization", "token ghp_secret"}}, "{}"});
    client.start(2, {"POST", "down", {}, ""});
    CHECK(trace.str().empty()); // started, not finished
    CHECK(client.wait(std::chrono::milliseconds(0)).at(0).response->status == 202);
    CHECK(client.wait(std::chrono::milliseconds(0)).at(0).error == "POST down: refused");
    CHECK(trace.str()
          == "> POST up\n> Authorization: token ***\n> (2 bytes of body)\n"
             "< 202 Accepted (3 ms)\n< (2 bytes of body)\n"
             "> POST down\n< no response: POST down: refused\n");
}

TEST_CASE("header_problem: what cannot go on a header line") {
    struct Case {
        std::string_view name;
        std::string header;
        std::string value;
        std::string want; // a part of the problem; empty: none
    };
    const Case cases[] = {
        {"plain", "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958", ""},
        {"every tchar symbol", "!#$%&'*+-.^_`|~09azAZ", "v", ""},
        {"empty value", "X-Empty", "", ""},
        {"tab and UTF-8 in the value", "X-Title", "a\tb \xC3\xA9", ""},
        {"CR LF in the value", "X-Evil", "a\r\nContent-Length: 0", "header 'X-Evil' has a CR"},
        {"bare LF", "X-Evil", "a\nX-Injected: 1", "has a LF in its value (byte 2)"},
        {"NUL", "X-Evil", std::string("a\0b", 3), "has a NUL"},
        {"empty name", "", "v", "an empty header name"},
        {"space in the name", "X Evil", "v", "a header name with byte 0x20"},
        {"colon in the name",
         "X:Evil",
         "v",
         "header name 'X:Evil' is not an HTTP token (it has ':')"},
        {"CR in the name", "X\r\nEvil", "v", "byte 0x0D"},
        {"non-ASCII in the name", "X-\xC3\xA9", "v", "byte 0xC3"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::optional<std::string> problem = crcr::header_problem(c.header, c.value);
        if (c.want.empty()) {
            CHECK_FALSE(problem);
        } else {
            REQUIRE(problem);
            CHECK(problem->find(c.want) != std::string::npos);
            CHECK(problem->find("Content-Length") == std::string::npos); // the value not quoted
        }
    }
}

TEST_CASE("check_headers names the subject and the header, never the value") {
    CHECK_NOTHROW(crcr::check_headers({{"A", "1"}, {"B", "2"}}, "x"));
    CHECK_THROWS_WITH(
        crcr::check_headers({{"A", "1"}, {"Authorization", "Bearer s3cret\r\nX: y"}}, "c.jsonl:3"),
        "c.jsonl:3: not sent: header 'Authorization' has a CR in its value (byte 14): it would end "
        "the header there, and the rest pass for more headers or another request");
    try {
        crcr::check_request_headers({"POST", "http://u:pw@h/x", {{"X", "a\nb"}}, ""});
        FAIL("no error");
    } catch (const crcr::Error& e) {
        CHECK(e.code() == crcr::ExitCode::failure); // not "try again later"
        CHECK(std::string(e.what()).starts_with("POST http://***@h/x: not sent: header 'X'"));
    }
}

TEST_CASE("senders refuse a header that would end early") {
    const crcr::HttpRequest smuggling{
        "POST", "http://h/x", {{"X-Evil", "a\r\n\r\nPOST /SMUGGLED HTTP/1.1"}}, "{}"};
    std::ostringstream out;
    int answered = 0;
    crcr::DryRunHttpClient dry_run(out, [&answered](const crcr::HttpRequest&) {
        ++answered;
        return crcr::HttpResponse{.status = 204};
    });
    CHECK_THROWS_WITH(dry_run.send(smuggling), doctest::Contains("not sent: header 'X-Evil'"));
    LambdaHttpClient inner([&answered](const crcr::HttpRequest&) {
        ++answered;
        return crcr::HttpResponse{.status = 204};
    });
    crcr::TracingHttpClient tracing(inner, out);
    CHECK_THROWS_WITH(tracing.send(smuggling), doctest::Contains("not sent: header 'X-Evil'"));
    CHECK(answered == 0);
    CHECK(out.str().find("SMUGGLED") == std::string::npos); // not printed either
}

TEST_CASE("retry_after: delay-seconds, however many digits") {
    struct Case {
        std::string value;
        std::optional<long long> want;
    };
    const Case cases[] = {
        {"0", 0},
        {"17", 17},
        {" 120 ", 120},
        {"999999", 999'999},                           // six digits: a long wait, not none
        {"99999999999999999999999999", 1'000'000'000}, // too long to count: "forever"
        {"Wed, 21 Oct 2026 07:28:00 GMT", std::nullopt},
        {"-5", std::nullopt},
        {"1.5", std::nullopt},
        {"", std::nullopt},
    };
    for (const Case& c : cases) {
        CAPTURE(c.value);
        const crcr::HttpResponse response{.status = 429, .headers = {{"Retry-After", c.value}}};
        const std::optional<std::chrono::seconds> got = crcr::retry_after(response);
        CHECK(got.has_value() == c.want.has_value());
        if (got && c.want) {
            CHECK(got->count() == *c.want);
        }
    }
    CHECK_FALSE(crcr::retry_after(crcr::HttpResponse{.status = 429}));
}

TEST_CASE("tls_trust_hint says what to set, or which variable named the CAs") {
    const std::string system = crcr::tls_trust_hint({});
    CHECK(system.find("set SSL_CERT_FILE (or CURL_CA_BUNDLE) to its PEM file")
          != std::string::npos);
    const std::string named = crcr::tls_trust_hint(
        {.ca_file = "ca.pem", .ca_file_source = "CURL_CA_BUNDLE", .ca_dir = "certs"});
    CHECK(named.find("of CURL_CA_BUNDLE 'ca.pem' and SSL_CERT_DIR 'certs'") != std::string::npos);
}
