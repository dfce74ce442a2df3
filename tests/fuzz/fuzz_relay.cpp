// relay serve's request handling: webhooks (event, delivery id, body; signed with the relay's
// secret, or with what the input says) and callbacks (a valid token for an entry of each level,
// or the input's own Authorization header) against the emulator over an in-memory state.
//
// Input: a first byte that picks the path and the signature or token, then the event (or the
// Authorization header) and the delivery id on their own lines, then the body.
#include "fake_github.hpp"
#include "fake_relay.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/jwt.hpp"
#include "crcr/relay.hpp"
#include "crcr/relay_store.hpp"
#include "crcr/signature.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view k_secret = "fuzz-secret";
constexpr std::string_view k_allowlist = "L1:\n  - org/one\nL2:\n  - org/two\nL3:\n  dev:\n"
                                         "    org/three: [alice]\nL4:\n  - org/four: bob\n";
constexpr std::array<std::string_view, 4> k_repos = {"org/one", "org/two", "org/three", "org/four"};

const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

struct World {
    crcr::RelayStore store{":memory:"};
    crcr::Relay relay;
    std::array<std::string, 4> tokens;

    World()
        : relay(
            crcr::RelaySettings{.secret = std::string(k_secret)},
            crcr::check_allowlist(k_allowlist).allowlist,
            jwks(),
            store,
            [](const std::string&, const crcr::Json&) { return crcr::DispatchResult{}; },
            [] { return k_now; },
            [](const crcr::LogEntry&) {}) {
        for (std::size_t i = 0; i < k_repos.size(); ++i) {
            tokens[i] = "Bearer "
                        + crcr::test::make_test_jwt(
                            crcr::test::actions_claims(std::string(k_repos[i]), k_now));
        }
    }

    static crcr::Jwks jwks() {
        const crcr::RsaPrivateKey key(crcr::test::test_rsa_key().private_pem, "test key");
        const nlohmann::json set = {{"keys", nlohmann::json::array({key.public_jwk("test")})}};
        return crcr::Jwks::parse(set.dump(), "test jwks");
    }
};

// The text up to the next newline (all of it when there is none), and what follows it.
std::string_view take_line(std::string_view& rest) {
    const auto end = rest.find('\n');
    const auto line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return line;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world; // the state store grows with each input, as a long-running relay's does
    if (size == 0)
        return 0;
    const std::uint8_t mode = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto first = take_line(rest);
    const auto delivery_id = take_line(rest);
    const std::string body(rest);
    crcr::RelayAnswer answer;
    if ((mode & 1U) == 0) {
        const bool sign = (mode & 2U) == 0;
        const std::optional<std::string> signature =
            sign ? std::optional<std::string>(crcr::sign_sha256(k_secret, body))
                 : std::optional<std::string>(std::string(delivery_id));
        answer = world.relay.webhook(first, delivery_id, signature, body);
    } else {
        const std::string authorization = (mode & 2U) == 0
                                              ? world.tokens[(mode >> 2U) % world.tokens.size()]
                                              : std::string(first);
        answer = world.relay.callback(authorization, body);
    }
    // Every answer is an HTTP status with a JSON object, whatever came in.
    if (answer.status < 200 || answer.status > 599 || !answer.body.is_object())
        __builtin_trap();
    (void)answer.body.dump(-1, ' ', false, crcr::Json::error_handler_t::replace);
    return 0;
}
