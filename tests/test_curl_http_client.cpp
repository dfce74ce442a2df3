// The libcurl adapter against a real HTTP server on 127.0.0.1.
#include "test_server.hpp"

#include "crcr/error.hpp"
#include "crcr/http.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

using crcr::test::Reply;
using crcr::test::TestServer;
using namespace std::chrono_literals;

namespace {

crcr::HttpRequest get(const std::string& url) {
    crcr::HttpRequest request{"GET", url, {}, ""};
    request.timeout = 5s;
    return request;
}

// The message of the crcr::Error that `send` throws, checking it is marked "try again later".
std::string failure_of(crcr::HttpClient& client, const crcr::HttpRequest& request) {
    try {
        client.send(request);
    } catch (const crcr::Error& e) {
        CHECK(e.code() == crcr::ExitCode::unavailable);
        return e.what();
    }
    FAIL("send did not fail");
    return {};
}

} // namespace

TEST_CASE("curl client: answers come back whatever their status") {
    struct Case {
        std::string name;
        Reply reply;
    };
    const Case cases[] = {
        {"200 with a body",
         {.status = 200,
          .reason = "OK",
          .headers = {{"X-Ratelimit-Remaining", "10"}},
          .body = R"({"ok":true})"}},
        {"204 no body", {.status = 204, .reason = "No Content"}},
        {"404 with a body",
         {.status = 404, .reason = "Not Found", .body = R"({"message":"Not Found"})"}},
        {"500 with a body", {.status = 500, .reason = "Internal Server Error", .body = "boom"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TestServer server({c.reply});
        const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
        const crcr::HttpResponse response = client->send(get(server.url("/x")));
        CHECK(response.status == c.reply.status);
        CHECK(response.reason == c.reply.reason);
        CHECK(response.body == c.reply.body);
        for (const auto& [name, value] : c.reply.headers) {
            CHECK(response.header(name) == value);
        }
        CHECK(response.elapsed.count() > 0);
    }
}

TEST_CASE("curl client: sends what it is given") {
    TestServer server({Reply{.status = 201, .reason = "Created"}});
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    crcr::HttpRequest request{"POST",
                              server.url("/repos/o/r/dispatches?x=1"),
                              {{"Accept", "application/vnd.github+json"}},
                              R"({"a":1})"};
    CHECK(client->send(request).status == 201);
    const std::vector<crcr::test::RecordedRequest> seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].target == "/repos/o/r/dispatches?x=1");
    CHECK(seen[0].body == R"({"a":1})");
    CHECK(seen[0].header("Accept") == "application/vnd.github+json");
    CHECK(seen[0].header("User-Agent") == crcr::user_agent());
    CHECK_FALSE(seen[0].header("Expect"));
    CHECK(seen[0].header("Accept-Encoding")); // API answers may come compressed

    SUBCASE("a request's own User-Agent wins") {
        TestServer other({Reply{}});
        crcr::HttpRequest custom = get(other.url("/"));
        custom.headers = {{"User-Agent", "GitHub-Hookshot/044aadd"}};
        client->send(custom);
        CHECK(other.requests().at(0).header("User-Agent") == "GitHub-Hookshot/044aadd");
    }
}

TEST_CASE("curl client: a POST whose connection closes unanswered is not sent again") {
    // A kept-alive connection (the GET) then a POST the server reads and drops: libcurl would
    // resend it on a new connection, and a dispatch would start two runs.
    TestServer server({Reply{}, Reply{.action = Reply::Action::close_silently}, Reply{}});
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    CHECK(client->send(get(server.url("/"))).status == 200);
    crcr::HttpRequest post = get(server.url("/dispatches"));
    post.method = "POST";
    post.body = "{}";
    // It went on the kept connection (libcurl then opens another to send it again, and cannot).
    CHECK(failure_of(*client, post)
          == "POST " + server.url("/dispatches")
                 + ": the connection closed after the request was sent, without an answer (not "
                   "sent again: the server may have acted on it)");
    CHECK(server.requests().size() == 2);
}

