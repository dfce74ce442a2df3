// The fake GitHub's webhook delivery logs: GET .../deliveries with cursor pagination (Link
// rel="next"), GET .../deliveries/{id} and POST .../deliveries/{id}/attempts, for the App's hook
// (JWT) and for repository and organization hooks (tokens), in GitHub's shapes.

#include "fake_github.hpp"

#include "crcr/payload.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace crcr::test {

namespace {

using nlohmann::json;

// GitHub lets a delivery be redelivered for 3 days.
constexpr auto k_redelivery_window = std::chrono::hours(72);

std::string query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        const std::size_t eq = part.find('=');
        if (part.substr(0, eq) == name && eq != std::string_view::npos) {
            return std::string(part.substr(eq + 1));
        }
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    return {};
}

json summary_json(const FakeDelivery& d) {
    return json{{"id", d.id},
                {"guid", d.guid},
                {"delivered_at", iso8601(d.delivered_at)},
                {"redelivery", d.redelivery},
                {"duration", d.duration},
                {"status", d.status},
                {"status_code", d.status_code},
                {"event", d.event},
                {"action", d.action.empty() ? json() : json(d.action)},
                {"installation_id", 77},
                {"repository_id", 65600975},
                {"throttled_at", nullptr}};
}

json record_json(const FakeDelivery& d, const std::string& hook_id) {
    json record = summary_json(d);
    record["url"] = "https://relay.example.com/github/webhook";
    record["request"] = {
        {"headers",
         {{"Accept", "*/*"},
          {"content-type", "application/json"},
          {"User-Agent", "GitHub-Hookshot/044aadd"},
          {"X-GitHub-Delivery", d.guid},
          {"X-GitHub-Event", d.event},
          {"X-GitHub-Hook-ID", hook_id},
          {"X-GitHub-Hook-Installation-Target-ID", "123456"},
          {"X-GitHub-Hook-Installation-Target-Type", "integration"},
          {"X-Hub-Signature", "sha1=d03dd6ea8ab8ad0fdd06ed1d24d82d9a1c2e2a3b"},
          {"X-Hub-Signature-256",
           "sha256=a6f1e9d0c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1"}}},
        {"payload", json::parse(d.payload)}};
    record["response"] = {{"headers", {{"Content-Type", "application/json"}}},
                          {"payload", d.response_body}};
    return record;
}

} // namespace

void FakeGitHub::add_hook(const std::string& name, FakeHook hook, std::size_t page_size) {
    const std::lock_guard lock(m_mutex);
    for (FakeDelivery& d : hook.deliveries) {
        if (d.id == 0) {
            d.id = m_next_id++;
        }
    }
    m_hooks[name] = std::move(hook);
    m_delivery_page_size = page_size;
}

std::vector<std::uint64_t> FakeGitHub::redelivered() const {
    const std::lock_guard lock(m_mutex);
    return m_redelivered;
}

