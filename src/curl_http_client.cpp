// The only file that includes libcurl. libcurl is loaded with dlopen the first time a request is
// sent, not linked: its dependency tree (OpenSSL, GnuTLS, Kerberos, LDAP, ...) costs about 20 ms
// of start-up on every run, which commands that never touch the network (validate-allowlist,
// gen-workflow, simulate without --send) should not pay.
#include "crcr/error.hpp"
#include "crcr/http.hpp"
#include "crcr/shared_library.hpp"
#include "crcr/text.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <strings.h>

#include <algorithm>
#include <array>
#include <chrono>
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
    decltype(&curl_multi_init) multi_init = nullptr;
    decltype(&curl_multi_cleanup) multi_cleanup = nullptr;
    decltype(&curl_multi_add_handle) multi_add_handle = nullptr;
    decltype(&curl_multi_remove_handle) multi_remove_handle = nullptr;
    decltype(&curl_multi_perform) multi_perform = nullptr;
    decltype(&curl_multi_poll) multi_poll = nullptr;
    decltype(&curl_multi_info_read) multi_info_read = nullptr;
    decltype(&curl_multi_strerror) multi_strerror = nullptr;
    decltype(&curl_multi_setopt) multi_setopt = nullptr;
};

// libcurl, loaded and initialised once per process. Throws `crcr::Error` when it is missing.
const CurlApi& curl_api() {
    static CurlApi api;
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            const SharedLibrary library("libcurl.so.4", "libcurl", "libcurl4");
            library.bind("curl_global_init", api.global_init);
            library.bind("curl_easy_init", api.easy_init);
            library.bind("curl_easy_cleanup", api.easy_cleanup);
            library.bind("curl_easy_reset", api.easy_reset);
            library.bind("curl_easy_setopt", api.easy_setopt);
            library.bind("curl_easy_perform", api.easy_perform);
            library.bind("curl_easy_getinfo", api.easy_getinfo);
            library.bind("curl_easy_strerror", api.easy_strerror);
            library.bind("curl_slist_append", api.slist_append);
            library.bind("curl_slist_free_all", api.slist_free_all);
            library.bind("curl_multi_init", api.multi_init);
            library.bind("curl_multi_cleanup", api.multi_cleanup);
            library.bind("curl_multi_add_handle", api.multi_add_handle);
            library.bind("curl_multi_remove_handle", api.multi_remove_handle);
            library.bind("curl_multi_perform", api.multi_perform);
            library.bind("curl_multi_poll", api.multi_poll);
            library.bind("curl_multi_info_read", api.multi_info_read);
            library.bind("curl_multi_strerror", api.multi_strerror);
            library.bind("curl_multi_setopt", api.multi_setopt);
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
struct MultiCleanup {
    void operator()(CURLM* multi) const { curl_api().multi_cleanup(multi); }
};
using CurlHandle = std::unique_ptr<CURL, EasyCleanup>;
using CurlHeaders = std::unique_ptr<curl_slist, SlistCleanup>;
using CurlMulti = std::unique_ptr<CURLM, MultiCleanup>;

constexpr std::size_t k_max_body = 256U << 20U; // a response larger than this is refused

// What libcurl reads (the header list) and writes (the response, the error text) while a
// request runs.
struct Exchange {
    CurlHeaders headers;
    HttpResponse response;
    std::array<char, CURL_ERROR_SIZE> error_text{};
    std::string_view upload; // the request's body, handed to libcurl by `on_upload`
    std::size_t uploaded = 0;
    bool too_large = false;
    bool answered = false; // a status line came
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

// Hands libcurl the request's body. There is deliberately no seek callback: libcurl sends a
// request again on a new connection when a reused one closes without a byte of answer
// ("Connection died, retrying a fresh connect"), and to send a body again it must rewind it,
// which without a seek callback fails (CURLE_SEND_FAIL_REWIND) once any of it was read. So a
// body that may have reached the server is never sent twice behind crcr's back; a request that
// died before its body was read is still retried, which is safe.
std::size_t on_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::size_t n = std::min(size * count, exchange->upload.size() - exchange->uploaded);
    std::memcpy(buffer, exchange->upload.data() + exchange->uploaded, n);
    exchange->uploaded += n;
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::size_t n = size * count;
    const std::string_view line = trim_space(std::string_view(data, n));
    if (line.starts_with("HTTP/")) {
        // A new status line (after 100 Continue, say): forget what came before.
        exchange->answered = true;
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
        exchange->response.headers.emplace_back(std::string(trim_space(line.substr(0, colon))),
                                                std::string(trim_space(line.substr(colon + 1))));
    }
    return n;
}

bool has_header(const HttpHeaders& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(), [name](const auto& header) {
        return header.first.size() == name.size()
               && strncasecmp(header.first.c_str(), name.data(), name.size()) == 0;
    });
}

