#include "crcr/http.hpp"

#include "crcr/error.hpp"
#include "crcr/text.hpp"
#include "crcr/version.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <ostream>

namespace crcr {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return out;
}

// A header's value as traces and --dry-run show it: secrets as `***`, keeping an Authorization
// header's scheme ("Bearer ***") so people can see which kind of credential went.
std::string shown_value(std::string_view name, std::string_view value) {
    if (!is_secret_header(name)) {
        return std::string(value);
    }
    const std::size_t space = value.find(' ');
    if (lowercase(name).ends_with("authorization") && space != std::string_view::npos
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

bool is_secret_header(std::string_view name) {
    const std::string lower = lowercase(name);
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
