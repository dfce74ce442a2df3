#include "fake_github.hpp"
#include "fake_relay.hpp"
#include "test_support.hpp"

#include "crcr/relay.hpp"
#include "crcr/signature.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace {

using crcr::Json;
using crcr::RelayAnswer;

const char* const k_secret = "It's a Secret to Everybody";

const char* const k_allowlist = R"(L1:
  - org/one
L2:
  - org/two
L3:
  npu:
    org/three: [a]
L4:
  - org/four: oncall
)";

crcr::Jwks test_jwks() {
    const crcr::RsaPrivateKey key(crcr::test::test_rsa_key().private_pem, "test key");
    return crcr::Jwks::parse(Json{{"keys", Json::array({key.public_jwk("test")})}}.dump(), "test");
}

// A relay over an in-memory state whose dispatches are recorded, failing for `failing` repos.
struct RelayFixture {
    explicit RelayFixture(const std::string& allowlist = k_allowlist, int rate_limit = 100)
        : relay(
            crcr::RelaySettings{.secret = k_secret, .rate_limit = rate_limit},
            crcr::check_allowlist(allowlist).allowlist,
            test_jwks(),
            store,
            [this](const std::string& repo, const Json& body) {
                const std::lock_guard lock(mutex);
                bodies.push_back(body);
                if (failing.count(repo) != 0) {
                    return crcr::DispatchResult{.ok = false, .error = "422 spammed"};
                }
                return crcr::DispatchResult{};
            },
            [this] { return clock.now(); },
            [this](const crcr::LogEntry& entry) {
                const std::lock_guard lock(mutex);
                logs.push_back(entry.message);
            }) {}

    RelayAnswer webhook(const std::string& event,
                        const std::string& body,
                        const std::string& delivery = "d-1") {
        return relay.webhook(event, delivery, crcr::sign_sha256(k_secret, body), body);
    }
    RelayAnswer callback(const std::string& repo, const Json& body) {
        return relay.callback(
            "Bearer " + crcr::test::make_test_jwt(crcr::test::actions_claims(repo, clock.now())),
            body.dump());
    }

    crcr::test::TestClock clock;
    crcr::RelayStore store{":memory:"};
    std::mutex mutex;
    std::vector<Json> bodies;
    std::vector<std::string> logs;
    std::set<std::string> failing;
    crcr::Relay relay;
};

std::string pr_body(const std::string& action,
                    const std::vector<std::string>& labels = {},
                    const std::string& repo = "pytorch/pytorch") {
    Json label_list = Json::array();
    for (const std::string& name : labels) {
        label_list.push_back(Json{{"name", name}});
    }
    Json body{
        {"action", action},
        {"number", 7},
        {"pull_request", {{"number", 7}, {"head", {{"sha", "abc123"}}}, {"labels", label_list}}},
        {"repository", {{"full_name", repo}}}};
    if (action == "labeled" && !labels.empty()) {
        body["label"] = Json{{"name", labels.back()}};
    }
    return body.dump();
}

// Dispatched repos, as a set (the relay's order varies).
std::set<std::string> repos_of(const Json& list) {
    std::set<std::string> out;
    for (const Json& item : list) {
        out.insert(item["repo"].get<std::string>());
    }
    return out;
}

const std::set<std::string> k_all = {"org/one", "org/two", "org/three", "org/four"};

} // namespace

