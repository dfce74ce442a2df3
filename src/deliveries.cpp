#include "crcr/deliveries.hpp"

#include "crcr/error.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace crcr {

namespace {

using std::chrono::system_clock;

constexpr std::size_t k_per_page = 100;
// GitHub gives the receiver 10 s: an attempt that took this long without an answer timed out.
constexpr double k_github_timeout_seconds = 10;

std::string percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) && hex(text[i + 2])) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// The value of `name` in a URL's query, percent-decoded.
std::optional<std::string> query_parameter(std::string_view url, std::string_view name) {
    const std::size_t question = url.find('?');
    if (question == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view query = url.substr(question + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        const std::size_t eq = part.find('=');
        if (part.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string()
                                                : percent_decode(part.substr(eq + 1));
        }
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    return std::nullopt;
}

DeliverySummary summary_of(const Json& entry, const std::string& where) {
    const auto field = [&](const char* name) -> const Json& {
        if (!entry.contains(name)) {
            throw Error(fmt::format("{}: no '{}'", where, name), ExitCode::unavailable);
        }
        return entry[name];
    };
    const auto wrong = [&](const char* name, const char* type) {
        return Error(fmt::format("{}: '{}' is not {}", where, name, type), ExitCode::unavailable);
    };
    DeliverySummary out;
    if (!field("id").is_number_unsigned()) {
        throw wrong("id", "a positive integer");
    }
    out.id = field("id").get<std::uint64_t>();
    for (const char* name : {"guid", "delivered_at", "status", "event"}) {
        if (!field(name).is_string()) {
            throw wrong(name, "a string");
        }
    }
    out.guid = entry["guid"].get<std::string>();
    out.status = entry["status"].get<std::string>();
    out.event = entry["event"].get<std::string>();
    try {
        out.delivered_at = parse_time(entry["delivered_at"].get<std::string>());
    } catch (const Error&) {
        throw wrong("delivered_at", "an ISO 8601 time");
    }
    if (!field("redelivery").is_boolean()) {
        throw wrong("redelivery", "true or false");
    }
    out.redelivery = entry["redelivery"].get<bool>();
    if (!field("duration").is_number()) {
        throw wrong("duration", "a number");
    }
    out.duration = entry["duration"].get<double>();
    if (!field("status_code").is_number_integer() || entry["status_code"].get<long long>() < 0
        || entry["status_code"].get<long long>() > 999) {
        throw wrong("status_code", "an HTTP status or 0");
    }
    out.status_code = entry["status_code"].get<int>();
    const Json& action = field("action");
    if (!action.is_null() && !action.is_string()) {
        throw wrong("action", "a string or null");
    }
    out.action = action.is_string() ? action.get<std::string>() : "";
    return out;
}

Json parse_json(std::string_view body, std::string_view source) {
    try {
        return parse_json_document(body, source);
    } catch (const Error& e) {
        throw Error(e.what(), ExitCode::unavailable); // GitHub's answer, not the user's input
    }
}

// The relay's error body ({"detail": ...}), when `body` is one.
std::optional<Json> relay_detail(const std::optional<std::string>& body) {
    if (!body) {
        return std::nullopt;
    }
    Json parsed;
    try {
        parsed = parse_json_document(*body, "the relay's answer");
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!parsed.is_object() || !parsed.contains("detail")) {
        return std::nullopt;
    }
    return parsed["detail"];
}

std::string short_text(std::string text) {
    constexpr std::size_t k_max = 120;
    std::replace_if(
        text.begin(),
        text.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; },
        ' ');
    if (text.size() > k_max) {
        text.resize(k_max);
        text += "...";
    }
    return text;
}

std::string state_line(const Json& line) {
    return line.dump() + "\n";
}

} // namespace

std::string deliveries_path(const HookTarget& hook) {
    switch (hook.kind) {
    case HookTarget::Kind::app:
        return "/app/hook/deliveries";
    case HookTarget::Kind::repo:
        return fmt::format("/repos/{}/hooks/{}/deliveries", hook.owner, hook.hook_id);
    case HookTarget::Kind::org:
        return fmt::format("/orgs/{}/hooks/{}/deliveries", hook.owner, hook.hook_id);
    }
    return {};
}

std::vector<DeliverySummary> parse_delivery_list(std::string_view body, std::string_view source) {
    const Json parsed = parse_json(body, source);
    if (!parsed.is_array()) {
        throw Error(fmt::format("{} is not a JSON array of deliveries", source),
                    ExitCode::unavailable);
    }
    std::vector<DeliverySummary> out;
    out.reserve(parsed.size());
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        const std::string where = fmt::format("{}: delivery [{}]", source, i);
        if (!parsed[i].is_object()) {
            throw Error(where + " is not an object", ExitCode::unavailable);
        }
        out.push_back(summary_of(parsed[i], where));
    }
    return out;
}

