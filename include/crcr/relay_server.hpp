#pragma once

// The relay emulator's HTTP server (cpp-httplib): POST /github/webhook and /github/callback as
// production routes them (404 for other paths, 405 for other methods, 413 over GitHub's 25 MB,
// the body read as it is whatever its Content-Type), GET /healthz, a thread per connection so
// that idle, slow or half-open clients delay nobody else (and are timed out), and a stop that
// lets requests in flight finish. Bodies being read share `threads` x `max_body` bytes of
// memory; a request that finds no room within the read timeout gets 503 with Retry-After. The
// only file that includes httplib.

#include "crcr/relay.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace crcr {

struct RelayServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                       // 0: a free port
    std::size_t threads = 16;              // requests handled at once (connections are not counted)
    std::chrono::seconds read_timeout{10}; // for a request's headers and body
    std::size_t max_body = 25U << 20U;     // GitHub's cap on payloads
    std::function<Json()> health;          // what GET /healthz adds to {"ok": true}
    std::function<void()> every_second;    // work while serving (re-reading the allowlist)
};

class RelayServer {
public:
    RelayServer(Relay& relay, RelayServerOptions options, Log log);
    ~RelayServer();
    RelayServer(const RelayServer&) = delete;
    RelayServer& operator=(const RelayServer&) = delete;

    // Binds the address; returns the port. Throws `crcr::Error` (unavailable) when it cannot.
    int bind();
    // Serves until `stop`, then returns once the requests in flight are answered.
    void serve();
    // Stops accepting; safe from any thread, and before or during `serve`.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace crcr
