#include "crcr/relay_server.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace crcr {

namespace {

constexpr const char* k_json = "application/json";

void answer(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    res.set_content(body.dump(), k_json);
}

} // namespace

struct RelayServer::Impl {
    Impl(Relay& r, RelayServerOptions o, Log l)
        : relay(r), options(std::move(o)), log(std::move(l)) {}

    Relay& relay;
    RelayServerOptions options;
    Log log;
    httplib::Server server;
    int port = 0;
    std::mutex mutex;
    std::condition_variable stopped_cv;
    bool stopping = false;
    std::atomic<bool> listening_done{false};

    void route(const httplib::Request& req, httplib::Response& res) {
        const auto not_allowed = [&] { answer(res, 405, Json{{"detail", "Method not allowed"}}); };
        if (req.path == "/github/webhook") {
            if (req.method != "POST") {
                return not_allowed();
            }
            std::optional<std::string> signature;
            if (req.has_header("X-Hub-Signature-256")) {
                signature = req.get_header_value("X-Hub-Signature-256");
            }
            const RelayAnswer a = relay.webhook(req.get_header_value("X-GitHub-Event"),
                                                req.get_header_value("X-GitHub-Delivery"),
                                                signature,
                                                req.body);
            return answer(res, a.status, a.body);
        }
        if (req.path == "/github/callback") {
            if (req.method != "POST") {
                return not_allowed();
            }
            const RelayAnswer a = relay.callback(req.get_header_value("Authorization"), req.body);
            return answer(res, a.status, a.body);
        }
        if (req.path == "/healthz") {
            if (req.method != "GET" && req.method != "HEAD") {
                return not_allowed();
            }
            Json body{{"ok", true}};
            if (options.health) {
                body.update(options.health());
            }
            return answer(res, 200, body);
        }
        answer(res, 404, Json{{"detail", "Not found"}});
    }
};

RelayServer::RelayServer(Relay& relay, RelayServerOptions options, Log log)
    : m_impl(std::make_unique<Impl>(relay, std::move(options), std::move(log))) {
    Impl& impl = *m_impl;
    httplib::Server& server = impl.server;
    const std::size_t threads = std::max<std::size_t>(impl.options.threads, 1);
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_payload_max_length(impl.options.max_body);
    server.set_read_timeout(impl.options.read_timeout);
    server.set_write_timeout(impl.options.read_timeout);
    server.set_keep_alive_timeout(5);
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle holds the body
    // until the client's delayed ACK (40 ms per request).
    server.set_tcp_nodelay(true);
    const auto handler = [&impl](const httplib::Request& req, httplib::Response& res) {
        impl.route(req, res);
    };
    const std::string all = ".*";
    server.Get(all, handler);
    server.Post(all, handler);
    server.Put(all, handler);
    server.Patch(all, handler);
    server.Delete(all, handler);
    server.Options(all, handler);
    server.set_exception_handler(
        [&impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
            std::string why = "unknown error";
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                why = e.what();
            } catch (...) {
            }
            impl.log(LogEntry{.level = "error",
                              .message = "request failed",
                              .fields = {{"path", req.path}, {"error", why}}});
            answer(res, 500, Json{{"detail", "Internal server error"}});
        });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) {
            return;
        }
        const std::string detail = res.status == 413   ? "Request body too large"
                                   : res.status == 404 ? "Not found"
                                   : res.status == 405 ? "Method not allowed"
                                                       : "Bad request";
        answer(res, res.status, Json{{"detail", detail}});
    });
}

RelayServer::~RelayServer() {
    stop();
}

int RelayServer::bind() {
    Impl& impl = *m_impl;
    const bool ok = impl.options.port == 0
                        ? (impl.port = impl.server.bind_to_any_port(impl.options.host)) > 0
                        : impl.server.bind_to_port(impl.options.host, impl.options.port);
    if (!ok) {
        throw Error(fmt::format("cannot listen on {}:{}: the address is in use or not this "
                                "machine's (--listen HOST:PORT; port 0 picks a free one)",
                                impl.options.host,
                                impl.options.port),
                    ExitCode::unavailable);
    }
    if (impl.options.port != 0) {
        impl.port = impl.options.port;
    }
    return impl.port;
}

void RelayServer::serve() {
    Impl& impl = *m_impl;
    std::thread ticker([&impl] {
        std::unique_lock lock(impl.mutex);
        while (!impl.stopped_cv.wait_for(
            lock, std::chrono::seconds(1), [&] { return impl.stopping; })) {
            if (impl.options.every_second) {
                lock.unlock();
                impl.options.every_second();
                lock.lock();
            }
        }
        lock.unlock();
        // A stop() that came just before the listener started running is lost by httplib: stop
        // it until it has returned.
        while (!impl.listening_done) {
            impl.server.stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    {
        const std::lock_guard lock(impl.mutex);
        if (!impl.stopping) {
            impl.log(LogEntry{
                .level = "info",
                .message = "listening",
                .fields = {{"url", fmt::format("http://{}:{}", impl.options.host, impl.port)}}});
        }
    }
    impl.server.listen_after_bind(); // returns after stop(), once the workers are done
    impl.listening_done = true;
    {
        const std::lock_guard lock(impl.mutex);
        impl.stopping = true;
    }
    impl.stopped_cv.notify_all();
    ticker.join();
}

void RelayServer::stop() {
    Impl& impl = *m_impl;
    {
        const std::lock_guard lock(impl.mutex);
        impl.stopping = true;
    }
    impl.stopped_cv.notify_all();
    impl.server.stop();
}

} // namespace crcr
