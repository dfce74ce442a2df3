#include "fake_github.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/relay_emulator.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace {

std::chrono::system_clock::time_point at_noon() {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
}

std::string jwks_text() {
    const crcr::RsaPrivateKey key(crcr::test::test_rsa_key().private_pem, "test key");
    return nlohmann::json{{"keys", nlohmann::json::array({key.public_jwk("k1")})}}.dump();
}

} // namespace

TEST_CASE("LogWriter") {
    const crcr::LogEntry entry{
        .level = "warning",
        .message = "dispatch failed",
        .fields = {
            {"repo", "o/r"}, {"error", "a \"quoted\" reason"}, {"empty", ""}, {"kv", "a=b"}}};
    SUBCASE("text: time, level, message, fields (quoted when they must be), empty ones left out") {
        std::ostringstream out;
        crcr::LogWriter writer(out, false, at_noon);
        writer(entry);
        writer(crcr::LogEntry{.level = "info", .message = "stopped"});
        CHECK(out.str()
              == "2026-09-21T14:13:20Z warning dispatch failed repo=o/r "
                 "error=\"a \\\"quoted\\\" reason\" kv=\"a=b\"\n"
                 "2026-09-21T14:13:20Z info    stopped\n");
    }
    SUBCASE("json: one object a line") {
        std::ostringstream out;
        crcr::LogWriter writer(out, true, at_noon);
        writer(entry);
        const std::string text = out.str();
        REQUIRE(text.ends_with("\n"));
        CHECK(text.find('\n') == text.size() - 1);
        CHECK(nlohmann::json::parse(text)
              == nlohmann::json{{"time", "2026-09-21T14:13:20Z"},
                                {"level", "warning"},
                                {"message", "dispatch failed"},
                                {"repo", "o/r"},
                                {"error", "a \"quoted\" reason"},
                                {"kv", "a=b"}});
    }
}

TEST_CASE("load_jwks") {
    crcr::test::NoNetworkHttpClient no_network;
    SUBCASE("none: an empty key set") {
        CHECK(crcr::load_jwks("", no_network).size() == 0);
    }
    SUBCASE("from a file") {
        const crcr::test::TempDir dir;
        const std::string path = dir.write("jwks.json", jwks_text());
        const crcr::Jwks jwks = crcr::load_jwks(path, no_network);
        CHECK(jwks.size() == 1);
        CHECK(jwks.find("k1") != nullptr);
        const std::string bad = dir.write("bad.json", "{}");
        CHECK_THROWS_WITH_AS(
            crcr::load_jwks(bad, no_network), doctest::Contains(bad.c_str()), crcr::Error);
    }
    SUBCASE("from a URL, with its answer checked") {
        crcr::test::TestServer server({crcr::test::Reply{.body = jwks_text()},
                                       crcr::test::Reply{.status = 404, .reason = "Not Found"}});
        const std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client();
        CHECK(crcr::load_jwks(server.url("/jwks"), *http).find("k1") != nullptr);
        try {
            crcr::load_jwks(server.url("/jwks"), *http);
            FAIL("a 404 was taken");
        } catch (const crcr::Error& e) {
            CHECK(e.code() == crcr::ExitCode::unavailable);
            CHECK(std::string(e.what())
                  == "--oidc-jwks '" + server.url("/jwks") + "': answered 404");
        }
    }
}
