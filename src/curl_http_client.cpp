// The only file that includes libcurl.
#include "crcr/error.hpp"
#include "crcr/http.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace crcr {

namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlHeaders = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

constexpr std::size_t k_max_body = 256U << 20U; // a response larger than this is refused

struct Exchange {
    HttpResponse response;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::size_t n = size * count;
    if (exchange->response.body.size() + n > k_max_body) {
        exchange->too_large = true;
        return 0; // makes curl fail with CURLE_WRITE_ERROR
    }
    exchange->response.body.append(data, n);
    return n;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    return text;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::size_t n = size * count;
    const std::string_view line = trim(std::string_view(data, n));
    if (line.starts_with("HTTP/")) {
        // A new status line (after 100 Continue, say): forget what came before.
        exchange->response.headers.clear();
        const std::size_t first_space = line.find(' ');
        const std::size_t second_space = line.find(' ', first_space + 1);
        exchange->response.reason =
            second_space == std::string_view::npos ? "" : std::string(line.substr(second_space + 1));
        return n;
    }
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        exchange->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                                std::string(trim(line.substr(colon + 1))));
    }
    return n;
}

bool has_header(const HttpHeaders& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(), [name](const auto& header) {
        return header.first.size() == name.size()
               && strncasecmp(header.first.c_str(), name.data(), name.size()) == 0;
    });
}

class CurlHttpClient final : public HttpClient {
public:
    CurlHttpClient() : m_curl(curl_easy_init(), &curl_easy_cleanup) {
        if (!m_curl) {
            throw Error("cannot start libcurl");
        }
    }

    HttpResponse send(const HttpRequest& request) override {
        CURL* curl = m_curl.get();
        curl_easy_reset(curl); // keeps the connection cache, so connections are reused
        Exchange exchange;
        CurlHeaders headers(nullptr, &curl_slist_free_all);
        const auto add_header = [&headers](const std::string& line) {
            curl_slist* next = curl_slist_append(headers.get(), line.c_str());
            if (next == nullptr) {
                throw Error("out of memory building HTTP headers");
            }
            static_cast<void>(headers.release());
            headers.reset(next);
        };
        for (const auto& [name, value] : request.headers) {
            add_header(value.empty() ? name + ";" : name + ": " + value);
        }
        if (!has_header(request.headers, "User-Agent")) {
            add_header("User-Agent: " + user_agent());
        }
        add_header("Expect:"); // no 100-continue round trip before bodies

        char error_text[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &exchange);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &exchange);
        if (request.method == "GET") {
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (request.method == "HEAD") {
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        }

        const CURLcode code = curl_easy_perform(curl);
        if (code != CURLE_OK) {
            const std::string why = exchange.too_large
                                        ? fmt::format("response larger than {} bytes", k_max_body)
                                    : error_text[0] != '\0' ? std::string(error_text)
                                                            : std::string(curl_easy_strerror(code));
            throw Error(fmt::format("{} {}: {}", request.method, request.url, why), ExitCode::unavailable);
        }
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_off_t elapsed_us = 0;
        curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &elapsed_us);
        exchange.response.status = static_cast<int>(status);
        exchange.response.elapsed = std::chrono::microseconds(elapsed_us);
        return std::move(exchange.response);
    }

private:
    CurlHandle m_curl;
};

} // namespace

std::unique_ptr<HttpClient> make_curl_http_client() {
    static const CURLcode k_init = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (k_init != CURLE_OK) {
        throw Error(fmt::format("cannot initialise libcurl: {}", curl_easy_strerror(k_init)));
    }
    return std::make_unique<CurlHttpClient>();
}

} // namespace crcr
