#include "crcr/signature.hpp"

#include "crcr/error.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

namespace crcr {

namespace {

std::string hmac_hex(const EVP_MD* digest, std::string_view secret, std::string_view body) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    if (HMAC(digest,
             secret.data(),
             static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(body.data()),
             body.size(),
             mac.data(),
             &length)
        == nullptr) {
        throw Error("cannot compute the HMAC signature (OpenSSL failed)");
    }
    constexpr std::string_view k_hex = "0123456789abcdef";
    std::string hex;
    hex.reserve(std::size_t{length} * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex += k_hex[mac[i] >> 4U];
        hex += k_hex[mac[i] & 0x0FU];
    }
    return hex;
}

bool is_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

} // namespace

std::string sign_sha256(std::string_view secret, std::string_view body) {
    return "sha256=" + hmac_hex(EVP_sha256(), secret, body);
}

std::string sign_sha1(std::string_view secret, std::string_view body) {
    return "sha1=" + hmac_hex(EVP_sha1(), secret, body);
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
        expected = hmac_hex(EVP_sha256(), secret, body);
    } else if (signature.starts_with("sha1=")) {
        digest = signature.substr(5);
        if (digest.size() != 40 || !is_hex(digest)) {
            return SignatureCheck::malformed;
        }
        expected = hmac_hex(EVP_sha1(), secret, body);
    } else {
        return SignatureCheck::malformed;
    }
    return CRYPTO_memcmp(expected.data(), digest.data(), expected.size()) == 0
               ? SignatureCheck::match
               : SignatureCheck::mismatch;
}

} // namespace crcr