TEST_CASE("relay webhook: every row of the answer table (relay-contract section 2)") {
    struct Row {
        std::string_view name;
        std::string event;
        std::string body;
        std::string signature; // "good", "none", "empty", or a literal header value
        int status;
        std::string expected; // the body, or "dispatch-all"
    };
    const std::string opened = pr_body("opened");
    const std::vector<Row> rows = {
        {"an issues event is ignored before the signature",
         "issues",
         "x",
         "none",
         200,
         R"({"ignored":true})"},
        {"ping is ignored", "ping", "{}", "none", 200, R"({"ignored":true})"},
        {"no signature", "pull_request", opened, "none", 400, R"({"detail":"No signature"})"},
        {"an empty signature",
         "pull_request",
         opened,
         "empty",
         400,
         R"({"detail":"No signature"})"},
        {"a wrong signature",
         "pull_request",
         opened,
         crcr::sign_sha256("other", opened),
         401,
         R"({"detail":"Bad signature"})"},
        {"uppercase hex",
         "pull_request",
         opened,
         "sha256=" +
             [&] {
                 std::string s = crcr::sign_sha256(k_secret, opened).substr(7);
                 std::transform(s.begin(), s.end(), s.begin(), ::toupper);
                 return s;
             }(),
         401,
         R"({"detail":"Bad signature"})"},
        {"only a SHA-1 signature counts for nothing",
         "pull_request",
         opened,
         crcr::sign_sha1(k_secret, opened),
         401,
         R"({"detail":"Bad signature"})"},
        {"not JSON", "pull_request", "{not json", "good", 400, R"({"detail":"Invalid JSON body"})"},
        {"a JSON array", "push", "[1]", "good", 500, R"({"detail":"Internal server error"})"},
        {"repository not an object",
         "push",
         R"({"repository":"x"})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"repository an empty string is {}: not upstream",
         "push",
         R"({"repository":""})",
         "good",
         200,
         R"({"ignored":true})"},
        {"an empty body is {}: not upstream", "push", "", "good", 200, R"({"ignored":true})"},
        {"another repository",
         "pull_request",
         pr_body("opened", {}, "someone/fork"),
         "good",
         200,
         R"({"ignored":true})"},
        {"upstream in another case",
         "pull_request",
         pr_body("opened", {}, "PyTorch/PyTorch"),
         "good",
         200,
         "dispatch-all"},
        {"opened", "pull_request", opened, "good", 200, "dispatch-all"},
        {"reopened", "pull_request", pr_body("reopened"), "good", 200, "dispatch-all"},
        {"synchronize", "pull_request", pr_body("synchronize"), "good", 200, "dispatch-all"},
        {"closed", "pull_request", pr_body("closed"), "good", 200, "dispatch-all"},
        {"synchronized (the docs' typo) is ignored",
         "pull_request",
         pr_body("synchronized"),
         "good",
         200,
         R"({"ignored":true})"},
        {"edited is ignored",
         "pull_request",
         pr_body("edited"),
         "good",
         200,
         R"({"ignored":true})"},
        {"labeled with another label",
         "pull_request",
         pr_body("labeled", {"bug"}),
         "good",
         200,
         R"({"ignored":true})"},
        {"labeled ciflow/crcr/npu: no job yet",
         "pull_request",
         pr_body("labeled", {"ciflow/crcr/npu"}),
         "good",
         200,
         R"({"ok":true,"created_check_runs":[]})"},
        {"labeled for a device nobody has",
         "pull_request",
         pr_body("labeled", {"ciflow/crcr/gpu"}),
         "good",
         200,
         R"({"ok":true,"created_check_runs":[]})"},
        {"push",
         "push",
         R"({"ref":"refs/heads/main","repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         "dispatch-all"},
        {"a branch deletion",
         "push",
         R"({"ref":"refs/heads/x","deleted":true,"after":"0000000000000000000000000000000000000000","repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         "dispatch-all"},
        {"check_run rerequested: not a check run the relay named",
         "check_run",
         R"({"action":"rerequested","check_run":{"head_sha":"abc123"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"not a crcr check run"})"},
        {"check_run rerequested: a name too short",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/org/three","external_id":"42"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"not a crcr check run"})"},
        {"check_run rerequested: no run id in external_id",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/org/three/CI/build","external_id":":7"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"not a crcr check run"})"},
        {"check_run rerequested: below L3",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/org/two/CI/build","external_id":"42:7"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"downstream repo not L3+"})"},
        {"check_run rerequested: unlisted (names compared as written)",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/Org/Three/CI/build","external_id":"42"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"downstream repo not L3+"})"},
        {"check_run rerequested: L3, re-run",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/org/three/CI/build","external_id":"42:7"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ok":true,"rerun":["org/three"]})"},
        {"check_run rerequested: a run id int() refuses",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/org/four/CI/build","external_id":"4x2:7"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         502,
         R"({"detail":{"message":"failed to rerun downstream run","repo":"org/four","error":"invalid literal for int() with base 10: '4x2'"}})"},
        {"check_run rerequested: external_id not a string",
         "check_run",
         R"({"action":"rerequested","check_run":{"name":"crcr/org/four/CI/build","external_id":42},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"check_suite rerequested: no id",
         "check_suite",
         R"({"action":"rerequested","check_suite":{"head_sha":"abc123"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"missing check_suite id"})"},
        {"check_suite rerequested: id 0 is none",
         "check_suite",
         R"({"action":"rerequested","check_suite":{"id":0},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true,"reason":"missing check_suite id"})"},
        {"check_suite rerequested: no check run in the suite",
         "check_suite",
         R"({"action":"rerequested","check_suite":{"id":5,"head_sha":"abc123"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ok":true,"rerun":[]})"},
        {"check_suite rerequested: not an object",
         "check_suite",
         R"({"action":"rerequested","check_suite":[5],"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"labeled with a label that is a string",
         "pull_request",
         R"({"action":"labeled","label":"ciflow/crcr/npu","repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"labeled with a label whose name is null",
         "pull_request",
         R"({"action":"labeled","label":{"name":null},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"an action that is a list (unhashable)",
         "pull_request",
         R"({"action":["opened"],"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"opened with labels that are a string: failed before any dispatch",
         "pull_request",
         R"({"action":"opened","pull_request":{"labels":"bug"},"repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"a push whose pull_request is a string",
         "push",
         R"({"pull_request":"x","repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         500,
         R"({"detail":"Internal server error"})"},
        {"check_run created is ignored",
         "check_run",
         R"({"action":"created","repository":{"full_name":"pytorch/pytorch"}})",
         "good",
         200,
         R"({"ignored":true})"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        RelayFixture f;
        const std::optional<std::string> signature =
            row.signature == "none"    ? std::nullopt
            : row.signature == "good"  ? std::optional(crcr::sign_sha256(k_secret, row.body))
            : row.signature == "empty" ? std::optional<std::string>("")
                                       : std::optional(row.signature);
        const RelayAnswer answer = f.relay.webhook(row.event, "d-1", signature, row.body);
        CHECK(answer.status == row.status);
        if (row.expected == "dispatch-all") {
            CHECK(answer.body["ok"] == true);
            CHECK(repos_of(answer.body["dispatched"]) == k_all);
            CHECK(answer.body["failed"] == Json::array());
            REQUIRE(f.bodies.size() == 4);
            // The relay's dispatch body: the webhook verbatim under client_payload.payload.
            CHECK(f.bodies[0]["event_type"] == row.event);
            CHECK(f.bodies[0]["client_payload"]["delivery_id"] == "d-1");
            CHECK(f.bodies[0]["client_payload"]["payload"] == Json::parse(row.body));
            CHECK(f.store.count("dispatches") == 4);
        } else {
            CHECK(answer.body == Json::parse(row.expected));
            CHECK(f.bodies.empty());
        }
        CHECK(f.store.count("deliveries") == 1); // every answer is in the state
    }
}