std::optional<std::string> next_cursor(std::string_view link) {
    while (!link.empty()) {
        // One link: <URL> then parameters up to the next comma outside the brackets.
        link = trim(link);
        if (link.empty() || link.front() != '<') {
            return std::nullopt;
        }
        const std::size_t close = link.find('>');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view url = link.substr(1, close - 1);
        std::string_view rest = link.substr(close + 1);
        const std::size_t comma = rest.find(',');
        std::string_view params = rest.substr(0, comma);
        link = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        bool next = false;
        while (!params.empty()) {
            const std::size_t semi = params.find(';', 1);
            std::string_view param = trim(params.substr(0, semi));
            params = semi == std::string_view::npos ? std::string_view() : params.substr(semi);
            if (param.starts_with(';')) {
                param = trim(param.substr(1));
            }
            if (param.starts_with("rel=")) {
                std::string_view rel = param.substr(4);
                if (rel.size() >= 2 && rel.front() == '"' && rel.back() == '"') {
                    rel = rel.substr(1, rel.size() - 2);
                }
                // rel may list several relation types separated by spaces.
                for (std::size_t start = 0; start <= rel.size();) {
                    const std::size_t space = rel.find(' ', start);
                    if (rel.substr(start, space - start) == "next") {
                        next = true;
                    }
                    start = space == std::string_view::npos ? rel.size() + 1 : space + 1;
                }
            }
        }
        if (next) {
            return query_parameter(url, "cursor");
        }
    }
    return std::nullopt;
}

system_clock::time_point parse_since(std::string_view text, system_clock::time_point now) {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) != 0
        && std::string_view("smhd").find(text.back()) != std::string_view::npos
        && text.size() <= 8) {
        std::uint64_t count = 0;
        for (const char c : text.substr(0, text.size() - 1)) {
            if (c < '0' || c > '9') {
                count = 0;
                break;
            }
            count = count * 10 + static_cast<std::uint64_t>(c - '0');
        }
        const std::uint64_t unit = text.back() == 's'   ? 1
                                   : text.back() == 'm' ? 60
                                   : text.back() == 'h' ? 3600
                                                        : 86400;
        constexpr std::uint64_t k_year = 366ULL * 86400;
        if (count > 0 && count * unit <= 10 * k_year) {
            return now - std::chrono::seconds(static_cast<long long>(count * unit));
        }
    }
    try {
        return parse_time(text);
    } catch (const Error&) {
        throw Error(fmt::format("'{}' is neither a time (2026-12-06T10:00:00Z) nor a duration "
                                "before now (90m, 3h, 2d)",
                                short_text(std::string(text))),
                    ExitCode::usage);
    }
}

bool DeliveryFilter::matches(const DeliverySummary& delivery) const {
    return (!failed || !delivery.ok()) && (event.empty() || delivery.event == event)
           && (action.empty() || delivery.action == action)
           && (guid.empty() || delivery.guid == guid);
}

std::vector<DeliverySummary> list_deliveries(const DeliveriesClient& client,
                                             system_clock::time_point since,
                                             const std::function<void(std::size_t)>& on_page) {
    std::vector<DeliverySummary> out;
    std::set<std::string> cursors;
    std::string cursor;
    for (std::size_t page = 1;; ++page) {
        std::string path = fmt::format("{}?per_page={}", deliveries_path(client.hook), k_per_page);
        if (!cursor.empty()) {
            path += "&cursor=" + percent_encode(cursor);
        }
        const HttpResponse response =
            client.api.send(client.api.request("GET", path, client.bearer()));
        if (response.status != 200) {
            throw deliveries_failure(fmt::format("listing deliveries (page {})", page),
                                     response,
                                     client.hook,
                                     client.credentials,
                                     client.api.now());
        }
        const std::vector<DeliverySummary> entries =
            parse_delivery_list(response.body, fmt::format("GitHub's deliveries page {}", page));
        bool past_since = false;
        for (const DeliverySummary& entry : entries) {
            if (entry.delivered_at < since) {
                past_since = true;
            } else {
                out.push_back(entry);
            }
        }
        if (on_page) {
            on_page(out.size());
        }
        const std::optional<std::string> next =
            past_since || entries.empty() ? std::nullopt
                                          : next_cursor(response.header("link").value_or(""));
        if (!next) {
            return out;
        }
        if (!cursors.insert(*next).second) {
            throw Error(fmt::format("GitHub's deliveries list repeats cursor '{}' (page {}): "
                                    "stopping rather than looping",
                                    short_text(*next),
                                    page),
                        ExitCode::unavailable);
        }
        cursor = *next;
    }
}

