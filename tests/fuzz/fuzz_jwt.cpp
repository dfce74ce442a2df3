// Tokens and key sets from outside: a callback's Authorization bearer token (decode_jwt) and the
// JWKS document relay serve loads from --oidc-jwks.
#include "crcr/error.hpp"
#include "crcr/jwt.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto jwt = crcr::decode_jwt(text);
        (void)crcr::has_audience(jwt.claims, "pytorch-cross-repo-ci-relay");
    } catch (const crcr::Error&) {
    }
    try {
        const auto jwks = crcr::Jwks::parse(text, "fuzz.json");
        if (jwks.size() == 1 && jwks.find("") == nullptr)
            __builtin_trap();
    } catch (const crcr::Error&) {
    }
    try {
        (void)crcr::base64url_decode(text);
    } catch (const crcr::Error&) {
    }
    return 0;
}