TEST_CASE("relay webhook: failures, redeliveries and an empty allowlist") {
    SUBCASE("one dispatch fails: 200 with it under failed") {
        RelayFixture f;
        f.failing = {"org/two"};
        const RelayAnswer answer = f.webhook("pull_request", pr_body("opened"));
        CHECK(answer.status == 200);
        CHECK(repos_of(answer.body["dispatched"])
              == std::set<std::string>{"org/one", "org/three", "org/four"});
        CHECK(answer.body["failed"]
              == Json::parse(
                  R"([{"repo":"org/two","error":"GitHub dispatch failed: 422 spammed"}])"));
    }
    SUBCASE("every dispatch fails: 502 with the failures") {
        RelayFixture f;
        f.failing = k_all;
        const RelayAnswer answer =
            f.webhook("push", R"({"repository":{"full_name":"pytorch/pytorch"}})");
        CHECK(answer.status == 502);
        CHECK(answer.body["detail"]["message"] == "No downstream dispatch succeeded");
        CHECK(answer.body["detail"]["failed"].size() == 4);
    }
    SUBCASE("a redelivery is dispatched again but reported as failed") {
        RelayFixture f;
        CHECK(f.webhook("pull_request", pr_body("opened")).status == 200);
        const RelayAnswer again = f.webhook("pull_request", pr_body("opened"));
        CHECK(f.bodies.size() == 8); // sent again
        CHECK(again.status == 502);
        CHECK(repos_of(again.body["detail"]["failed"]) == k_all);
        for (const Json& failure : again.body["detail"]["failed"]) {
            // The relay's key for the dispatch record: run id and attempt 0.
            CHECK(failure["error"]
                  == "GitHub dispatch failed: rejecting duplicate DISPATCHED key=crcr:state:d-1:"
                         + failure["repo"].get<std::string>() + ":0:0");
        }
        CHECK(f.webhook("pull_request", pr_body("opened"), "d-2").status == 200); // a fresh id
    }
    SUBCASE("an empty allowlist: nothing to dispatch") {
        RelayFixture f("L1: []\n");
        const RelayAnswer answer = f.webhook("pull_request", pr_body("opened"));
        CHECK(answer.status == 200);
        CHECK(answer.body == Json::parse(R"({"ok":true,"dispatched":[],"failed":[]})"));
    }
    SUBCASE("dispatches run concurrently, within the worker bound") {
        std::string yaml = "L1:\n";
        for (int i = 0; i < 40; ++i) {
            yaml += fmt::format("  - org/r{}\n", i);
        }
        RelayFixture f(yaml);
        const RelayAnswer answer = f.webhook("pull_request", pr_body("opened"));
        CHECK(answer.body["dispatched"].size() == 40);
        CHECK(f.store.count("dispatches") == 40);
        CHECK(f.store.count("states") == 40);
    }
}

namespace {

Json callback_body(const std::string& status,
                   const std::string& job = "build",
                   const std::vector<std::string>& labels = {},
                   const std::string& delivery = "d-1") {
    Json body{{"event_type", "pull_request"},
              {"delivery_id", delivery},
              {"payload", Json::parse(pr_body("opened", labels))},
              {"workflow",
               {{"schema_version", "1"},
                {"status", status},
                {"conclusion", status == "completed" ? Json("success") : Json()},
                {"name", "CI"},
                {"job_name", job},
                {"run_id", "42"},
                {"run_attempt", "1"},
                {"check_run_id", "42-1"},
                {"url", "https://github.com/o/r/actions/runs/42"}}}};
    return body;
}

} // namespace