std::optional<Reply> FakeGitHub::route_deliveries(const RecordedRequest& request,
                                                  const std::vector<std::string>& parts,
                                                  std::string_view query) {
    // The hook's name and where its "deliveries" part is.
    std::string name;
    std::string operation;
    std::size_t at = 0;
    if (parts.size() >= 3 && parts[0] == "app" && parts[1] == "hook" && parts[2] == "deliveries") {
        name = "app";
        operation = "apps";
        at = 2;
    } else if (parts.size() >= 6 && parts[0] == "repos" && parts[3] == "hooks"
               && parts[5] == "deliveries") {
        name = fmt::format("repos/{}/{}/hooks/{}", parts[1], parts[2], parts[4]);
        operation = "repos";
        at = 5;
    } else if (parts.size() >= 5 && parts[0] == "orgs" && parts[2] == "hooks"
               && parts[4] == "deliveries") {
        name = fmt::format("orgs/{}/hooks/{}", parts[1], parts[3]);
        operation = "orgs";
        at = 4;
    } else {
        return std::nullopt;
    }
    if (name == "app") {
        if (auto refused = check_jwt(request)) {
            return refused;
        }
    } else if (token_of(request) == nullptr) {
        return error_reply(401, "Bad credentials");
    }
    const auto hook = m_hooks.find(name);
    if (hook == m_hooks.end()) {
        return error_reply(404, "Not Found");
    }
    if (name != "app" && !hook->second.tokens.empty()) {
        const std::string token = request.header("Authorization").value_or("").substr(7);
        if (hook->second.tokens.count(token) == 0) {
            Reply reply = error_reply(403, "Resource not accessible by personal access token");
            reply.headers.emplace_back("x-accepted-github-permissions",
                                       name.starts_with("orgs") ? "organization_hooks=read"
                                                                : "repository_hooks=read");
            return reply;
        }
    }
    std::vector<FakeDelivery>& log = hook->second.deliveries;
    std::vector<FakeDelivery*> newest_first;
    for (FakeDelivery& d : log) {
        newest_first.push_back(&d);
    }
    std::stable_sort(newest_first.begin(), newest_first.end(), [](auto* a, auto* b) {
        return a->delivered_at > b->delivered_at;
    });
    const auto answer = [&](int status, const std::string& suffix, const std::string& body) {
        capture(fmt::format("answer@{}@{}--{}", status, operation, suffix), body);
        Reply reply = json_reply(status, body);
        if (status == 202) {
            reply.reason = "Accepted";
        }
        return reply;
    };
    if (parts.size() == at + 1 && request.method == "GET") {
        json params = json::object();
        for (const char* key : {"per_page", "cursor", "status"}) {
            if (const std::string value = query_value(query, key); !value.empty()) {
                params[key] = value;
            }
        }
        capture(operation + "--list-webhook-deliveries", params.dump());
        const std::string per_page_text = query_value(query, "per_page");
        const std::size_t per_page =
            std::min<std::size_t>(per_page_text.empty() ? 30 : std::stoul(per_page_text),
                                  std::min<std::size_t>(100, m_delivery_page_size));
        std::size_t start = 0;
        if (const std::string cursor = query_value(query, "cursor"); !cursor.empty()) {
            if (!cursor.starts_with("v1_")) {
                return error_reply(400, "Invalid cursor");
            }
            const std::uint64_t after = std::stoull(cursor.substr(3));
            const auto found = std::find_if(
                newest_first.begin(), newest_first.end(), [&](auto* d) { return d->id == after; });
            if (found == newest_first.end()) {
                return error_reply(422, "Invalid cursor");
            }
            start = static_cast<std::size_t>(found - newest_first.begin()) + 1;
        }
        json page = json::array();
        for (std::size_t i = start; i < newest_first.size() && page.size() < per_page; ++i) {
            page.push_back(summary_json(*newest_first[i]));
        }
        Reply reply = answer(200, "list-webhook-deliveries", page.dump());
        if (start + page.size() < newest_first.size() && !page.empty()) {
            const std::string path = request.target.substr(0, request.target.find('?'));
            reply.headers.emplace_back("Link",
                                       fmt::format("<{}{}?per_page={}&cursor=v1_{}>; rel=\"next\"",
                                                   m_server.url(""),
                                                   path,
                                                   per_page,
                                                   page.back()["id"].get<std::uint64_t>()));
        }
        return reply;
    }
    if (parts.size() < at + 2) {
        return error_reply(404, "Not Found");
    }
    const std::uint64_t id = std::strtoull(parts[at + 1].c_str(), nullptr, 10);
    const auto found =
        std::find_if(log.begin(), log.end(), [&](const FakeDelivery& d) { return d.id == id; });
    if (found == log.end()) {
        return error_reply(404, "Not Found");
    }
    const std::string hook_id = name == "app" ? "424242" : parts[at - 1];
    if (parts.size() == at + 2 && request.method == "GET") {
        return answer(200, "get-webhook-delivery", record_json(*found, hook_id).dump());
    }
    if (parts.size() == at + 3 && parts[at + 2] == "attempts" && request.method == "POST") {
        if (now() - found->delivered_at > k_redelivery_window) {
            return error_reply(422, "Validation Failed: the delivery is too old to redeliver");
        }
        m_redelivered.push_back(id);
        FakeDelivery again = *found;
        again.id = m_next_id++;
        again.redelivery = true;
        again.delivered_at = now();
        again.status = hook->second.redelivery_status;
        again.status_code = hook->second.redelivery_code;
        log.push_back(again);
        return answer(202, "redeliver-webhook-delivery", "{}");
    }
    return error_reply(404, "Not Found");
}

} // namespace crcr::test
