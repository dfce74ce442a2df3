#include "crcr/signature.hpp"

#include "crcr/error.hpp"
#include "crcr/openssl.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace crcr {

namespace {

// A keyed HMAC kept by each thread for the last secret it signed with: replay signs thousands
// of bodies a second with one secret, and OpenSSL 3 looks its algorithms up (under a lock) for
// every one-shot HMAC(); re-initialising a keyed context costs nothing of the sort.
class KeyedHmac {
public:
    explicit KeyedHmac(const char* digest) : m_digest(digest) {}
    // Without a context, libcrypto may never have loaded: nothing to free, nothing to throw.
    ~KeyedHmac() {
        if (m_ctx != nullptr) {
            openssl().EVP_MAC_CTX_free(m_ctx);
        }
    }
    KeyedHmac(const KeyedHmac&) = delete;
    KeyedHmac& operator=(const KeyedHmac&) = delete;

    // The MAC of `body` with `secret`, in `mac`; its length.
    std::size_t sign(std::string_view secret,
                     std::string_view body,
                     std::array<unsigned char, EVP_MAX_MD_SIZE>& mac) {
        const OpenSsl& ssl = openssl();
        if (m_ctx == nullptr || m_secret != secret) {
            ssl.EVP_MAC_CTX_free(m_ctx);
            m_ctx = keyed_context(secret);
            m_secret = secret;
        }
        std::size_t length = 0;
        if (m_ctx == nullptr
            || ssl.EVP_MAC_init(m_ctx, nullptr, 0, nullptr) != 1 // same key, afresh
            || ssl.EVP_MAC_update(
                   m_ctx, reinterpret_cast<const unsigned char*>(body.data()), body.size())
                   != 1
            || ssl.EVP_MAC_final(m_ctx, mac.data(), &length, mac.size()) != 1) {
            ssl.EVP_MAC_CTX_free(m_ctx);
            m_ctx = nullptr;
            throw Error("cannot compute the HMAC signature (OpenSSL failed)");
        }
        return length;
    }

private:
    // A context for this digest keyed with `secret`; nothing when OpenSSL fails.
    EVP_MAC_CTX* keyed_context(std::string_view secret) const {
        EVP_MAC* hmac = openssl().EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        EVP_MAC_CTX* ctx = hmac == nullptr ? nullptr : openssl().EVP_MAC_CTX_new(hmac);
        openssl().EVP_MAC_free(hmac); // the context holds its own reference
        std::string digest = m_digest;
        const std::array<OSSL_PARAM, 2> params = {
            openssl().OSSL_PARAM_construct_utf8_string("digest", digest.data(), 0),
            openssl().OSSL_PARAM_construct_end()};
        static constexpr unsigned char k_no_key = 0; // an empty secret is a key too
        const auto* key =
            secret.empty() ? &k_no_key : reinterpret_cast<const unsigned char*>(secret.data());
        if (ctx != nullptr && openssl().EVP_MAC_init(ctx, key, secret.size(), params.data()) != 1) {
            openssl().EVP_MAC_CTX_free(ctx);
            return nullptr;
        }
        return ctx;
    }

    const char* m_digest;
    std::string m_secret;
    EVP_MAC_CTX* m_ctx = nullptr;
};

std::string hmac_hex(KeyedHmac& hmac, std::string_view secret, std::string_view body) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    const std::size_t length = hmac.sign(secret, body, mac);
    constexpr std::string_view k_hex = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (std::size_t i = 0; i < length; ++i) {
        hex += k_hex[mac[i] >> 4U];
        hex += k_hex[mac[i] & 0x0FU];
    }
    return hex;
}

KeyedHmac& hmac_sha256() {
    thread_local KeyedHmac hmac("SHA256");
    return hmac;
}

KeyedHmac& hmac_sha1() {
    thread_local KeyedHmac hmac("SHA1");
    return hmac;
}

bool is_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

} // namespace

std::string sign_sha256(std::string_view secret, std::string_view body) {
    return "sha256=" + hmac_hex(hmac_sha256(), secret, body);
}

std::string sign_sha1(std::string_view secret, std::string_view body) {
    return "sha1=" + hmac_hex(hmac_sha1(), secret, body);
}

SignatureCheck
verify_signature(std::string_view secret, std::string_view body, std::string_view signature) {
    std::string expected;
    std::string_view digest;
    if (signature.starts_with("sha256=")) {
        digest = signature.substr(7);
        if (digest.size() != 64 || !is_hex(digest)) {
            return SignatureCheck::malformed;
        }
        expected = hmac_hex(hmac_sha256(), secret, body);
    } else if (signature.starts_with("sha1=")) {
        digest = signature.substr(5);
        if (digest.size() != 40 || !is_hex(digest)) {
            return SignatureCheck::malformed;
        }
        expected = hmac_hex(hmac_sha1(), secret, body);
    } else {
        return SignatureCheck::malformed;
    }
    return openssl().CRYPTO_memcmp(expected.data(), digest.data(), expected.size()) == 0
               ? SignatureCheck::match
               : SignatureCheck::mismatch;
}

} // namespace crcr
