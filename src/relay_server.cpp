#include "crcr/relay_server.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <semaphore>
#include <system_error>
#include <thread>
#include <vector>

namespace crcr {

namespace {

constexpr const char* k_json = "application/json";

// Connections served at most at once; more wait for one to close (the file descriptor limit
// is usually about as high).
constexpr std::size_t k_max_connections = 1024;

// How long a connection may sit idle before or between requests.
constexpr time_t k_keep_alive_seconds = 2;

void answer(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    res.set_content(json_text(body), k_json);
}

// A thread for each open connection, so that an idle or slow client holds up nobody but itself
// (httplib serves a connection on one thread from its first byte to its close). Threads are made
// as connections come and end after idling a while.
class ConnectionThreads final : public httplib::TaskQueue {
public:
    ConnectionThreads() = default;
    ~ConnectionThreads() override { shutdown(); }
    ConnectionThreads(const ConnectionThreads&) = delete;
    ConnectionThreads& operator=(const ConnectionThreads&) = delete;

    void enqueue(std::function<void()> connection) override {
        const std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(connection));
        if (m_queue.size() <= m_idle) {
            m_ready.notify_one();
            return;
        }
        if (m_threads.size() - m_finished.size() < k_max_connections) {
            join_finished();
            try {
                m_threads.emplace_back([this] { work(); });
            } catch (const std::system_error&) {
                // No thread to be had now (a process limit): the connection waits in the queue
                // for a running thread, instead of the exception ending the accept loop.
            }
        }
    }

    void shutdown() override {
        std::list<std::thread> threads;
        {
            const std::lock_guard lock(m_mutex);
            m_stopping = true;
            threads.swap(m_threads);
            m_finished.clear();
        }
        m_ready.notify_all();
        for (std::thread& thread : threads) {
            thread.join();
        }
    }

private:
    void work() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            if (!m_queue.empty()) {
                std::function<void()> connection = std::move(m_queue.front());
                m_queue.pop_front();
                lock.unlock();
                connection();
                lock.lock();
                continue;
            }
            if (m_stopping) {
                break;
            }
            ++m_idle;
            const bool woken = m_ready.wait_for(
                lock, std::chrono::seconds(10), [this] { return m_stopping || !m_queue.empty(); });
            --m_idle;
            if (!woken) {
                break;
            }
        }
        if (!m_stopping) {
            m_finished.push_back(std::this_thread::get_id());
        }
    }

    // Joins the threads that have ended (the caller holds the mutex; they no longer need it).
    void join_finished() {
        for (const std::thread::id id : m_finished) {
            const auto found =
                std::find_if(m_threads.begin(), m_threads.end(), [id](const std::thread& t) {
                    return t.get_id() == id;
                });
            found->join();
            m_threads.erase(found);
        }
        m_finished.clear();
    }

    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<std::function<void()>> m_queue;
    std::list<std::thread> m_threads;
    std::vector<std::thread::id> m_finished; // ended, not yet joined
    std::size_t m_idle = 0;
    bool m_stopping = false;
};

// The bytes of request bodies held in memory, all connections together. Without it, each of
// k_max_connections connections could hold 25 MB at once.
class BodyBudget {
public:
    explicit BodyBudget(std::size_t bytes) : m_free(bytes) {}

    // Takes `bytes`, waiting for other requests to give some back until `deadline`; false when
    // they did not come.
    bool take(std::size_t bytes, std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lock(m_mutex);
        if (!m_given_back.wait_until(lock, deadline, [&] { return m_free >= bytes; })) {
            return false;
        }
        m_free -= bytes;
        return true;
    }

    void give_back(std::size_t bytes) {
        {
            const std::lock_guard lock(m_mutex);
            m_free += bytes;
        }
        m_given_back.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_given_back;
    std::size_t m_free;
};

// What one request holds of the budget, given back when the request is done.
class BodyShare {
public:
    explicit BodyShare(BodyBudget& budget) : m_budget(budget) {}
    ~BodyShare() { m_budget.give_back(m_bytes); }
    BodyShare(const BodyShare&) = delete;
    BodyShare& operator=(const BodyShare&) = delete;

    // Holds at least `bytes` in all.
    bool grow_to(std::size_t bytes, std::chrono::steady_clock::time_point deadline) {
        if (bytes <= m_bytes) {
            return true;
        }
        if (!m_budget.take(bytes - m_bytes, deadline)) {
            return false;
        }
        m_bytes = bytes;
        return true;
    }

private:
    BodyBudget& m_budget;
    std::size_t m_bytes = 0;
};

// The body length a request declares, when it declares one the server will read.
std::size_t declared_length(const httplib::Request& req, std::size_t max_body) {
    const std::string value = req.get_header_value("Content-Length");
    std::size_t length = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
    return error == std::errc() && end == value.data() + value.size() && length <= max_body ? length
                                                                                            : 0;
}

} // namespace

