#include "test_support.hpp"
#include "verify_signature.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

using crcr::VerifySignatureOptions;
using crcr::test::run_crcr;

namespace {

constexpr std::string_view k_sha256 =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

crcr::Environment secret_env() {
    return crcr::Environment(
        crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET", "It's a Secret to Everybody"}});
}

} // namespace

TEST_CASE("verify-signature: options") {
    struct Case {
        std::string name;
        std::string args;
        VerifySignatureOptions want;
    };
    const Case cases[] = {
        {"stdin by default", "verify-signature --signature sha256=x", {.signature = "sha256=x"}},
        {"file and secret file",
         "verify-signature --signature s --secret-file k body.json",
         {.signature = "s", .file = "body.json", .secret = {.secret_file = "k"}}},
        {"secret flag",
         "verify-signature --signature s --secret abc",
         {.signature = "s", .secret = {.secret = "abc"}}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CLI::App app;
        VerifySignatureOptions got;
        crcr::add_verify_signature(app, [&got](const VerifySignatureOptions& o) { got = o; });
        app.parse(c.args);
        CHECK(got == c.want);
    }
    CLI::App app;
    crcr::add_verify_signature(app, [](const VerifySignatureOptions&) {});
    CHECK_THROWS_AS(app.parse("verify-signature body.json"), CLI::RequiredError);
}

TEST_CASE("verify-signature: run") {
    const crcr::test::TempDir dir;
    const std::string body = dir.write("body", "Hello, World!");
    const std::string with_newline = dir.write("body-nl", "Hello, World!\n");
    std::string upper(k_sha256);
    for (std::size_t i = 7; i < upper.size(); ++i) {
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    }
    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string input;
        int code;
        std::string out;
        std::string err;
    };
    const Case cases[] = {
        {"match",
         {"verify-signature", "--signature", std::string(k_sha256), body},
         "",
         0,
         "ok: the signature matches '" + body + "' (13 bytes)\n",
         ""},
        {"match on stdin",
         {"verify-signature", "--signature", std::string(k_sha256)},
         "Hello, World!",
         0,
         "ok: the signature matches standard input (13 bytes)\n",
         ""},
        {"a newline was added",
         {"verify-signature", "--signature", std::string(k_sha256), with_newline},
         "",
         1,
         "",
         "crcr: error: the signature does not match '" + with_newline
             + "' (14 bytes): it matches the body without "
               "its final newline: the file gained one after it was signed (an editor or "
               "`echo`?)\n"},
        {"uppercase",
         {"verify-signature", "--signature", upper, body},
         "",
         1,
         "",
         "crcr: error: the signature does not match '" + body
             + "' (13 bytes): it matches once its hex digits are "
               "lowercase; the relay compares lowercase hex and answers 401 to uppercase\n"},
        {"other bytes",
         {"verify-signature", "--signature", "sha256=" + std::string(64, '0'), body},
         "",
         1,
         "",
         "crcr: error: the signature does not match '" + body
             + "' (13 bytes): the body differs from the bytes that "
               "were signed (re-serialised JSON?), or the secret differs\n"},
        {"not a signature",
         {"verify-signature", "--signature", "abc", body},
         "",
         1,
         "",
         "crcr: error: 'abc' is not a signature: expected sha256=<64 hex digits> (or sha1=<40 hex "
         "digits>)\n"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::CliRun run = run_crcr(c.args, secret_env(), nullptr, c.input);
        CHECK(run.code == c.code);
        CHECK(run.out == c.out);
        CHECK(run.err == c.err);
    }
    SUBCASE("no secret") {
        const crcr::test::CliRun run =
            run_crcr({"verify-signature", "--signature", std::string(k_sha256), body});
        CHECK(run.code == 4);
        CHECK(run.err.starts_with("crcr: error: no webhook secret"));
    }
    SUBCASE("--secret works but warns") {
        const crcr::test::CliRun run = run_crcr({"verify-signature",
                                                 "--secret",
                                                 "It's a Secret to Everybody",
                                                 "--signature",
                                                 std::string(k_sha256),
                                                 body});
        CHECK(run.code == 0);
        CHECK(run.err.starts_with("crcr: warning: --secret is visible to other processes"));
        CHECK(run.err.find("Everybody") == std::string::npos);
    }
}
