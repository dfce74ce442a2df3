#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
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
// `ExitCode::unavailable` when no complete response arrives (refused, reset, timeout, a TLS
// handshake cut short, a malformed answer); with `ExitCode::auth` when the server's TLS
// certificate is not trusted (trying again will not help: `tls_trust_hint` says what will);
// with `ExitCode::failure`, sending nothing, when a header cannot be sent (`header_problem`).
// Error statuses such as 404 or 500 are returned, not thrown: callers decide what they mean.
class HttpClient {
public:
    virtual ~HttpClient() = default;
    virtual HttpResponse send(const HttpRequest& request) = 0;
};

// One exchange finished by a `ConcurrentHttpClient`.
struct HttpCompletion {
    std::uint64_t tag = 0; // as given to `start`
    HttpRequest request;   // handed back, to send again (a retry) without a copy
    std::optional<HttpResponse> response;
    std::string error; // without a response: what `HttpClient::send` would throw
    // Without a response: true when not a byte of the request went out (the name not resolved,
    // the connection refused or not made in time), so the server cannot have acted on it.
    bool unsent = false;
};

// The concurrent HTTP port: many requests in flight at once, on connections kept alive and
// reused, driven by the caller's loop on one thread. `start` hands over a request; `wait` sends
// and receives until some have finished. Error statuses are returned, as by `HttpClient::send`;
// no complete response is a completion with an `error`. Throws `crcr::Error` only when it cannot
// send at all: libcurl missing, a header that cannot be sent (from `start`), a server whose TLS
// certificate is not trusted (from `wait`, as `HttpClient::send` throws it).
class ConcurrentHttpClient {
public:
    virtual ~ConcurrentHttpClient() = default;
    // Starts sending `request` and returns at once; its completion carries `tag`.
    virtual void start(std::uint64_t tag, HttpRequest request) = 0;
    // Sends and receives until at least one started request has finished or `timeout` has
    // passed, and returns the finished ones (none after a timeout, or when none was started).
    virtual std::vector<HttpCompletion> wait(std::chrono::milliseconds timeout) = 0;
};

// The `User-Agent` every crcr request carries: `crcr/<version>`.
std::string user_agent();

// Why `name: value` cannot be an HTTP/1.1 header line, or nothing when it can: a name that is not
// an RFC 9110 token (empty, or with a space, colon or control character), a value with CR, LF or
// NUL. Such a line would end early, and what follows pass for another header, or for a second
// request on the same connection (header injection, request smuggling). The value is never
// quoted in the answer: it may be a secret.
std::optional<std::string> header_problem(std::string_view name, std::string_view value);

// Throws `crcr::Error` (failure) when any of `headers` has a `header_problem`, naming `subject`
// ("records.jsonl:3") and the header.
void check_headers(const HttpHeaders& headers, std::string_view subject);

// `check_headers` for `request`, named by its method and URL: what every sender calls before a
// byte goes out.
void check_request_headers(const HttpRequest& request);

// The wait the `Retry-After` header of `response` asks for, when it is delay-seconds (digits);
// a number too long to count stands for "longer than any budget" (about 30 years).
std::optional<std::chrono::seconds> retry_after(const HttpResponse& response);

// Which certificate authorities https:// requests trust: the system's, unless the environment
// names others, as curl's command line reads it: `CURL_CA_BUNDLE` (a PEM file), otherwise
// `SSL_CERT_FILE` (a PEM file) and `SSL_CERT_DIR` (a folder hashed by `openssl rehash`).
struct TlsTrust {
    std::string ca_file;        // empty: the system's bundle
    std::string ca_file_source; // the variable that named it: "CURL_CA_BUNDLE", "SSL_CERT_FILE"
    std::string ca_dir;         // empty: the system's

    bool operator==(const TlsTrust&) const = default;
};

// The hint a TLS verification failure carries: how to trust a private CA, or which variable
// named the CA file or folder that did not vouch for the server.
std::string tls_trust_hint(const TlsTrust& trust);

// The libcurl implementation: TLS verification on, HTTP(S) only, no redirects followed,
// `User-Agent: crcr/<version>` unless the request sets one, one connection kept alive for every
// request of a run (dispatch-test: installation, token, dispatch and --watch polls). libcurl
// never sends a request body twice: when a reused connection closes without an answer it resends
// only what has not started sending its body (the body is read through a callback it cannot
// rewind), and a POST (or any method but GET and HEAD) after the connection has been idle for
// 2 s goes on a new one, since servers close idle connections. libcurl is loaded on the first
// request (a missing libcurl is a `crcr::Error` then). One client serves one thread at a time.
// https:// servers are verified against `trust`.
std::unique_ptr<HttpClient> make_curl_http_client(TlsTrust trust = {});

// The libcurl implementation of the concurrent port, with the same behaviour per request except
// that every connection is kept and reused, POSTs included (libcurl sends a webhook again on a
// new connection only when its reused one closed before any of its body went out; otherwise it
// fails, and the caller decides):
// one event loop (a curl multi handle) on the caller's thread, its easy handles kept and reused.
// libcurl is loaded on the first request.
std::unique_ptr<ConcurrentHttpClient> make_curl_concurrent_http_client(TlsTrust trust = {});

// The concurrent port for plain http:// URLs without libcurl, for replay's load: HTTP/1.1 on
// connections kept alive (a kept connection the server closed is seen before anything is
// written to it; a GET, HEAD, PUT, DELETE or OPTIONS is sent again once on a new connection when
// a kept one closes unanswered, a POST never: it may have been acted on), one writev a request,
// the same `User-Agent` and `Accept: */*` defaults, no redirects followed, errors worded as
// libcurl's. Requests it leaves to `fallback` (libcurl's): https, credentials in the URL, and
// every request when `proxied` (a proxy is configured in the environment, which libcurl honours).
std::unique_ptr<ConcurrentHttpClient>
make_plain_concurrent_http_client(std::unique_ptr<ConcurrentHttpClient> fallback, bool proxied);

// `text` as a URL query value: everything but ASCII letters, digits, '-', '_', '.' and '~'
// percent-encoded (RFC 3986's unreserved set).
std::string percent_encode(std::string_view text);

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

// The concurrent port over a plain client, one request at a time: each `wait` sends the oldest
// started request with `client`, however long that takes, and returns its completion. For tests
// with a scripted client.
class SequentialHttpClient final : public ConcurrentHttpClient {
public:
    explicit SequentialHttpClient(HttpClient& client) : m_client(client) {}
    void start(std::uint64_t tag, HttpRequest request) override;
    std::vector<HttpCompletion> wait(std::chrono::milliseconds timeout) override;

private:
    HttpClient& m_client;
    std::deque<std::pair<std::uint64_t, HttpRequest>> m_started;
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

// The same trace for the concurrent port: each exchange is written whole when it finishes,
// holding `trace_mutex`, so the lines of exchanges in flight together (on this client's thread
// or on others sharing the mutex) do not interleave.
class TracingConcurrentHttpClient final : public ConcurrentHttpClient {
public:
    TracingConcurrentHttpClient(std::unique_ptr<ConcurrentHttpClient> inner,
                                std::ostream& trace,
                                std::mutex& trace_mutex)
        : m_inner(std::move(inner)), m_trace(trace), m_trace_mutex(trace_mutex) {}
    void start(std::uint64_t tag, HttpRequest request) override;
    std::vector<HttpCompletion> wait(std::chrono::milliseconds timeout) override;

private:
    std::unique_ptr<ConcurrentHttpClient> m_inner;
    std::ostream& m_trace;
    std::mutex& m_trace_mutex;
};

} // namespace crcr
