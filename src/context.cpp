#include "crcr/context.hpp"

#include <unistd.h>

extern char** environ; // NOLINT(readability-identifier-naming): POSIX names it

namespace crcr {

std::optional<std::string> Environment::get(std::string_view name) const {
    const auto it = m_vars.find(name);
    if (it == m_vars.end()) {
        return std::nullopt;
    }
    return it->second;
}

Environment Environment::from_process() {
    Variables vars;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const std::size_t equals = text.find('=');
        if (equals != std::string_view::npos) {
            vars.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
        }
    }
    return Environment(std::move(vars));
}

bool proxy_configured(const Environment& env) {
    for (const char* name : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}) {
        if (const std::optional<std::string> value = env.get(name); value && !value->empty()) {
            return true;
        }
    }
    return false;
}

TlsTrust tls_trust(const Environment& env) {
    const auto set = [&env](std::string_view name) {
        std::optional<std::string> value = env.get(name);
        return value && !value->empty() ? value : std::nullopt;
    };
    TlsTrust trust;
    if (const std::optional<std::string> bundle = set("CURL_CA_BUNDLE")) {
        trust.ca_file = *bundle;
        trust.ca_file_source = "CURL_CA_BUNDLE";
        return trust; // as curl: the bundle alone, SSL_CERT_* not read
    }
    if (const std::optional<std::string> file = set("SSL_CERT_FILE")) {
        trust.ca_file = *file;
        trust.ca_file_source = "SSL_CERT_FILE";
    }
    trust.ca_dir = set("SSL_CERT_DIR").value_or("");
    return trust;
}

bool use_color(bool is_terminal, const Environment& env) {
    return is_terminal && env.get("NO_COLOR").value_or("").empty()
           && env.get("TERM").value_or("") != "dumb";
}

} // namespace crcr
