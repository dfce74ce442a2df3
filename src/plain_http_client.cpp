// The concurrent HTTP port for plain http:// targets without libcurl: one epoll set, HTTP/1.1
// on connections kept alive, a request written with one writev and its answer parsed in place.
// `crcr replay` sends thousands of webhooks a second through it; per request libcurl spends
// more CPU than the kernel's whole loopback path (two poll calls, its options and buffers, a
// copy of the body). Everything else (https, credentials in the URL, proxies) goes to the
// libcurl client it is given.
#include "crcr/error.hpp"
#include "crcr/http.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <unordered_map>

namespace crcr {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_max_body = 256U << 20U; // as the libcurl client
constexpr std::size_t k_max_head = 256U << 10U; // status line and headers
constexpr std::size_t k_read_size = 64U << 10U; // bytes asked of each read

// Where a plain http:// URL points: "host:port" (the connection's key), the Host header, the
// request target. Nothing for what this client leaves to libcurl.
struct Target {
    std::string host;
    std::string port;
    std::string host_header;
    std::string path;
};

std::optional<Target> plain_target(std::string_view url) {
    constexpr std::string_view k_scheme = "http://";
    if (url.size() < k_scheme.size() || !iequals(url.substr(0, k_scheme.size()), k_scheme)
        || std::any_of(url.begin(), url.end(), [](char c) {
               return static_cast<unsigned char>(c) <= ' ' || c == '\x7F';
           })) {
        return std::nullopt; // a space or control character would end the request line early:
                             // libcurl says what is wrong with the URL
    }
    url.remove_prefix(k_scheme.size());
    const std::size_t slash = url.find_first_of("/?#");
    const std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "/" : url.substr(slash);
    path = path.substr(0, path.find('#'));
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return std::nullopt; // credentials: libcurl sends them
    }
    Target target;
    target.host_header = std::string(authority);
    std::string_view host = authority;
    std::string_view port = "80";
    if (host.front() == '[') { // [IPv6]:port
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        if (close + 1 < host.size()) {
            if (host[close + 1] != ':') {
                return std::nullopt;
            }
            port = host.substr(close + 2);
        }
        host = host.substr(1, close - 1);
    } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    unsigned number = 0;
    if (port.empty() || host.empty()
        || std::from_chars(port.data(), port.data() + port.size(), number).ec != std::errc()
        || number == 0 || number > 65535) {
        return std::nullopt;
    }
    target.host = std::string(host);
    target.port = std::string(port);
    target.path = path.starts_with('?') ? "/" + std::string(path) : std::string(path);
    return target;
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd = -1) : m_fd(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (m_fd >= 0) {
            close(m_fd);
        }
    }
    int get() const { return m_fd; }

private:
    int m_fd;
};

// An answer being read: the head parsed once it is all there, then the body.
struct Answer {
    bool head_done = false;
    HttpResponse response;
    bool chunked = false;
    std::optional<std::size_t> length; // Content-Length; neither this nor chunked: until close
    bool keep_alive = true;
    std::size_t body_start = 0; // where the body starts in the bytes read
    std::size_t chunk_at = 0;   // chunked: where the next chunk starts, from body_start
};

// A line of an answer's head or chunked body, from `from`: where its text ends and where the next
// line starts; nothing until its end has come. HTTP ends lines with CRLF; a bare LF is taken
// too, as libcurl and browsers take it.
struct Line {
    std::size_t end;
    std::size_t next;
};

std::optional<Line> next_line(std::string_view text, std::size_t from) {
    const std::size_t lf = text.find('\n', from);
    if (lf == std::string_view::npos) {
        return std::nullopt;
    }
    return Line{lf > from && text[lf - 1] == '\r' ? lf - 1 : lf, lf + 1};
}

struct Exchange {
    std::uint64_t tag = 0;
    HttpRequest request;
    Target target;    // where request.url points
    std::string head; // request line and headers
    std::size_t sent = 0;
    std::string in; // what was read
    Answer answer;
    Clock::time_point started;
    Clock::time_point deadline;
    bool retried = false; // sent again once already, after a kept connection closed unanswered
};

