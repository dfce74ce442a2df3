#include "crcr/http.hpp"

#include "crcr/error.hpp"
#include "crcr/text.hpp"
#include "crcr/version.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ostream>

namespace crcr {

namespace {

// A header's value as traces and --dry-run show it: secrets as `***`, keeping an Authorization
// header's scheme ("Bearer ***") so people can see which kind of credential went.
std::string shown_value(std::string_view name, std::string_view value) {
    if (!is_secret_header(name)) {
        return std::string(value);
    }
    const std::size_t space = value.find(' ');
    if (to_lower_ascii(name).ends_with("authorization") && space != std::string_view::npos
        && space < 16) {
        return fmt::format("{} ***", value.substr(0, space));
    }
    return "***";
}

void trace_request(std::ostream& trace, const HttpRequest& request) {
    fmt::print(trace, "> {} {}\n", request.method, redact_url(request.url));
    for (const auto& [name, value] : request.headers) {
        fmt::print(trace, "> {}: {}\n", name, shown_value(name, value));
    }
    if (!request.body.empty()) {
        fmt::print(trace, "> ({} bytes of body)\n", request.body.size());
    }
}

void trace_response(std::ostream& trace, const HttpResponse& response) {
    fmt::print(trace,
               "< {} {} ({} ms)\n",
               response.status,
               response.reason,
               std::chrono::duration_cast<std::chrono::milliseconds>(response.elapsed).count());
    for (const auto& [name, value] : response.headers) {
        fmt::print(trace, "< {}: {}\n", name, shown_value(name, value));
    }
    fmt::print(trace, "< ({} bytes of body)\n", response.body.size());
}

} // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return std::nullopt;
}

std::string user_agent() {
    return fmt::format("crcr/{}", k_version);
}

std::optional<std::string> header_problem(std::string_view name, std::string_view value) {
    // RFC 9110 section 5.6.2: token = 1*tchar.
    constexpr std::string_view k_tchar_symbols = "!#$%&'*+-.^_`|~";
    if (name.empty()) {
        return "an empty header name";
    }
    for (const char c : name) {
        const bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
                           || (c >= 'A' && c <= 'Z')
                           || k_tchar_symbols.find(c) != std::string_view::npos;
        if (!tchar) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte <= 0x20 || byte >= 0x7F) {
                return fmt::format("a header name with byte 0x{:02X}: not an HTTP token", byte);
            }
            return fmt::format("header name '{}' is not an HTTP token (it has '{}')", name, c);
        }
    }
    if (const std::size_t at = value.find_first_of(std::string_view("\r\n\0", 3));
        at != std::string_view::npos) {
        return fmt::format("header '{}' has a {} in its value (byte {}): it would end the "
                           "header there, and the rest pass for more headers or another request",
                           name,
                           value[at] == '\r'   ? "CR"
                           : value[at] == '\n' ? "LF"
                                               : "NUL",
                           at + 1);
    }
    return std::nullopt;
}

void check_headers(const HttpHeaders& headers, std::string_view subject) {
    for (const auto& [name, value] : headers) {
        if (const std::optional<std::string> problem = header_problem(name, value)) {
            throw Error(fmt::format("{}: not sent: {}", subject, *problem));
        }
    }
}

void check_request_headers(const HttpRequest& request) {
    check_headers(request.headers, fmt::format("{} {}", request.method, redact_url(request.url)));
}

std::optional<std::chrono::seconds> retry_after(const HttpResponse& response) {
    const std::optional<std::string> value = response.header("retry-after");
    if (!value) {
        return std::nullopt;
    }
    const std::string_view digits = trim_space(*value);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt; // an HTTP date, or not a wait
    }
    constexpr long long k_forever = 1'000'000'000; // s, about 30 years
    long long wait = 0;
    for (const char c : digits) {
        wait = std::min(k_forever, wait * 10 + (c - '0'));
    }
    return std::chrono::seconds(wait);
}

