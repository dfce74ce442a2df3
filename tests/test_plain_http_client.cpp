// The plain client's HTTP/1.1 against a raw socket server that answers byte for byte what each
// test writes: chunked bodies, interim answers, bodies ended by a close, connections closed
// under it. (What it shares with libcurl's client is tested beside it in
// test_curl_http_client.cpp.)
#include "test_server.hpp"

#include "crcr/http.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Accepts connections one after another on 127.0.0.1 and hands each to `serve(fd, n)` (n: the
// connection's number, from 0), on its own thread.
class RawServer {
public:
    using Serve = std::function<void(int fd, int n)>;

    explicit RawServer(Serve serve) : m_serve(std::move(serve)) {
        m_listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t size = sizeof address;
        getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &size);
        m_port = ntohs(address.sin_port);
        REQUIRE(listen(m_listener, 16) == 0);
        m_thread = std::thread([this] {
            for (int n = 0;; ++n) {
                const int fd = accept(m_listener, nullptr, nullptr);
                if (fd < 0 || m_stopping) {
                    if (fd >= 0) {
                        close(fd);
                    }
                    return;
                }
                m_connections.emplace_back([this, fd, n] {
                    m_serve(fd, n);
                    close(fd);
                });
            }
        });
    }
    ~RawServer() {
        m_stopping = true;
        shutdown(m_listener, SHUT_RDWR);
        close(m_listener);
        m_thread.join();
        for (std::thread& connection : m_connections) {
            connection.join();
        }
    }
    RawServer(const RawServer&) = delete;
    RawServer& operator=(const RawServer&) = delete;

    std::string url(const std::string& path = "/") const {
        return fmt::format("http://127.0.0.1:{}{}", m_port, path);
    }

private:
    Serve m_serve;
    int m_listener = -1;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::thread m_thread;
    std::vector<std::thread> m_connections;
};

// The next request on `fd` (head and Content-Length body), or "" when the client closed.
std::string read_request(int fd) {
    std::string in;
    std::vector<char> buffer(1 << 16);
    std::size_t head_end = std::string::npos;
    std::size_t length = 0;
    while (true) {
        if (head_end == std::string::npos) {
            head_end = in.find("\r\n\r\n");
            const std::size_t at = in.find("Content-Length: ");
            if (head_end != std::string::npos && at != std::string::npos && at < head_end) {
                length = std::stoul(in.substr(at + 16, 20));
            }
        }
        if (head_end != std::string::npos && in.size() >= head_end + 4 + length) {
            return in.substr(0, head_end + 4 + length);
        }
        const ssize_t got = read(fd, buffer.data(), buffer.size());
        if (got <= 0) {
            return "";
        }
        in.append(buffer.data(), static_cast<std::size_t>(got));
    }
}

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t wrote = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (wrote <= 0) {
            return;
        }
        bytes.remove_prefix(static_cast<std::size_t>(wrote));
    }
}

std::unique_ptr<crcr::ConcurrentHttpClient> plain() {
    return crcr::make_plain_concurrent_http_client(crcr::make_curl_concurrent_http_client(), false);
}

// Sends `request` and waits (at most 10 s) for its completion.
crcr::HttpCompletion exchange(crcr::ConcurrentHttpClient& client, crcr::HttpRequest request) {
    request.timeout = 5s;
    client.start(1, std::move(request));
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < give_up) {
        std::vector<crcr::HttpCompletion> done = client.wait(1s);
        if (!done.empty()) {
            return std::move(done.front());
        }
    }
    FAIL("no completion");
    return {};
}

crcr::HttpRequest post(const std::string& url, std::string body = "{}") {
    return crcr::HttpRequest{"POST", url, {{"Content-Type", "application/json"}}, std::move(body)};
}

} // namespace