DeliveryRecord parse_delivery_record(std::string_view body, std::string_view source) {
    const Json parsed = parse_json(body, source);
    if (!parsed.is_object()) {
        throw Error(fmt::format("{} is not a JSON object", source), ExitCode::unavailable);
    }
    DeliveryRecord out;
    out.summary = summary_of(parsed, std::string(source));
    const Json url = parsed.value("url", Json());
    out.url = url.is_string() ? url.get<std::string>() : "";
    const Json& request = parsed.contains("request") ? parsed["request"] : Json();
    const Json& response = parsed.contains("response") ? parsed["response"] : Json();
    if (!request.is_object() || !response.is_object()) {
        throw Error(fmt::format("{}: no 'request' and 'response' objects", source),
                    ExitCode::unavailable);
    }
    out.request_headers = request.value("headers", Json::object());
    out.request_payload = request.value("payload", Json());
    out.response_headers = response.value("headers", Json());
    if (!out.request_headers.is_object()) {
        out.request_headers = Json::object();
    }
    if (response.contains("payload") && response["payload"].is_string()) {
        out.response_body = response["payload"].get<std::string>();
    }
    out.text = std::string(body);
    return out;
}

DeliveryRecord get_delivery(const DeliveriesClient& client, std::uint64_t id) {
    const HttpResponse response = client.api.send(client.api.request(
        "GET", fmt::format("{}/{}", deliveries_path(client.hook), id), client.bearer()));
    if (response.status == 404) {
        throw Error(fmt::format("GitHub has no delivery {} in this hook's log (deliveries are kept "
                                "3 days; list them with: crcr deliveries list)",
                                id));
    }
    if (response.status != 200) {
        throw deliveries_failure(fmt::format("reading delivery {}", id),
                                 response,
                                 client.hook,
                                 client.credentials,
                                 client.api.now());
    }
    return parse_delivery_record(response.body, fmt::format("GitHub's record of delivery {}", id));
}

Error deliveries_failure(std::string_view what,
                         const HttpResponse& response,
                         const HookTarget& hook,
                         const GitHubCredentials* credentials,
                         system_clock::time_point now) {
    if (response.status == 401 && credentials != nullptr && credentials->is_app()) {
        return app_jwt_refused(response, *credentials, now);
    }
    std::string hint;
    switch (hook.kind) {
    case HookTarget::Kind::app:
        hint = "the App's webhook log answers only the App's own JWT: give --app-id and "
               "--private-key (CRCR_APP_ID, CRCR_APP_PRIVATE_KEY_FILE); a 401 with them means "
               "the id and key do not match or this machine's clock is off";
        break;
    case HookTarget::Kind::repo:
        hint = fmt::format("reading hook {} of '{}' needs admin rights on the repository: a "
                           "classic token with 'admin:repo_hook', a fine-grained token or App "
                           "with 'Webhooks' (read; write to redeliver); check --hook-id",
                           hook.hook_id,
                           hook.owner);
        break;
    case HookTarget::Kind::org:
        hint = fmt::format("reading hook {} of organization '{}' needs an owner's token with "
                           "'admin:org_hook' (or 'Webhooks' for the organization); check "
                           "--hook-id",
                           hook.hook_id,
                           hook.owner);
        break;
    }
    if (response.status == 404 || response.status == 401 || response.status == 403) {
        std::string message = fmt::format(
            "{}: GitHub answered {} ({})", what, response.status, github_error_message(response));
        if (const auto accepted = response.header("x-accepted-github-permissions")) {
            message += fmt::format("; GitHub accepts tokens with: {}", *accepted);
        }
        return Error(fmt::format("{}: {}", message, hint),
                     response.status == 404 ? ExitCode::failure : ExitCode::auth);
    }
    return github_failure(what, response);
}

bool needs_response_body(const DeliverySummary& attempt) {
    return attempt.status_code >= 500 && attempt.status_code != 504;
}

