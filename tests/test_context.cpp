#include "crcr/context.hpp"

#include <doctest/doctest.h>

TEST_CASE("Environment") {
    const crcr::Environment env(crcr::Environment::Variables{{"A", "1"}, {"EMPTY", ""}});
    CHECK(env.get("A") == "1");
    CHECK(env.get("EMPTY") == "");
    CHECK_FALSE(env.get("B"));
    CHECK(crcr::Environment::from_process().get("PATH").has_value());
}

TEST_CASE("use_color") {
    CHECK(crcr::use_color(true, crcr::Environment()));
    CHECK_FALSE(crcr::use_color(false, crcr::Environment()));
    // no-color.org: NO_COLOR counts when it is set and not empty.
    CHECK(crcr::use_color(true, crcr::Environment(crcr::Environment::Variables{{"NO_COLOR", ""}})));
    CHECK_FALSE(
        crcr::use_color(true, crcr::Environment(crcr::Environment::Variables{{"NO_COLOR", "1"}})));
    CHECK_FALSE(
        crcr::use_color(true, crcr::Environment(crcr::Environment::Variables{{"TERM", "dumb"}})));
}

TEST_CASE("proxy_configured: the variables libcurl reads for http://") {
    struct Case {
        crcr::Environment::Variables vars;
        bool want;
    };
    const Case cases[] = {
        {{}, false},
        {{{"http_proxy", "http://proxy:3128"}}, true},
        {{{"HTTP_PROXY", "http://proxy:3128"}}, true},
        {{{"all_proxy", "socks5://proxy"}}, true},
        {{{"ALL_PROXY", "socks5://proxy"}}, true},
        {{{"http_proxy", ""}}, false},                   // set but empty: none
        {{{"https_proxy", "http://proxy:3128"}}, false}, // not for http://
        {{{"no_proxy", "*"}}, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.vars.size());
        CHECK(crcr::proxy_configured(crcr::Environment(c.vars)) == c.want);
    }
}

TEST_CASE("tls_trust: the variables curl reads for https://") {
    struct Case {
        crcr::Environment::Variables vars;
        crcr::TlsTrust want;
    };
    const Case cases[] = {
        {{}, {}},
        {{{"SSL_CERT_FILE", "ca.pem"}}, {.ca_file = "ca.pem", .ca_file_source = "SSL_CERT_FILE"}},
        {{{"SSL_CERT_DIR", "certs"}}, {.ca_dir = "certs"}},
        {{{"SSL_CERT_FILE", "ca.pem"}, {"SSL_CERT_DIR", "certs"}},
         {.ca_file = "ca.pem", .ca_file_source = "SSL_CERT_FILE", .ca_dir = "certs"}},
        {{{"CURL_CA_BUNDLE", "b.pem"}, {"SSL_CERT_FILE", "ca.pem"}, {"SSL_CERT_DIR", "certs"}},
         {.ca_file = "b.pem", .ca_file_source = "CURL_CA_BUNDLE"}}, // as curl: the bundle alone
        {{{"SSL_CERT_FILE", ""}, {"CURL_CA_BUNDLE", ""}}, {}},      // empty: unset
    };
    for (const Case& c : cases) {
        CAPTURE(c.vars.size());
        CHECK(crcr::tls_trust(crcr::Environment(c.vars)) == c.want);
    }
}