// A new easy handle. Throws `crcr::Error` when libcurl cannot make one.
CurlHandle new_handle(const CurlApi& api) {
    CurlHandle handle(api.easy_init());
    if (!handle) {
        throw Error("cannot start libcurl", ExitCode::unavailable);
    }
    return handle;
}

// The options every request on `curl` has: HTTP(S) only, TLS verified against `trust` (which
// must outlive the handle), no redirects, and the callbacks that fill `exchange` (which must
// outlive the handle's transfers).
void configure(const CurlApi& api, CURL* curl, Exchange& exchange, const TlsTrust& trust) {
    api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    api.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!trust.ca_file.empty()) {
        api.easy_setopt(curl, CURLOPT_CAINFO, trust.ca_file.c_str());
    }
    if (!trust.ca_dir.empty()) {
        api.easy_setopt(curl, CURLOPT_CAPATH, trust.ca_dir.c_str());
    }
    api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(curl, CURLOPT_ERRORBUFFER, exchange.error_text.data());
    api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
    api.easy_setopt(curl, CURLOPT_WRITEDATA, &exchange);
    api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
    api.easy_setopt(curl, CURLOPT_HEADERDATA, &exchange);
}

// `request`'s own options on `curl`, configured for its method: URL, headers (its own, a
// User-Agent, no Expect), timeouts, body. `request` and `exchange` must outlive the transfer.
// `may_reuse`: the transfer may go on a kept connection, so its body must not be rewindable
// (`on_upload`); on a new connection libcurl never resends, and takes the body whole.
void set_request(const CurlApi& api,
                 CURL* curl,
                 const HttpRequest& request,
                 Exchange& exchange,
                 bool may_reuse) {
    check_request_headers(request);
    std::string line; // each header line, its memory reused
    const auto add_line = [&] {
        curl_slist* next = api.slist_append(exchange.headers.get(), line.c_str());
        if (next == nullptr) {
            throw Error("out of memory building HTTP headers");
        }
        static_cast<void>(exchange.headers.release());
        exchange.headers.reset(next);
    };
    const auto add_header = [&](std::string_view name, std::string_view value) {
        line.assign(name);
        line += value.empty() ? ";" : ": "; // "Name;" sends a header with an empty value
        line += value;
        add_line();
    };
    for (const auto& [name, value] : request.headers) {
        add_header(name, value);
    }
    if (!has_header(request.headers, "User-Agent")) {
        add_header("User-Agent", user_agent());
    }
    line = "Expect:"; // "Name:" removes a header libcurl would add: no 100-continue round trip
    add_line();
    api.easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    api.easy_setopt(
        curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
    api.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    api.easy_setopt(curl, CURLOPT_HTTPHEADER, exchange.headers.get());
    if (request.method == "GET") {
        api.easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        api.easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        if (request.method != "POST") { // a body makes it a POST
            api.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        }
        if (may_reuse) {
            // The body from a read callback, not CURLOPT_POSTFIELDS (which libcurl can always
            // rewind): see `on_upload`.
            exchange.upload = request.body;
            exchange.uploaded = 0;
            api.easy_setopt(curl, CURLOPT_POST, 1L);
            api.easy_setopt(curl, CURLOPT_READFUNCTION, &on_upload);
            api.easy_setopt(curl, CURLOPT_READDATA, &exchange);
        } else {
            api.easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        }
        api.easy_setopt(
            curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
}

// Why the transfer of `request` ended with `code`, for messages: "POST http://...: reason".
std::string failure_of(const CurlApi& api,
                       const HttpRequest& request,
                       const Exchange& exchange,
                       CURLcode code) {
    // libcurl refuses a header line over 100 KB as "Out of memory", without a word of its own.
    const bool header_too_large = exchange.answered && code == CURLE_OUT_OF_MEMORY;
    const std::string why =
        exchange.too_large ? fmt::format("response larger than {} bytes", k_max_body)
        // libcurl would send it again on a new connection, and cannot (`on_upload`).
        : code == CURLE_SEND_FAIL_REWIND
            ? "the connection closed after the request was sent, without an answer (not sent "
              "again: the server may have acted on it)"
        : header_too_large ? "the answer has a header line over 100 KB, more than libcurl reads: "
                             "not an answer crcr can use; check that the URL is the right server"
        : exchange.error_text[0] != '\0' ? std::string(exchange.error_text.data())
                                         : std::string(api.easy_strerror(code));
    return fmt::format("{} {}: {}", request.method, redact_url(request.url), why);
}

// Throws `crcr::Error` (auth) when `code` says the server's certificate was not verified against
// `trust`: sending again cannot help, and the error says what can.
void throw_if_untrusted(const CurlApi& api,
                        const HttpRequest& request,
                        const Exchange& exchange,
                        CURLcode code,
                        const TlsTrust& trust) {
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
        throw Error(fmt::format("{}: not trusted: {}",
                                failure_of(api, request, exchange, code),
                                tls_trust_hint(trust)),
                    ExitCode::auth);
    }
}

// The response of the transfer that just ended well on `curl`: status and time taken filled in.
HttpResponse response_of(const CurlApi& api, CURL* curl, Exchange& exchange) {
    long status = 0;
    api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t elapsed_us = 0;
    api.easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &elapsed_us);
    exchange.response.status = static_cast<int>(status);
    exchange.response.elapsed = std::chrono::microseconds(elapsed_us);
    return std::move(exchange.response);
}

class CurlHttpClient final : public HttpClient {
public:
    explicit CurlHttpClient(TlsTrust trust) : m_trust(std::move(trust)) {}

    HttpResponse send(const HttpRequest& request) override {
        const CurlApi& api = curl_api();
        Exchange exchange;
        if (!m_curl) {
            m_curl = new_handle(api);
        }
        CURL* curl = m_curl.get();
        api.easy_reset(curl); // keeps the connection cache, so connections are reused
        configure(api, curl, exchange, m_trust);
        // API answers are JSON: take them compressed. (Webhooks replayed by the concurrent
        // client carry no Accept-Encoding, as GitHub sends none.)
        api.easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
        // One connection for every request of a run (dispatch-test: installation, token,
        // dispatch, polls). libcurl never sends a body twice (`on_upload`), but a POST on a
        // connection that a server closes as it arrives fails without an answer; servers close
        // idle connections after some seconds, so a POST after a pause takes a new one.
        const bool safe = request.method == "GET" || request.method == "HEAD";
        const bool fresh =
            !safe && std::chrono::steady_clock::now() - m_last_used > k_reuse_for_unsafe;
        set_request(api, curl, request, exchange, !fresh);
        api.easy_setopt(curl, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
        const CURLcode code = api.easy_perform(curl);
        m_last_used = std::chrono::steady_clock::now();
        if (code != CURLE_OK) {
            throw_if_untrusted(api, request, exchange, code, m_trust);
            throw Error(failure_of(api, request, exchange, code), ExitCode::unavailable);
        }
        return response_of(api, curl, exchange);
    }

private:
    // How long a kept connection may have been idle for a POST (or any request not safe to
    // repeat) to go on it.
    static constexpr std::chrono::seconds k_reuse_for_unsafe{2};

    TlsTrust m_trust;
    CurlHandle m_curl;
    std::chrono::steady_clock::time_point m_last_used; // of the last transfer; none: long ago
};

// One curl multi handle drives every transfer. A finished transfer's easy handle goes back to
// the idle list and is reused, and the multi handle keeps the connections alive between them.
class CurlConcurrentHttpClient final : public ConcurrentHttpClient {
public:
    explicit CurlConcurrentHttpClient(TlsTrust trust) : m_trust(std::move(trust)) {}
    CurlConcurrentHttpClient(const CurlConcurrentHttpClient&) = delete;
    CurlConcurrentHttpClient& operator=(const CurlConcurrentHttpClient&) = delete;
    ~CurlConcurrentHttpClient() override {
        // libcurl's order: easy handles out of the multi handle, then the easy handles, then it.
        for (const std::unique_ptr<Transfer>& transfer : m_transfers) {
            if (transfer->running) {
                curl_api().multi_remove_handle(m_multi.get(), transfer->curl.get());
            }
        }
    }

    void start(std::uint64_t tag, HttpRequest request) override {
        const CurlApi& api = curl_api();
        if (!m_multi) {
            m_multi.reset(api.multi_init());
            if (!m_multi) {
                throw Error("cannot start libcurl", ExitCode::unavailable);
            }
        }
        if (m_idle.empty()) {
            m_transfers.push_back(std::make_unique<Transfer>());
            m_idle.push_back(m_transfers.back().get());
            // A connection for each transfer that ran at once: libcurl's default limit follows
            // the transfers running now, and would close connections as they finish together.
            check(api.multi_setopt(
                m_multi.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(m_transfers.size())));
        }
        Transfer& transfer = *m_idle.back();
        transfer.tag = tag;
        transfer.request = std::move(request);
        transfer.exchange = Exchange();
        if (!transfer.curl) {
            transfer.curl = new_handle(api);
        }
        CURL* curl = transfer.curl.get();
        // A handle keeps its options from one request to the next: only another method, whose
        // options differ, needs them set from the start.
        if (transfer.method != transfer.request.method) {
            api.easy_reset(curl);
            configure(api, curl, transfer.exchange, m_trust);
            transfer.method = transfer.request.method;
        }
        set_request(api, curl, transfer.request, transfer.exchange, true);
        check(api.multi_add_handle(m_multi.get(), curl));
        m_idle.pop_back();
        transfer.running = true;
        ++m_running;
    }

    std::vector<HttpCompletion> wait(std::chrono::milliseconds timeout) override {
        std::vector<HttpCompletion> finished;
        if (m_running == 0) {
            return finished;
        }
        const CurlApi& api = curl_api();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            int still_running = 0;
            check(api.multi_perform(m_multi.get(), &still_running));
            collect(api, finished);
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (!finished.empty() || left.count() <= 0) {
                return finished;
            }
            check(
                api.multi_poll(m_multi.get(), nullptr, 0, static_cast<int>(left.count()), nullptr));
        }
    }

private:
    struct Transfer {
        CurlHandle curl;
        std::string method; // of the options set on `curl`; empty before any
        HttpRequest request;
        Exchange exchange;
        std::uint64_t tag = 0;
        bool running = false;
    };

    static void check(CURLMcode code) {
        if (code != CURLM_OK) {
            throw Error(fmt::format("libcurl: {}", curl_api().multi_strerror(code)),
                        ExitCode::unavailable);
        }
    }

    // Moves the transfers that have ended to `finished`, and their easy handles to the idle list.
    void collect(const CurlApi& api, std::vector<HttpCompletion>& finished) {
        int queued = 0;
        while (CURLMsg* message = api.multi_info_read(m_multi.get(), &queued)) {
            if (message->msg != CURLMSG_DONE) {
                continue;
            }
            CURL* curl = message->easy_handle;
            const CURLcode code = message->data.result; // read before the handle is removed
            const auto it =
                std::find_if(m_transfers.begin(), m_transfers.end(), [curl](const auto& transfer) {
                    return transfer->curl.get() == curl;
                });
            Transfer& transfer = **it;
            check(api.multi_remove_handle(m_multi.get(), curl));
            transfer.running = false;
            --m_running;
            m_idle.push_back(&transfer);
            HttpCompletion done{.tag = transfer.tag};
            if (code == CURLE_OK) {
                done.response = response_of(api, curl, transfer.exchange);
            } else {
                throw_if_untrusted(api, transfer.request, transfer.exchange, code, m_trust);
                done.error = failure_of(api, transfer.request, transfer.exchange, code);
                long request_bytes = 0; // of headers sent, however many times libcurl sent them
                api.easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_bytes);
                done.unsent = request_bytes == 0;
            }
            done.request = std::move(transfer.request);
            transfer.exchange.headers.reset();
            finished.push_back(std::move(done));
        }
    }

    TlsTrust m_trust;
    // Declared before the transfers, destroyed after them: their easy handles go before it.
    CurlMulti m_multi;
    std::vector<std::unique_ptr<Transfer>> m_transfers;
    std::vector<Transfer*> m_idle;
    std::size_t m_running = 0;
};

} // namespace

std::unique_ptr<HttpClient> make_curl_http_client(TlsTrust trust) {
    return std::make_unique<CurlHttpClient>(std::move(trust));
}

std::unique_ptr<ConcurrentHttpClient> make_curl_concurrent_http_client(TlsTrust trust) {
    return std::make_unique<CurlConcurrentHttpClient>(std::move(trust));
}

} // namespace crcr