std::string tls_trust_hint(const TlsTrust& trust) {
    if (trust.ca_file.empty() && trust.ca_dir.empty()) {
        return "the server's certificate is not signed by a certificate authority this system "
               "trusts; for a private CA, set SSL_CERT_FILE (or CURL_CA_BUNDLE) to its PEM file, "
               "or SSL_CERT_DIR to a folder prepared with 'openssl rehash'";
    }
    std::string from;
    if (!trust.ca_file.empty()) {
        from = fmt::format("{} '{}'", trust.ca_file_source, trust.ca_file);
    }
    if (!trust.ca_dir.empty()) {
        from += fmt::format("{}SSL_CERT_DIR '{}'", from.empty() ? "" : " and ", trust.ca_dir);
    }
    return fmt::format("the server's certificate is not signed by the certificate authorities "
                       "of {}: check that they hold the server's CA (PEM; a folder needs "
                       "'openssl rehash')",
                       from);
}

std::string percent_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.'
            || c == '~') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

bool is_secret_header(std::string_view name) {
    const std::string lower = to_lower_ascii(name);
    constexpr std::array<std::string_view, 4> k_exact = {
        "authorization", "proxy-authorization", "cookie", "set-cookie"};
    if (std::find(k_exact.begin(), k_exact.end(), lower) != k_exact.end()) {
        return true;
    }
    constexpr std::array<std::string_view, 4> k_parts = {"token", "secret", "password", "key"};
    return std::any_of(k_parts.begin(), k_parts.end(), [&lower](std::string_view part) {
        return lower.find(part) != std::string::npos;
    });
}

std::string redact_url(std::string_view url) {
    const std::size_t scheme = url.find("://");
    const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
    const std::size_t end = url.find_first_of("/?#", start);
    const std::size_t at = url.substr(0, end).rfind('@');
    if (at == std::string_view::npos || at < start) {
        return std::string(url);
    }
    return fmt::format("{}***{}", url.substr(0, start), url.substr(at));
}

std::string format_request(const HttpRequest& request) {
    std::string out = fmt::format("{} {}\n", request.method, redact_url(request.url));
    for (const auto& [name, value] : request.headers) {
        out += fmt::format("{}: {}\n", name, shown_value(name, value));
    }
    if (!request.body.empty()) {
        out += fmt::format("\n{}\n", request.body);
    }
    return out;
}

HttpResponse DryRunHttpClient::send(const HttpRequest& request) {
    check_request_headers(request);
    fmt::print(m_out, "{}\n", format_request(request));
    return m_answer(request);
}

void SequentialHttpClient::start(std::uint64_t tag, HttpRequest request) {
    m_started.emplace_back(tag, std::move(request));
}

std::vector<HttpCompletion> SequentialHttpClient::wait(std::chrono::milliseconds /*timeout*/) {
    if (m_started.empty()) {
        return {};
    }
    HttpCompletion done{.tag = m_started.front().first,
                        .request = std::move(m_started.front().second)};
    m_started.pop_front();
    try {
        done.response = m_client.send(done.request);
    } catch (const Error& e) {
        if (e.code() != ExitCode::unavailable) {
            throw;
        }
        done.error = e.what();
    }
    std::vector<HttpCompletion> finished;
    finished.push_back(std::move(done));
    return finished;
}

HttpResponse TracingHttpClient::send(const HttpRequest& request) {
    check_request_headers(request);
    trace_request(m_trace, request);
    try {
        HttpResponse response = m_inner.send(request);
        trace_response(m_trace, response);
        return response;
    } catch (const Error& e) {
        fmt::print(m_trace, "< no response: {}\n", e.what());
        throw;
    }
}

void TracingConcurrentHttpClient::start(std::uint64_t tag, HttpRequest request) {
    m_inner->start(tag, std::move(request));
}

std::vector<HttpCompletion> TracingConcurrentHttpClient::wait(std::chrono::milliseconds timeout) {
    std::vector<HttpCompletion> finished = m_inner->wait(timeout);
    const std::lock_guard lock(m_trace_mutex);
    for (const HttpCompletion& done : finished) {
        trace_request(m_trace, done.request);
        if (done.response) {
            trace_response(m_trace, *done.response);
        } else {
            fmt::print(m_trace, "< no response: {}\n", done.error);
        }
    }
    return finished;
}

} // namespace crcr