// Where a host's name leads, in the resolver's order.
using Addresses = std::vector<std::pair<sockaddr_storage, socklen_t>>;

struct Connection {
    std::unique_ptr<FileDescriptor> fd;
    std::string key;
    Addresses untried; // the host's other addresses, should this one refuse
    bool connecting = false;
    bool used = false;        // has answered a request before
    bool watching_out = true; // asks epoll for writable as well as readable
    bool peer_closed = false; // the server closed its side
    std::optional<Exchange> exchange;
};

// libcurl's words for a connection that could not be made, and the system's.
std::string connect_failure(const Target& target, const Exchange& exchange, int error) {
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - exchange.started);
    return fmt::format("Failed to connect to {} port {} after {} ms: Couldn't connect to server "
                       "({})",
                       target.host,
                       target.port,
                       waited.count(),
                       std::strerror(error));
}

std::string header_block(const HttpRequest& request, const Target& target) {
    std::string head = fmt::format("{} {} HTTP/1.1\r\n", request.method, target.path);
    bool has_host = false;
    bool has_agent = false;
    bool has_accept = false;
    for (const auto& [name, value] : request.headers) {
        has_host = has_host || iequals(name, "Host");
        has_agent = has_agent || iequals(name, "User-Agent");
        has_accept = has_accept || iequals(name, "Accept");
        if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")
            || iequals(name, "Connection")) {
            continue; // this client's to say
        }
        head.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host) {
        head.append("Host: ").append(target.host_header).append("\r\n");
    }
    if (!has_agent) {
        head.append("User-Agent: ").append(user_agent()).append("\r\n");
    }
    if (!has_accept) {
        head.append("Accept: */*\r\n");
    }
    if (!request.body.empty() || (request.method != "GET" && request.method != "HEAD")) {
        head.append(fmt::format("Content-Length: {}\r\n", request.body.size()));
    }
    head.append("\r\n");
    return head;
}

class PlainConcurrentHttpClient final : public ConcurrentHttpClient {
public:
    PlainConcurrentHttpClient(std::unique_ptr<ConcurrentHttpClient> fallback, bool proxied)
        : m_fallback(std::move(fallback)), m_proxied(proxied) {}

    void start(std::uint64_t tag, HttpRequest request) override {
        check_request_headers(request);
        const std::optional<Target> target = m_proxied ? std::nullopt : plain_target(request.url);
        if (!target) {
            m_fallback->start(tag, std::move(request));
            ++m_fallback_running;
            return;
        }
        Exchange exchange;
        exchange.tag = tag;
        exchange.target = *target;
        exchange.head = header_block(request, *target);
        exchange.request = std::move(request);
        exchange.started = Clock::now();
        exchange.deadline = exchange.started + exchange.request.timeout;
        const std::string key = target->host + ":" + target->port;
        Connection* connection = idle_connection(key);
        if (connection == nullptr) {
            connection = open_connection(*target, key, exchange);
            if (connection == nullptr) {
                return; // failed at once: its completion is waiting
            }
        }
        attach(*connection, std::move(exchange));
    }