AttemptReading read_attempt(const DeliverySummary& attempt,
                            const std::optional<std::string>& response_body) {
    const int code = attempt.status_code;
    if (code == 0) {
        if (icontains(attempt.status, "timed out") || icontains(attempt.status, "timeout")
            || attempt.duration >= k_github_timeout_seconds) {
            return {Dispatched::maybe,
                    fmt::format("no answer within GitHub's 10 s ({}): the relay may have gone on "
                                "and dispatched it",
                                short_text(attempt.status))};
        }
        return {Dispatched::no,
                fmt::format("no HTTP answer ({}): it never reached the relay",
                            short_text(attempt.status))};
    }
    if (code >= 200 && code < 300) {
        return {Dispatched::maybe,
                fmt::format("the relay answered {} but GitHub counts it as failed ({}): it "
                            "answered after GitHub's 10 s, having handled it",
                            code,
                            short_text(attempt.status))};
    }
    if (code < 500) {
        return {Dispatched::no,
                fmt::format("answered {}: rejected before any dispatch (signature, JSON, path or "
                            "the front end)",
                            code)};
    }
    if (code == 504) {
        return {Dispatched::maybe,
                "answered 504: the front end gave up waiting for the relay, which may have gone on "
                "and dispatched it"};
    }
    const std::optional<Json> detail = relay_detail(response_body);
    if (!detail) {
        return {Dispatched::no,
                fmt::format("answered {} without the relay's {{\"detail\": ...}} body: its front "
                            "end answered, the relay's handler never ran",
                            code)};
    }
    if (detail->is_object() && detail->contains("failed") && (*detail)["failed"].is_array()) {
        std::vector<std::string> repos;
        for (const Json& failed : (*detail)["failed"]) {
            if (failed.is_object() && failed.contains("repo") && failed["repo"].is_string()) {
                repos.push_back(short_text(failed["repo"].get<std::string>()));
            }
        }
        return {Dispatched::maybe,
                fmt::format("answered {} listing repositories under 'failed' ({}): the relay "
                            "dispatched to them (a dispatch counts as failed when its state "
                            "record is refused, as for a GUID it saw before)",
                            code,
                            repos.empty() ? std::string("none named")
                                          : fmt::format("{}", fmt::join(repos, ", ")))};
    }
    return {
        Dispatched::maybe,
        fmt::format("answered {} from the relay's handler ({}): it runs the dispatches, so "
                    "some may have gone out",
                    code,
                    short_text(detail->is_string() ? detail->get<std::string>() : detail->dump()))};
}

std::string RedeliveryState::posting_line(std::string_view guid,
                                          std::uint64_t id,
                                          system_clock::time_point at) {
    return state_line(Json{{"posting", guid}, {"id", id}, {"at", iso8601(at)}});
}

std::string RedeliveryState::redelivered_line(std::string_view guid,
                                              std::uint64_t id,
                                              system_clock::time_point at) {
    return state_line(Json{{"redelivered", guid}, {"id", id}, {"at", iso8601(at)}});
}

std::string RedeliveryState::refused_line(std::string_view guid, std::uint64_t id) {
    return state_line(Json{{"refused", guid}, {"id", id}});
}

std::string RedeliveryState::checked_line(system_clock::time_point until) {
    return state_line(Json{{"checked_until", iso8601(until)}});
}

RedeliveryState parse_redelivery_state(const std::vector<std::string>& lines,
                                       std::string_view source) {
    RedeliveryState state;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto bad = [&](std::string_view why) {
            return Error(fmt::format("{}:{}: {} (a crcr deliveries redeliver state file has "
                                     "lines such as {{\"redelivered\": GUID, \"id\": N, \"at\": "
                                     "TIME}})",
                                     source,
                                     i + 1,
                                     why));
        };
        Json line;
        try {
            line = parse_json_document(lines[i], "the line");
        } catch (const Error&) {
            throw bad("not a JSON object");
        }
        if (!line.is_object()) {
            throw bad("not a JSON object");
        }
        const auto time_of = [&](const char* key) {
            if (!line.contains(key) || !line[key].is_string()) {
                throw bad(fmt::format("no '{}' time", key));
            }
            try {
                return parse_time(line[key].get<std::string>());
            } catch (const Error&) {
                throw bad(fmt::format("'{}' is not a time", key));
            }
        };
        if (line.contains("checked_until")) {
            state.checked_until = time_of("checked_until");
            continue;
        }
        std::string kind;
        for (const char* key : {"posting", "redelivered", "refused"}) {
            if (line.contains(key)) {
                kind = key;
            }
        }
        if (kind.empty() || !line[kind].is_string() || line[kind].get<std::string>().empty()) {
            throw bad("no 'posting', 'redelivered', 'refused' GUID or 'checked_until' time");
        }
        if (!line.contains("id") || !line["id"].is_number_unsigned()) {
            throw bad("no delivery 'id'");
        }
        const std::string guid = line[kind].get<std::string>();
        if (kind == "refused") {
            state.by_guid.erase(guid);
            continue;
        }
        state.by_guid[guid] = RedeliveryState::Entry{.id = line["id"].get<std::uint64_t>(),
                                                     .at = time_of("at"),
                                                     .confirmed = kind == "redelivered"};
    }
    return state;
}

