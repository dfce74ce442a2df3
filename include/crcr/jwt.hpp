#pragma once

// JSON Web Tokens as GitHub uses them: the RS256 JWT a GitHub App signs to ask for installation
// tokens (relay-contract section 4), and reading the claims of a token (an Actions OIDC token)
// to explain why it was refused. Signing and verifying go through OpenSSL.

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// base64url without padding (RFC 4648 section 5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
// The bytes of base64url `text` (padding optional). Throws `crcr::Error` for other characters.
std::string base64url_decode(std::string_view text);

// An RSA private key loaded from PEM (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", the forms
// GitHub hands out).
class RsaPrivateKey {
public:
    // Throws `crcr::Error` (ExitCode::auth) naming `source` when `pem` is not a PEM private key,
    // is encrypted, or holds a key that is not RSA or is under 2048 bits (GitHub's minimum).
    RsaPrivateKey(std::string_view pem, std::string_view source);
    ~RsaPrivateKey();
    RsaPrivateKey(RsaPrivateKey&&) noexcept;
    RsaPrivateKey& operator=(RsaPrivateKey&&) noexcept;
    RsaPrivateKey(const RsaPrivateKey&) = delete;
    RsaPrivateKey& operator=(const RsaPrivateKey&) = delete;

    // The RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `data`.
    std::string sign_rs256(std::string_view data) const;

    // The public half as a JSON Web Key: {"kty":"RSA","alg":"RS256","use":"sig","kid","n","e"}.
    nlohmann::json public_jwk(std::string_view kid) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// An RSA public key that checks RS256 signatures: from PEM ("PUBLIC KEY") or from a JSON Web
// Key's modulus and exponent, as an OIDC issuer publishes them.
class RsaPublicKey {
public:
    // Throws `crcr::Error` naming `source` when `pem` is not an RSA public key of 2048 bits or
    // more.
    static RsaPublicKey from_pem(std::string_view pem, std::string_view source);
    // From a JWK's base64url `n` and `e`. Throws `crcr::Error` naming `source` when they are not,
    // or when `n` is under 2048 bits.
    static RsaPublicKey from_jwk(const nlohmann::json& jwk, std::string_view source);
    ~RsaPublicKey();
    RsaPublicKey(RsaPublicKey&&) noexcept;
    RsaPublicKey& operator=(RsaPublicKey&&) noexcept;
    RsaPublicKey(const RsaPublicKey&) = delete;
    RsaPublicKey& operator=(const RsaPublicKey&) = delete;

    // Whether `signature` is a valid RS256 signature of `data`.
    bool verify_rs256(std::string_view data, std::string_view signature) const;

private:
    struct Impl;
    explicit RsaPublicKey(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// A JSON Web Key Set ({"keys": [...]}, what `<issuer>/.well-known/jwks` serves): its RSA signing
// keys by `kid`. Keys of other types are skipped, as OIDC clients do.
class Jwks {
public:
    // Throws `crcr::Error` naming `source` when `text` is not a JWKS with at least one RSA key.
    static Jwks parse(std::string_view text, std::string_view source);

    // The key named `kid`; with no `kid`, the only key when there is exactly one.
    const RsaPublicKey* find(std::string_view kid) const;
    std::size_t size() const { return m_keys.size(); }

private:
    std::vector<std::pair<std::string, RsaPublicKey>> m_keys;
};

// The JWT a GitHub App authenticates with: header {"alg":"RS256","typ":"JWT"}, claims
// `iat` = now - 60 s (GitHub's allowance for clock drift), `exp` = iat + `lifetime` (GitHub's
// maximum is 10 minutes from now, so at most 9 + 1), `iss` = the App id or client id.
std::string make_app_jwt(const RsaPrivateKey& key,
                         std::string_view issuer,
                         std::chrono::system_clock::time_point now,
                         std::chrono::seconds lifetime = std::chrono::minutes(9)
                                                         + std::chrono::seconds(60));

// A JWT's decoded parts. The signature is not checked.
struct DecodedJwt {
    nlohmann::json header;
    nlohmann::json claims;
    std::string signing_input; // "<header>.<claims>" as sent: what the signature covers
    std::string signature;     // raw bytes
};

// Splits and decodes `token`. Throws `crcr::Error` saying what is wrong (not three parts, not
// base64url, not a JSON object).
DecodedJwt decode_jwt(std::string_view token);

// Whether a token's `aud` claim is `audience`, or a list that holds it (RFC 7519 allows both).
bool has_audience(const nlohmann::json& claims, std::string_view audience);

// A JWT signed RS256 with `key`: header {"alg":"RS256","typ":"JWT","kid":`kid`}, `claims` as given.
std::string
make_rs256_jwt(const RsaPrivateKey& key, std::string_view kid, const nlohmann::json& claims);

} // namespace crcr
