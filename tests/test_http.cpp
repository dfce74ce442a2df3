#include "crcr/error.hpp"
#include "crcr/http.hpp"

#include <doctest/doctest.h>

#include <functional>
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
