#include "fake_github.hpp"
#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/jwt.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>

using crcr::test::test_rsa_key;

TEST_CASE("base64url_encode and base64url_decode: RFC 4648 vectors, URL alphabet, no padding") {
    struct Case {
        std::string bytes;
        std::string encoded;
    };
    const Case cases[] = {
        {"", ""},
        {"f", "Zg"},
        {"fo", "Zm8"},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy"},
        {"\xfb\xff\xbf", "-_-_"}, // '+' and '/' in plain base64
        {R"({"alg":"RS256","typ":"JWT"})", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.encoded);
        CHECK(crcr::base64url_encode(c.bytes) == c.encoded);
        CHECK(crcr::base64url_decode(c.encoded) == c.bytes);
    }
    CHECK(crcr::base64url_decode("Zg==") == "f");
    CHECK_THROWS_WITH(crcr::base64url_decode("Zm9v+"), "unexpected character at offset 4");
    CHECK_THROWS_WITH(crcr::base64url_decode("Zm9vY"), "truncated at the end");
}

TEST_CASE("make_app_jwt: GitHub's claims, an RS256 signature the public key verifies") {
    const crcr::RsaPrivateKey key(test_rsa_key().private_pem, "test key");
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
    const std::string token = crcr::make_app_jwt(key, "123456", now);
    const crcr::DecodedJwt jwt = crcr::decode_jwt(token);
    CHECK(jwt.header == nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}});
    CHECK(jwt.claims["iat"] == 1'790'000'000 - 60);
    CHECK(jwt.claims["exp"] == 1'790'000'000 + 540); // under GitHub's 10 minutes from now
    CHECK(jwt.claims["iss"] == "123456");
    CHECK(crcr::RsaPublicKey::from_pem(test_rsa_key().public_pem, "test")
              .verify_rs256(jwt.signing_input, jwt.signature));
    CHECK_FALSE(crcr::RsaPublicKey::from_pem(test_rsa_key().public_pem, "test")
                    .verify_rs256(jwt.signing_input + "x", jwt.signature));
}

TEST_CASE("make_app_jwt: the openssl command line verifies the signature (an independent check)") {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
        MESSAGE("openssl not installed: skipped");
        return;
    }
    const crcr::test::TempDir dir;
    const crcr::RsaPrivateKey key(test_rsa_key().private_pem, "test key");
    const crcr::DecodedJwt jwt = crcr::decode_jwt(crcr::make_app_jwt(
        key, "Iv23liExample", std::chrono::system_clock::time_point(std::chrono::seconds(1))));
    const std::string command = "openssl dgst -sha256 -verify "
                                + dir.write("public.pem", test_rsa_key().public_pem)
                                + " -signature " + dir.write("signature", jwt.signature) + " "
                                + dir.write("input", jwt.signing_input) + " >/dev/null 2>&1";
    CHECK(std::system(command.c_str()) == 0);
    dir.write("input", jwt.signing_input + ".");
    CHECK(std::system(command.c_str()) != 0);
}

