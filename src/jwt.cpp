#include "crcr/jwt.hpp"

#include "crcr/error.hpp"
#include "crcr/openssl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crcr {

namespace {

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { openssl().EVP_PKEY_free(key); }
};
struct BioFree {
    void operator()(BIO* bio) const { openssl().BIO_free(bio); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { openssl().EVP_MD_CTX_free(ctx); }
};
struct BnFree {
    void operator()(BIGNUM* bn) const { openssl().BN_free(bn); }
};
struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* bld) const { openssl().OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* params) const { openssl().OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { openssl().EVP_PKEY_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;

// The big-endian bytes of `key`'s RSA parameter `name` ("n", "e"), base64url.
std::string rsa_param(const EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (openssl().EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
        openssl().ERR_clear_error();
        throw Error(fmt::format("cannot read the key's RSA parameter '{}'", name));
    }
    const Bn bn(raw);
    std::string bytes(static_cast<std::size_t>((openssl().BN_num_bits(bn.get()) + 7) / 8), '\0');
    openssl().BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
    return base64url_encode(bytes);
}

// The JWK member `name` of `jwk` (a base64url big-endian integer) as a BIGNUM.
Bn jwk_number(const nlohmann::json& jwk, const char* name, std::string_view source) {
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) {
        throw Error(fmt::format("'{}': an RSA key has no '{}'", source, name));
    }
    std::string bytes;
    try {
        bytes = base64url_decode(it->get<std::string>());
    } catch (const Error& e) {
        throw Error(
            fmt::format("'{}': the key's '{}' is not base64url: {}", source, name, e.what()));
    }
    Bn bn(openssl().BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()),
                              nullptr));
    if (!bn || openssl().BN_is_zero(bn.get())) {
        throw Error(fmt::format("'{}': the key's '{}' is not a positive number", source, name));
    }
    return bn;
}

// The JWK member `name` of `jwk` as text, `fallback` when it is absent; an error naming the key
// when it is there but not a string (a number where a kid should be is a broken key set).
std::string jwk_text(const nlohmann::json& jwk,
                     const char* name,
                     const char* fallback,
                     std::string_view source) {
    const auto it = jwk.find(name);
    if (it == jwk.end()) {
        return fallback;
    }
    if (!it->is_string()) {
        throw Error(fmt::format("'{}': the key's '{}' is not a string", source, name));
    }
    return it->get<std::string>();
}

// GitHub refuses RSA keys shorter than this, and so does crcr: they can be factored.
constexpr int k_min_rsa_bits = 2048;

// Throws, naming `source`, when an RSA key of `bits` is too short to trust.
void require_rsa_bits(int bits, std::string_view source, ExitCode code) {
    if (bits < k_min_rsa_bits) {
        throw Error(fmt::format("'{}' is an RSA key of only {} bits: keys under {} bits can be "
                                "broken, and GitHub refuses them too; use a longer key",
                                source,
                                bits,
                                k_min_rsa_bits),
                    code);
    }
}

Bio memory_bio(std::string_view bytes) {
    Bio bio(openssl().BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) {
        throw Error("out of memory reading a key");
    }
    return bio;
}

// A callback that refuses to prompt for a passphrase: an encrypted key fails to load instead of
// blocking on the terminal.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
    return -1;
}

nlohmann::json decode_part(std::string_view part, std::string_view what) {
    std::string bytes;
    try {
        bytes = base64url_decode(part);
    } catch (const Error& e) {
        throw Error(fmt::format("{} not base64url: {}", what, e.what()));
    }
    nlohmann::json value = nlohmann::json::parse(bytes, nullptr, false);
    if (!value.is_object()) {
        throw Error(fmt::format("{} not a JSON object", what));
    }
    return value;
}

} // namespace

namespace {

// "<header>.<claims>.<signature>", each part base64url.
std::string signed_jwt(const RsaPrivateKey& key, std::string_view header, std::string_view claims) {
    const std::string input = base64url_encode(header) + "." + base64url_encode(claims);
    return input + "." + base64url_encode(key.sign_rs256(input));
}

} // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : bytes) {
        buffer = (buffer << 8U) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += k_alphabet[(buffer >> static_cast<unsigned>(bits)) & 0x3FU];
        }
    }
    if (bits > 0) {
        out += k_alphabet[(buffer << static_cast<unsigned>(6 - bits)) & 0x3FU];
    }
    return out;
}

std::string base64url_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::size_t value = k_alphabet.find(text[i]);
        if (value == std::string_view::npos) {
            throw Error(fmt::format("unexpected character at offset {}", i));
        }
        buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
        }
    }
    if (bits >= 6) { // a lone trailing character carries no whole byte
        throw Error("truncated at the end");
    }
    return out;
}

