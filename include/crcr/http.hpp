#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crcr {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One HTTP request. Header names keep the case given; HTTP compares them case-insensitively.
struct HttpRequest {
    std::string method; // "GET", "POST", ...
    std::string url;
    HttpHeaders headers;
    std::string body;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{30'000}; // the whole exchange, connection included

    bool operator==(const HttpRequest&) const = default;
};

// One HTTP response, whatever its status.
struct HttpResponse {
    int status = 0;
    std::string reason; // the status line's text, "OK", "Not Found"; may be empty
    HttpHeaders headers;
    std::string body;
    std::chrono::microseconds elapsed{0}; // from sending the request to the last byte received

    // The value of the first header named `name` (compared case-insensitively), if any.
    std::optional<std::string> header(std::string_view name) const;
};

// The HTTP port. Sends one request and waits for its response. Throws `crcr::Error` with
// `ExitCode::unavailable` when no complete response arrives (refused, reset, timeout, TLS, a
// malformed answer). Error statuses such as 404 or 500 are returned, not thrown: callers decide
// what they mean.
class HttpClient {
public:
    virtual ~HttpClient() = default;
    virtual HttpResponse send(const HttpRequest& request) = 0;
};

// The `User-Agent` every crcr request carries: `crcr/<version>`.
std::string user_agent();

// The libcurl implementation: TLS verification on, HTTP(S) only, no redirects followed,
// `User-Agent: crcr/<version>` unless the request sets one, connections kept alive between
// requests. libcurl is loaded on the first request (a missing libcurl is a `crcr::Error` then).
// One client serves one thread at a time.
std::unique_ptr<HttpClient> make_curl_http_client();

// True when a header named `name` carries a credential (Authorization, cookies, signatures,
// anything named like a token or secret), so traces print its value as `***`.
bool is_secret_header(std::string_view name);

// `url` with any user:password@ part printed as ***@, for traces and error messages.
std::string redact_url(std::string_view url);

// `request` for people (--dry-run): "METHOD URL", each header (secrets as `***`), a blank line and
// the body, if any, ending with a newline.
std::string format_request(const HttpRequest& request);

// A client for --dry-run: prints every request (`format_request`) to `out` and, instead of
// sending it, answers with `answer(request)`, so a command runs its whole sequence of requests
// and shows each one.
class DryRunHttpClient final : public HttpClient {
public:
    using Answer = std::function<HttpResponse(const HttpRequest&)>;
    DryRunHttpClient(std::ostream& out, Answer answer) : m_out(out), m_answer(std::move(answer)) {}
    HttpResponse send(const HttpRequest& request) override;

private:
    std::ostream& m_out;
    Answer m_answer;
};

// Wraps another client and writes a `--verbose` trace of every exchange to `trace`: the method
// and URL, each header (secrets as `***`), the status with the time taken, or the error.
// Bodies are not traced: they may carry tokens.
class TracingHttpClient final : public HttpClient {
public:
    TracingHttpClient(HttpClient& inner, std::ostream& trace) : m_inner(inner), m_trace(trace) {}
    HttpResponse send(const HttpRequest& request) override;

private:
    HttpClient& m_inner;
    std::ostream& m_trace;
};

} // namespace crcr