TEST_CASE("relay callback: the token (relay-contract section 6)") {
    RelayFixture f;
    f.webhook("pull_request", pr_body("opened"));
    const auto now = f.clock.now();
    const std::string body = callback_body("in_progress").dump();
    struct Row {
        std::string_view name;
        std::string authorization;
        int status;
        std::string detail;
    };
    auto claims = crcr::test::actions_claims("org/two", now);
    const auto with = [&](const char* key, Json value) {
        Json c = claims;
        if (value.is_null()) {
            c.erase(key);
        } else {
            c[key] = value;
        }
        return "Bearer " + crcr::test::make_test_jwt(c);
    };
    // A token whose header's `key` is `value`, signed as the test key signs.
    const auto header_with = [&](const char* key, Json value) {
        Json header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "test"}};
        header[key] = std::move(value);
        const std::string signed_token = crcr::test::make_test_jwt(claims);
        return "Bearer " + crcr::base64url_encode(header.dump())
               + signed_token.substr(signed_token.find('.'));
    };
    std::string tampered = crcr::test::make_test_jwt(claims);
    {
        const std::size_t dot = tampered.find('.');
        const std::size_t second = tampered.find('.', dot + 1);
        tampered = tampered.substr(0, dot + 1)
                   + crcr::base64url_encode(crcr::test::actions_claims("org/four", now).dump())
                   + tampered.substr(second);
    }
    const std::vector<Row> rows = {
        {"no token", "", 401, "Missing authorization token"},
        {"not a JWT", "Bearer nonsense", 401, "Unsupported OIDC issuer: None"},
        {"another issuer",
         with("iss", "https://evil.example"),
         401,
         "Unsupported OIDC issuer: https://evil.example"},
        {"another audience", with("aud", "sts.amazonaws.com"), 401, "Invalid authorization token"},
        {"expired", with("exp", Json(1'790'000'000 - 1)), 401, "Invalid authorization token"},
        {"not yet valid",
         with("nbf", Json(1'790'000'000 + 600)),
         401,
         "Invalid authorization token"},
        {"claims changed after signing", "Bearer " + tampered, 401, "Invalid authorization token"},
        {"no repository claim",
         with("repository", Json()),
         401,
         "GitHub OIDC token missing 'repository' claim"},
        {"Buildkite, unregistered",
         with("iss", "https://agent.buildkite.com"),
         401,
         "Buildkite OIDC token missing 'organization_id' or 'pipeline_id'"},
        {"an issuer that is a list",
         with("iss", Json::array()),
         401,
         "Invalid authorization token"},
        {"a kid that is a number", header_with("kid", 5), 401, "Invalid authorization token"},
        {"an alg that is a number", header_with("alg", 256), 401, "Invalid authorization token"},
        {"a kid that is null", header_with("kid", nullptr), 401, "Invalid authorization token"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        const RelayAnswer answer = f.relay.callback(row.authorization, body);
        CHECK(answer.status == row.status);
        CHECK(answer.body == Json{{"detail", row.detail}});
    }
    Json buildkite = claims;
    buildkite["iss"] = "https://agent.buildkite.com";
    buildkite["organization_id"] = "acme";
    buildkite["pipeline_id"] = "ci";
    const RelayAnswer unregistered = f.relay.callback(crcr::test::make_test_jwt(buildkite), body);
    CHECK(unregistered.status == 403);
    CHECK(unregistered.body
          == Json{{"detail", "Buildkite pipeline acme/ci is not registered with CRCR"}});
    SUBCASE("with or without the Bearer prefix, in any case") {
        const std::string token = crcr::test::make_test_jwt(claims);
        CHECK(f.relay.callback(token, body).status == 200);
        CHECK(f.relay.callback("bearer " + token, callback_body("completed").dump()).status == 200);
    }
    SUBCASE("invalid JSON is refused before the token") {
        CHECK(f.relay.callback("", "{oops").body == Json{{"detail", "Invalid JSON body"}});
    }
}

TEST_CASE("relay callback: the body, the levels and the state machine") {
    RelayFixture f;
    f.webhook("pull_request", pr_body("opened"));
    const auto edit = [](Json body, const std::string& pointer, Json value) {
        body[Json::json_pointer(pointer)] = std::move(value);
        return body;
    };
    const auto without = [](Json body, const std::string& object, const std::string& key) {
        if (object.empty()) {
            body.erase(key);
        } else {
            body[object].erase(key);
        }
        return body;
    };
    struct Row {
        std::string_view name;
        std::string repo;
        Json body;
        int status;
        std::string expected;
    };
    const Json ok = callback_body("in_progress");
    const std::vector<Row> rows = {
        {"L1 is ignored", "org/one", ok, 200, R"({"ok":true,"status":"ignored"})"},
        {"an unlisted repo is ignored", "org/else", ok, 200, R"({"ok":true,"status":"ignored"})"},
        {"another case is ignored (case-sensitive)",
         "Org/Two",
         ok,
         200,
         R"({"ok":true,"status":"ignored"})"},
        {"an array", "org/two", Json::array({ok}), 500, R"({"detail":"Internal server error"})"},
        {"no delivery_id",
         "org/two",
         without(ok, "", "delivery_id"),
         400,
         R"({"detail":"callback body missing required field: 'delivery_id'"})"},
        {"no workflow",
         "org/two",
         without(ok, "", "workflow"),
         400,
         R"({"detail":"callback body missing required field: 'workflow'"})"},
        {"workflow a string",
         "org/two",
         edit(ok, "/workflow", "x"),
         400,
         R"({"detail":"callback body missing required field: string indices must be integers, not 'str'"})"},
        {"no status",
         "org/two",
         without(ok, "workflow", "status"),
         400,
         R"({"detail":"callback body missing required field: 'status'"})"},
        {"no run_id",
         "org/two",
         without(ok, "workflow", "run_id"),
         400,
         R"({"detail":"callback body missing required field: 'run_id'"})"},
        {"run_id null",
         "org/two",
         edit(ok, "/workflow/run_id", nullptr),
         400,
         R"({"detail":"callback body missing required field: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"})"},
        {"run_id not a number",
         "org/two",
         edit(ok, "/workflow/run_id", "abc"),
         500,
         R"({"detail":"Internal server error"})"},
        {"run_attempt not a number",
         "org/two",
         edit(ok, "/workflow/run_attempt", "1.5"),
         500,
         R"({"detail":"Internal server error"})"},
        {"no name",
         "org/two",
         without(ok, "workflow", "name"),
         400,
         R"({"detail":"callback body missing required field: 'name'"})"},
        {"no dispatch for the delivery",
         "org/two",
         edit(ok, "/delivery_id", "d-unknown"),
         400,
         R"({"detail":"callback rejected: no matching dispatch record"})"},
        {"an unknown status",
         "org/two",
         edit(ok, "/workflow/status", "queued"),
         400,
         R"({"detail":"unknown callback status: 'queued'"})"},
        {"completed before in_progress",
         "org/two",
         callback_body("completed"),
         400,
         R"({"detail":"callback rejected: invalid state transition delivery_id=d-1 repo=org/two status=completed"})"},
        {"in_progress", "org/two", ok, 200, R"({"ok":true,"status":"in_progress"})"},
        {"in_progress twice",
         "org/two",
         ok,
         400,
         R"({"detail":"callback rejected: invalid state transition delivery_id=d-1 repo=org/two status=in_progress"})"},
        {"run_id as an integer is the same run",
         "org/two",
         edit(ok, "/workflow/run_id", 42),
         400,
         R"({"detail":"callback rejected: invalid state transition delivery_id=d-1 repo=org/two status=in_progress"})"},
        {"completed",
         "org/two",
         callback_body("completed"),
         200,
         R"({"ok":true,"status":"completed"})"},
        {"completed twice",
         "org/two",
         callback_body("completed"),
         400,
         R"({"detail":"callback rejected: invalid state transition delivery_id=d-1 repo=org/two status=completed"})"},
        {"another job of the run has its own state",
         "org/two",
         callback_body("in_progress", "test"),
         200,
         R"({"ok":true,"status":"in_progress"})"},
        {"no job_name: saved, then HUD refuses",
         "org/two",
         without(ok, "workflow", "job_name"),
         400,
         R"({"detail":"HUD rejected callback: HTTP 400: Bad Request"})"},
        {"...so the retry is a repeat",
         "org/two",
         without(ok, "workflow", "job_name"),
         400,
         R"({"detail":"callback rejected: invalid state transition delivery_id=d-1 repo=org/two status=in_progress"})"},
        {"a nightly self-report must be completed",
         "org/two",
         Json{{"event_type", "nightly"},
              {"delivery_id", "abc123"},
              {"workflow", callback_body("in_progress")["workflow"]}},
         400,
         R"({"detail":"nightly/periodic callbacks must have status 'completed', got 'in_progress'"})"},
        {"a periodic one too, whatever its status's type",
         "org/two",
         Json{{"event_type", "periodic"},
              {"delivery_id", "abc123"},
              {"workflow", edit(callback_body("completed"), "/workflow/status", 1.5)["workflow"]}},
         400,
         R"({"detail":"nightly/periodic callbacks must have status 'completed', got 1.5"})"},
        {"a nightly one's fields are read first",
         "org/two",
         Json{
             {"event_type", "nightly"},
             {"delivery_id", "abc123"},
             {"workflow", without(callback_body("in_progress"), "workflow", "run_id")["workflow"]}},
         400,
         R"({"detail":"callback body missing required field: 'run_id'"})"},
        {"an event_type that is a list (unhashable)",
         "org/two",
         edit(ok, "/event_type", Json::array()),
         500,
         R"({"detail":"Internal server error"})"},
        {"a nightly self-report needs no dispatch",
         "org/two",
         Json{{"event_type", "nightly"},
              {"delivery_id", "abc123"},
              {"payload", {{"head_sha", "abc123"}}},
              {"workflow", callback_body("completed")["workflow"]}},
         200,
         R"({"ok":true,"status":"completed"})"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        const RelayAnswer answer = f.callback(row.repo, row.body);
        CHECK(answer.status == row.status);
        CHECK(answer.body == Json::parse(row.expected));
    }
    CHECK(f.store.count("callbacks") == static_cast<std::int64_t>(rows.size()));
}

TEST_CASE("relay callback: queue and execution times as HUD computes them") {
    RelayFixture f;
    f.webhook("pull_request", pr_body("opened"));
    f.clock.sleep(std::chrono::milliseconds(5'250));
    CHECK(f.callback("org/two", callback_body("in_progress")).status == 200);
    f.clock.sleep(std::chrono::seconds(90));
    CHECK(f.callback("org/two", callback_body("completed")).status == 200);
    const auto recent = f.store.recent(1);
    REQUIRE(recent.size() == 1);
    REQUIRE(recent[0].callbacks.size() == 2);
    CHECK(recent[0].callbacks[0].queue_time == doctest::Approx(5.25));
    CHECK_FALSE(recent[0].callbacks[0].execution_time);
    CHECK(recent[0].callbacks[1].execution_time == doctest::Approx(90.0));
    CHECK_FALSE(recent[0].callbacks[1].queue_time);
}

TEST_CASE("relay callback: a sliding 60 s rate limit per repository") {
    RelayFixture f(k_allowlist, 3);
    f.webhook("pull_request", pr_body("opened"));
    for (int i = 0; i < 3; ++i) {
        CHECK(f.callback("org/two", callback_body("in_progress", fmt::format("j{}", i))).status
              == 200);
    }
    const RelayAnswer limited = f.callback("org/two", callback_body("in_progress", "j3"));
    CHECK(limited.status == 429);
    CHECK(limited.body == Json{{"detail", "rate limit exceeded for org/two"}});
    CHECK(f.callback("org/four", callback_body("in_progress")).status == 200); // per repository
    // Retries while limited count too: three at 50 s keep the window full at 61 s.
    f.clock.sleep(std::chrono::seconds(50));
    for (int i = 0; i < 3; ++i) {
        CHECK(f.callback("org/two", callback_body("in_progress", "j3")).status == 429);
    }
    f.clock.sleep(std::chrono::seconds(11));
    CHECK(f.callback("org/two", callback_body("in_progress", "j3")).status == 429);
    f.clock.sleep(std::chrono::seconds(60));
    CHECK(f.callback("org/two", callback_body("in_progress", "j3")).status == 200);
    // Below L2 the relay answers before counting.
    for (int i = 0; i < 5; ++i) {
        CHECK(f.callback("org/one", callback_body("in_progress")).status == 200);
    }
}

TEST_CASE("relay check runs: L4 always, L3 with its label, named crcr/<repo>/<workflow>/<job>") {
    const auto names = [](crcr::RelayStore& store) {
        std::vector<std::string> out;
        for (const auto& status : store.recent(10)) {
            for (const auto& run : status.check_runs) {
                out.push_back(fmt::format("{} {} {}{}",
                                          run.name,
                                          run.status,
                                          run.conclusion,
                                          run.blocks_merge ? " blocks" : ""));
            }
            if (!out.empty()) {
                break;
            }
        }
        return out;
    };
    SUBCASE("without the label: L4 only") {
        RelayFixture f;
        f.webhook("pull_request", pr_body("opened"));
        for (const char* repo : {"org/two", "org/three", "org/four"}) {
            f.callback(repo, callback_body("in_progress"));
            f.callback(repo, callback_body("completed"));
        }
        CHECK(names(f.store)
              == std::vector<std::string>{"crcr/org/four/CI/build in_progress  blocks",
                                          "crcr/org/four/CI/build completed success blocks"});
    }
    SUBCASE("with the label on the pull request: L3 too") {
        RelayFixture f;
        f.webhook("pull_request", pr_body("opened", {"ciflow/crcr/npu"}));
        f.callback("org/three", callback_body("in_progress", "build", {"ciflow/crcr/npu"}));
        CHECK(names(f.store) == std::vector<std::string>{"crcr/org/three/CI/build in_progress "});
    }
    SUBCASE("the label added later: backfilled, and later callbacks create them") {
        RelayFixture f;
        f.webhook("pull_request", pr_body("opened"), "d-1");
        f.callback("org/three", callback_body("in_progress"));
        CHECK(f.store.count("check_runs") == 0);
        const RelayAnswer labeled =
            f.webhook("pull_request", pr_body("labeled", {"ciflow/crcr/npu"}), "d-2");
        CHECK(labeled.body
              == Json::parse(R"({"ok":true,"created_check_runs":["org/three/build"]})"));
        CHECK(f.store.count("check_runs") == 1);
        // The echoed payload still has no label: the per-commit flag decides.
        f.callback("org/three", callback_body("completed"));
        CHECK(f.store.count("check_runs") == 2);
    }
}

TEST_CASE("relay check runs: recorded after the state step (a refused callback makes none)") {
    RelayFixture f;
    f.webhook("pull_request", pr_body("opened"));
    // Each callback twice: the repeats are refused before any check run is made.
    for (const char* status : {"in_progress", "in_progress", "completed", "completed"}) {
        f.callback("org/four", callback_body(status));
    }
    CHECK(f.store.count("check_runs") == 2);
    // A callback the state machine refuses (no in_progress before) records no job either.
    f.callback("org/three", callback_body("completed"));
    CHECK(f.store.jobs("abc123", "org/three").empty());
    // An echoed pull request the relay cannot read fails it (500), after the state step.
    Json broken = callback_body("in_progress", "test");
    broken["payload"]["pull_request"]["head"] = "abc123";
    CHECK(f.callback("org/four", broken).status == 500);
    CHECK(f.callback("org/four", broken).body["detail"]
          == "callback rejected: invalid state transition delivery_id=d-1 repo=org/four "
             "status=in_progress");
    Json labels = callback_body("in_progress", "lint");
    labels["payload"]["pull_request"]["labels"] = "ciflow/crcr/npu";
    CHECK(f.callback("org/four", labels).status == 500);
    CHECK(f.store.jobs("abc123", "org/four").size() == 2); // remembered before the labels fail
    CHECK(f.store.count("check_runs") == 2);
}

TEST_CASE("relay callback: run ids as Python's int() reads them") {
    struct Row {
        std::string_view name;
        Json run_id;
        int status;
        std::string run; // the run id the state and check run carry
    };
    const std::vector<Row> rows = {
        {"underscores between digits and spaces around", " 91_17 ", 200, "9117"},
        {"more digits than 64 bits hold",
         "99999999999999999999999",
         200,
         "99999999999999999999999"},
        {"leading zeros", "0042", 200, "42"},
        {"a float is truncated", 42.9, 200, "42"},
        {"Arabic-Indic digits", "\u0664\u0662", 200, "42"},
        {"two underscores", "1__2", 500, ""},
        {"a leading underscore", "_12", 500, ""},
        {"more than 4300 digits", std::string(4301, '1'), 500, ""},
        {"run id 0 is the dispatch record's", "0", 400, ""},
        {"-0 too", "-0", 400, ""},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        RelayFixture f;
        f.webhook("pull_request", pr_body("opened"));
        Json body = callback_body("in_progress");
        body["workflow"]["run_id"] = row.run_id;
        const RelayAnswer answer = f.callback("org/four", body);
        CHECK(answer.status == row.status);
        if (row.status != 200) {
            CHECK(f.store.count("check_runs") == 0);
            continue;
        }
        const auto recent = f.store.recent(1);
        REQUIRE(recent.size() == 1);
        REQUIRE(recent[0].callbacks.size() == 1);
        CHECK(recent[0].callbacks[0].run_id == row.run);
        REQUIRE(recent[0].check_runs.size() == 1);
        CHECK(recent[0].check_runs[0].details_url
              == "https://github.com/org/four/actions/runs/" + row.run);
        // The same run however it is written: the second in_progress is a repeat.
        body["workflow"]["run_id"] = row.run;
        CHECK(f.callback("org/four", body).status == 400);
    }
}

TEST_CASE("relay webhook: check_suite rerequested re-runs each run of the suite once") {
    RelayFixture f;
    f.webhook("pull_request", pr_body("opened", {"ciflow/crcr/npu"}));
    for (const char* job : {"build", "test"}) { // two jobs of run 42
        f.callback("org/four", callback_body("in_progress", job));
        f.callback("org/three", callback_body("in_progress", job, {"ciflow/crcr/npu"}));
    }
    Json other_run = callback_body("in_progress", "lint");
    other_run["workflow"]["run_id"] = "43";
    f.callback("org/four", other_run);
    CHECK(f.store.count("check_runs") == 5);
    const std::string body =
        R"({"action":"rerequested","check_suite":{"id":9,"head_sha":"abc123"},"repository":{"full_name":"pytorch/pytorch"}})";
    const RelayAnswer answer = f.webhook("check_suite", body, "d-2");
    CHECK(answer.status == 200);
    CHECK(answer.body == Json::parse(R"({"ok":true,"rerun":["org/four","org/three","org/four"]})"));
    SUBCASE("a repository no longer at L3 is left out") {
        f.relay.set_allowlist(
            crcr::check_allowlist("L2:\n  - org/three\nL4:\n  - org/four\n").allowlist);
        CHECK(f.webhook("check_suite", body, "d-3").body
              == Json::parse(R"({"ok":true,"rerun":["org/four","org/four"]})"));
    }
}

TEST_CASE("relay store: history survives a restart, the state machine is compare-and-set") {
    const crcr::test::TempDir dir;
    const std::string path = dir.path("state/relay.db");
    {
        crcr::RelayStore store(path);
        const crcr::StateKey key{.delivery_id = "d", .repo = "o/r"};
        CHECK(store.advance(key, std::nullopt, {.state = "DISPATCHED", .at = 1}));
        CHECK_FALSE(store.advance(key, std::nullopt, {.state = "DISPATCHED", .at = 2}));
        store.add_delivery({.delivery_id = "d", .event = "push", .status = 200, .answer = "{}"});
    }
    crcr::RelayStore again(path);
    CHECK(again.count("deliveries") == 1);
    CHECK(again.state({.delivery_id = "d", .repo = "o/r"})->state == "DISPATCHED");
    crcr::RelayStore reader(path, /*read_only=*/true);
    CHECK(reader.recent(5).size() == 1);
    CHECK_THROWS_AS(crcr::RelayStore(dir.path("missing.db"), true), crcr::Error);
    const std::string junk =
        dir.write("junk.db", "this is not sqlite, but long enough to be read as a header");
    for (const bool read_only : {false, true}) {
        CAPTURE(read_only);
        // The file named once, with SQLite's reason.
        CHECK_THROWS_WITH_AS(
            crcr::RelayStore(junk, read_only),
            ("'" + junk + "' is not a crcr relay state: file is not a database").c_str(),
            crcr::Error);
    }
}

TEST_CASE("AllowlistFile: re-read when it changes, a broken version keeps the last good one") {
    const crcr::test::TempDir dir;
    const std::string path = dir.write("allowlist.yml", "L1:\n  - org/one\n");
    crcr::AllowlistFile file(path);
    std::vector<std::string> logs;
    const crcr::Log log = [&](const crcr::LogEntry& e) {
        logs.push_back(e.message + (e.fields.size() > 1 ? " " + e.fields[1].second : ""));
    };
    CHECK_FALSE(file.refresh(log));
    dir.write("allowlist.yml", "L1:\n  - org/one\nL2:\n  - org/two\n");
    const auto fresh = file.refresh(log);
    REQUIRE(fresh);
    CHECK(fresh->entries.size() == 2);
    dir.write("allowlist.yml", "L1:\n  - org/one\n  - org/one\n");
    CHECK_FALSE(file.refresh(log));
    CHECK(file.current().entries.size() == 2);
    REQUIRE(logs.size() == 2);
    CHECK(logs[1].starts_with("allowlist has errors; keeping the last good one " + path + ":3:"));
    dir.write("allowlist.yml", "L1: [");
    CHECK_THROWS_AS(crcr::AllowlistFile{path}, crcr::Error);
}

TEST_CASE("relay callback: a minimal body, as a shell script posts it") {
    RelayFixture f;
    const Json body = Json::parse(
        R"({"delivery_id":"x","workflow":{"status":"in_progress","run_id":"1","name":"CI","job_name":"j","check_run_id":"1"}})");
    const RelayAnswer answer = f.callback("org/two", body);
    CHECK(answer.status == 400);
    CHECK(answer.body == Json{{"detail", "callback rejected: no matching dispatch record"}});
}

TEST_CASE("relay: any field of any type gets an answer, never an exception") {
    const std::vector<Json> values = {
        nullptr, 1, 2.5, true, "", "x", Json::array(), Json::object()};
    SUBCASE("callbacks") {
        const Json valid = callback_body("in_progress", "build", {"ciflow/crcr/npu"});
        const std::vector<std::string> pointers = {"/event_type",
                                                   "/delivery_id",
                                                   "/payload",
                                                   "/payload/pull_request",
                                                   "/payload/pull_request/head",
                                                   "/payload/pull_request/head/sha",
                                                   "/payload/pull_request/labels",
                                                   "/workflow",
                                                   "/workflow/status",
                                                   "/workflow/conclusion",
                                                   "/workflow/name",
                                                   "/workflow/job_name",
                                                   "/workflow/run_id",
                                                   "/workflow/run_attempt",
                                                   "/workflow/check_run_id"};
        for (const char* repo : {"org/two", "org/three", "org/four"}) {
            RelayFixture f(k_allowlist, 100'000);
            f.webhook("pull_request", pr_body("opened", {"ciflow/crcr/npu"}));
            for (const std::string& pointer : pointers) {
                for (const Json& value : values) {
                    Json body = valid;
                    body[Json::json_pointer(pointer)] = value;
                    CAPTURE(body.dump());
                    RelayAnswer answer;
                    CHECK_NOTHROW(answer = f.callback(repo, body));
                    CHECK((answer.status == 200 || answer.status == 400 || answer.status == 500));
                }
            }
        }
    }
    SUBCASE("webhooks") {
        const Json valid = Json::parse(pr_body("labeled", {"ciflow/crcr/npu"}));
        const std::vector<std::string> pointers = {"/action",
                                                   "/repository",
                                                   "/repository/full_name",
                                                   "/pull_request",
                                                   "/pull_request/number",
                                                   "/pull_request/head",
                                                   "/pull_request/head/sha",
                                                   "/pull_request/labels",
                                                   "/label",
                                                   "/label/name"};
        RelayFixture f;
        int delivery = 0;
        for (const std::string& pointer : pointers) {
            for (const Json& value : values) {
                for (const char* action : {"opened", "labeled"}) {
                    Json body = valid;
                    body["action"] = action;
                    body[Json::json_pointer(pointer)] = value;
                    CAPTURE(body.dump());
                    RelayAnswer answer;
                    CHECK_NOTHROW(answer = f.webhook(
                                      "pull_request", body.dump(), std::to_string(++delivery)));
                    CHECK((answer.status == 200 || answer.status == 500));
                }
            }
        }
    }
}