TEST_CASE("plain client: answers as servers write them") {
    struct Case {
        std::string_view name;
        std::string answer;
        int status;
        std::string body;
    };
    const Case cases[] = {
        {"Content-Length", "HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello", 202, "hello"},
        {"chunked, with an extension and a trailer",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n7\r\n, world\r\n"
         "0\r\nX-Trailer: 1\r\n\r\n",
         200,
         "hello, world"},
        {"100 Continue first",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
         201,
         "ok"},
        {"204 without a length", "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", 204, ""},
        {"HTTP/1.0, the body ended by the close",
         "HTTP/1.0 200 OK\r\n\r\nuntil close",
         200,
         "until close"},
        {"no reason phrase", "HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n", 500, ""},
        {"bare LF line ends",
         "HTTP/1.1 429 Slow\nRetry-After: 3\nContent-Length: 2\n\nno",
         429,
         "no"},
        {"CRLF and LF mixed",
         "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\r\nRetry-After: 3\nContent-Length: 2\n\r\nok",
         200,
         "ok"},
        {"chunked, bare LF",
         "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n1\r\n!\n0\nX-Trailer: 1\n\n",
         200,
         "hello!"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        RawServer server([&c](int fd, int) {
            if (!read_request(fd).empty()) {
                // Byte by byte: the client must put the answer together from many reads.
                for (const char byte : c.answer) {
                    write_all(fd, std::string_view(&byte, 1));
                }
                if (std::string_view(c.answer).starts_with("HTTP/1.0")) {
                    return; // closes
                }
                read_request(fd); // until the client closes
            }
        });
        const auto client = plain();
        const crcr::HttpCompletion done = exchange(*client, post(server.url("/hook")));
        CAPTURE(done.error);
        REQUIRE(done.response);
        CHECK(done.response->status == c.status);
        CHECK(done.response->body == c.body);
        if (std::string_view(c.answer).find("Retry-After") != std::string_view::npos) {
            CHECK(done.response->header("retry-after") == "3"); // its text, without the CR
        }
    }
}

TEST_CASE("plain client: what it sends") {
    std::mutex mutex;
    std::vector<std::string> seen;
    RawServer server([&](int fd, int) {
        for (std::string request = read_request(fd); !request.empty(); request = read_request(fd)) {
            {
                const std::lock_guard lock(mutex);
                seen.push_back(request);
            }
            write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }
    });
    const auto client = plain();
    const std::string big(3 << 20, 'b'); // more than a socket takes at once: written in parts
    const crcr::HttpCompletion first =
        exchange(*client, post(server.url("/github/webhook?x=1"), big));
    CAPTURE(first.error);
    REQUIRE(first.response);
    crcr::HttpRequest get{"GET", server.url(), {{"User-Agent", "GitHub-Hookshot/abc"}}, ""};
    REQUIRE(exchange(*client, get).response);
    const std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 2);
    const std::string port = server.url().substr(17, server.url().size() - 18);
    CHECK(seen[0]
          == fmt::format("POST /github/webhook?x=1 HTTP/1.1\r\nContent-Type: application/json\r\n"
                         "Host: 127.0.0.1:{}\r\nUser-Agent: {}\r\nAccept: */*\r\n"
                         "Content-Length: {}\r\n\r\n{}",
                         port,
                         crcr::user_agent(),
                         big.size(),
                         big));
    CHECK(seen[1]
          == fmt::format("GET / HTTP/1.1\r\nUser-Agent: GitHub-Hookshot/abc\r\nHost: "
                         "127.0.0.1:{}\r\nAccept: */*\r\n\r\n",
                         port));
}