struct RsaPrivateKey::Impl {
    Pkey key;
};

RsaPrivateKey::RsaPrivateKey(std::string_view pem, std::string_view source)
    : m_impl(std::make_unique<Impl>()) {
    if (pem.find("-----BEGIN") == std::string_view::npos) {
        throw Error(
            fmt::format("'{}' is not a PEM private key (a file starting "
                        "'-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN PRIVATE KEY-----')",
                        source),
            ExitCode::auth);
    }
    if (pem.find("ENCRYPTED") != std::string_view::npos) {
        throw Error(fmt::format("'{}' is an encrypted private key: decrypt it first "
                                "(openssl pkey -in KEY -out KEY.pem) and keep it mode 600",
                                source),
                    ExitCode::auth);
    }
    Bio bio = memory_bio(pem);
    m_impl->key.reset(
        openssl().PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    openssl().ERR_clear_error();
    if (!m_impl->key) {
        throw Error(fmt::format("'{}' is not a readable PEM private key (a public key or a "
                                "certificate, or a damaged file?)",
                                source),
                    ExitCode::auth);
    }
    if (openssl().EVP_PKEY_get_base_id(m_impl->key.get()) != EVP_PKEY_RSA) {
        throw Error(
            fmt::format("'{}' holds a {} key: GitHub App keys are RSA (RS256)",
                        source,
                        openssl().OBJ_nid2sn(openssl().EVP_PKEY_get_base_id(m_impl->key.get()))),
            ExitCode::auth);
    }
    require_rsa_bits(openssl().EVP_PKEY_get_bits(m_impl->key.get()), source, ExitCode::auth);
}

RsaPrivateKey::~RsaPrivateKey() = default;
RsaPrivateKey::RsaPrivateKey(RsaPrivateKey&&) noexcept = default;
RsaPrivateKey& RsaPrivateKey::operator=(RsaPrivateKey&&) noexcept = default;

std::string RsaPrivateKey::sign_rs256(std::string_view data) const {
    MdCtx ctx(openssl().EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx
        || openssl().EVP_DigestSignInit(
               ctx.get(), nullptr, openssl().EVP_sha256(), nullptr, m_impl->key.get())
               != 1
        || openssl().EVP_DigestSign(ctx.get(),
                                    nullptr,
                                    &length,
                                    reinterpret_cast<const unsigned char*>(data.data()),
                                    data.size())
               != 1) {
        openssl().ERR_clear_error();
        throw Error("cannot sign with the private key (OpenSSL failed)", ExitCode::auth);
    }
    std::string signature(length, '\0');
    if (openssl().EVP_DigestSign(ctx.get(),
                                 reinterpret_cast<unsigned char*>(signature.data()),
                                 &length,
                                 reinterpret_cast<const unsigned char*>(data.data()),
                                 data.size())
        != 1) {
        openssl().ERR_clear_error();
        throw Error("cannot sign with the private key (OpenSSL failed)", ExitCode::auth);
    }
    signature.resize(length);
    return signature;
}

nlohmann::json RsaPrivateKey::public_jwk(std::string_view kid) const {
    return nlohmann::json{{"kty", "RSA"},
                          {"alg", "RS256"},
                          {"use", "sig"},
                          {"kid", std::string(kid)},
                          {"n", rsa_param(m_impl->key.get(), OSSL_PKEY_PARAM_RSA_N)},
                          {"e", rsa_param(m_impl->key.get(), OSSL_PKEY_PARAM_RSA_E)}};
}

struct RsaPublicKey::Impl {
    Pkey key;
};

RsaPublicKey::RsaPublicKey(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
RsaPublicKey::~RsaPublicKey() = default;
RsaPublicKey::RsaPublicKey(RsaPublicKey&&) noexcept = default;
RsaPublicKey& RsaPublicKey::operator=(RsaPublicKey&&) noexcept = default;

RsaPublicKey RsaPublicKey::from_pem(std::string_view pem, std::string_view source) {
    Bio bio = memory_bio(pem);
    auto impl = std::make_unique<Impl>();
    impl->key.reset(openssl().PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
    openssl().ERR_clear_error();
    if (!impl->key || openssl().EVP_PKEY_get_base_id(impl->key.get()) != EVP_PKEY_RSA) {
        throw Error(fmt::format(
            "'{}' is not an RSA public key (expected '-----BEGIN PUBLIC KEY-----')", source));
    }
    require_rsa_bits(openssl().EVP_PKEY_get_bits(impl->key.get()), source, ExitCode::failure);
    return RsaPublicKey(std::move(impl));
}

RsaPublicKey RsaPublicKey::from_jwk(const nlohmann::json& jwk, std::string_view source) {
    const Bn n = jwk_number(jwk, "n", source);
    const Bn e = jwk_number(jwk, "e", source);
    require_rsa_bits(openssl().BN_num_bits(n.get()), source, ExitCode::failure);
    const std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(openssl().OSSL_PARAM_BLD_new());
    if (!bld || openssl().OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1
        || openssl().OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        openssl().ERR_clear_error();
        throw Error("out of memory reading a key");
    }
    const std::unique_ptr<OSSL_PARAM, ParamFree> params(
        openssl().OSSL_PARAM_BLD_to_param(bld.get()));
    const std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        openssl().EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || openssl().EVP_PKEY_fromdata_init(ctx.get()) != 1
        || openssl().EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        openssl().ERR_clear_error();
        throw Error(fmt::format("'{}': the RSA key's 'n' and 'e' do not make a key", source));
    }
    auto impl = std::make_unique<Impl>();
    impl->key.reset(raw);
    return RsaPublicKey(std::move(impl));
}

bool RsaPublicKey::verify_rs256(std::string_view data, std::string_view signature) const {
    MdCtx ctx(openssl().EVP_MD_CTX_new());
    const bool ok =
        ctx
        && openssl().EVP_DigestVerifyInit(
               ctx.get(), nullptr, openssl().EVP_sha256(), nullptr, m_impl->key.get())
               == 1
        && openssl().EVP_DigestVerify(ctx.get(),
                                      reinterpret_cast<const unsigned char*>(signature.data()),
                                      signature.size(),
                                      reinterpret_cast<const unsigned char*>(data.data()),
                                      data.size())
               == 1;
    openssl().ERR_clear_error();
    return ok;
}

Jwks Jwks::parse(std::string_view text, std::string_view source) {
    const nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
    if (!document.is_object() || !document.contains("keys") || !document["keys"].is_array()) {
        throw Error(
            fmt::format("'{}' is not a JSON Web Key Set: expected {{\"keys\": [...]}}", source));
    }
    Jwks jwks;
    std::size_t index = 0;
    for (const nlohmann::json& key : document["keys"]) {
        const std::string where = fmt::format("{}: keys[{}]", source, index++);
        if (!key.is_object() || jwk_text(key, "kty", "", where) != "RSA"
            || jwk_text(key, "use", "sig", where) != "sig") {
            continue;
        }
        jwks.m_keys.emplace_back(jwk_text(key, "kid", "", where),
                                 RsaPublicKey::from_jwk(key, where));
    }
    if (jwks.m_keys.empty()) {
        throw Error(fmt::format("'{}' has no RSA signing key", source));
    }
    return jwks;
}

const RsaPublicKey* Jwks::find(std::string_view kid) const {
    if (kid.empty()) {
        return m_keys.size() == 1 ? &m_keys.front().second : nullptr;
    }
    for (const auto& [name, key] : m_keys) {
        if (name == kid) {
            return &key;
        }
    }
    return nullptr;
}

bool has_audience(const nlohmann::json& claims, std::string_view audience) {
    const nlohmann::json aud = claims.value("aud", nlohmann::json());
    const nlohmann::json wanted = std::string(audience);
    return aud == wanted
           || (aud.is_array() && std::find(aud.begin(), aud.end(), wanted) != aud.end());
}

std::string
make_rs256_jwt(const RsaPrivateKey& key, std::string_view kid, const nlohmann::json& claims) {
    const nlohmann::ordered_json header = {
        {"alg", "RS256"}, {"typ", "JWT"}, {"kid", std::string(kid)}};
    return signed_jwt(key, header.dump(), claims.dump());
}

std::string make_app_jwt(const RsaPrivateKey& key,
                         std::string_view issuer,
                         std::chrono::system_clock::time_point now,
                         std::chrono::seconds lifetime) {
    const auto iat =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - 60;
    const nlohmann::ordered_json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    const nlohmann::ordered_json claims = {
        {"iat", iat}, {"exp", iat + lifetime.count()}, {"iss", std::string(issuer)}};
    return signed_jwt(key, header.dump(), claims.dump());
}

DecodedJwt decode_jwt(std::string_view token) {
    const std::size_t first = token.find('.');
    const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        throw Error("the token is not a JWT: a JWT is three base64url parts separated by dots");
    }
    DecodedJwt jwt;
    jwt.header = decode_part(token.substr(0, first), "the token's header is");
    jwt.claims = decode_part(token.substr(first + 1, second - first - 1), "the token's claims are");
    jwt.signing_input = std::string(token.substr(0, second));
    try {
        jwt.signature = base64url_decode(token.substr(second + 1));
    } catch (const Error& e) {
        throw Error(fmt::format("the token's signature is not base64url: {}", e.what()));
    }
    return jwt;
}

} // namespace crcr
