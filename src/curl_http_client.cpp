// The only file that includes libcurl. libcurl is loaded with dlopen the first time a request is
// sent, not linked: its dependency tree (OpenSSL, GnuTLS, Kerberos, LDAP, ...) costs about 20 ms
// of start-up on every run, which commands that never touch the network (validate-allowlist,
// gen-workflow, simulate without --send) should not pay.
#include "crcr/error.hpp"
#include "crcr/http.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <dlfcn.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

namespace crcr {

namespace {

// The libcurl functions crcr uses, looked up in the shared library.
struct CurlApi {
    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&curl_easy_reset) easy_reset = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_perform) easy_perform = nullptr;
    decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
    decltype(&curl_slist_append) slist_append = nullptr;
    decltype(&curl_slist_free_all) slist_free_all = nullptr;
};

template<typename Function> void bind(void* library, const char* name, Function& target) {
    void* symbol = dlsym(library, name);
    if (symbol == nullptr) {
        throw Error(fmt::format("cannot use libcurl: '{}' is missing from libcurl.so.4", name));
    }
    target = reinterpret_cast<Function>(symbol); // NOLINT: dlsym returns void*
}

// libcurl, loaded and initialised once per process. Throws `crcr::Error` when it is missing.
const CurlApi& curl_api() {
    static CurlApi api;
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
        void* library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (library == nullptr) {
            failure = fmt::format("cannot load libcurl: {}; install Debian's libcurl4 package",
                                  dlerror());
            return;
        }
        try {
            bind(library, "curl_global_init", api.global_init);
            bind(library, "curl_easy_init", api.easy_init);
            bind(library, "curl_easy_cleanup", api.easy_cleanup);
            bind(library, "curl_easy_reset", api.easy_reset);
            bind(library, "curl_easy_setopt", api.easy_setopt);
            bind(library, "curl_easy_perform", api.easy_perform);
            bind(library, "curl_easy_getinfo", api.easy_getinfo);
            bind(library, "curl_easy_strerror", api.easy_strerror);
            bind(library, "curl_slist_append", api.slist_append);
            bind(library, "curl_slist_free_all", api.slist_free_all);
        } catch (const Error& e) {
            failure = e.what();
            return;
        }
        if (const CURLcode code = api.global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
            failure = fmt::format("cannot initialise libcurl: {}", api.easy_strerror(code));
        }
    });
    if (!failure.empty()) {
        throw Error(failure, ExitCode::unavailable);
    }
    return api;
}

struct EasyCleanup {
    void operator()(CURL* curl) const { curl_api().easy_cleanup(curl); }
};
struct SlistCleanup {
    void operator()(curl_slist* list) const { curl_api().slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, EasyCleanup>;
using CurlHeaders = std::unique_ptr<curl_slist, SlistCleanup>;

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
        exchange->response.reason = second_space == std::string_view::npos
                                        ? ""
                                        : std::string(line.substr(second_space + 1));
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
    HttpResponse send(const HttpRequest& request) override {
        const CurlApi& api = curl_api();
        if (!m_curl) {
            m_curl.reset(api.easy_init());
            if (!m_curl) {
                throw Error("cannot start libcurl", ExitCode::unavailable);
            }
        }
        CURL* curl = m_curl.get();
        api.easy_reset(curl); // keeps the connection cache, so connections are reused
        Exchange exchange;
        CurlHeaders headers;
        const auto add_header = [&headers, &api](const std::string& line) {
            curl_slist* next = api.slist_append(headers.get(), line.c_str());
            if (next == nullptr) {
                throw Error("out of memory building HTTP headers");
            }
            static_cast<void>(headers.release());
            headers.reset(next);
        };
        for (const auto& [name, value] : request.headers) {
            add_header(value.empty() ? fmt::format("{};", name)
                                     : fmt::format("{}: {}", name, value));
        }
        if (!has_header(request.headers, "User-Agent")) {
            add_header(fmt::format("User-Agent: {}", user_agent()));
        }
        add_header("Expect:"); // no 100-continue round trip before bodies

        std::array<char, CURL_ERROR_SIZE> error_text{};
        api.easy_setopt(curl, CURLOPT_URL, request.url.c_str());
        api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        api.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        api.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        api.easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
        api.easy_setopt(
            curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
        api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
        api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
        api.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text.data());
        api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
        api.easy_setopt(curl, CURLOPT_WRITEDATA, &exchange);
        api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
        api.easy_setopt(curl, CURLOPT_HEADERDATA, &exchange);
        if (request.method == "GET") {
            api.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (request.method == "HEAD") {
            api.easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else {
            api.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
            api.easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
            api.easy_setopt(
                curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        }

        const CURLcode code = api.easy_perform(curl);
        if (code != CURLE_OK) {
            const std::string why = exchange.too_large
                                        ? fmt::format("response larger than {} bytes", k_max_body)
                                    : error_text[0] != '\0' ? std::string(error_text.data())
                                                            : std::string(api.easy_strerror(code));
            throw Error(fmt::format("{} {}: {}", request.method, redact_url(request.url), why),
                        ExitCode::unavailable);
        }
        long status = 0;
        api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_off_t elapsed_us = 0;
        api.easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &elapsed_us);
        exchange.response.status = static_cast<int>(status);
        exchange.response.elapsed = std::chrono::microseconds(elapsed_us);
        return std::move(exchange.response);
    }

private:
    CurlHandle m_curl;
};

} // namespace

std::unique_ptr<HttpClient> make_curl_http_client() {
    return std::make_unique<CurlHttpClient>();
}

} // namespace crcr