    std::vector<HttpCompletion> wait(std::chrono::milliseconds timeout) override {
        std::vector<HttpCompletion> finished = std::move(m_done);
        m_done.clear();
        if (m_fallback_running > 0) {
            // Requests libcurl sends: in a run they all go to one URL, so this client holds none
            // of its own then; if it does, the two take turns.
            std::vector<HttpCompletion> more = m_fallback->wait(
                m_running > 0 || !finished.empty() ? std::chrono::milliseconds(0) : timeout);
            m_fallback_running -= more.size();
            std::move(more.begin(), more.end(), std::back_inserter(finished));
        }
        const auto deadline = Clock::now() + timeout;
        std::array<epoll_event, 64> events{};
        while (m_running > 0 && finished.empty()) {
            const auto now = Clock::now();
            expire(now, finished);
            if (!finished.empty()) {
                break;
            }
            Clock::time_point until = deadline;
            for (const auto& [fd, connection] : m_connections) {
                if (connection->exchange) {
                    until = std::min(until, connection->exchange->deadline);
                }
            }
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
            if (left <= 0 && until == deadline) {
                break;
            }
            const int ready = epoll_wait(m_epoll.get(),
                                         events.data(),
                                         static_cast<int>(events.size()),
                                         static_cast<int>(std::max<long long>(left, 0)));
            if (ready < 0 && errno != EINTR) {
                throw Error(fmt::format("epoll_wait: {}", std::strerror(errno)),
                            ExitCode::unavailable);
            }
            for (int i = 0; i < ready; ++i) {
                const epoll_event& event = events[static_cast<std::size_t>(i)];
                const auto it = m_connections.find(event.data.fd);
                if (it != m_connections.end()) {
                    on_ready(*it->second, event.events);
                }
            }
            std::move(m_done.begin(), m_done.end(), std::back_inserter(finished));
            m_done.clear();
        }
        return finished;
    }

private:
    // Gives `connection` its exchange; on a connection already made, most requests go out at
    // once, whole.
    void attach(Connection& connection, Exchange exchange) {
        connection.exchange = std::move(exchange);
        ++m_running;
        if (!connection.connecting) {
            send_some(connection);
        }
    }