struct RelayServer::Impl {
    Impl(Relay& r, RelayServerOptions o, Log l)
        : relay(r), options(std::move(o)), log(std::move(l)) {}

    Relay& relay;
    RelayServerOptions options;
    Log log;
    std::counting_semaphore<> handling{
        static_cast<std::ptrdiff_t>(std::max<std::size_t>(options.threads, 1))};
    BodyBudget bodies{std::max<std::size_t>(options.threads, 1) * options.max_body};
    httplib::Server server;
    int port = 0;
    std::mutex mutex;
    std::condition_variable stopped_cv;
    bool stopping = false;
    std::atomic<bool> listening_done{false};

    // Answers a request whose body (read whatever its Content-Type, as production does) is
    // `body`; at most `options.threads` at once.
    void route(const httplib::Request& req, const std::string& body, httplib::Response& res) {
        struct Slot {
            std::counting_semaphore<>& slots;
            ~Slot() { slots.release(); }
        };
        handling.acquire();
        const Slot slot{handling};
        route_now(req, body, res);
    }

    void route_now(const httplib::Request& req, const std::string& body, httplib::Response& res) {
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
                                                body);
            return answer(res, a.status, a.body);
        }
        if (req.path == "/github/callback") {
            if (req.method != "POST") {
                return not_allowed();
            }
            const RelayAnswer a = relay.callback(req.get_header_value("Authorization"), body);
            return answer(res, a.status, a.body);
        }
        if (req.path == "/healthz") {
            if (req.method != "GET" && req.method != "HEAD") {
                return not_allowed();
            }
            Json health{{"ok", true}};
            if (options.health) {
                health.update(options.health());
            }
            return answer(res, 200, health);
        }
        answer(res, 404, Json{{"detail", "Not found"}});
    }
};

RelayServer::RelayServer(Relay& relay, RelayServerOptions options, Log log)
    : m_impl(std::make_unique<Impl>(relay, std::move(options), std::move(log))) {
    Impl& impl = *m_impl;
    httplib::Server& server = impl.server;
    server.set_payload_max_length(impl.options.max_body);
    server.set_read_timeout(impl.options.read_timeout);
    server.set_write_timeout(impl.options.read_timeout);
    server.new_task_queue = [] { return new ConnectionThreads(); };
    server.set_keep_alive_timeout(k_keep_alive_seconds);
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle holds the body
    // until the client's delayed ACK (40 ms per request).
    server.set_tcp_nodelay(true);
    const auto handler = [&impl](const httplib::Request& req, httplib::Response& res) {
        impl.route(req, req.body, res);
    };
    // Bodies are read raw: httplib would cap a form body at 8 KB (413) and parse it, and split a
    // multipart one, going by a Content-Type production never looks at. Without the header it
    // reads any body as it is.
    const auto reading_handler = [&impl](const httplib::Request& req,
                                         httplib::Response& res,
                                         const httplib::ContentReader& read) {
        const_cast<httplib::Request&>(req).headers.erase("Content-Type"); // httplib's own object
        // Bodies read at once share `threads` x `max_body` bytes; a request that finds no room
        // for its body within the read timeout gets 503. Its body is still read (and dropped),
        // so the connection stays in step for the next request.
        const auto deadline = std::chrono::steady_clock::now() + impl.options.read_timeout;
        BodyShare share(impl.bodies);
        bool room = share.grow_to(declared_length(req, impl.options.max_body), deadline);
        std::string body;
        const bool complete = read([&](const char* data, std::size_t size) {
            room = room && share.grow_to(body.size() + size, deadline);
            if (room) {
                body.append(data, size);
            }
            return true;
        });
        if (!complete) { // httplib answers: 413 over the size limit, 400 when cut short
            return;
        }
        if (!room) {
            impl.log(LogEntry{.level = "warning",
                              .message = "request bodies over the server's memory budget",
                              .fields = {{"path", req.path}}});
            res.set_header("Retry-After", "1");
            return answer(res, 503, Json{{"detail", "Server busy"}});
        }
        impl.route(req, body, res);
    };
    const std::string all = ".*";
    server.Get(all, handler);
    server.Options(all, handler);
    server.Post(all, reading_handler);
    server.Put(all, reading_handler);
    server.Patch(all, reading_handler);
    server.Delete(all, reading_handler);
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
