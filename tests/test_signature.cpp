#include "crcr/signature.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

// GitHub's documented test vector.
constexpr std::string_view k_secret = "It's a Secret to Everybody";
constexpr std::string_view k_body = "Hello, World!";
constexpr std::string_view k_sha256 =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
constexpr std::string_view k_sha1 = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59";

} // namespace

TEST_CASE("sign_sha256 and sign_sha1 reproduce GitHub's test vector") {
    CHECK(crcr::sign_sha256(k_secret, k_body) == k_sha256);
    CHECK(crcr::sign_sha1(k_secret, k_body) == k_sha1);
    CHECK(crcr::sign_sha256("", "").size() == 7 + 64);
}

TEST_CASE("verify_signature") {
    struct Case {
        std::string name;
        std::string secret;
        std::string body;
        std::string signature;
        crcr::SignatureCheck want;
    };
    std::string upper(k_sha256);
    for (std::size_t i = 7; i < upper.size(); ++i) {
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    }
    const Case cases[] = {
        {"sha256 match",
         std::string(k_secret),
         std::string(k_body),
         std::string(k_sha256),
         crcr::SignatureCheck::match},
        {"sha1 match",
         std::string(k_secret),
         std::string(k_body),
         std::string(k_sha1),
         crcr::SignatureCheck::match},
        {"other body",
         std::string(k_secret),
         "Hello, World!\n",
         std::string(k_sha256),
         crcr::SignatureCheck::mismatch},
        {"other secret",
         "x",
         std::string(k_body),
         std::string(k_sha256),
         crcr::SignatureCheck::mismatch},
        {"uppercase hex, as the relay sees it",
         std::string(k_secret),
         std::string(k_body),
         upper,
         crcr::SignatureCheck::mismatch},
        {"no prefix",
         std::string(k_secret),
         std::string(k_body),
         std::string(k_sha256.substr(7)),
         crcr::SignatureCheck::malformed},
        {"short",
         std::string(k_secret),
         std::string(k_body),
         "sha256=abc",
         crcr::SignatureCheck::malformed},
        {"not hex",
         std::string(k_secret),
         std::string(k_body),
         "sha256=" + std::string(64, 'g'),
         crcr::SignatureCheck::malformed},
        {"empty", std::string(k_secret), std::string(k_body), "", crcr::SignatureCheck::malformed},
        {"md5",
         std::string(k_secret),
         std::string(k_body),
         "md5=" + std::string(32, 'a'),
         crcr::SignatureCheck::malformed},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(crcr::verify_signature(c.secret, c.body, c.signature) == c.want);
    }
}

TEST_CASE("sign_sha256 and sign_sha1: right whatever secret came before, on any thread") {
    // RFC 4231 (case 2) and RFC 2202 (case 2), empty key and message, and GitHub's vector.
    struct Row {
        std::string secret;
        std::string body;
        std::string sha256;
        std::string sha1;
    };
    const std::vector<Row> rows = {
        {"Jefe",
         "what do ya want for nothing?",
         "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {"",
         "",
         "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
         "sha1=fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"},
        {std::string(k_secret), std::string(k_body), std::string(k_sha256), std::string(k_sha1)},
    };
    const auto check_all = [&rows] {
        bool all = true;
        for (int round = 0; round < 3; ++round) {
            for (const Row& row : rows) { // each one switches the key
                all = all && crcr::sign_sha256(row.secret, row.body) == row.sha256
                      && crcr::sign_sha1(row.secret, row.body) == row.sha1
                      && crcr::sign_sha256(row.secret, row.body) == row.sha256; // same key again
            }
        }
        return all;
    };
    CHECK(check_all());
    bool other = false;
    std::thread thread([&] { other = check_all(); });
    thread.join();
    CHECK(other);
}
