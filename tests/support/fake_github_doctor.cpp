// The fake GitHub's read-only endpoints for `crcr doctor`: repository metadata, the contents API
// (files as base64, folders as listings), Actions' settings and workflows, an organization's App
// installations, users and the App itself. Answers start from the examples in GitHub's REST
// description (tests/data/github_answers/, taken from @octokit/openapi) with the fake's values
// set, and are written to CRCR_TEST_ANSWER_DIR when it is set, for tests/e2e/github_answers.sh
// to check against that description.

#include "fake_github.hpp"

#include "crcr/jwt.hpp"
#include "crcr/payload.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace crcr::test {

namespace {

using nlohmann::json;

json answer_template(const std::string& name) {
    std::ifstream in(fmt::format("{}/github_answers/{}.json", CRCR_TEST_DATA, name));
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
}

// Writes an answer (operation id with "--" for "/") for the schema check.
void capture_answer(const std::string& operation, const json& body) {
    static std::atomic<int> counter{0};
    const char* dir = std::getenv("CRCR_TEST_ANSWER_DIR");
    if (dir != nullptr && *dir != '\0') {
        std::ofstream(fmt::format("{}/{}.{}.json", dir, operation, counter++)) << body.dump();
    }
}

std::string query_param(const std::string& query, const std::string& name) {
    for (std::size_t start = 0; start <= query.size();) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string part = query.substr(start, end - start);
        if (part.starts_with(name + "=")) {
            std::string out;
            for (std::size_t i = name.size() + 1; i < part.size(); ++i) {
                if (part[i] == '%' && i + 2 < part.size()) {
                    out += static_cast<char>(std::stoi(part.substr(i + 1, 2), nullptr, 16));
                    i += 2;
                } else {
                    out += part[i];
                }
            }
            return out;
        }
        start = end + 1;
    }
    return "";
}

std::string base64(std::string_view bytes) {
    std::string out = base64url_encode(bytes);
    for (char& c : out) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (out.size() % 4 != 0) {
        out += '=';
    }
    // GitHub wraps the content at 60 characters.
    std::string wrapped;
    for (std::size_t i = 0; i < out.size(); i += 60) {
        wrapped += out.substr(i, 60) + "\n";
    }
    return wrapped;
}

json repository_answer(const FakeRepoData& data, bool is_private, std::string_view pushed_at) {
    json repo = answer_template("repos--get");
    const std::string owner = data.full_name.substr(0, data.full_name.find('/'));
    const std::string name = data.full_name.substr(data.full_name.find('/') + 1);
    repo["name"] = name;
    repo["full_name"] = data.full_name;
    repo["owner"]["login"] = owner;
    repo["owner"]["type"] = data.owner_type;
    repo["private"] = is_private;
    repo["visibility"] = is_private ? "private" : "public";
    repo["default_branch"] = data.default_branch;
    repo["pushed_at"] = pushed_at;
    repo["html_url"] = fmt::format("https://github.com/{}", data.full_name);
    return repo;
}

} // namespace

void FakeGitHub::set_repo_data(FakeRepoData data, bool is_private) {
    const std::lock_guard lock(m_mutex);
    const std::string key = to_lower_ascii(data.full_name);
    if (m_repos.count(key) == 0) {
        m_repos[key] = FakeRepo{.is_private = is_private};
    }
    m_repos[key].is_private = is_private;
    m_repo_data[key] = std::move(data);
}

void FakeGitHub::set_org(const std::string& login, FakeOrg org) {
    const std::lock_guard lock(m_mutex);
    m_orgs[to_lower_ascii(login)] = std::move(org);
}

void FakeGitHub::add_user(const std::string& login) {
    const std::lock_guard lock(m_mutex);
    m_users.insert(to_lower_ascii(login));
}

void FakeGitHub::add_run(const std::string& repo,
                         std::chrono::system_clock::time_point created_at) {
    const std::lock_guard lock(m_mutex);
    const std::string key = to_lower_ascii(repo);
    // Seen completed from the first poll: its `polls` start past every configured status.
    m_runs.push_back(Run{m_next_id++, key, "PyTorch CI", "PyTorch CI", created_at, 1000});
}

void FakeGitHub::expect_read_only() {
    const std::lock_guard lock(m_mutex);
    m_read_only = true;
}