TEST_CASE("plain client: connections kept, and given up when the server ends them") {
    for (const std::string method : {"GET", "POST"}) {
        CAPTURE(method);
        std::atomic<int> connections{0};
        std::atomic<int> requests{0};
        // Connection 0 answers once and keeps the connection, then closes it without answering
        // the second request (as a server whose idle timeout struck just then); connection 1
        // says "Connection: close"; connection 2 answers everything.
        RawServer server([&](int fd, int n) {
            ++connections;
            for (int i = 0;; ++i) {
                if (read_request(fd).empty()) {
                    return;
                }
                ++requests;
                if (n == 0 && i == 1) {
                    return; // closes unanswered
                }
                write_all(fd,
                          n == 1
                              ? "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nc"
                              : "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk");
                if (n == 1) {
                    return;
                }
            }
        });
        const auto client = plain();
        const auto request = [&] {
            return crcr::HttpRequest{method, server.url(), {}, method == "POST" ? "{}" : ""};
        };
        const auto body = [&](const crcr::HttpCompletion& done) {
            CAPTURE(done.error);
            REQUIRE(done.response);
            return done.response->body;
        };
        CHECK(body(exchange(*client, request())) == "k"); // connection 0
        const crcr::HttpCompletion second = exchange(*client, request());
        if (method == "GET") {
            // Unanswered on the kept connection: sent once more, on a new one (1).
            CHECK(body(second) == "c");
        } else {
            // A POST that went may have been acted on (a webhook dispatched): never sent twice.
            CHECK_FALSE(second.response);
            CHECK(second.error.find("Empty reply from server") != std::string::npos);
            CHECK_FALSE(second.unsent);
            CHECK(body(exchange(*client, request())) == "c"); // connection 1
        }
        CHECK(body(exchange(*client, request())) == "k"); // connection 2
        CHECK(body(exchange(*client, request())) == "k"); // connection 2 again
        CHECK(connections == 3);
        CHECK(requests == 5);
    }
}

TEST_CASE("plain client: a kept connection the server closed while idle is not written to") {
    // The server keeps each connection for one answer, then closes it (an idle timeout): the
    // next POST must see that before sending, and go on a new connection, sent once.
    std::atomic<int> requests{0};
    RawServer server([&](int fd, int) {
        if (!read_request(fd).empty()) {
            ++requests;
            write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk");
        }
    });
    const auto client = plain();
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        const crcr::HttpCompletion done = exchange(*client, post(server.url()));
        CAPTURE(done.error);
        CHECK(done.response);
        // The server's close reaches the client before the next request starts.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(requests == 3);
}

TEST_CASE("plain client: an answer that fills the last read exactly, then the close") {
    // 64 KiB in all, sent with the close: the final read is full, the next one sees the end.
    for (const bool http10 : {false, true}) {
        CAPTURE(http10);
        const std::string head = http10 ? "HTTP/1.0 200 OK\r\n\r\n"
                                        : "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                          "Content-Length: 65475\r\n\r\n";
        const std::string body(65536 - head.size(), 'z');
        RawServer server([&](int fd, int) {
            if (!read_request(fd).empty()) {
                write_all(fd, head + body);
            }
        });
        const auto client = plain();
        const crcr::HttpCompletion done = exchange(*client, post(server.url()));
        CAPTURE(done.error);
        REQUIRE(done.response);
        CHECK(done.response->body == body);
    }
}

