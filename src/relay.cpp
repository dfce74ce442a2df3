#include "crcr/relay.hpp"

#include "crcr/dispatch.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"
#include "crcr/plan.hpp"
#include "crcr/python_value.hpp"
#include "crcr/signature.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <set>
#include <thread>
#include <variant>

namespace crcr {

namespace {

RelayAnswer detail(int status, Json message) {
    return RelayAnswer{.status = status, .body = Json{{"detail", std::move(message)}}};
}

RelayAnswer ignored() {
    return RelayAnswer{.status = 200, .body = Json{{"ignored", true}}};
}

const RelayAnswer k_internal_error{.status = 500,
                                   .body = Json{{"detail", "Internal server error"}}};

// The string member `key` of `object`, or "" when it is absent or not a string.
std::string string_member(const Json& object, const char* key) {
    const auto found = object.find(key);
    return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::string text_at(const Json& value, const Json::json_pointer& pointer) {
    if (!value.contains(pointer)) {
        return {};
    }
    const Json& found = value.at(pointer);
    return found.is_string() ? found.get<std::string>() : std::string();
}

// `(value.get(key) or {})`: the member, or {} when it is absent or false; nothing when `value`
// is not a dict (the relay's AttributeError, a 500).
std::optional<Json> member_or_empty(const Json& value, const char* key) {
    if (!value.is_object()) {
        return std::nullopt;
    }
    const auto found = value.find(key);
    return found == value.end() || python_falsy(*found) ? Json::object() : *found;
}

// `(body.get("payload") or {}).get("pull_request") or {}`: the pull request a callback echoes.
std::optional<Json> echoed_pull_request(const Json& body) {
    const std::optional<Json> payload = member_or_empty(body, "payload");
    return payload ? member_or_empty(*payload, "pull_request") : std::nullopt;
}

// The label names of a pull request, as the relay's set of `label.get("name", "")` reads them
// (names that are not strings never match a label); nothing where that fails (500).
std::optional<std::vector<std::string>> label_names(const Json& pull_request) {
    const std::optional<Json> labels = member_or_empty(pull_request, "labels");
    if (!labels) {
        return std::nullopt;
    }
    std::vector<std::string> names;
    if (labels->is_object()) {
        return labels->empty() ? std::optional(names) : std::nullopt;
    }
    if (!labels->is_array()) {
        return std::nullopt; // a string's characters have no .get; a number is not iterable
    }
    for (const Json& label : *labels) {
        if (!label.is_object()) {
            return std::nullopt;
        }
        const Json name = label.value("name", Json(""));
        if (name.is_array() || name.is_object()) {
            return std::nullopt; // unhashable
        }
        if (name.is_string()) {
            names.push_back(name.get<std::string>());
        }
    }
    return names;
}

// The downstream repository of a check run the relay named crcr/<owner>/<repo>/<workflow>/<job>,
// or "" for any other name.
std::string downstream_repo_of(std::string_view name) {
    if (!name.starts_with("crcr/")) {
        return {};
    }
    name.remove_prefix(5);
    const std::size_t owner_end = name.find('/');
    if (owner_end == std::string_view::npos) {
        return {};
    }
    const std::size_t repo_end = name.find('/', owner_end + 1);
    if (owner_end == 0 || repo_end == std::string_view::npos || repo_end == owner_end + 1) {
        return {};
    }
    return std::string(name.substr(0, repo_end));
}

// The log level of an answer.
std::string level_of(int status) {
    return status >= 500 ? "error" : status >= 400 ? "warning" : "info";
}

double round3(double seconds) {
    return std::round(seconds * 1000.0) / 1000.0;
}

// end - start rounded to milliseconds, never negative (HUD's queue and execution times).
double safe_delta(double start, double end) {
    return std::max(0.0, round3(end - start));
}

} // namespace

Dispatcher github_dispatcher(GitHubApi& api, GitHubAuth& auth, Log log) {
    auto mutex = std::make_shared<std::mutex>();
    return [&api, &auth, log = std::move(log), mutex](const std::string& repo, const Json& body) {
        const std::lock_guard lock(*mutex);
        try {
            const std::string token = auth.token_for(repo);
            const HttpResponse response = api.send(api.request(
                "POST", fmt::format("/repos/{}/dispatches", repo), token, json_text(body)));
            if (response.status / 100 != 2) {
                log(LogEntry{.level = "warning",
                             .message = "GitHub refused the dispatch; production counts it as "
                                        "dispatched all the same",
                             .fields = {{"repo", repo},
                                        {"status", std::to_string(response.status)},
                                        {"error", github_error_message(response)}}});
            }
            return DispatchResult{.ok = true, .github_status = response.status};
        } catch (const Error& e) {
            return DispatchResult{.ok = false, .error = e.what()};
        }
    };
}

// Threads that run dispatches, started once (a thread per dispatch would cost more than a
// recorded dispatch).
class Relay::Pool {
public:
    explicit Pool(std::size_t size) {
        for (std::size_t i = 0; i < size; ++i) {
            m_threads.emplace_back([this] { run(); });
        }
    }
    ~Pool() {
        {
            const std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_ready.notify_all();
        for (std::thread& thread : m_threads) {
            thread.join();
        }
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Runs `task(i)` for every i below `count` on the pool; returns when all have run.
    void run_all(std::size_t count, const std::function<void(std::size_t)>& task) {
        std::mutex done_mutex;
        std::condition_variable done_cv;
        std::size_t remaining = count;
        {
            const std::lock_guard lock(m_mutex);
            for (std::size_t i = 0; i < count; ++i) {
                m_queue.emplace_back([&, i] {
                    task(i);
                    const std::lock_guard done_lock(done_mutex);
                    if (--remaining == 0) {
                        done_cv.notify_one();
                    }
                });
            }
        }
        m_ready.notify_all();
        std::unique_lock lock(done_mutex);
        done_cv.wait(lock, [&] { return remaining == 0; });
    }

private:
    void run() {
        for (;;) {
            std::unique_lock lock(m_mutex);
            m_ready.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) {
                return;
            }
            std::function<void()> job = std::move(m_queue.front());
            m_queue.pop_front();
            lock.unlock();
            job();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<std::function<void()>> m_queue;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

// A verified token's repository, or the relay's answer refusing it.
struct Relay::Token {
    std::string repo;
    std::optional<RelayAnswer> refusal;
};

Relay::Relay(RelaySettings settings,
             Allowlist allowlist,
             Jwks jwks,
             RelayStore& store,
             Dispatcher dispatcher,
             Clock now,
             Log log)
    : m_settings(std::move(settings)), m_jwks(std::move(jwks)), m_store(store),
      m_dispatcher(std::move(dispatcher)), m_now(std::move(now)), m_log(std::move(log)),
      m_allowlist(std::make_shared<const Allowlist>(std::move(allowlist))),
      m_pool(std::make_unique<Pool>(std::max<std::size_t>(m_settings.dispatch_workers, 1))) {}

Relay::~Relay() = default;

void Relay::set_allowlist(Allowlist allowlist) {
    auto fresh = std::make_shared<const Allowlist>(std::move(allowlist));
    const std::lock_guard lock(m_mutex);
    m_allowlist = std::move(fresh);
}

double Relay::seconds_now() const {
    return std::chrono::duration<double>(m_now().time_since_epoch()).count();
}

std::string json_text(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

RelayAnswer Relay::webhook(std::string_view event,
                           std::string_view delivery_id,
                           const std::optional<std::string>& signature,
                           const std::string& body) {
    DeliveryRow row{.delivery_id = std::string(delivery_id),
                    .event = std::string(event),
                    .received_at = seconds_now()};
    const auto answer = [&] {
        constexpr std::array<std::string_view, 4> k_events = {
            "pull_request", "push", "check_run", "check_suite"};
        if (std::find(k_events.begin(), k_events.end(), event) == k_events.end()) {
            row.decision = "ignored before the signature check: not an event the relay handles";
            return ignored();
        }
        if (!signature || signature->empty()) {
            row.decision = "no X-Hub-Signature-256";
            return detail(400, "No signature");
        }
        if (!signature->starts_with("sha256=")
            || verify_signature(m_settings.secret, body, *signature) != SignatureCheck::match) {
            row.decision = "X-Hub-Signature-256 does not match the body and the secret";
            return detail(401, "Bad signature");
        }
        Json payload = body.empty() ? Json::object() : Json::parse(body, nullptr, false);
        if (payload.is_discarded()) {
            row.decision = "the body is not JSON";
            return detail(400, "Invalid JSON body");
        }
        if (!payload.is_object()) {
            row.decision = "the body is JSON but not an object (the relay fails on it)";
            return k_internal_error;
        }
        row.action = payload.contains("action") && payload["action"].is_string()
                         ? payload["action"].get<std::string>()
                         : std::string();
        row.head_sha = text_at(payload, Json::json_pointer("/pull_request/head/sha"));
        // `(payload.get("repository") or {})`: a false value (null, "", 0, [], {}) is {}.
        Json repository = payload.value("repository", Json());
        if (python_falsy(repository)) {
            repository = Json::object();
        }
        if (!repository.is_object()) {
            row.decision = "'repository' is not an object (the relay fails on it)";
            return k_internal_error;
        }
        const Json full_name =
            repository.is_object() ? repository.value("full_name", Json("")) : Json("");
        if (!full_name.is_string()) {
            row.decision = "'repository.full_name' is not a string (the relay fails on it)";
            return k_internal_error;
        }
        if (to_lower_ascii(full_name.get<std::string>()) != to_lower_ascii(m_settings.upstream)) {
            row.decision = fmt::format(
                "'{}' is not the upstream '{}'", full_name.get<std::string>(), m_settings.upstream);
            return ignored();
        }
        std::shared_ptr<const Allowlist> allowlist;
        {
            const std::lock_guard lock(m_mutex);
            allowlist = m_allowlist;
        }
        if (event == "pull_request") {
            // The relay reads `action` (into a set: a list or a dict is unhashable) and a
            // labeled delivery's `label.name` (a string method is called on it).
            const Json action = payload.value("action", Json(""));
            const Json label = *member_or_empty(payload, "label");
            if (action == "labeled"
                    ? !label.is_object() || !label.value("name", Json("")).is_string()
                    : action.is_array() || action.is_object()) {
                row.decision = "'action' or 'label.name' has a shape the relay fails on";
                return k_internal_error;
            }
        }
        const Route route = route_webhook(event, payload, m_settings.upstream);
        row.decision = route.reason;
        switch (route.kind) {
        case Route::Kind::dispatch:
            return dispatch(event, delivery_id, payload, *allowlist, row);
        case Route::Kind::backfill:
            return backfill(payload, *allowlist);
        case Route::Kind::rerun:
            return event == "check_run" ? rerun_check_run(payload, *allowlist, row)
                                        : rerun_check_suite(payload, *allowlist, row);
        case Route::Kind::ignored:
            break;
        }
        return ignored();
    }();
    row.status = answer.status;
    row.answer = json_text(answer.body);
    m_store.add_delivery(row);
    m_log(LogEntry{.level = level_of(answer.status),
                   .message = "webhook",
                   .fields = {{"delivery", row.delivery_id},
                              {"event", row.event},
                              {"action", row.action},
                              {"status", std::to_string(answer.status)},
                              {"decision", row.decision}}});
    return answer;
}

RelayAnswer Relay::dispatch(std::string_view event,
                            std::string_view delivery_id,
                            const Json& payload,
                            const Allowlist& allowlist,
                            DeliveryRow& delivery) {
    const Plan plan = plan_event(allowlist, event, payload, m_settings.upstream);
    std::vector<const PlanRow*> targets;
    for (const PlanRow& row : plan.rows) {
        if (row.dispatched) {
            targets.push_back(&row);
        }
    }
    std::sort(targets.begin(), targets.end(), [](const PlanRow* a, const PlanRow* b) {
        return a->repo < b->repo;
    });
    if (targets.empty()) {
        m_log(LogEntry{.level = "info", .message = "allowlist is empty, nothing to dispatch"});
        return RelayAnswer{
            .status = 200,
            .body = Json{{"ok", true}, {"dispatched", Json::array()}, {"failed", Json::array()}}};
    }
    // The labels are read before any dispatch, from `payload.pull_request` whatever the event.
    const std::optional<Json> pull_request = member_or_empty(payload, "pull_request");
    if (!label_names(*pull_request)) {
        delivery.decision = "'pull_request' or its labels have a shape the relay fails on";
        return k_internal_error;
    }
    const Json body = dispatch_body(event, delivery_id, payload);
    const std::size_t bytes = json_text(body).size();
    const std::string head_sha = text_at(payload, Json::json_pointer("/pull_request/head/sha"));
    // The dispatches run on the pool; their records are written together, in one transaction,
    // once all are done (the DISPATCHED state is a compare-and-set there: a redelivery fails).
    std::vector<DispatchRow> rows(targets.size());
    m_pool->run_all(targets.size(), [&](std::size_t i) {
        DispatchResult result;
        try {
            result = m_dispatcher(targets[i]->repo, body);
        } catch (const std::exception& e) {
            result = DispatchResult{.ok = false, .error = e.what()};
        }
        rows[i] = DispatchRow{.delivery_id = std::string(delivery_id),
                              .repo = targets[i]->repo,
                              .level = std::string(to_string(targets[i]->level)),
                              .at = seconds_now(),
                              .ok = result.ok,
                              .error = result.ok ? "" : "GitHub dispatch failed: " + result.error,
                              .github_status = result.github_status,
                              .bytes = bytes};
    });
    m_store.add_dispatches(rows, [](DispatchRow& row) {
        row.ok = false;
        row.error = fmt::format(
            "GitHub dispatch failed: rejecting duplicate DISPATCHED key=crcr:state:{}:{}:0:0",
            row.delivery_id,
            row.repo);
    });
    Json dispatched = Json::array();
    Json failed = Json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const DispatchRow& row = rows[i];
        if (row.ok && targets[i]->check_run && !head_sha.empty()) {
            m_store.want_check_run(head_sha, row.repo);
        }
        m_log(LogEntry{.level = row.ok ? "info" : "warning",
                       .message = row.ok ? "dispatch succeeded" : "dispatch failed",
                       .fields = {{"delivery", row.delivery_id},
                                  {"event", std::string(event)},
                                  {"repo", row.repo},
                                  {"error", row.error}}});
        if (row.ok) {
            dispatched.push_back(Json{{"repo", row.repo}});
        } else {
            failed.push_back(Json{{"repo", row.repo}, {"error", row.error}});
        }
    }
    if (dispatched.empty()) {
        return detail(502,
                      Json{{"message", "No downstream dispatch succeeded"}, {"failed", failed}});
    }
    return RelayAnswer{.status = 200,
                       .body = Json{{"ok", true}, {"dispatched", dispatched}, {"failed", failed}}};
}

namespace {

// The level of `repo`, compared as written (the relay's get_repo_level); nothing when unlisted.
std::optional<Level> level_of_repo(const Allowlist& allowlist, const std::string& repo) {
    const auto found =
        std::find_if(allowlist.entries.begin(),
                     allowlist.entries.end(),
                     [&](const AllowlistEntry& entry) { return entry.repo == repo; });
    return found == allowlist.entries.end() ? std::nullopt : std::optional(found->level);
}

} // namespace

RelayAnswer
Relay::rerun_check_run(const Json& payload, const Allowlist& allowlist, DeliveryRow& row) {
    // The relay's reads, in its order; a value of the wrong shape fails it (500).
    const std::optional<Json> check_run = member_or_empty(payload, "check_run");
    if (!check_run || !check_run->is_object()) {
        row.decision = "'check_run' is not an object (the relay fails on it)";
        return k_internal_error;
    }
    row.head_sha = string_member(*check_run, "head_sha");
    const Json name = check_run->value("name", Json(""));
    const std::optional<Json> external_id = member_or_empty(*check_run, "external_id");
    const bool external_text = external_id->is_string() || python_falsy(*external_id);
    if (!external_text || !name.is_string()) {
        row.decision =
            "the check run's name or external_id is not a string (the relay fails on it)";
        return k_internal_error;
    }
    const std::string external = external_id->is_string() ? external_id->get<std::string>() : "";
    const std::string run_id = external.substr(0, external.find(':'));
    const std::string repo = downstream_repo_of(name.get_ref<const std::string&>());
    if (repo.empty() || run_id.empty()) {
        row.decision = "the check run is not one the relay created (crcr/<owner>/<repo>/... with "
                       "the run id in external_id)";
        return RelayAnswer{.status = 200,
                           .body = Json{{"ignored", true}, {"reason", "not a crcr check run"}}};
    }
    const std::optional<Level> level = level_of_repo(allowlist, repo);
    if (!level || *level < Level::l3) {
        row.decision = fmt::format("'{}' is not at L3 or L4", repo);
        return RelayAnswer{.status = 200,
                           .body = Json{{"ignored", true}, {"reason", "downstream repo not L3+"}}};
    }
    const PythonInt run = python_int(Json(run_id));
    if (!run.value) {
        row.decision = "the run id in external_id is not an integer";
        return detail(502,
                      Json{{"message", "failed to rerun downstream run"},
                           {"repo", repo},
                           {"error", run.value_error}});
    }
    row.decision =
        fmt::format("production re-runs the failed jobs of {}'s run {}; the emulator records it",
                    repo,
                    *run.value);
    return RelayAnswer{.status = 200, .body = Json{{"ok", true}, {"rerun", Json::array({repo})}}};
}

RelayAnswer
Relay::rerun_check_suite(const Json& payload, const Allowlist& allowlist, DeliveryRow& row) {
    const std::optional<Json> check_suite = member_or_empty(payload, "check_suite");
    if (!check_suite || !check_suite->is_object()) {
        row.decision = "'check_suite' is not an object (the relay fails on it)";
        return k_internal_error;
    }
    if (python_falsy(check_suite->value("id", Json()))) {
        row.decision = "the check suite has no id";
        return RelayAnswer{.status = 200,
                           .body = Json{{"ignored", true}, {"reason", "missing check_suite id"}}};
    }
    // The suite's check runs: those recorded for its commit, the latest of each name (as GitHub
    // lists them), one run-level re-run per distinct (repository, run) at L3 or L4.
    row.head_sha = string_member(*check_suite, "head_sha");
    std::vector<CheckRunRow> latest;
    for (CheckRunRow& check_run : m_store.check_runs(row.head_sha)) {
        const auto same = std::find_if(latest.begin(), latest.end(), [&](const CheckRunRow& r) {
            return r.name == check_run.name;
        });
        if (same != latest.end()) {
            *same = std::move(check_run);
        } else {
            latest.push_back(std::move(check_run));
        }
    }
    std::set<std::string> seen;
    Json rerun = Json::array();
    for (const CheckRunRow& check_run : latest) {
        const std::string repo = downstream_repo_of(check_run.name);
        const std::string run_id =
            check_run.details_url.substr(check_run.details_url.rfind('/') + 1);
        const std::optional<Level> level = level_of_repo(allowlist, repo);
        if (repo.empty() || !seen.insert(repo + ":" + run_id).second || !level
            || *level < Level::l3) {
            continue;
        }
        rerun.push_back(repo);
    }
    row.decision = fmt::format(
        "production re-runs every job of {} run(s) of the suite; the emulator records it",
        rerun.size());
    return RelayAnswer{.status = 200, .body = Json{{"ok", true}, {"rerun", rerun}}};
}

RelayAnswer Relay::backfill(const Json& payload, const Allowlist& allowlist) {
    const std::string label = text_at(payload, Json::json_pointer("/label/name"));
    const std::string device = label.substr(std::string_view("ciflow/crcr/").size());
    std::vector<const AllowlistEntry*> repos;
    for (const AllowlistEntry& entry : allowlist.entries) {
        if (entry.level == Level::l3 && entry.device == device) {
            repos.push_back(&entry);
        }
    }
    if (repos.empty()) {
        return RelayAnswer{.status = 200,
                           .body = Json{{"ok", true}, {"created_check_runs", Json::array()}}};
    }
    // `pr = payload.get("pull_request") or {}`, then its number and head sha (500 on a shape its
    // Python fails on).
    const std::optional<Json> pr = member_or_empty(payload, "pull_request");
    const std::optional<Json> head = pr ? member_or_empty(*pr, "head") : std::nullopt;
    if (!head || !head->is_object()) {
        return k_internal_error;
    }
    const Json head_sha = head->value("sha", Json(""));
    if (python_falsy(pr->value("number", Json())) || python_falsy(head_sha)) {
        return RelayAnswer{.status = 200,
                           .body = Json{{"ignored", true}, {"reason", "missing pr context"}}};
    }
    const std::string sha = python_str(head_sha);
    Json created = Json::array();
    for (const AllowlistEntry* entry : repos) {
        m_store.want_check_run(sha, entry->repo);
        for (const JobRow& job : m_store.jobs(sha, entry->repo)) {
            // GitHub refuses a head_sha that is not a string: that job's check run is not made.
            if ((job.status != "in_progress" && job.status != "completed")
                || !head_sha.is_string()) {
                continue;
            }
            m_store.add_check_run(
                CheckRunRow{.at = seconds_now(),
                            .head_sha = sha,
                            .repo = entry->repo,
                            .name = check_run_name(entry->repo, job.workflow, job.job_name),
                            .status = job.status,
                            .conclusion = job.conclusion,
                            .details_url = job.details_url});
            created.push_back(entry->repo + "/" + job.job_name);
        }
    }
    return RelayAnswer{.status = 200, .body = Json{{"ok", true}, {"created_check_runs", created}}};
}

Relay::Token Relay::verify_token(std::string_view authorization) const {
    const auto refuse = [](int status, std::string message) {
        return Token{.refusal = detail(status, std::move(message))};
    };
    if (authorization.empty()) {
        return refuse(401, "Missing authorization token");
    }
    std::string token(authorization);
    if (to_lower_ascii(token.substr(0, 7)) == "bearer ") {
        token.erase(0, 7);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
            token.erase(0, 1);
        }
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
            token.pop_back();
        }
    }
    DecodedJwt jwt;
    try {
        jwt = decode_jwt(token);
    } catch (const Error&) {
        return refuse(401, "Unsupported OIDC issuer: None");
    }
    const Json issuer_claim = jwt.claims.value("iss", nlohmann::json());
    if (issuer_claim.is_array() || issuer_claim.is_object()) {
        return refuse(401, "Invalid authorization token"); // unhashable: a TypeError, caught
    }
    const std::string issuer = issuer_claim.is_string() ? issuer_claim.get<std::string>() : "";
    if (issuer != k_github_oidc_issuer && issuer != k_buildkite_oidc_issuer) {
        return refuse(401, fmt::format("Unsupported OIDC issuer: {}", python_str(issuer_claim)));
    }
    // PyJWT refuses a `kid` or `alg` that is not a string like any other bad token (401).
    const Json header(jwt.header);
    const RsaPublicKey* key = m_jwks.find(string_member(header, "kid"));
    const double now = seconds_now();
    const auto number = [&](const char* name) -> std::optional<double> {
        if (!jwt.claims.contains(name) || !jwt.claims[name].is_number()) {
            return std::nullopt;
        }
        return jwt.claims[name].get<double>();
    };
    const bool audience_ok = has_audience(jwt.claims, m_settings.audience);
    const bool times_ok =
        (!jwt.claims.contains("exp") || (number("exp") && *number("exp") > now))
        && (!jwt.claims.contains("nbf") || (number("nbf") && *number("nbf") <= now))
        && (!jwt.claims.contains("iat") || number("iat"));
    if (key == nullptr || string_member(header, "alg") != "RS256"
        || !key->verify_rs256(jwt.signing_input, jwt.signature) || !audience_ok || !times_ok) {
        return refuse(401, "Invalid authorization token");
    }
    if (issuer == k_buildkite_oidc_issuer) {
        // No pipeline is registered with the emulator.
        const Json org(jwt.claims.value("organization_id", nlohmann::json("")));
        const Json pipeline(jwt.claims.value("pipeline_id", nlohmann::json("")));
        if (python_falsy(org) || python_falsy(pipeline)) {
            return refuse(401, "Buildkite OIDC token missing 'organization_id' or 'pipeline_id'");
        }
        return refuse(403,
                      fmt::format("Buildkite pipeline {}/{} is not registered with CRCR",
                                  python_str(org),
                                  python_str(pipeline)));
    }
    // Any true value is the repository (one that is not a string matches no allowlist entry).
    const Json repository(jwt.claims.value("repository", nlohmann::json()));
    if (python_falsy(repository)) {
        return refuse(401, "GitHub OIDC token missing 'repository' claim");
    }
    return Token{.repo = python_str(repository)};
}

bool Relay::over_rate_limit(const std::string& repo) {
    const std::lock_guard lock(m_mutex);
    auto& window = m_windows[repo];
    const auto now = m_now();
    while (!window.empty() && now - window.front() >= std::chrono::seconds(60)) {
        window.pop_front();
    }
    window.push_back(now);
    return static_cast<int>(window.size()) > m_settings.rate_limit;
}

RelayAnswer Relay::callback(std::string_view authorization, const std::string& body) {
    CallbackRow row{.at = seconds_now()};
    const RelayAnswer answer = [&] {
        const Json parsed = body.empty() ? Json::object() : Json::parse(body, nullptr, false);
        if (parsed.is_discarded()) {
            return detail(400, "Invalid JSON body");
        }
        Token token = verify_token(authorization);
        if (token.refusal) {
            return *token.refusal;
        }
        row.repo = token.repo;
        return handle_callback(token.repo, parsed, row);
    }();
    row.answer_status = answer.status;
    row.answer = json_text(answer.body);
    m_store.add_callback(row);
    m_log(LogEntry{.level = level_of(answer.status),
                   .message = "callback",
                   .fields = {{"repo", row.repo},
                              {"delivery", row.delivery_id},
                              {"status", row.status},
                              {"job", row.job_name},
                              {"answer", std::to_string(answer.status)},
                              {"detail", answer.status == 200 ? std::string() : row.answer}}});
    return answer;
}

RelayAnswer Relay::handle_callback(const std::string& repo, const Json& body, CallbackRow& row) {
    std::shared_ptr<const Allowlist> allowlist;
    {
        const std::lock_guard lock(m_mutex);
        allowlist = m_allowlist;
    }
    // The relay compares names as written (GitHub's case is in the token).
    const auto found = std::find_if(allowlist->entries.begin(),
                                    allowlist->entries.end(),
                                    [&](const AllowlistEntry& e) { return e.repo == repo; });
    if (found == allowlist->entries.end() || found->level < Level::l2) {
        const auto folded = std::find_if(
            allowlist->entries.begin(), allowlist->entries.end(), [&](const AllowlistEntry& e) {
                return to_lower_ascii(e.repo) == to_lower_ascii(repo);
            });
        if (found == allowlist->entries.end() && folded != allowlist->entries.end()) {
            m_log(LogEntry{.level = "warning",
                           .message = "callback ignored: the allowlist spells the repository "
                                      "differently (the relay compares names case-sensitively)",
                           .fields = {{"repo", repo}, {"allowlist", folded->repo}}});
        }
        return RelayAnswer{.status = 200, .body = Json{{"ok", true}, {"status", "ignored"}}};
    }
    const AllowlistEntry& entry = *found;
    if (over_rate_limit(repo)) {
        return detail(429, "rate limit exceeded for " + repo);
    }
    if (!body.is_object()) {
        return k_internal_error;
    }
    // `event_type in frozenset(...)`: a list or a dict is unhashable (a TypeError: 500).
    const Json event_type = body.value("event_type", Json(""));
    if (event_type.is_array() || event_type.is_object()) {
        return k_internal_error;
    }
    const bool nightly = event_type == "nightly" || event_type == "periodic";
    // The relay's reads, in its order: a missing key is a KeyError, a value of the wrong type a
    // TypeError (both 400); an int() of something not a number a ValueError (500).
    const auto missing = [](std::string what) {
        return detail(400, "callback body missing required field: " + what);
    };
    if (!body.contains("delivery_id")) {
        return missing("'delivery_id'");
    }
    if (!body.contains("workflow")) {
        return missing("'workflow'");
    }
    const Json& workflow = body["workflow"];
    if (!workflow.is_object()) {
        return missing(python_subscript_error(workflow));
    }
    if (!workflow.contains("status")) {
        return missing("'status'");
    }
    if (!workflow.contains("run_id")) {
        return missing("'run_id'");
    }
    const PythonInt run_id = python_int(workflow["run_id"]);
    if (!run_id.type_error.empty()) {
        return missing(run_id.type_error);
    }
    if (!run_id.value) {
        return k_internal_error;
    }
    const PythonInt run_attempt = python_int(workflow.value("run_attempt", Json(1)));
    if (!run_attempt.type_error.empty()) {
        return missing(run_attempt.type_error);
    }
    if (!run_attempt.value) {
        return k_internal_error;
    }
    if (!workflow.contains("name")) {
        return missing("'name'");
    }
    const Json& status = workflow["status"];
    const std::string delivery_id = python_str(body["delivery_id"]);
    // The state key leaves out a false job name; the check run's name prints it (None too).
    const Json job = workflow.value("job_name", Json());
    const std::string job_name = python_falsy(job) ? "" : python_str(job);
    row.delivery_id = delivery_id;
    row.run_id = *run_id.value;
    row.run_attempt = *run_attempt.value;
    row.job_name = job_name;
    row.workflow = python_str(workflow["name"]);
    row.status = python_str(status);
    row.conclusion = string_member(workflow, "conclusion");
    const auto hud = [&]() -> std::optional<RelayAnswer> {
        // HUD requires these; the relay passes its 400 through, after saving the state.
        for (const char* field : {"job_name", "check_run_id"}) {
            if (!workflow.contains(field) || workflow[field].is_null()) {
                return detail(400, "HUD rejected callback: HTTP 400: Bad Request");
            }
        }
        return std::nullopt;
    };
    if (nightly) {
        // Self-reports of upstream commits: one completed callback, no dispatch, no state.
        if (status != "completed") {
            return detail(400,
                          "nightly/periodic callbacks must have status 'completed', got "
                              + python_repr(status));
        }
        if (auto refused = hud()) {
            return *refused;
        }
        return RelayAnswer{.status = 200, .body = Json{{"ok", true}, {"status", status}}};
    }
    const std::optional<StateRecord> dispatched =
        m_store.state(StateKey{.delivery_id = delivery_id, .repo = repo});
    if (!dispatched) {
        return detail(400, "callback rejected: no matching dispatch record");
    }
    const StateKey key{.delivery_id = delivery_id,
                       .repo = repo,
                       .run_id = row.run_id,
                       .run_attempt = row.run_attempt,
                       .job_name = job_name};
    const std::optional<StateRecord> current = m_store.state(key);
    if (status != "in_progress" && status != "completed") {
        return detail(400, "unknown callback status: " + python_repr(status));
    }
    const double now = seconds_now();
    const bool in_progress = status == "in_progress";
    const std::optional<std::string> from =
        current ? std::optional<std::string>(current->state) : std::nullopt;
    // Run id 0 is the dispatch record's: the relay refuses it for any callback.
    const bool allowed = row.run_id != "0"
                         && (in_progress ? !current : (current && current->state == "IN_PROGRESS"));
    if (!allowed
        || !m_store.advance(
            key,
            from,
            StateRecord{.state = in_progress ? "IN_PROGRESS" : "COMPLETED", .at = now})) {
        return detail(400,
                      fmt::format("callback rejected: invalid state transition delivery_id={} "
                                  "repo={} status={}",
                                  delivery_id,
                                  repo,
                                  status.get<std::string>()));
    }
    if (in_progress) {
        row.queue_time = safe_delta(dispatched->at, now);
    } else {
        row.execution_time = safe_delta(current->at, now);
    }
    // After the state step, before HUD, as the relay does it.
    if (entry.level >= Level::l3 && !record_job(entry, body, row, python_str(job))) {
        return k_internal_error;
    }
    if (auto refused = hud()) {
        return *refused;
    }
    return RelayAnswer{.status = 200, .body = Json{{"ok", true}, {"status", status}}};
}

bool Relay::record_job(const AllowlistEntry& entry,
                       const Json& body,
                       const CallbackRow& row,
                       const std::string& job_name) {
    const std::optional<Json> pull_request = echoed_pull_request(body);
    const std::optional<Json> head =
        pull_request ? member_or_empty(*pull_request, "head") : std::nullopt;
    if (!head || !head->is_object()) {
        return false;
    }
    const Json head_sha = head->value("sha", Json(""));
    if (python_falsy(head_sha)) {
        return true; // no commit: neither a check run nor a job to remember
    }
    const std::string sha = python_str(head_sha);
    const std::string details_url =
        fmt::format("https://github.com/{}/actions/runs/{}", entry.repo, row.run_id);
    m_store.set_job(JobRow{.head_sha = sha,
                           .repo = entry.repo,
                           .workflow = row.workflow,
                           .job_name = job_name,
                           .status = row.status,
                           .conclusion = row.conclusion,
                           .details_url = details_url});
    const std::optional<std::vector<std::string>> labels = label_names(*pull_request);
    if (!labels) {
        return false;
    }
    bool wanted = entry.level == Level::l4;
    if (entry.level == Level::l3) {
        wanted = std::find(labels->begin(), labels->end(), "ciflow/crcr/" + entry.device)
                     != labels->end()
                 || m_store.check_run_wanted(sha, entry.repo);
    }
    // GitHub refuses a head_sha that is not a string; the relay logs it and carries on.
    if (wanted && head_sha.is_string()) {
        m_store.add_check_run(
            CheckRunRow{.at = seconds_now(),
                        .head_sha = sha,
                        .repo = entry.repo,
                        .name = check_run_name(entry.repo, row.workflow, job_name),
                        .status = row.status,
                        .conclusion = row.conclusion,
                        .details_url = details_url,
                        .blocks_merge = entry.level == Level::l4});
    }
    return true;
}

namespace {

// The size and modification time of `path`, or "" when it cannot be read.
std::string file_stamp(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        return {};
    }
    return fmt::format("{}:{}.{}", info.st_size, info.st_mtim.tv_sec, info.st_mtim.tv_nsec);
}

// The allowlist in `text`, or the first error in it as "path:line:column: message".
std::variant<Allowlist, std::string> read_allowlist(const std::string& path,
                                                    const std::string& text) {
    AllowlistCheck check = check_allowlist(text);
    for (const Finding& finding : check.findings) {
        if (finding.severity == Severity::error) {
            return fmt::format("{}:{}:{}: {} [{}]",
                               path,
                               finding.location.line,
                               finding.location.column,
                               finding.message,
                               finding.rule);
        }
    }
    return std::move(check.allowlist);
}

} // namespace

AllowlistFile::AllowlistFile(std::string path) : m_path(std::move(path)) {
    m_stamp = file_stamp(m_path);
    auto read = read_allowlist(m_path, read_file(m_path));
    if (auto* error = std::get_if<std::string>(&read)) {
        throw Error(fmt::format("'{}' has errors, the relay would refuse it: {}", m_path, *error));
    }
    m_current = std::get<Allowlist>(std::move(read));
}

std::optional<Allowlist> AllowlistFile::refresh(const Log& log) {
    const std::string stamp = file_stamp(m_path);
    if (stamp == m_stamp) {
        return std::nullopt;
    }
    m_stamp = stamp;
    std::string text;
    try {
        text = read_file(m_path);
    } catch (const Error& e) {
        log(LogEntry{.level = "error",
                     .message = "allowlist unreadable; keeping the last good one",
                     .fields = {{"file", m_path}, {"error", e.what()}}});
        return std::nullopt;
    }
    auto read = read_allowlist(m_path, text);
    if (auto* error = std::get_if<std::string>(&read)) {
        log(LogEntry{.level = "error",
                     .message = "allowlist has errors; keeping the last good one",
                     .fields = {{"file", m_path}, {"error", *error}}});
        return std::nullopt;
    }
    m_current = std::get<Allowlist>(std::move(read));
    log(LogEntry{
        .level = "info",
        .message = "allowlist reloaded",
        .fields = {{"file", m_path}, {"repos", std::to_string(m_current.entries.size())}}});
    return m_current;
}

} // namespace crcr
