#pragma once

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"
#include "crcr/secrets.hpp"

#include <functional>
#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct VerifySignatureOptions {
    std::string signature;  // the X-Hub-Signature-256 (or X-Hub-Signature) value
    std::string file = "-"; // the body; "-" is standard input
    WebhookSecretSources secret;

    bool operator==(const VerifySignatureOptions&) const = default;
};

// Declares `verify-signature` on `parent`; `on_parsed` gets the options.
void add_verify_signature(CLI::App& parent,
                          std::function<void(const VerifySignatureOptions&)> on_parsed);

// Checks the body against the signature: `ok` on a match, `failure` (with the likely cause) when
// it does not match or is not a signature.
ExitCode run_verify_signature(const VerifySignatureOptions& opts, Context& ctx);

} // namespace crcr