TEST_CASE("RsaPrivateKey refuses what is not an RSA private key, with exit code 4") {
    struct Case {
        std::string name;
        std::string pem;
        std::string want;
    };
    const Case cases[] = {
        {"not PEM", "hello\n", "'k.pem' is not a PEM private key"},
        {"public key", test_rsa_key().public_pem, "'k.pem' is not a readable PEM private key"},
        {"EC key", crcr::test::test_ec_private_key(), "'k.pem' holds a id-ecPublicKey key"},
        {"encrypted",
         "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
         "'k.pem' is an encrypted private key"},
        {"damaged",
         "-----BEGIN RSA PRIVATE KEY-----\nnot base64 at all\n-----END RSA PRIVATE KEY-----\n",
         "'k.pem' is not a readable PEM private key"},
        {"512 bits",
         crcr::test::rsa_key_of(512).private_pem,
         "'k.pem' is an RSA key of only 512 bits: keys under 2048 bits can be broken, and GitHub "
         "refuses them too; use a longer key"},
        {"2047 bits",
         crcr::test::rsa_key_of(2047).private_pem,
         "'k.pem' is an RSA key of only 2047 bits"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        try {
            crcr::RsaPrivateKey key(c.pem, "k.pem");
            FAIL("accepted");
        } catch (const crcr::Error& e) {
            CHECK(std::string(e.what()).starts_with(c.want));
            CHECK(e.code() == crcr::ExitCode::auth);
        }
    }
}

TEST_CASE("decode_jwt says what is wrong with a token that is not a JWT") {
    struct Case {
        std::string token;
        std::string want;
    };
    const Case cases[] = {
        {"abc", "the token is not a JWT: a JWT is three base64url parts separated by dots"},
        {"a.b.c.d", "the token is not a JWT: a JWT is three base64url parts separated by dots"},
        {"!.e30.", "the token's header is not base64url: unexpected character at offset 0"},
        {"WzFd.e30.", "the token's header is not a JSON object"}, // [1]
        {"e30.bm90IGpzb24.", "the token's claims are not a JSON object"},
        {"e30.e30.*", "the token's signature is not base64url: unexpected character at offset 0"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.token);
        CHECK_THROWS_WITH_AS(crcr::decode_jwt(c.token), c.want.c_str(), crcr::Error);
    }
    CHECK(crcr::decode_jwt("e30.eyJhIjoxfQ.").claims == nlohmann::json{{"a", 1}});
}

TEST_CASE("RsaPublicKey and Jwks refuse RSA keys under 2048 bits") {
    const crcr::test::RsaKeyPair weak = crcr::test::rsa_key_of(1024);
    CHECK_THROWS_WITH_AS(crcr::RsaPublicKey::from_pem(weak.public_pem, "pub.pem"),
                         doctest::Contains("'pub.pem' is an RSA key of only 1024 bits"),
                         crcr::Error);
    struct Case {
        std::string name;
        nlohmann::json key;
        std::string want;
    };
    // A weak key's JWK comes from a strong one's with its modulus cut: from_jwk sees only n and e.
    nlohmann::json short_n = crcr::RsaPrivateKey(test_rsa_key().private_pem, "k").public_jwk("k");
    short_n["n"] = crcr::base64url_encode(
        crcr::base64url_decode(short_n["n"].get<std::string>()).substr(0, 128));
    const Case cases[] = {
        {"a one-byte modulus",
         {{"kty", "RSA"}, {"n", "_w"}, {"e", "AQAB"}},
         "'jwks.json: keys[0]' is an RSA key of only 8 bits"},
        {"1024 bits", short_n, "'jwks.json: keys[0]' is an RSA key of only 1024 bits"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK_THROWS_WITH_AS(
            crcr::Jwks::parse(nlohmann::json{{"keys", nlohmann::json::array({c.key})}}.dump(),
                              "jwks.json"),
            doctest::Contains(c.want.c_str()),
            crcr::Error);
    }
    const nlohmann::json strong =
        crcr::RsaPrivateKey(test_rsa_key().private_pem, "k").public_jwk("k");
    CHECK(crcr::Jwks::parse(nlohmann::json{{"keys", nlohmann::json::array({strong})}}.dump(),
                            "jwks.json")
              .size()
          == 1);
}

TEST_CASE("Jwks::parse names a key member that is not a string") {
    // Found by the 30-minute fuzzing campaign: nlohmann's value() threw its own type_error.
    const nlohmann::json strong =
        crcr::RsaPrivateKey(test_rsa_key().private_pem, "k").public_jwk("k");
    for (const char* member : {"kty", "use", "kid"}) {
        CAPTURE(member);
        nlohmann::json key = strong;
        key[member] = 33;
        CHECK_THROWS_WITH_AS(
            crcr::Jwks::parse(nlohmann::json{{"keys", nlohmann::json::array({key})}}.dump(),
                              "jwks.json"),
            doctest::Contains(
                fmt::format("'jwks.json: keys[0]': the key's '{}' is not a string", member)
                    .c_str()),
            crcr::Error);
    }
}
