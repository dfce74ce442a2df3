#pragma once

// GitHub webhook signatures (relay-contract section 2): HMAC over the exact bytes of the body.

#include <string>
#include <string_view>

namespace crcr {

// The `X-Hub-Signature-256` value for `body` signed with `secret`: "sha256=" + lowercase hex.
std::string sign_sha256(std::string_view secret, std::string_view body);

// The legacy `X-Hub-Signature` value: "sha1=" + lowercase hex.
std::string sign_sha1(std::string_view secret, std::string_view body);

enum class SignatureCheck {
    match,
    mismatch,  // a well-formed signature for other bytes or another secret
    malformed, // not "sha256=<64 hex>" or "sha1=<40 hex>"
};

// Checks a signature header value against `body` and `secret`, as the relay does: the digest is
// compared in constant time, and must be lowercase hex (the relay rejects uppercase).
SignatureCheck
verify_signature(std::string_view secret, std::string_view body, std::string_view signature);

} // namespace crcr
