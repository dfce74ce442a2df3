#include "test_server.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace crcr::test {

namespace {

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::optional<std::string> find_header(const HttpHeaders& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && strncasecmp(key.c_str(), name.data(), name.size()) == 0) {
            return value;
        }
    }
    return std::nullopt;
}

int bind_loopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("test server: socket failed");
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        ::close(fd);
        throw std::runtime_error("test server: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return fd;
}

} // namespace

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
    return find_header(headers, name);
}

TestServer::TestServer(Handler handler) : m_handler(std::move(handler)) {
    m_listen_fd = bind_loopback(m_port);
    if (::pipe2(m_wake_pipe, O_CLOEXEC) != 0) {
        ::close(m_listen_fd);
        throw std::runtime_error("test server: pipe failed");
    }
    m_acceptor = std::thread([this] { accept_loop(); });
}

TestServer::TestServer(std::vector<Reply> script)
    : TestServer([replies = std::make_shared<std::vector<Reply>>(std::move(script)),
                  next = std::make_shared<std::size_t>(0),
                  mutex = std::make_shared<std::mutex>()](const RecordedRequest&) {
          const std::lock_guard lock(*mutex);
          if (*next >= replies->size()) {
              return Reply{.status = 599, .reason = "Unscripted", .body = "unscripted request"};
          }
          return (*replies)[(*next)++];
      }) {}

TestServer::~TestServer() {
    m_stopping = true;
    m_stop_cv.notify_all();
    const char byte = 'x';
    // Best effort (a full pipe is already a wake-up); _FORTIFY_SOURCE wants the result looked at.
    [[maybe_unused]] const ssize_t written = ::write(m_wake_pipe[1], &byte, 1);
    m_acceptor.join();
    {
        const std::lock_guard lock(m_mutex);
        for (const int fd : m_open_fds) {
            ::shutdown(fd, SHUT_RDWR);
        }
    }
    for (std::thread& worker : m_workers) {
        worker.join();
    }
    ::close(m_listen_fd);
    ::close(m_wake_pipe[0]);
    ::close(m_wake_pipe[1]);
}

std::string TestServer::url(std::string_view path) const {
    return fmt::format("http://127.0.0.1:{}{}", m_port, path);
}

std::vector<RecordedRequest> TestServer::requests() const {
    const std::lock_guard lock(m_mutex);
    return m_requests;
}

void TestServer::accept_loop() {
    while (!m_stopping) {
        pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_wake_pipe[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN) != 0) {
            continue;
        }
        const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ++m_connections;
        const std::lock_guard lock(m_mutex);
        m_open_fds.push_back(fd);
        m_workers.emplace_back([this, fd] { serve(fd); });
    }
}

bool TestServer::wait_or_stop(std::chrono::milliseconds delay) {
    std::unique_lock lock(m_mutex);
    return !m_stop_cv.wait_for(lock, delay, [this] { return m_stopping.load(); });
}

void TestServer::serve(int fd) {
    std::string buffer;
    char chunk[16384];
    const auto read_more = [&]() {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    };
    bool keep_alive = true;
    while (keep_alive && !m_stopping) {
        std::size_t header_end = 0;
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!read_more()) {
                keep_alive = false;
                break;
            }
        }
        if (!keep_alive) {
            break;
        }
        RecordedRequest request;
        const std::string head = buffer.substr(0, header_end);
        buffer.erase(0, header_end + 4);
        std::size_t line_end = head.find("\r\n");
        const std::string request_line = head.substr(0, line_end);
        const std::size_t sp1 = request_line.find(' ');
        const std::size_t sp2 = request_line.find(' ', sp1 + 1);
        request.method = request_line.substr(0, sp1);
        request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        while (line_end != std::string::npos) {
            const std::size_t start = line_end + 2;
            line_end = head.find("\r\n", start);
            const std::string line = head.substr(
                start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const std::size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string value = line.substr(colon + 1);
                value.erase(0, value.find_first_not_of(' '));
                request.headers.emplace_back(line.substr(0, colon), value);
            }
        }
        if (find_header(request.headers, "Expect").value_or("") == "100-continue") {
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
        }
        const std::size_t length =
            std::stoul(find_header(request.headers, "Content-Length").value_or("0"));
        while (buffer.size() < length) {
            if (!read_more()) {
                break;
            }
        }
        request.body = buffer.substr(0, length);
        buffer.erase(0, std::min(length, buffer.size()));
        keep_alive = find_header(request.headers, "Connection").value_or("") != "close";
        {
            const std::lock_guard lock(m_mutex);
            m_requests.push_back(request);
        }
        const Reply reply = m_handler(request);
        if (reply.delay.count() > 0 && !wait_or_stop(reply.delay)) {
            break;
        }
        if (reply.action == Reply::Action::close_silently) {
            break;
        }
        if (reply.action == Reply::Action::malformed) {
            send_all(fd, "this is not HTTP\r\n\r\n");
            break;
        }
        std::string response = fmt::format("HTTP/1.1 {} {}\r\n", reply.status, reply.reason);
        for (const auto& [name, value] : reply.headers) {
            response += fmt::format("{}: {}\r\n", name, value);
        }
        response += fmt::format("Content-Length: {}\r\n", reply.body.size());
        if (!keep_alive) {
            response += "Connection: close\r\n";
        }
        response += "\r\n";
        if (reply.action == Reply::Action::reset_mid_body) {
            response += reply.body.substr(0, reply.body.size() / 2);
            send_all(fd, response);
            const linger reset{1, 0}; // close with RST instead of FIN
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
            break;
        }
        if (request.method != "HEAD") {
            response += reply.body;
        }
        if (!send_all(fd, response) || reply.action == Reply::Action::close_after) {
            break;
        }
    }
    const std::lock_guard lock(m_mutex);
    m_open_fds.erase(std::remove(m_open_fds.begin(), m_open_fds.end(), fd), m_open_fds.end());
    ::close(fd);
}

std::string refused_url() {
    // Bind an ephemeral port and close it without listening: connecting there is refused.
    int port = 0;
    const int fd = bind_loopback(port);
    ::close(fd);
    return fmt::format("http://127.0.0.1:{}/", port);
}

} // namespace crcr::test