std::vector<RedeliveryDecision>
decide_redeliveries(const std::vector<DeliverySummary>& deliveries,
                    const DeliveryFilter& filter,
                    const RedeliveryState& state,
                    const std::function<std::optional<std::string>(std::uint64_t)>& response_body) {
    // Attempts by GUID, oldest first.
    std::map<std::string, std::vector<const DeliverySummary*>> attempts;
    for (const DeliverySummary& delivery : deliveries) {
        attempts[delivery.guid].push_back(&delivery);
    }
    std::vector<RedeliveryDecision> out;
    for (auto& [guid, list] : attempts) {
        std::stable_sort(list.begin(), list.end(), [](const auto* a, const auto* b) {
            return a->delivered_at < b->delivered_at;
        });
        DeliveryFilter any_status = filter;
        any_status.failed = false;
        const bool selected = std::any_of(
            list.begin(), list.end(), [&](const auto* d) { return any_status.matches(*d); });
        const auto newest_failed =
            std::find_if(list.rbegin(), list.rend(), [](const auto* d) { return !d->ok(); });
        if (!selected || newest_failed == list.rend()) {
            continue;
        }
        RedeliveryDecision decision;
        decision.guid = guid;
        decision.newest = **newest_failed;
        decision.id = decision.newest.id;
        decision.first = list.front()->delivered_at;
        const auto ok =
            std::find_if(list.begin(), list.end(), [](const auto* d) { return d->ok(); });
        const auto known = state.by_guid.find(guid);
        if (ok != list.end()) {
            decision.kind = RedeliveryDecision::Kind::done;
            decision.reason = fmt::format(
                "delivered: attempt {} at {} answered OK", (*ok)->id, iso8601((*ok)->delivered_at));
        } else if (known != state.by_guid.end() && known->second.confirmed) {
            decision.kind = RedeliveryDecision::Kind::done;
            decision.reason = fmt::format("redelivered already (delivery {} at {}, --state)",
                                          known->second.id,
                                          iso8601(known->second.at));
        } else if (known != state.by_guid.end()) {
            // A run stopped between asking GitHub and hearing back: GitHub's own list tells
            // whether that redelivery happened.
            const auto landed = std::find_if(list.begin(), list.end(), [&](const auto* d) {
                return d->redelivery
                       && d->delivered_at >= known->second.at - std::chrono::minutes(1);
            });
            if (landed != list.end()) {
                decision.kind = RedeliveryDecision::Kind::done;
                decision.reason = fmt::format("redelivered already: the POST of an interrupted run "
                                              "landed (attempt {} at {})",
                                              (*landed)->id,
                                              iso8601((*landed)->delivered_at));
            } else {
                decision.kind = RedeliveryDecision::Kind::may_have_dispatched;
                decision.reason = fmt::format("a run stopped while asking GitHub to redeliver it "
                                              "(delivery {} at {}, --state) and GitHub lists no "
                                              "redelivery yet: it may still appear",
                                              known->second.id,
                                              iso8601(known->second.at));
            }
        } else {
            decision.kind = RedeliveryDecision::Kind::redeliver;
            for (const DeliverySummary* attempt : list) {
                if (attempt->ok()) {
                    continue;
                }
                const AttemptReading reading = read_attempt(
                    *attempt,
                    needs_response_body(*attempt) ? response_body(attempt->id) : std::nullopt);
                decision.details.push_back(fmt::format("attempt {} at {}{}: {}",
                                                       attempt->id,
                                                       iso8601(attempt->delivered_at),
                                                       attempt->redelivery ? " (redelivery)" : "",
                                                       reading.why));
                if (reading.dispatched == Dispatched::maybe
                    && decision.kind == RedeliveryDecision::Kind::redeliver) {
                    decision.kind = RedeliveryDecision::Kind::may_have_dispatched;
                    decision.reason = "may have dispatched: " + reading.why;
                } else if (decision.kind == RedeliveryDecision::Kind::redeliver) {
                    decision.reason = reading.why;
                }
            }
        }
        out.push_back(std::move(decision));
    }
    std::stable_sort(
        out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

} // namespace crcr