std::optional<Reply> FakeGitHub::route_repo_data(const RecordedRequest& request,
                                                 const std::vector<std::string>& parts,
                                                 const std::string& query) {
    if (m_read_only && request.method != "GET") {
        m_problems.push_back(
            fmt::format("{} {}: doctor must only read", request.method, request.target));
        return error_reply(405, "Method Not Allowed");
    }
    if (request.method != "GET") {
        return std::nullopt;
    }
    const bool has_authorization = request.header("Authorization").has_value();
    const FakeToken* token = token_of(request);
    if (parts.size() == 1 && parts[0] == "app" && m_app) {
        if (auto refused = check_jwt(request)) {
            return refused;
        }
        json app = answer_template("apps--get-authenticated");
        app["slug"] = m_app->slug;
        app["name"] = m_app->slug;
        capture_answer("apps--get-authenticated", app);
        return json_reply(200, app.dump());
    }
    if (parts.size() == 2 && parts[0] == "users") {
        if (has_authorization && token == nullptr) {
            return error_reply(401, "Bad credentials");
        }
        if (m_users.count(to_lower_ascii(parts[1])) == 0) {
            return error_reply(404, "Not Found");
        }
        json user = answer_template("users--get-by-username");
        user["login"] = parts[1];
        capture_answer("users--get-by-username", user);
        return json_reply(200, user.dump());
    }
    if (parts.size() == 3 && parts[0] == "orgs" && parts[2] == "installations") {
        const auto org = m_orgs.find(to_lower_ascii(parts[1]));
        const std::string bearer = request.header("Authorization").value_or("");
        if (token == nullptr) {
            return error_reply(401, "Requires authentication");
        }
        if (org == m_orgs.end() || org->second.owner_tokens.count(bearer.substr(7)) == 0) {
            return error_reply(403, "You must be an organization owner to list installations");
        }
        json list = {{"total_count", org->second.app_slugs.size()},
                     {"installations", json::array()}};
        for (const std::string& slug : org->second.app_slugs) {
            json installation = answer_template("orgs--list-app-installations");
            installation["app_slug"] = slug;
            installation["account"]["login"] = parts[1];
            list["installations"].push_back(installation);
        }
        capture_answer("orgs--list-app-installations", list);
        return json_reply(200, list.dump());
    }
    if (parts.size() < 3 || parts[0] != "repos") {
        return std::nullopt;
    }
    const std::string key = to_lower_ascii(parts[1] + "/" + parts[2]);
    const auto found = m_repo_data.find(key);
    if (found == m_repo_data.end() || (parts.size() == 4 && parts[3] == "installation")) {
        return std::nullopt;
    }
    if (has_authorization && token == nullptr) {
        return error_reply(401, "Bad credentials");
    }
    const bool is_private = m_repos[key].is_private;
    if (is_private && (token == nullptr || !visible(*token, key))) {
        return error_reply(404, "Not Found");
    }
    const FakeRepoData& data = found->second;
    const std::string base = fmt::format("https://api.github.com/repos/{}", data.full_name);
    if (parts.size() == 3) {
        const json repo = repository_answer(data, is_private, iso8601(now() - data.pushed_ago));
        capture_answer("repos--get", repo);
        return json_reply(200, repo.dump());
    }
    if (parts[3] == "contents" && parts.size() > 4) {
        std::string path = parts[4];
        for (std::size_t i = 5; i < parts.size(); ++i) {
            path += "/" + parts[i];
        }
        const std::string ref = query_param(query, "ref");
        const auto branch = data.files.find(ref.empty() ? data.default_branch : ref);
        if (branch == data.files.end()) {
            return error_reply(404, fmt::format("No commit found for the ref {}", ref));
        }
        if (const auto file = branch->second.find(path); file != branch->second.end()) {
            json answer = answer_template("repos--get-content.file");
            answer["name"] = path.substr(path.rfind('/') + 1);
            answer["path"] = path;
            answer["size"] = file->second.size();
            answer["content"] = base64(file->second);
            answer["url"] = fmt::format("{}/contents/{}?ref={}", base, path, branch->first);
            capture_answer("repos--get-content", answer);
            return json_reply(200, answer.dump());
        }
        json listing = json::array();
        for (const auto& [file_path, text] : branch->second) {
            if (file_path.starts_with(path + "/")
                && file_path.find('/', path.size() + 1) == std::string::npos) {
                json item = answer_template("repos--get-content.directory");
                item["name"] = file_path.substr(path.size() + 1);
                item["path"] = file_path;
                item["size"] = text.size();
                listing.push_back(item);
            }
        }
        if (listing.empty()) {
            return error_reply(404, "Not Found");
        }
        capture_answer("repos--get-content", listing);
        return json_reply(200, listing.dump());
    }
    if (parts.size() == 5 && parts[3] == "actions" && parts[4] == "permissions") {
        const std::string bearer = request.header("Authorization").value_or("");
        if (token == nullptr
            || (!data.admin_tokens.empty() && data.admin_tokens.count(bearer.substr(7)) == 0)) {
            Reply reply = error_reply(403, "Resource not accessible by personal access token");
            reply.headers.emplace_back("x-accepted-github-permissions", "administration=read");
            return reply;
        }
        json settings = answer_template("actions--get-github-actions-permissions-repository");
        settings["enabled"] = data.actions_enabled;
        if (!data.actions_enabled) {
            settings.erase("allowed_actions");
            settings.erase("selected_actions_url");
        }
        capture_answer("actions--get-github-actions-permissions-repository", settings);
        return json_reply(200, settings.dump());
    }
    if (parts.size() == 5 && parts[3] == "actions" && parts[4] == "workflows") {
        json list = {{"total_count", 0}, {"workflows", json::array()}};
        std::set<std::string> listed;
        std::vector<std::string> branches = {data.default_branch};
        for (const auto& [branch, files] : data.files) {
            if (branch != data.default_branch) {
                branches.push_back(branch);
            }
        }
        for (const std::string& branch : branches) {
            const auto files = data.files.find(branch);
            if (files == data.files.end()) {
                continue;
            }
            for (const auto& [path, text] : files->second) {
                if (!path.starts_with(".github/workflows/") || !listed.insert(path).second) {
                    continue;
                }
                json workflow = answer_template("actions--list-repo-workflows");
                workflow["id"] = 161'335 + listed.size();
                workflow["name"] = path.substr(path.rfind('/') + 1);
                workflow["path"] = path;
                workflow["state"] =
                    data.disabled_workflows.count(path) != 0 ? "disabled_manually" : "active";
                workflow["html_url"] =
                    fmt::format("https://github.com/{}/blob/{}/{}", data.full_name, branch, path);
                list["workflows"].push_back(workflow);
            }
        }
        list["total_count"] = list["workflows"].size();
        capture_answer("actions--list-repo-workflows", list);
        return json_reply(200, list.dump());
    }
    return std::nullopt;
}

} // namespace crcr::test