TEST_CASE("curl client: one connection for GETs and POSTs in a row") {
    TestServer server({Reply{}, Reply{}, Reply{}, Reply{}});
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    crcr::HttpRequest post = get(server.url("/dispatches"));
    post.method = "POST";
    post.body = std::string(100'000, 'x'); // more than libcurl's upload buffer
    CHECK(client->send(get(server.url("/installation"))).status == 200);
    CHECK(client->send(post).status == 200);
    CHECK(client->send(post).status == 200);
    CHECK(client->send(get(server.url("/runs"))).status == 200);
    CHECK(server.connections() == 1);
    REQUIRE(server.requests().size() == 4);
    CHECK(server.requests()[1].body == post.body);
    CHECK(server.requests()[1].header("Content-Length") == "100000");
}

TEST_CASE("curl client: a server closing its kept-alive connection after answering gets the POST "
          "once") {
    TestServer server({Reply{.action = Reply::Action::close_after}, Reply{}, Reply{}});
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    CHECK(client->send(get(server.url("/"))).status == 200);
    // Once its close has arrived, libcurl sees the kept connection is dead and opens another.
    // (A POST racing the close fails instead: see "a POST whose connection closes unanswered".)
    std::this_thread::sleep_for(200ms);
    crcr::HttpRequest post = get(server.url("/dispatches"));
    post.method = "POST";
    post.body = "{}";
    CHECK(client->send(post).status == 200);
    REQUIRE(server.requests().size() == 2);
    CHECK(server.requests()[1].method == "POST");
    CHECK(server.connections() == 2);
}

TEST_CASE("curl client: keeps the connection alive between requests") {
    TestServer server({Reply{}, Reply{}, Reply{}});
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    for (int i = 0; i < 3; ++i) {
        CHECK(client->send(get(server.url("/"))).status == 200);
    }
    CHECK(server.connections() == 1);
}

TEST_CASE("curl client: no answer is an error marked try-again-later") {
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    SUBCASE("a slow answer hits the timeout") {
        TestServer server({Reply{.body = "late", .delay = 3s}});
        crcr::HttpRequest request = get(server.url("/slow"));
        request.timeout = 200ms;
        const auto start = std::chrono::steady_clock::now();
        const std::string why = failure_of(*client, request);
        CHECK(why.starts_with("GET " + server.url("/slow") + ": Operation timed out after"));
        CHECK(std::chrono::steady_clock::now() - start < 2s);
    }
    SUBCASE("a refused connection") {
        const std::string url = crcr::test::refused_url();
        const std::string why = failure_of(*client, get(url));
        CHECK(why.starts_with("GET " + url + ": Failed to connect to 127.0.0.1 port"));
        CHECK(why.ends_with("Couldn't connect to server"));
    }
    SUBCASE("a reset in the middle of the body") {
        TestServer server(
            {Reply{.body = std::string(100000, 'x'), .action = Reply::Action::reset_mid_body}});
        const std::string why = failure_of(*client, get(server.url("/")));
        CHECK(why.starts_with("GET " + server.url("/") + ": "));
    }
    SUBCASE("the server closes without answering") {
        TestServer server({Reply{.action = Reply::Action::close_silently}});
        CHECK(failure_of(*client, get(server.url("/")))
              == "GET " + server.url("/") + ": Empty reply from server");
    }
    SUBCASE("a malformed answer") {
        TestServer server({Reply{.action = Reply::Action::malformed}});
        const std::string why = failure_of(*client, get(server.url("/")));
        CHECK(why.starts_with("GET " + server.url("/") + ": "));
    }
    SUBCASE("a scheme other than http and https") {
        const std::string why = failure_of(*client, get("file:///etc/passwd"));
        CHECK(why.find("file:///etc/passwd") != std::string::npos);
    }
}

namespace {

crcr::HttpRequest post(const std::string& url, const std::string& body) {
    crcr::HttpRequest request{"POST", url, {{"Content-Type", "text/plain"}}, body};
    request.timeout = 5s;
    return request;
}

// The completions of the next `n` requests to finish, in the order they finished.
std::vector<crcr::HttpCompletion> wait_for(crcr::ConcurrentHttpClient& client, std::size_t n) {
    std::vector<crcr::HttpCompletion> finished;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (finished.size() < n && std::chrono::steady_clock::now() < give_up) {
        for (crcr::HttpCompletion& done : client.wait(1s)) {
            finished.push_back(std::move(done));
        }
    }
    return finished;
}

// The two implementations of the concurrent port: libcurl's, and the plain one replay uses for
// http:// targets (with libcurl's behind it for what it leaves).
struct ConcurrentFactory {
    std::string_view name;
    std::function<std::unique_ptr<crcr::ConcurrentHttpClient>()> make;
};

std::vector<ConcurrentFactory> concurrent_clients() {
    return {{"libcurl", [] { return crcr::make_curl_concurrent_http_client(); }},
            {"plain", [] {
                 return crcr::make_plain_concurrent_http_client(
                     crcr::make_curl_concurrent_http_client(), false);
             }}};
}

} // namespace

TEST_CASE("concurrent clients: requests in flight together on connections kept alive") {
    for (const ConcurrentFactory& factory : concurrent_clients()) {
        CAPTURE(factory.name);
        TestServer server([](const crcr::test::RecordedRequest& request) {
            return Reply{.status = 201, .body = request.body, .delay = 300ms};
        });
        const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
        const auto start = std::chrono::steady_clock::now();
        for (int round = 0; round < 2; ++round) {
            for (std::uint64_t tag = 0; tag < 8; ++tag) {
                client->start(tag, post(server.url("/"), fmt::format("body {}", tag)));
            }
            const std::vector<crcr::HttpCompletion> finished = wait_for(*client, 8);
            REQUIRE(finished.size() == 8);
            for (const crcr::HttpCompletion& done : finished) {
                REQUIRE(done.response);
                CHECK(done.response->status == 201);
                CHECK(done.response->body == fmt::format("body {}", done.tag));
                CHECK(done.request.body == done.response->body); // handed back, for a retry
                CHECK(done.error.empty());
            }
        }
        CHECK(std::chrono::steady_clock::now() - start < 2s); // not 16 answers of 300 ms in a row
        CHECK(server.connections() == 8);                     // the second round reused them
        CHECK(server.requests().at(0).header("User-Agent") == crcr::user_agent());
    }
}

TEST_CASE("concurrent clients: no answer is a completion with the reason") {
    for (const ConcurrentFactory& factory : concurrent_clients()) {
        CAPTURE(factory.name);
        const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
        CHECK(client->wait(10s).empty()); // nothing started: at once
        TestServer silent({Reply{.action = Reply::Action::close_silently}});
        TestServer slow({Reply{.body = "late", .delay = 3s}});
        TestServer fine({Reply{.status = 204, .reason = "No Content"}});
        const std::string refused = crcr::test::refused_url();
        crcr::HttpRequest timed_out = get(slow.url("/slow"));
        timed_out.timeout = 300ms;
        client->start(1, get(silent.url("/")));
        client->start(2, timed_out);
        client->start(3, get(refused));
        client->start(4, get(fine.url("/")));
        std::map<std::uint64_t, crcr::HttpCompletion> by_tag;
        for (crcr::HttpCompletion& done : wait_for(*client, 4)) {
            by_tag.emplace(done.tag, std::move(done));
        }
        REQUIRE(by_tag.size() == 4);
        CHECK(by_tag[1].error == "GET " + silent.url("/") + ": Empty reply from server");
        CHECK(by_tag[2].error.starts_with("GET " + slow.url("/slow")
                                          + ": Operation timed out after"));
        CHECK(by_tag[3].error.find("Couldn't connect to server") != std::string::npos);
        for (std::uint64_t tag = 1; tag <= 3; ++tag) {
            CHECK_FALSE(by_tag[tag].response);
        }
        // Only the refused one cannot have reached the server.
        CHECK_FALSE(by_tag[1].unsent);
        CHECK_FALSE(by_tag[2].unsent);
        CHECK(by_tag[3].unsent);
        REQUIRE(by_tag[4].response);
        CHECK(by_tag[4].response->status == 204);
        CHECK(by_tag[4].error.empty());
    }
}

TEST_CASE("concurrent clients: a POST whose kept connection closes unanswered is not sent again") {
    for (const ConcurrentFactory& factory : concurrent_clients()) {
        CAPTURE(factory.name);
        TestServer server({Reply{}, Reply{.action = Reply::Action::close_silently}, Reply{}});
        const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
        client->start(1, post(server.url("/"), "first"));
        REQUIRE(wait_for(*client, 1).size() == 1);
        client->start(2, post(server.url("/"), "second"));
        const std::vector<crcr::HttpCompletion> finished = wait_for(*client, 1);
        REQUIRE(finished.size() == 1);
        CHECK_FALSE(finished[0].response);
        CHECK_FALSE(finished[0].unsent); // it was sent: the server may have acted on it
        CHECK(server.requests().size() == 2);
    }
}

TEST_CASE("concurrent clients: wait returns after its timeout without an answer") {
    for (const ConcurrentFactory& factory : concurrent_clients()) {
        CAPTURE(factory.name);
        TestServer server({Reply{.delay = 2s}});
        const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
        client->start(7, get(server.url("/")));
        const auto start = std::chrono::steady_clock::now();
        CHECK(client->wait(100ms).empty());
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        const std::vector<crcr::HttpCompletion> finished = wait_for(*client, 1);
        REQUIRE(finished.size() == 1);
        CHECK(finished[0].tag == 7);
    }
}

TEST_CASE("concurrent clients: a reused handle sends each method as asked, nothing added") {
    for (const ConcurrentFactory& factory : concurrent_clients()) {
        CAPTURE(factory.name);
        // Each request in turn on the one idle handle: its options carry over between requests of
        // the same method and are set afresh for another.
        TestServer server([](const crcr::test::RecordedRequest& request) {
            return Reply{.status = 200, .body = request.method + " " + request.body};
        });
        const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
        const std::vector<std::pair<std::string, std::string>> sequence = {{"POST", "one"},
                                                                           {"POST", "two"},
                                                                           {"GET", ""},
                                                                           {"POST", "three"},
                                                                           {"PATCH", "four"},
                                                                           {"HEAD", ""},
                                                                           {"POST", ""},
                                                                           {"DELETE", ""}};
        std::uint64_t tag = 0;
        for (const auto& step : sequence) {
            const std::string& method = step.first; // not a binding: CAPTURE's lambda (clang 14)
            const std::string& body = step.second;
            CAPTURE(method);
            client->start(tag++, crcr::HttpRequest{method, server.url("/x"), {}, body});
            const std::vector<crcr::HttpCompletion> finished = wait_for(*client, 1);
            REQUIRE(finished.size() == 1);
            REQUIRE(finished[0].response);
            CHECK(finished[0].response->body == (method == "HEAD" ? "" : method + " " + body));
        }
        const auto seen = server.requests();
        REQUIRE(seen.size() == sequence.size());
        for (std::size_t i = 0; i < seen.size(); ++i) {
            CAPTURE(i);
            CHECK(seen[i].method == sequence[i].first);
            CHECK(seen[i].body == sequence[i].second);
            // A replayed webhook carries what GitHub sends and no more: no Accept-Encoding, no
            // Expect.
            CHECK_FALSE(seen[i].header("Accept-Encoding"));
            CHECK_FALSE(seen[i].header("Expect"));
        }
    }
}

TEST_CASE("every client refuses a header that would end early: nothing is sent") {
    const crcr::HttpHeaders smuggling[] = {
        {{"X-Evil", "a\r\nContent-Length: 0\r\n\r\nPOST /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n"}},
        {{"X-GitHub-Delivery", "a\r\nX-Injected: 1"}},
        {{"X-Injected: 1\r\nX-B", "2"}},
    };
    for (const crcr::HttpHeaders& headers : smuggling) {
        CAPTURE(headers.front().first);
        TestServer server({Reply{.status = 204}});
        crcr::HttpRequest request = post(server.url("/github/webhook"), "{}");
        request.headers = headers;
        const std::string not_sent = "POST " + server.url("/github/webhook") + ": not sent: ";
        const std::unique_ptr<crcr::HttpClient> curl = crcr::make_curl_http_client();
        CHECK_THROWS_WITH_AS(curl->send(request), doctest::Contains(not_sent.c_str()), crcr::Error);
        for (const ConcurrentFactory& factory : concurrent_clients()) {
            CAPTURE(factory.name);
            const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
            CHECK_THROWS_WITH_AS(
                client->start(1, request), doctest::Contains(": not sent: "), crcr::Error);
            CHECK(client->wait(100ms).empty());
        }
        CHECK(server.connections() == 0);
    }
}

TEST_CASE("concurrent clients: a URL with a space or line break is refused, not sent") {
    TestServer server({Reply{.status = 204}});
    const crcr::HttpRequest request =
        post(server.url("/x HTTP/1.1\r\nX-Injected: 1\r\n\r\nPOST /y"), "{}");
    for (const ConcurrentFactory& factory : concurrent_clients()) {
        CAPTURE(factory.name);
        const std::unique_ptr<crcr::ConcurrentHttpClient> client = factory.make();
        client->start(1, request);
        const std::vector<crcr::HttpCompletion> finished = wait_for(*client, 1);
        REQUIRE(finished.size() == 1);
        CHECK_FALSE(finished.front().response);
        CHECK_FALSE(finished.front().error.empty());
    }
    CHECK(server.requests().empty());
}

TEST_CASE("curl client: an answer header too large for libcurl is named, not 'Out of memory'") {
    TestServer server({Reply{.status = 200, .headers = {{"X-Big", std::string(300'000, 'a')}}}});
    const std::unique_ptr<crcr::HttpClient> client = crcr::make_curl_http_client();
    CHECK(failure_of(*client, get(server.url("/x")))
          == "GET " + server.url("/x")
                 + ": the answer has a header line over 100 KB, more than libcurl reads: not an "
                   "answer crcr can use; check that the URL is the right server");
}
