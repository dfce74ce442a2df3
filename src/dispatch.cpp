#include "crcr/dispatch.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crcr {

namespace {

constexpr std::string_view k_write_permission =
    "a dispatch needs 'contents: write' (fine-grained token or GitHub App) or the 'repo' scope "
    "(classic token)";

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// Every field under `value` with its compact size; objects are looked into, everything else
// (strings, numbers, whole lists) counts as one field.
void collect_sizes(const Json& value, const std::string& path, std::vector<FieldSize>& out) {
    if (value.is_object()) {
        for (const auto& [key, child] : value.items()) {
            collect_sizes(child, path.empty() ? key : path + "." + key, out);
        }
        return;
    }
    out.push_back({path, value.dump().size()});
}

// The likely cause of a 422 to a dispatch, from GitHub's message.
std::string likely_422_cause(std::string_view message) {
    if (contains(message, "too large")) {
        return fmt::format("client_payload must be under {} bytes of JSON: shorten the payload "
                           "(the PR body and labels are the usual culprits)",
                           k_client_payload_max_bytes);
    }
    if (contains(message, "properties are allowed")) {
        return fmt::format("client_payload may have at most {} top-level properties",
                           k_client_payload_max_keys);
    }
    if (contains(message, "spammed")) {
        return "GitHub throttles repeated dispatches to one repository: wait a minute before the "
               "next one";
    }
    if (contains(message, "not an object")) {
        return "client_payload must be a JSON object, not a string holding JSON";
    }
    return "GitHub did not accept the request body";
}

std::optional<std::chrono::system_clock::time_point> time_field(const Json& run, const char* name) {
    if (!run.contains(name) || !run[name].is_string()) {
        return std::nullopt;
    }
    try {
        return parse_time(run[name].get<std::string>());
    } catch (const Error&) {
        return std::nullopt;
    }
}

std::string string_field(const Json& run, const char* name) {
    return run.contains(name) && run[name].is_string() ? run[name].get<std::string>() : "";
}

WorkflowRun to_run(const Json& run) {
    if (!run.is_object() || !run.contains("id") || !run["id"].is_number_unsigned()) {
        throw Error("GitHub's workflow run has no numeric 'id'", ExitCode::unavailable);
    }
    return WorkflowRun{.id = run["id"].get<std::uint64_t>(),
                       .name = string_field(run, "name"),
                       .display_title = string_field(run, "display_title"),
                       .event = string_field(run, "event"),
                       .status = string_field(run, "status"),
                       .conclusion = string_field(run, "conclusion"),
                       .html_url = string_field(run, "html_url"),
                       .created_at = time_field(run, "created_at")};
}

Json parse_json_answer(const std::string& body, std::string_view what) {
    Json parsed = Json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        throw Error(fmt::format("GitHub's answer to {} is not a JSON object", what),
                    ExitCode::unavailable);
    }
    return parsed;
}

// After a 404 to the dispatch: can this token see the repository at all?
Error explain_404(GitHubApi& api,
                  std::string_view repo,
                  const std::string& token,
                  const HttpResponse& dispatch_answer) {
    const HttpResponse probe = api.send(api.request("GET", fmt::format("/repos/{}", repo), token));
    if (probe.status == 404) {
        return Error(fmt::format("repository '{}' does not exist, or this token cannot see it "
                                 "(GitHub answers 404 to both): check the name; a fine-grained "
                                 "token must list the repository, a GitHub App must be installed "
                                 "on it",
                                 repo));
    }
    if (probe.status == 200) {
        const Json body = Json::parse(probe.body, nullptr, false);
        const bool can_push = body.is_object() && body.contains("permissions")
                              && body["permissions"].is_object()
                              && body["permissions"].value("push", Json(false)) == Json(true);
        if (!can_push) {
            return Error(fmt::format("this token can read '{}' but not write to it: {}",
                                     repo,
                                     k_write_permission),
                         ExitCode::auth);
        }
    }
    return github_failure(fmt::format("dispatch to '{}'", repo), dispatch_answer);
}

} // namespace

Json dispatch_body(std::string_view event_type, std::string_view delivery_id, Json payload) {
    return Json{{"event_type", event_type},
                {"client_payload",
                 {{"event_type", event_type},
                  {"delivery_id", delivery_id},
                  {"payload", std::move(payload)}}}};
}

