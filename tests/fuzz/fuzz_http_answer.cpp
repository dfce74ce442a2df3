// The plain HTTP client's answer parser (replay's http:// sender): a server on 127.0.0.1 answers
// each request with the input's bytes, then closes; the client must end with a response or an
// error, within the request's timeout, whatever the bytes are.
#include "crcr/http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace {

class AnswerServer {
public:
    AnswerServer() {
        m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (m_listener < 0 || ::bind(m_listener, reinterpret_cast<sockaddr*>(&address), length) != 0
            || ::listen(m_listener, 16) != 0
            || ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            __builtin_trap();
        }
        m_port = ntohs(address.sin_port);
        std::thread([this] { serve(); }).detach();
    }

    int port() const { return m_port; }

    void set_answer(std::string answer) {
        const std::lock_guard lock(m_mutex);
        m_answer = std::move(answer);
    }

private:
    void serve() {
        for (;;) {
            const int fd = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            // The request's head (a GET: no body), all of it, so closing sends no reset.
            std::string request;
            char buffer[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const auto n = ::read(fd, buffer, sizeof buffer);
                if (n <= 0)
                    break;
                request.append(buffer, static_cast<std::size_t>(n));
            }
            std::string answer;
            {
                const std::lock_guard lock(m_mutex);
                answer = m_answer;
            }
            std::size_t sent = 0;
            while (sent < answer.size()) {
                const auto n = ::send(fd, answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                sent += static_cast<std::size_t>(n);
            }
            ::shutdown(fd, SHUT_WR);
            while (::read(fd, buffer, sizeof buffer) > 0) {
            }
            ::close(fd);
        }
    }

    int m_listener = -1;
    int m_port = 0;
    std::mutex m_mutex;
    std::string m_answer;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static AnswerServer server;
    static const auto client =
        crcr::make_plain_concurrent_http_client(crcr::make_curl_concurrent_http_client(), false);
    server.set_answer(std::string(reinterpret_cast<const char*>(data), size));
    crcr::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    request.timeout = std::chrono::milliseconds(2000);
    client->start(1, std::move(request));
    for (;;) {
        const auto done = client->wait(std::chrono::milliseconds(5000));
        if (done.empty())
            __builtin_trap(); // the request's own timeout did not end it
        const auto& completion = done.front();
        if (completion.response.has_value() == !completion.error.empty())
            __builtin_trap();
        break;
    }
    return 0;
}