    // Asks epoll for writable too only while a request is being written (or connected).
    void watch(Connection& connection) {
        const bool out =
            connection.connecting || (connection.exchange && !sent_all(*connection.exchange));
        if (out == connection.watching_out) {
            return;
        }
        epoll_event event{};
        event.events = EPOLLIN | (out ? EPOLLOUT : 0U);
        event.data.fd = connection.fd->get();
        epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, connection.fd->get(), &event);
        connection.watching_out = out;
    }

    // A kept connection to `key` that the server has not closed (a look at the socket, without
    // waiting, before anything is written to it: a closed one is dropped, and nothing was sent).
    Connection* idle_connection(const std::string& key) {
        const auto it = m_idle.find(key);
        while (it != m_idle.end() && !it->second.empty()) {
            Connection* connection = it->second.back();
            it->second.pop_back();
            char byte = 0;
            if (recv(connection->fd->get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0
                && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return connection; // open, and nothing unasked for waiting on it
            }
            close_connection(*connection);
        }
        return nullptr;
    }

    // A new connection for `exchange`, being made; nothing when it failed at once (the
    // exchange is then finished, with the reason).
    Connection* open_connection(const Target& target, const std::string& key, Exchange& exchange) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* found = nullptr;
        if (getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found) != 0) {
            fail_now(exchange, fmt::format("Could not resolve host: {}", target.host));
            return nullptr;
        }
        Addresses addresses;
        for (const addrinfo* at = found; at != nullptr; at = at->ai_next) {
            sockaddr_storage address{};
            std::memcpy(&address, at->ai_addr, at->ai_addrlen);
            addresses.emplace_back(address, at->ai_addrlen);
        }
        freeaddrinfo(found);
        return connect_any(std::move(addresses), target, key, exchange);
    }

    // A connection to the first of `addresses` that takes a connect (the others kept, as libcurl
    // does, for a refusal that comes later); nothing when none does (the exchange is then
    // finished, with the reason).
    Connection* connect_any(Addresses addresses,
                            const Target& target,
                            const std::string& key,
                            Exchange& exchange) {
        int error = 0;
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            const auto& [address, size] = addresses[i];
            auto fd = std::make_unique<FileDescriptor>(
                socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (fd->get() < 0) {
                error = errno;
                continue;
            }
            const int one = 1;
            setsockopt(fd->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            const bool connecting =
                connect(fd->get(), reinterpret_cast<const sockaddr*>(&address), size) != 0;
            if (connecting && errno != EINPROGRESS) {
                error = errno;
                continue;
            }
            epoll_event event{};
            event.events = EPOLLIN | EPOLLOUT;
            event.data.fd = fd->get();
            if (epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd->get(), &event) != 0) {
                fail_now(exchange, fmt::format("epoll_ctl: {}", std::strerror(errno)));
                return nullptr;
            }
            auto connection = std::make_unique<Connection>();
            connection->key = key;
            connection->untried.assign(addresses.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                       addresses.end());
            connection->connecting = connecting;
            connection->fd = std::move(fd);
            Connection* raw = connection.get();
            if (connecting) {
                exchange.deadline =
                    std::min(exchange.deadline, Clock::now() + exchange.request.connect_timeout);
            }
            m_connections.emplace(raw->fd->get(), std::move(connection));
            return raw;
        }
        fail_now(exchange, connect_failure(target, exchange, error));
        return nullptr;
    }

    void on_ready(Connection& connection, std::uint32_t events) {
        if (!connection.exchange) {
            close_connection(connection); // an idle connection closed or sent something: drop it
            return;
        }
        if (connection.connecting) {
            if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
                return; // not made yet
            }
            int error = 0;
            socklen_t size = sizeof error;
            getsockopt(connection.fd->get(), SOL_SOCKET, SO_ERROR, &error, &size);
            if (error != 0) {
                if (connection.untried.empty()) {
                    finish(
                        connection,
                        connect_failure(connection.exchange->target, *connection.exchange, error));
                    return;
                }
                // Refused: the host's next address.
                Exchange exchange = std::move(*connection.exchange);
                Addresses rest = std::move(connection.untried);
                const std::string key = connection.key;
                connection.exchange.reset();
                --m_running;
                close_connection(connection);
                if (Connection* next =
                        connect_any(std::move(rest), exchange.target, key, exchange)) {
                    attach(*next, std::move(exchange));
                }
                return;
            }
            connection.connecting = false;
            Exchange& exchange = *connection.exchange;
            exchange.deadline = exchange.started + exchange.request.timeout;
        }
        if ((events & EPOLLOUT) != 0 && !sent_all(*connection.exchange) && !send_some(connection)) {
            return;
        }
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
            receive(connection);
        }
    }

    static bool sent_all(const Exchange& exchange) {
        return exchange.sent == exchange.head.size() + exchange.request.body.size();
    }

    // Writes what it can of the request; false when the connection failed (and is gone).
    bool send_some(Connection& connection) {
        Exchange& exchange = *connection.exchange;
        while (!sent_all(exchange)) {
            std::array<iovec, 2> parts{};
            int count = 0;
            const auto add = [&](const std::string& text, std::size_t from) {
                if (from < text.size()) {
                    parts[static_cast<std::size_t>(count++)] = {
                        const_cast<char*>(text.data() + from), text.size() - from}; // NOLINT
                }
            };
            const std::size_t head_size = exchange.head.size();
            add(exchange.head, std::min(exchange.sent, head_size));
            add(exchange.request.body, exchange.sent > head_size ? exchange.sent - head_size : 0);
            msghdr message{};
            message.msg_iov = parts.data();
            message.msg_iovlen = static_cast<std::size_t>(count);
            const ssize_t wrote = sendmsg(connection.fd->get(), &message, MSG_NOSIGNAL);
            if (wrote < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    watch(connection); // the rest when it is writable
                    return true;
                }
                if (errno == EINTR) {
                    continue;
                }
                lost(connection, fmt::format("Send failure: {}", std::strerror(errno)));
                return false;
            }
            exchange.sent += static_cast<std::size_t>(wrote);
        }
        watch(connection);
        return true;
    }

    void receive(Connection& connection) {
        Exchange& exchange = *connection.exchange;
        while (true) {
            const ssize_t got = read(connection.fd->get(), m_scratch.data(), m_scratch.size());
            if (got < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    break;
                }
                if (errno == EINTR) {
                    continue;
                }
                lost(connection, fmt::format("Recv failure: {}", std::strerror(errno)));
                return;
            }
            if (got == 0) {
                // What came with the close may complete the answer; else the close ends it.
                connection.peer_closed = true;
                if (!parse(connection)) {
                    return;
                }
                closed_by_peer(connection);
                return;
            }
            exchange.in.append(m_scratch.data(), static_cast<std::size_t>(got));
            if (exchange.in.size() > k_max_head + k_max_body) {
                finish(connection, fmt::format("response larger than {} bytes", k_max_body));
                return;
            }
            if (static_cast<std::size_t>(got) < m_scratch.size()) {
                break; // drained for now: epoll says when more comes
            }
        }
        parse(connection);
    }

    // Reads the answer so far; finishes the exchange when it is complete or malformed. True
    // while the exchange goes on; false once it is finished (and the connection maybe gone).
    bool parse(Connection& connection) {
        Exchange& exchange = *connection.exchange;
        Answer& answer = exchange.answer;
        while (!answer.head_done) {
            const std::optional<std::pair<std::size_t, std::size_t>> end = head_end(exchange.in);
            if (!end) {
                if (exchange.in.size() > k_max_head) {
                    finish(connection, "response headers too large");
                    return false;
                }
                return true;
            }
            const auto [head_length, body_start] = *end;
            if (!read_head(
                    std::string_view(exchange.in).substr(0, head_length), exchange, answer)) {
                finish(connection, "malformed response: not HTTP/1.x");
                return false;
            }
            if (answer.response.status >= 100 && answer.response.status < 200) {
                exchange.in.erase(0, body_start); // 100 Continue and the like: the answer follows
                answer = Answer();
                continue;
            }
            answer.head_done = true;
            answer.body_start = body_start;
        }
        const std::string_view body = std::string_view(exchange.in).substr(answer.body_start);
        if (answer.chunked) {
            bool malformed = false;
            const std::optional<std::size_t> used = dechunk(body, answer, malformed);
            if (malformed) {
                finish(connection, "malformed response: a bad chunk");
                return false;
            }
            if (used) {
                complete(connection, *used == body.size() && answer.keep_alive);
                return false;
            }
            return true;
        }
        if (answer.length) {
            if (body.size() >= *answer.length) {
                answer.response.body = std::string(body.substr(0, *answer.length));
                complete(connection, body.size() == *answer.length && answer.keep_alive);
                return false;
            }
            return true;
        }
        return true; // neither: the body ends when the server closes (see closed_by_peer)
    }

    // Where the head at the start of `in` ends, if all of it has come: the length of its lines
    // and where the body starts, after the blank line.
    static std::optional<std::pair<std::size_t, std::size_t>> head_end(std::string_view in) {
        std::size_t start = 0;
        while (const std::optional<Line> line = next_line(in, start)) {
            if (line->end == start && start > 0) {
                return std::pair(start, line->next);
            }
            start = line->next;
        }
        return std::nullopt;
    }

    // The status line and headers of `head`; false when it is not HTTP/1.x.
    static bool read_head(std::string_view head, const Exchange& exchange, Answer& answer) {
        const std::optional<Line> first = next_line(head, 0);
        const std::string_view status_line = head.substr(0, first ? first->end : head.size());
        if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12
            || status_line[8] != ' ') {
            return false;
        }
        int status = 0;
        if (std::from_chars(status_line.data() + 9, status_line.data() + 12, status).ec
                != std::errc()
            || status < 100 || status > 999) {
            return false;
        }
        answer.response.status = status;
        answer.response.reason =
            status_line.size() > 13 ? std::string(trim_space(status_line.substr(13))) : "";
        answer.keep_alive = status_line[7] != '0'; // HTTP/1.0 closes unless it says otherwise
        for (std::size_t at = first ? first->next : head.size(); at < head.size();) {
            const std::optional<Line> next = next_line(head, at);
            const std::string_view line = head.substr(at, (next ? next->end : head.size()) - at);
            at = next ? next->next : head.size();
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) {
                continue;
            }
            const std::string_view name = trim_space(line.substr(0, colon));
            const std::string_view value = trim_space(line.substr(colon + 1));
            if (iequals(name, "Content-Length")) {
                std::size_t length = 0;
                if (std::from_chars(value.data(), value.data() + value.size(), length).ec
                    != std::errc()) {
                    return false;
                }
                answer.length = length;
            } else if (iequals(name, "Transfer-Encoding")) {
                answer.chunked =
                    value.size() >= 7 && iequals(value.substr(value.size() - 7), "chunked");
            } else if (iequals(name, "Connection")) {
                answer.keep_alive =
                    !iequals(value, "close") && (answer.keep_alive || iequals(value, "keep-alive"));
            }
            answer.response.headers.emplace_back(std::string(name), std::string(value));
        }
        if (exchange.request.method == "HEAD" || status == 204 || status == 304) {
            answer.length = 0;
            answer.chunked = false;
        }
        return true;
    }

    // Decodes the chunks of `body` that have come, from where the last call stopped, into the
    // answer's body: the bytes it used when the body is complete (chunks, the last one and its
    // trailers), else nothing yet (or ever, when `malformed`).
    static std::optional<std::size_t>
    dechunk(std::string_view body, Answer& answer, bool& malformed) {
        std::size_t& at = answer.chunk_at;
        std::string& out = answer.response.body;
        while (true) {
            const std::optional<Line> size_line = next_line(body, at);
            if (!size_line) {
                return std::nullopt;
            }
            std::size_t size = 0;
            const std::string_view size_text = body.substr(at, size_line->end - at);
            const auto [end, ec] =
                std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
            if (ec != std::errc() || size > k_max_body
                || (end != size_text.data() + size_text.size() && *end != ';' && *end != ' ')) {
                malformed = true; // (extensions after ';' are allowed, and ignored)
                return std::nullopt;
            }
            const std::size_t data = size_line->next;
            if (size == 0) { // the last chunk: trailers, if any, up to a blank line
                for (std::size_t trailer = data;;) {
                    const std::optional<Line> line = next_line(body, trailer);
                    if (!line) {
                        return std::nullopt;
                    }
                    if (line->end == trailer) {
                        return line->next;
                    }
                    trailer = line->next;
                }
            }
            if (body.size() <= data + size) {
                return std::nullopt; // the chunk is not all there: from its size line next time
            }
            const std::optional<Line> data_end = next_line(body, data + size);
            if (!data_end || data_end->end != data + size) {
                malformed = data_end || body.size() > data + size + 1; // more than its line end
                return std::nullopt;
            }
            out.append(body.substr(data, size));
            at = data_end->next;
        }
    }

    void closed_by_peer(Connection& connection) {
        Exchange& exchange = *connection.exchange;
        const bool until_close =
            exchange.answer.head_done && !exchange.answer.chunked && !exchange.answer.length;
        if (until_close) {
            exchange.answer.response.body = exchange.in.substr(exchange.answer.body_start);
            complete(connection, false);
            return;
        }
        lost(connection,
             exchange.in.empty() ? "Empty reply from server"
                                 : "Connection closed before the end of the answer");
    }

    // The connection failed. A kept connection that closed before a byte of answer most likely
    // timed out idle on the server's side just as the request went: send it once more on a new
    // connection, as libcurl does, but only a request that may be sent twice (RFC 9110's
    // idempotent methods) or that had not started to go. A POST that went may have been acted on
    // (a webhook the relay dispatched): it fails, and its caller decides.
    void lost(Connection& connection, const std::string& why) {
        Exchange& exchange = *connection.exchange;
        const std::string& method = exchange.request.method;
        const bool idempotent = method == "GET" || method == "HEAD" || method == "PUT"
                                || method == "DELETE" || method == "OPTIONS";
        if (connection.used && exchange.in.empty() && !exchange.retried
            && (idempotent || exchange.sent == 0)) {
            const std::string connection_key = connection.key;
            Exchange again = std::move(exchange);
            connection.exchange.reset();
            close_connection(connection);
            --m_running;
            again.retried = true;
            again.sent = 0;
            Connection* fresh = open_connection(again.target, connection_key, again);
            if (fresh != nullptr) {
                attach(*fresh, std::move(again));
            }
            return;
        }
        finish(connection, why);
    }

    // The answer is complete. The connection is kept for another request when `keep` (the
    // server said so, nothing more came) and it can be: the server has not closed it, and the
    // whole request went (a server may answer early, a 413 say, before the body is read).
    void complete(Connection& connection, bool keep) {
        Exchange& exchange = *connection.exchange;
        keep = keep && !connection.peer_closed && sent_all(exchange);
        HttpCompletion done{.tag = exchange.tag, .request = std::move(exchange.request)};
        done.response = std::move(exchange.answer.response);
        done.response->elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - exchange.started);
        m_done.push_back(std::move(done));
        connection.exchange.reset();
        --m_running;
        if (keep) {
            connection.used = true;
            watch(connection);
            m_idle[connection.key].push_back(&connection);
        } else {
            close_connection(connection);
        }
    }

    // Ends the exchange on `connection` without an answer, and the connection with it.
    void finish(Connection& connection, const std::string& why) {
        Exchange& exchange = *connection.exchange;
        fail_now(exchange, why);
        connection.exchange.reset();
        --m_running;
        close_connection(connection);
    }

    void fail_now(Exchange& exchange, const std::string& why) {
        HttpCompletion done{.tag = exchange.tag, .request = std::move(exchange.request)};
        done.error =
            fmt::format("{} {}: {}", done.request.method, redact_url(done.request.url), why);
        done.unsent = exchange.sent == 0 && !exchange.retried;
        m_done.push_back(std::move(done));
    }

    void expire(Clock::time_point now, std::vector<HttpCompletion>& finished) {
        std::vector<Connection*> late;
        for (const auto& [fd, connection] : m_connections) {
            if (connection->exchange && connection->exchange->deadline <= now) {
                late.push_back(connection.get());
            }
        }
        for (Connection* connection : late) {
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                now - connection->exchange->started);
            finish(*connection,
                   fmt::format("{} timed out after {} milliseconds",
                               connection->connecting ? "Connection" : "Operation",
                               waited.count()));
        }
        std::move(m_done.begin(), m_done.end(), std::back_inserter(finished));
        m_done.clear();
    }

    void close_connection(Connection& connection) {
        auto& idle = m_idle[connection.key];
        idle.erase(std::remove(idle.begin(), idle.end(), &connection), idle.end());
        epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, connection.fd->get(), nullptr);
        m_connections.erase(connection.fd->get()); // closes it
    }

    FileDescriptor m_epoll{epoll_create1(EPOLL_CLOEXEC)};
    std::array<char, k_read_size> m_scratch{}; // each read's bytes, before they are kept
    std::unordered_map<int, std::unique_ptr<Connection>> m_connections; // by socket
    std::unordered_map<std::string, std::vector<Connection*>> m_idle;   // kept, by host:port
    std::vector<HttpCompletion> m_done; // finished, not yet returned
    std::size_t m_running = 0;          // exchanges of its own in flight
    std::unique_ptr<ConcurrentHttpClient> m_fallback;
    std::size_t m_fallback_running = 0;
    bool m_proxied;
};

} // namespace

std::unique_ptr<ConcurrentHttpClient>
make_plain_concurrent_http_client(std::unique_ptr<ConcurrentHttpClient> fallback, bool proxied) {
    return std::make_unique<PlainConcurrentHttpClient>(std::move(fallback), proxied);
}

} // namespace crcr