Preflight preflight_dispatch(const Json& body, std::size_t largest_count) {
    Preflight result;
    const std::string event_type =
        body.contains("event_type") && body["event_type"].is_string() ? body["event_type"] : "";
    // GitHub counts characters, not bytes.
    result.event_type_length =
        static_cast<std::size_t>(std::count_if(event_type.begin(), event_type.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
        }));
    if (result.event_type_length == 0 || result.event_type_length > k_event_type_max_length) {
        result.problems.push_back(fmt::format("event_type must be 1 to {} characters; it has {}",
                                              k_event_type_max_length,
                                              result.event_type_length));
    }
    const Json& client_payload =
        body.contains("client_payload") ? body["client_payload"] : Json::object();
    if (!client_payload.is_object()) {
        result.problems.emplace_back("client_payload must be a JSON object");
        return result;
    }
    result.keys = client_payload.size();
    result.bytes = client_payload.dump().size();
    if (result.keys > k_client_payload_max_keys) {
        result.problems.push_back(
            fmt::format("client_payload has {} top-level properties; GitHub allows at most {}",
                        result.keys,
                        k_client_payload_max_keys));
    }
    if (result.bytes >= k_client_payload_max_bytes) {
        result.problems.push_back(
            fmt::format("client_payload is {} bytes of JSON; GitHub takes under {}",
                        result.bytes,
                        k_client_payload_max_bytes));
    }
    collect_sizes(client_payload, "", result.largest);
    const std::size_t keep = std::min(largest_count, result.largest.size());
    std::partial_sort(result.largest.begin(),
                      result.largest.begin() + static_cast<std::ptrdiff_t>(keep),
                      result.largest.end(),
                      [](const FieldSize& a, const FieldSize& b) { return a.bytes > b.bytes; });
    result.largest.resize(keep);
    return result;
}

HttpResponse
send_dispatch(GitHubApi& api, std::string_view repo, const std::string& token, const Json& body) {
    const HttpResponse response = api.send(
        api.request("POST", fmt::format("/repos/{}/dispatches", repo), token, body.dump()));
    const std::string what = fmt::format("dispatch to '{}'", repo);
    switch (response.status) {
    case 204:
        return response;
    case 404:
        throw explain_404(api, repo, token, response);
    case 401:
        throw github_failure(what, response, "the token is invalid, expired or revoked");
    case 403: {
        std::string hint(k_write_permission);
        if (const auto scopes = response.header("x-oauth-scopes")) {
            hint += fmt::format("; this classic token has the scopes '{}'", *scopes);
        }
        throw github_failure(what, response, hint);
    }
    case 422:
        throw github_failure(what, response, likely_422_cause(github_error_message(response)));
    default:
        break;
    }
    if (response.status >= 500) {
        throw github_failure(what,
                             response,
                             "GitHub may have accepted the dispatch anyway, so crcr does not "
                             "send it again (a second dispatch starts a second run); see whether "
                             "a run started with --watch or in the repository's Actions tab");
    }
    throw github_failure(what, response);
}

std::vector<WorkflowRun> parse_workflow_runs(const std::string& body) {
    const Json list = parse_json_answer(body, "the workflow runs list");
    if (!list.contains("workflow_runs") || !list["workflow_runs"].is_array()) {
        throw Error("GitHub's workflow runs list has no 'workflow_runs' array",
                    ExitCode::unavailable);
    }
    std::vector<WorkflowRun> runs;
    for (const Json& run : list["workflow_runs"]) {
        runs.push_back(to_run(run));
    }
    return runs;
}

WorkflowRun parse_workflow_run(const std::string& body) {
    return to_run(parse_json_answer(body, "the workflow run"));
}

namespace {

// Whether `title` names `delivery_id` as a whole word (a generated run-name ends with
// `delivery <id>`), so that id "12" does not match a run of delivery "123".
bool names_delivery(std::string_view title, std::string_view delivery_id) {
    const auto id_char = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
               || c == '-' || c == '_';
    };
    for (std::size_t at = title.find(delivery_id); at != std::string_view::npos;
         at = title.find(delivery_id, at + 1)) {
        const std::size_t end = at + delivery_id.size();
        if ((at == 0 || !id_char(title[at - 1])) && (end == title.size() || !id_char(title[end]))) {
            return true;
        }
    }
    return false;
}

} // namespace

std::vector<WorkflowRun> runs_started_by(const std::vector<WorkflowRun>& runs,
                                         std::chrono::system_clock::time_point since,
                                         std::string_view delivery_id) {
    std::vector<WorkflowRun> started;
    std::copy_if(runs.begin(), runs.end(), std::back_inserter(started), [&](const WorkflowRun& r) {
        return r.event == "repository_dispatch" && r.created_at && *r.created_at >= since;
    });
    const bool any_named =
        !delivery_id.empty() && std::any_of(started.begin(), started.end(), [&](const auto& r) {
            return names_delivery(r.display_title, delivery_id);
        });
    if (any_named) {
        std::erase_if(started, [&](const WorkflowRun& r) {
            return !names_delivery(r.display_title, delivery_id);
        });
    }
    std::sort(started.begin(), started.end(), [](const WorkflowRun& a, const WorkflowRun& b) {
        return a.id < b.id;
    });
    return started;
}

bool conclusion_passes(std::string_view conclusion) {
    return conclusion == "success" || conclusion == "neutral" || conclusion == "skipped";
}

} // namespace crcr