TEST_CASE("plain client: a connection answered before its body was all sent is not kept") {
    RawServer server([](int fd, int n) {
        if (n == 0) {
            // Refuses the upload after its head, keeping the connection: then, as HTTP has it,
            // reads the body it refused (to know where the next request starts) and serves on.
            std::string head;
            char c = 0;
            while (head.find("\r\n\r\n") == std::string::npos && read(fd, &c, 1) == 1) {
                head += c;
            }
            write_all(fd, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
            std::this_thread::sleep_for(300ms); // the client's writes stall: it reads the answer
            std::size_t left = std::stoul(head.substr(head.find("Content-Length: ") + 16, 20));
            std::vector<char> sink(1 << 16);
            while (left > 0) {
                const ssize_t got = read(fd, sink.data(), std::min(left, sink.size()));
                if (got <= 0) {
                    return; // the client gave the connection up: right
                }
                left -= static_cast<std::size_t>(got);
            }
        }
        for (std::string request = read_request(fd); !request.empty(); request = read_request(fd)) {
            write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    const auto client = plain();
    // More than socket buffers hold: most of it is still unsent when the 413 comes.
    const crcr::HttpCompletion refused =
        exchange(*client, post(server.url(), std::string(64 << 20, 'u')));
    CAPTURE(refused.error);
    REQUIRE(refused.response);
    CHECK(refused.response->status == 413);
    const crcr::HttpCompletion next =
        exchange(*client, crcr::HttpRequest{"GET", server.url(), {}, ""});
    CAPTURE(next.error);
    REQUIRE(next.response);
    CHECK(next.response->body == "ok"); // on a new connection, not inside the old body
}

TEST_CASE("plain client: a resend gets its own time to connect") {
    // The kept connection holds the second request longer than the connect timeout, then
    // closes it unanswered: the resend (of a GET: a POST that went is never resent) on a new
    // connection still has its connect time.
    RawServer server([](int fd, int n) {
        for (int i = 0;; ++i) {
            if (read_request(fd).empty()) {
                return;
            }
            if (n == 0 && i == 1) {
                std::this_thread::sleep_for(1500ms);
                return;
            }
            write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    const auto client = plain();
    crcr::HttpRequest request{"GET", server.url()};
    request.connect_timeout = 1s;
    REQUIRE(exchange(*client, request).response);
    const crcr::HttpCompletion resent = exchange(*client, request);
    CAPTURE(resent.error);
    REQUIRE(resent.response);
    CHECK(resent.response->body == "ok");
}

TEST_CASE("plain client: what is not HTTP, or stops short, is an error naming the request") {
    struct Case {
        std::string_view name;
        std::string answer;
        std::string want;
    };
    const Case cases[] = {
        {"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "malformed response: not HTTP/1.x"},
        {"a bad Content-Length",
         "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
         "malformed response: not HTTP/1.x"},
        {"the body cut short",
         "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
         "Connection closed before the end of the answer"},
        {"nothing at all", "", "Empty reply from server"},
        {"a bad chunk size",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
         "malformed response: a bad chunk"},
        {"a chunk longer than its size",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n",
         "malformed response: a bad chunk"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        RawServer server([&c](int fd, int) {
            read_request(fd);
            write_all(fd, c.answer);
        });
        const auto client = plain();
        const crcr::HttpCompletion done = exchange(*client, post(server.url("/x")));
        CHECK_FALSE(done.response);
        CHECK(done.error == "POST " + server.url("/x") + ": " + c.want);
        CHECK(done.request.body == "{}"); // handed back, for a retry
    }
}

TEST_CASE("plain client: a name with several addresses, the server on one of them") {
    // "localhost" may lead to ::1 before 127.0.0.1, where the server listens: a refusal there
    // moves on to the next address, as libcurl does.
    RawServer server([](int fd, int) {
        if (!read_request(fd).empty()) {
            write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            read_request(fd);
        }
    });
    const std::string url = "http://localhost:" + server.url().substr(17);
    const auto client = plain();
    const crcr::HttpCompletion done = exchange(*client, post(url));
    CAPTURE(done.error);
    REQUIRE(done.response);
    CHECK(done.response->body == "ok");
}

TEST_CASE("plain client: https, credentials and proxies are left to the client behind it") {
    // A stand-in for libcurl's client that records what it is given.
    struct Recording final : crcr::ConcurrentHttpClient {
        std::vector<std::string>* urls;
        std::vector<crcr::HttpCompletion> pending;
        explicit Recording(std::vector<std::string>* seen) : urls(seen) {}
        void start(std::uint64_t tag, crcr::HttpRequest request) override {
            urls->push_back(request.url);
            crcr::HttpCompletion done{.tag = tag, .request = std::move(request)};
            done.response = crcr::HttpResponse{.status = 299};
            pending.push_back(std::move(done));
        }
        std::vector<crcr::HttpCompletion> wait(std::chrono::milliseconds) override {
            return std::move(pending);
        }
    };
    crcr::test::TestServer direct({crcr::test::Reply{.status = 200}});
    for (const bool proxied : {false, true}) {
        CAPTURE(proxied);
        std::vector<std::string> behind;
        const auto client =
            crcr::make_plain_concurrent_http_client(std::make_unique<Recording>(&behind), proxied);
        const std::vector<std::string> urls = {"https://relay.example/github/webhook",
                                               "http://user:pass@relay.example/x",
                                               direct.url("/plain")};
        for (const std::string& url : urls) {
            const crcr::HttpCompletion done = exchange(*client, post(url));
            REQUIRE(done.response);
            CHECK(done.response->status == (url == direct.url("/plain") && !proxied ? 200 : 299));
        }
        CHECK(behind.size() == (proxied ? 3 : 2));
    }
}
