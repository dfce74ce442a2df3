#include "verify_signature.hpp"

#include "secret_options.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/signature.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>

namespace crcr {

namespace {

// Why a well-formed signature may not match, from the usual mistakes.
std::string
likely_cause(std::string_view secret, std::string_view body, std::string_view signature) {
    const std::string_view digest = signature.substr(signature.find('=') + 1);
    if (std::any_of(digest.begin(), digest.end(), [](char c) { return c >= 'A' && c <= 'F'; })) {
        const std::string lower = [&] {
            std::string text(signature);
            std::transform(text.begin(), text.end(), text.begin(), [](char c) {
                return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
            });
            return text;
        }();
        if (verify_signature(secret, body, lower) == SignatureCheck::match) {
            return "it matches once its hex digits are lowercase; the relay compares lowercase "
                   "hex and answers 401 to uppercase";
        }
    }
    if (body.ends_with('\n')) {
        std::string_view trimmed = body;
        trimmed.remove_suffix(trimmed.ends_with("\r\n") ? 2 : 1);
        if (verify_signature(secret, trimmed, signature) == SignatureCheck::match) {
            return "it matches the body without its final newline: the file gained one after it "
                   "was signed (an editor or `echo`?)";
        }
    } else if (verify_signature(secret, std::string(body) + "\n", signature)
               == SignatureCheck::match) {
        return "it matches the body with a final newline added: the file lost one after it was "
               "signed";
    }
    return "the body differs from the bytes that were signed (re-serialised JSON?), or the secret "
           "differs";
}

} // namespace

void add_verify_signature(CLI::App& parent,
                          std::function<void(const VerifySignatureOptions&)> on_parsed) {
    auto opts = std::make_shared<VerifySignatureOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "verify-signature",
        "Check a webhook body against its X-Hub-Signature-256 value, as the relay does");
    cmd->add_option(
           "--signature",
           opts->signature,
           "The X-Hub-Signature-256 value (sha256=...) or an X-Hub-Signature value (sha1=...)")
        ->required()
        ->type_name("VALUE");
    cmd->add_option("FILE", opts->file, "The body, byte for byte (default: - for standard input)")
        ->type_name("");
    add_secret_options(*cmd, opts->secret);
    cmd->footer(R"(Examples:
  CRCR_WEBHOOK_SECRET_FILE=~/.relay-secret crcr verify-signature --signature "sha256=757107ea..." body.json
  crcr simulate pull_request opened --include | ...   # then check what was sent

Exit status: 0 the signature matches, 1 it does not (the likely cause is printed) or it is not
a signature, 2 usage.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_verify_signature(const VerifySignatureOptions& opts, Context& ctx) {
    const std::optional<std::string> secret = resolve_secret(opts.secret, ctx);
    if (!secret) {
        throw Error(
            "no webhook secret: set CRCR_WEBHOOK_SECRET_FILE or CRCR_WEBHOOK_SECRET, or pass "
            "--secret-file",
            ExitCode::auth);
    }
    const std::string body = read_input(opts.file, ctx.in);
    const std::string name =
        opts.file == "-" ? std::string("standard input") : "'" + opts.file + "'";
    switch (verify_signature(*secret, body, opts.signature)) {
    case SignatureCheck::match:
        fmt::print(ctx.out, "ok: the signature matches {} ({} bytes)\n", name, body.size());
        return ExitCode::ok;
    case SignatureCheck::malformed:
        fmt::print(ctx.err,
                   "crcr: error: '{}' is not a signature: expected sha256=<64 hex digits> (or "
                   "sha1=<40 hex digits>)\n",
                   opts.signature);
        return ExitCode::failure;
    case SignatureCheck::mismatch:
        break;
    }
    fmt::print(ctx.err,
               "crcr: error: the signature does not match {} ({} bytes): {}\n",
               name,
               body.size(),
               likely_cause(*secret, body, opts.signature));
    return ExitCode::failure;
}

} // namespace crcr
