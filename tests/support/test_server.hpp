#pragma once

// A real HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for tests: each test scripts what it
// answers (status, headers, body, a delay, or a failure: closing without an answer, a reset in
// the middle of the body, a malformed response) and reads back what it received. It stands in
// for GitHub's API and for the relay. Keep-alive connections are served until the client closes.

#include "crcr/http.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace crcr::test {

struct RecordedRequest {
    std::string method;
    std::string target; // path and query, as sent
    HttpHeaders headers;
    std::string body;

    // The first header named `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
};

struct Reply {
    enum class Action {
        respond,        // a normal answer
        close_silently, // read the request, close without a byte of answer
        reset_mid_body, // send the headers and half the body, then reset the connection
        malformed,      // answer with bytes that are not HTTP
        close_after,    // answer (keep-alive not refused), then close the connection
    };
    int status = 200;
    std::string reason = "OK";
    HttpHeaders headers;
    std::string body;
    std::chrono::milliseconds delay{0}; // wait this long before answering
    Action action = Action::respond;
};

class TestServer {
public:
    using Handler = std::function<Reply(const RecordedRequest&)>;

    // Serves every request with `handler` (called on the server's threads).
    explicit TestServer(Handler handler);
    // Serves the replies in order, one per request; once they are used up, 599 "unscripted".
    explicit TestServer(std::vector<Reply> script);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    int port() const { return m_port; }
    // `http://127.0.0.1:<port><path>`.
    std::string url(std::string_view path = "") const;
    // Every request received so far, in order of arrival.
    std::vector<RecordedRequest> requests() const;
    // How many TCP connections were accepted so far.
    int connections() const { return m_connections.load(); }

private:
    void accept_loop();
    void serve(int fd);
    bool wait_or_stop(std::chrono::milliseconds delay);

    Handler m_handler;
    int m_listen_fd = -1;
    int m_wake_pipe[2] = {-1, -1};
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::atomic<int> m_connections{0};
    mutable std::mutex m_mutex;
    std::condition_variable m_stop_cv;
    std::vector<RecordedRequest> m_requests;
    std::vector<int> m_open_fds;
    std::vector<std::thread> m_workers;
    std::thread m_acceptor;
};

// An address on 127.0.0.1 where nothing listens (connections are refused).
std::string refused_url();

} // namespace crcr::test
