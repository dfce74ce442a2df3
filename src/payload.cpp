#include "crcr/payload.hpp"

#include "crcr/error.hpp"
#include "crcr/github_names.hpp"
#include "crcr/utf8.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

namespace crcr {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr std::array<std::string_view, 21> k_pr_actions = {"assigned",
                                                           "auto_merge_disabled",
                                                           "auto_merge_enabled",
                                                           "closed",
                                                           "converted_to_draft",
                                                           "demilestoned",
                                                           "dequeued",
                                                           "edited",
                                                           "enqueued",
                                                           "labeled",
                                                           "locked",
                                                           "milestoned",
                                                           "opened",
                                                           "ready_for_review",
                                                           "reopened",
                                                           "review_request_removed",
                                                           "review_requested",
                                                           "synchronize",
                                                           "unassigned",
                                                           "unlabeled",
                                                           "unlocked"};

constexpr std::string_view k_api = "https://api.github.com";
constexpr std::string_view k_web = "https://github.com";

std::string base64(std::string_view bytes) {
    constexpr std::string_view k_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const auto n = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16U)
                       | (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8U)
                       | static_cast<unsigned char>(bytes[i + 2]);
        out += {k_alphabet[(n >> 18U) & 63U],
                k_alphabet[(n >> 12U) & 63U],
                k_alphabet[(n >> 6U) & 63U],
                k_alphabet[n & 63U]};
    }
    if (i < bytes.size()) {
        const bool two = i + 1 < bytes.size();
        const auto n =
            (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16U)
            | (two ? static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8U : 0U);
        out += {k_alphabet[(n >> 18U) & 63U],
                k_alphabet[(n >> 12U) & 63U],
                two ? k_alphabet[(n >> 6U) & 63U] : '=',
                '='};
    }
    return out;
}

} // namespace

std::string github_node_id(std::string_view type, std::uint64_t id) {
    return base64(fmt::format("0{}:{}{}", type.size(), type, id));
}

namespace {

std::string node_id(std::string_view type, std::uint64_t id) {
    return github_node_id(type, id);
}

struct Account {
    std::string login;
    std::uint64_t id = 0;
    std::string type = "User"; // User, Organization or Bot
};

// The accounts crcr knows the real ids of; others get stable ids derived from their names.
Account account(std::string_view login) {
    if (login == "pytorch") {
        return {"pytorch", 21003710, "Organization"};
    }
    if (login == "octocat") {
        return {"octocat", 583231, "User"};
    }
    if (login == "pytorchbot") {
        return {"pytorchbot", 21957446, "User"};
    }
    std::uint64_t hash = 1469598103934665603ULL; // FNV-1a: the same login, the same id
    for (const char c : login) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return {std::string(login),
            1'000'000 + hash % 150'000'000,
            login.ends_with("[bot]") ? "Bot" : "User"};
}

// A login as it appears in URLs: bots' "[bot]" percent-encoded, as GitHub writes it.
std::string url_login(std::string_view login) {
    std::string out;
    for (const char c : login) {
        out += c == '[' ? std::string("%5B") : c == ']' ? std::string("%5D") : std::string(1, c);
    }
    return out;
}

// The noreply address GitHub gives commits by `a` (a valid address for bots too).
std::string noreply_email(const Account& a) {
    std::string name = a.login;
    if (name.ends_with("[bot]")) {
        name.resize(name.size() - 5);
    }
    return fmt::format("{}+{}@users.noreply.github.com", a.id, name);
}

Json user(const Account& a) {
    const std::string api = fmt::format("{}/users/{}", k_api, url_login(a.login));
    return Json{{"login", a.login},
                {"id", a.id},
                {"node_id", node_id(a.type == "Organization" ? "Organization" : "User", a.id)},
                {"avatar_url", fmt::format("https://avatars.githubusercontent.com/u/{}?v=4", a.id)},
                {"gravatar_id", ""},
                {"url", api},
                {"html_url", fmt::format("{}/{}", k_web, url_login(a.login))},
                {"followers_url", api + "/followers"},
                {"following_url", api + "/following{/other_user}"},
                {"gists_url", api + "/gists{/gist_id}"},
                {"starred_url", api + "/starred{/owner}{/repo}"},
                {"subscriptions_url", api + "/subscriptions"},
                {"organizations_url", api + "/orgs"},
                {"repos_url", api + "/repos"},
                {"events_url", api + "/events{/privacy}"},
                {"received_events_url", api + "/received_events"},
                {"type", a.type},
                {"site_admin", false}};
}

struct RepoFacts {
    std::uint64_t id = 0;
    std::string description;
    std::string homepage;
    std::string language = "Python";
    bool fork = false;
    Clock::time_point created;
};

RepoFacts repo_facts(std::string_view full_name, Random& random, Clock::time_point now) {
    if (full_name == "pytorch/pytorch") {
        return {65600975,
                "Tensors and Dynamic neural networks in Python with strong GPU acceleration",
                "https://pytorch.org",
                "Python",
                false,
                Clock::time_point(1471356426s)};
    }
    return {random.between(100'000'000, 1'100'000'000),
            "Out-of-tree accelerator backend for PyTorch",
            "",
            "C++",
            false,
            now - std::chrono::hours(24 * random.between(30, 3000))};
}

// The webhook repository object. `unix_times`: push events carry created_at and pushed_at as
// Unix timestamps; pull_request events as ISO 8601 strings.
Json repository(std::string_view full_name,
                const RepoFacts& facts,
                Clock::time_point now,
                bool unix_times) {
    const std::size_t slash = full_name.find('/');
    const Account owner = account(full_name.substr(0, slash));
    const std::string api = fmt::format("{}/repos/{}", k_api, full_name);
    const std::string web = fmt::format("{}/{}", k_web, full_name);
    const auto time_value = [unix_times](Clock::time_point t) -> Json {
        if (unix_times) {
            return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        }
        return iso8601(t);
    };
    const bool is_pytorch = full_name == "pytorch/pytorch";
    Json license = is_pytorch ? Json{{"key", "other"},
                                     {"name", "Other"},
                                     {"spdx_id", "NOASSERTION"},
                                     {"url", nullptr},
                                     {"node_id", "MDc6TGljZW5zZTA="}}
                              : Json{{"key", "bsd-3-clause"},
                                     {"name", R"(BSD 3-Clause "New" or "Revised" License)"},
                                     {"spdx_id", "BSD-3-Clause"},
                                     {"url", "https://api.github.com/licenses/bsd-3-clause"},
                                     {"node_id", "MDc6TGljZW5zZTU="}};
    return Json{{"id", facts.id},
                {"node_id", node_id("Repository", facts.id)},
                {"name", std::string(full_name.substr(slash + 1))},
                {"full_name", std::string(full_name)},
                {"private", false},
                {"owner", user(owner)},
                {"html_url", web},
                {"description", facts.description},
                {"fork", facts.fork},
                {"url", api},
                {"forks_url", api + "/forks"},
                {"keys_url", api + "/keys{/key_id}"},
                {"collaborators_url", api + "/collaborators{/collaborator}"},
                {"teams_url", api + "/teams"},
                {"hooks_url", api + "/hooks"},
                {"issue_events_url", api + "/issues/events{/number}"},
                {"events_url", api + "/events"},
                {"assignees_url", api + "/assignees{/user}"},
                {"branches_url", api + "/branches{/branch}"},
                {"tags_url", api + "/tags"},
                {"blobs_url", api + "/git/blobs{/sha}"},
                {"git_tags_url", api + "/git/tags{/sha}"},
                {"git_refs_url", api + "/git/refs{/sha}"},
                {"trees_url", api + "/git/trees{/sha}"},
                {"statuses_url", api + "/statuses/{sha}"},
                {"languages_url", api + "/languages"},
                {"stargazers_url", api + "/stargazers"},
                {"contributors_url", api + "/contributors"},
                {"subscribers_url", api + "/subscribers"},
                {"subscription_url", api + "/subscription"},
                {"commits_url", api + "/commits{/sha}"},
                {"git_commits_url", api + "/git/commits{/sha}"},
                {"comments_url", api + "/comments{/number}"},
                {"issue_comment_url", api + "/issues/comments{/number}"},
                {"contents_url", api + "/contents/{+path}"},
                {"compare_url", api + "/compare/{base}...{head}"},
                {"merges_url", api + "/merges"},
                {"archive_url", api + "/{archive_format}{/ref}"},
                {"downloads_url", api + "/downloads"},
                {"issues_url", api + "/issues{/number}"},
                {"pulls_url", api + "/pulls{/number}"},
                {"milestones_url", api + "/milestones{/number}"},
                {"notifications_url", api + "/notifications{?since,all,participating}"},
                {"labels_url", api + "/labels{/name}"},
                {"releases_url", api + "/releases{/id}"},
                {"deployments_url", api + "/deployments"},
                {"created_at", time_value(facts.created)},
                {"updated_at", iso8601(now - 7min)},
                {"pushed_at", time_value(now - 1min)},
                {"git_url", fmt::format("git://github.com/{}.git", full_name)},
                {"ssh_url", fmt::format("git@github.com:{}.git", full_name)},
                {"clone_url", web + ".git"},
                {"svn_url", web},
                {"homepage", facts.homepage.empty() ? Json(nullptr) : Json(facts.homepage)},
                {"size", is_pytorch ? 1'085'519 : 48'213},
                {"stargazers_count", is_pytorch ? 96'512 : 41},
                {"watchers_count", is_pytorch ? 96'512 : 41},
                {"language", facts.language},
                {"has_issues", true},
                {"has_projects", true},
                {"has_downloads", true},
                {"has_wiki", true},
                {"has_pages", false},
                {"has_discussions", false},
                {"forks_count", is_pytorch ? 26'304 : 9},
                {"mirror_url", nullptr},
                {"archived", false},
                {"disabled", false},
                {"open_issues_count", is_pytorch ? 17'482 : 3},
                {"license", std::move(license)},
                {"allow_forking", true},
                {"is_template", false},
                {"web_commit_signoff_required", false},
                {"topics",
                 is_pytorch ? Json{"autograd",
                                   "deep-learning",
                                   "gpu",
                                   "machine-learning",
                                   "neural-network",
                                   "numpy",
                                   "python",
                                   "tensor"}
                            : Json::array()},
                {"visibility", "public"},
                {"forks", is_pytorch ? 26'304 : 9},
                {"open_issues", is_pytorch ? 17'482 : 3},
                {"watchers", is_pytorch ? 96'512 : 41},
                {"default_branch", "main"},
                {"custom_properties", Json::object()}};
}

Json label(std::string_view full_name, std::string_view name, Random& random) {
    const std::uint64_t id = random.between(1'000'000'000, 9'000'000'000);
    const bool ciflow = name.starts_with("ciflow/");
    std::string encoded;
    for (const char c : name) {
        encoded += c == '/'   ? std::string("%2F")
                   : c == ' ' ? std::string("%20")
                              : std::string(1, c);
    }
    return Json{
        {"id", id},
        {"node_id", node_id("Label", id)},
        {"url", fmt::format("{}/repos/{}/labels/{}", k_api, full_name, encoded)},
        {"name", std::string(name)},
        {"color", ciflow ? "54E29C" : random.hex(6)},
        {"default", false},
        {"description",
         ciflow ? Json("Trigger CI for a downstream accelerator via the relay") : Json(nullptr)}};
}

Json milestone(std::string_view full_name, Random& random, Clock::time_point now) {
    const std::uint64_t id = random.between(5'000'000, 12'000'000);
    const std::uint64_t number = random.between(20, 60);
    const std::string api = fmt::format("{}/repos/{}/milestones/{}", k_api, full_name, number);
    return Json{{"url", api},
                {"html_url", fmt::format("{}/{}/milestone/{}", k_web, full_name, number)},
                {"labels_url", api + "/labels"},
                {"id", id},
                {"node_id", node_id("Milestone", id)},
                {"number", number},
                {"title", "2.11.0"},
                {"description", nullptr},
                {"creator", user(account("pytorchbot"))},
                {"open_issues", 42},
                {"closed_issues", 117},
                {"state", "open"},
                {"created_at", iso8601(now - 24h * 60)},
                {"updated_at", iso8601(now - 1h)},
                {"due_on", nullptr},
                {"closed_at", nullptr}};
}

void check_sha(std::string_view sha, std::string_view what) {
    if (sha.size() != 40 || !std::all_of(sha.begin(), sha.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
        throw Error(fmt::format("{} '{}' is not a commit SHA (40 lowercase hex digits)", what, sha),
                    ExitCode::usage);
    }
}

void check_repo(std::string_view repo, std::string_view what) {
    if (const std::optional<std::string> problem = full_name_problem(repo)) {
        throw Error(fmt::format("{} '{}' is not a GitHub repository: {}", what, repo, *problem),
                    ExitCode::usage);
    }
}

// JSON text is UTF-8: a value that is not cannot go into a payload.
void check_utf8(std::string_view text, std::string_view what) {
    if (!is_valid_utf8(text)) {
        throw Error(fmt::format("{} is not UTF-8 text: write it in UTF-8 (a terminal or file in "
                                "another encoding, Latin-1 say, gives other bytes)",
                                what),
                    ExitCode::usage);
    }
}

std::string or_random_sha(const std::string& given, std::string_view what, Random& random) {
    if (given.empty()) {
        return random.hex(40);
    }
    check_sha(given, what);
    return given;
}

Json build_pull_request(const PayloadShape& shape, Random& random, Clock::time_point now) {
    const std::string& action = shape.action;
    const std::string& repo = shape.repo;
    const std::uint64_t number = shape.pr.value_or(random.between(150'000, 175'000));
    const std::uint64_t id = random.between(2'500'000'000, 3'200'000'000);
    const Account author = account(shape.sender);
    const std::string head_sha = or_random_sha(shape.head_sha, "--head-sha", random);
    const std::string base_sha = or_random_sha(shape.base_sha, "--base-sha", random);
    const std::string head_repo_name = shape.head_repo.empty() ? repo : shape.head_repo;
    if (!shape.head_repo.empty()) {
        check_repo(shape.head_repo, "--head-repo");
    }
    const std::string head_ref = shape.head_ref.empty()
                                     ? fmt::format("gh/{}/{}/head", author.login, number % 1000)
                                     : shape.head_ref;
    const std::string api = fmt::format("{}/repos/{}", k_api, repo);
    const std::string web = fmt::format("{}/{}", k_web, repo);
    const RepoFacts base_facts = repo_facts(repo, random, now);
    RepoFacts head_facts =
        shape.head_repo.empty() ? base_facts : repo_facts(head_repo_name, random, now);
    head_facts.fork = !shape.head_repo.empty();

    const bool closed = action == "closed";
    const bool merged = closed && shape.merged;
    const Clock::time_point created =
        now - std::chrono::minutes(random.between(5, std::uint64_t{60} * 24 * 3));
    const Clock::time_point closed_at = now - 2s;

    Json labels = Json::array();
    for (const std::string& name : shape.labels) {
        labels.push_back(label(repo, name, random));
    }
    const auto head_owner = account(head_repo_name.substr(0, head_repo_name.find('/')));
    Json head = {{"label", fmt::format("{}:{}", head_owner.login, head_ref)},
                 {"ref", head_ref},
                 {"sha", head_sha},
                 {"user", user(head_owner)},
                 {"repo", repository(head_repo_name, head_facts, now, false)}};
    const auto base_owner = account(repo.substr(0, repo.find('/')));
    Json base = {{"label", fmt::format("{}:{}", base_owner.login, shape.base_ref)},
                 {"ref", shape.base_ref},
                 {"sha", base_sha},
                 {"user", user(base_owner)},
                 {"repo", repository(repo, base_facts, now, false)}};
    const std::string pull_api = fmt::format("{}/pulls/{}", api, number);
    const std::string title =
        shape.title.empty()
            ? fmt::format("[{}] Add a kernel for aten::addmm on the new backend", number % 97)
            : shape.title;
    const bool locked = action == "locked";
    const bool draft = action == "converted_to_draft";
    const Json auto_merge =
        action == "auto_merge_enabled"
            ? Json{{"enabled_by", user(author)},
                   {"merge_method", "squash"},
                   {"commit_title", fmt::format("{} (#{})", title, number)},
                   {"commit_message",
                    "Pull Request resolved: " + web + "/pull/" + std::to_string(number)}}
            : Json(nullptr);
    Json pr = {
        {"url", pull_api},
        {"id", id},
        {"node_id", node_id("PullRequest", id)},
        {"html_url", fmt::format("{}/pull/{}", web, number)},
        {"diff_url", fmt::format("{}/pull/{}.diff", web, number)},
        {"patch_url", fmt::format("{}/pull/{}.patch", web, number)},
        {"issue_url", fmt::format("{}/issues/{}", api, number)},
        {"number", number},
        {"state", closed ? "closed" : "open"},
        {"locked", locked},
        {"title", title},
        {"user", user(author)},
        {"body",
         fmt::format("Stack from [ghstack](https://github.com/ezyang/ghstack):\n* __->__ #{}\n\n"
                     "Adds the kernel and its tests.",
                     number)},
        {"created_at", iso8601(created)},
        {"updated_at", iso8601(now - 1s)},
        {"closed_at", closed ? Json(iso8601(closed_at)) : Json(nullptr)},
        {"merged_at", merged ? Json(iso8601(closed_at)) : Json(nullptr)},
        {"merge_commit_sha",
         action == "opened" || action == "reopened" ? Json(nullptr) : Json(random.hex(40))},
        {"assignee", nullptr},
        {"assignees", Json::array()},
        {"requested_reviewers", Json::array()},
        {"requested_teams", Json::array()},
        {"labels", labels},
        {"milestone", nullptr},
        {"commits_url", pull_api + "/commits"},
        {"review_comments_url", pull_api + "/comments"},
        {"review_comment_url", api + "/pulls/comments{/number}"},
        {"comments_url", fmt::format("{}/issues/{}/comments", api, number)},
        {"statuses_url", fmt::format("{}/statuses/{}", api, head_sha)},
        {"head", std::move(head)},
        {"base", std::move(base)},
        {"_links",
         {{"self", {{"href", pull_api}}},
          {"html", {{"href", fmt::format("{}/pull/{}", web, number)}}},
          {"issue", {{"href", fmt::format("{}/issues/{}", api, number)}}},
          {"comments", {{"href", fmt::format("{}/issues/{}/comments", api, number)}}},
          {"review_comments", {{"href", pull_api + "/comments"}}},
          {"review_comment", {{"href", api + "/pulls/comments{/number}"}}},
          {"commits", {{"href", pull_api + "/commits"}}},
          {"statuses", {{"href", fmt::format("{}/statuses/{}", api, head_sha)}}}}},
        {"author_association", shape.head_repo.empty() ? "MEMBER" : "CONTRIBUTOR"},
        {"auto_merge", auto_merge},
        {"active_lock_reason", locked ? Json("resolved") : Json(nullptr)},
        {"draft", draft},
        {"merged", merged},
        {"mergeable", closed ? Json(nullptr) : Json(true)},
        {"rebaseable", closed ? Json(nullptr) : Json(true)},
        {"mergeable_state", closed ? "unknown" : "clean"},
        {"merged_by", merged ? user(account("pytorchbot")) : Json(nullptr)},
        {"comments", random.between(0, 12)},
        {"review_comments", random.between(0, 6)},
        {"maintainer_can_modify", !shape.head_repo.empty()},
        {"commits", random.between(1, 5)},
        {"additions", random.between(10, 900)},
        {"deletions", random.between(0, 300)},
        {"changed_files", random.between(1, 24)},
    };
    return pr;
}

Json build_pull_request_event(const PayloadShape& shape, Random& random, Clock::time_point now) {
    if (std::find(k_pr_actions.begin(), k_pr_actions.end(), shape.action) == k_pr_actions.end()) {
        throw Error(fmt::format("unknown pull_request action '{}': GitHub sends {}",
                                shape.action,
                                fmt::join(k_pr_actions, ", ")),
                    ExitCode::usage);
    }
    if (shape.merged && shape.action != "closed") {
        throw Error("--merged goes with 'closed': GitHub reports a merge as a closed pull request",
                    ExitCode::usage);
    }
    const std::string& action = shape.action;
    PayloadShape with_label = shape;
    if ((action == "labeled" || action == "unlabeled") && with_label.labels.empty()) {
        with_label.labels.emplace_back("ciflow/crcr/crcr-test");
    }
    Json pr = build_pull_request(with_label, random, now);
    const Account sender = account(shape.sender);
    const std::uint64_t number = pr["number"].get<std::uint64_t>();
    Json event = {{"action", action}, {"number", number}};
    if (action == "synchronize") {
        event["before"] = random.hex(40);
        event["after"] = pr["head"]["sha"];
    }
    if (action == "assigned" || action == "unassigned") {
        event["assignee"] = user(sender);
        if (action == "assigned") {
            pr["assignee"] = user(sender);
            pr["assignees"] = Json::array({user(sender)});
        }
    }
    if (action == "review_requested" || action == "review_request_removed") {
        event["requested_reviewer"] = user(account("pytorchbot"));
        if (action == "review_requested") {
            pr["requested_reviewers"] = Json::array({user(account("pytorchbot"))});
        }
    }
    if (action == "milestoned" || action == "demilestoned") {
        event["milestone"] = milestone(shape.repo, random, now);
        pr["milestone"] = event["milestone"]; // demilestoned too: GitHub's snapshot still has it
    }
    if (action == "auto_merge_enabled" || action == "auto_merge_disabled" || action == "dequeued") {
        event["reason"] = action == "dequeued" ? "MERGE_CONFLICT" : "";
    }
    if (action == "edited") {
        event["changes"] = {{"title", {{"from", "WIP: " + pr["title"].get<std::string>()}}}};
    }
    event["pull_request"] = std::move(pr);
    if (action == "labeled" || action == "unlabeled") {
        // The label added (or removed): the last of --label.
        event["label"] = event["pull_request"]["labels"].back();
        if (action == "unlabeled") {
            event["pull_request"]["labels"].erase(event["pull_request"]["labels"].size() - 1);
        }
    }
    event["repository"] = event["pull_request"]["base"]["repo"];
    event["sender"] = user(sender);
    return event;
}

Json commit(std::string_view repo,
            const std::string& id,
            const Account& author,
            std::string_view message,
            Clock::time_point when) {
    const Json person = {
        {"name", author.login}, {"email", noreply_email(author)}, {"username", author.login}};
    return Json{{"id", id},
                {"tree_id", id.substr(20) + id.substr(0, 20)},
                {"distinct", true},
                {"message", std::string(message)},
                {"timestamp", iso8601(when)},
                {"url", fmt::format("{}/{}/commit/{}", k_web, repo, id)},
                {"author", person},
                {"committer", person},
                {"added", Json::array()},
                {"removed", Json::array()},
                {"modified", Json::array({"aten/src/ATen/native/native_functions.yaml"})}};
}

Json build_push_event(const PayloadShape& shape, Random& random, Clock::time_point now) {
    if (!shape.action.empty()) {
        throw Error(fmt::format("push has no action, got '{}'", shape.action), ExitCode::usage);
    }
    if (!shape.ref.starts_with("refs/heads/") && !shape.ref.starts_with("refs/tags/")) {
        throw Error(
            fmt::format(
                "--ref '{}' is not a full ref: write refs/heads/<branch> or refs/tags/<tag>",
                shape.ref),
            ExitCode::usage);
    }
    const bool tag = shape.ref.starts_with("refs/tags/");
    const std::string before = shape.before.empty() ? random.hex(40) : shape.before;
    check_sha(before, "--before");
    std::string after = shape.after.empty() ? random.hex(40) : shape.after;
    check_sha(after, "--after");
    if (shape.deleted) {
        if (!shape.after.empty() && after != k_null_sha) {
            throw Error("--deleted means --after is 40 zeros", ExitCode::usage);
        }
        after = std::string(k_null_sha);
    }
    const bool deleted = after == k_null_sha;
    const bool created = before == k_null_sha;
    if (created && deleted) {
        throw Error("--before and --after cannot both be 40 zeros", ExitCode::usage);
    }
    const Account pusher = account(shape.sender);
    const RepoFacts facts = repo_facts(shape.repo, random, now);
    Json commits = Json::array();
    if (!deleted && !tag) {
        const std::uint64_t count = created ? 1 : random.between(1, 3);
        for (std::uint64_t i = 0; i < count; ++i) {
            const std::string id = i + 1 == count ? after : random.hex(40);
            commits.push_back(commit(shape.repo,
                                     id,
                                     pusher,
                                     fmt::format("Update the kernels ({}/{})", i + 1, count),
                                     now - std::chrono::minutes((count - i) * 3)));
        }
    }
    const std::string ref_name = shape.ref.substr(shape.ref.find('/', 5) + 1);
    const std::string compare = created
                                    ? fmt::format("{}/{}/compare/{}", k_web, shape.repo, ref_name)
                                    : fmt::format("{}/{}/compare/{}...{}",
                                                  k_web,
                                                  shape.repo,
                                                  before.substr(0, 12),
                                                  after.substr(0, 12));
    Json head_commit = commits.empty() ? Json(nullptr) : commits.back();
    if (tag && !deleted) {
        head_commit = commit(shape.repo, after, pusher, "Release candidate", now - 30min);
    }
    return Json{{"ref", shape.ref},
                {"before", before},
                {"after", after},
                {"repository", repository(shape.repo, facts, now, true)},
                {"pusher", {{"name", pusher.login}, {"email", noreply_email(pusher)}}},
                {"sender", user(pusher)},
                {"created", created},
                {"deleted", deleted},
                {"forced", shape.forced},
                {"base_ref", nullptr},
                {"compare", compare},
                {"commits", commits},
                {"head_commit", head_commit}};
}

// The relay's GitHub App, as check runs and check suites name their app.
constexpr std::string_view k_relay_app = "pytorch-fdn-cross-repo-ci-relay";
constexpr std::uint64_t k_relay_app_id = 1'187'113;

Json relay_app(Clock::time_point now) {
    return Json{{"id", k_relay_app_id},
                {"slug", k_relay_app},
                {"node_id", node_id("Integration", k_relay_app_id)},
                {"owner", user(account("pytorch"))},
                {"name", k_relay_app},
                {"description", "Cross-Repository CI Relay: PyTorch CI for out-of-tree backends"},
                {"external_url", "https://github.com/pytorch/test-infra"},
                {"html_url", fmt::format("{}/apps/{}", k_web, k_relay_app)},
                {"created_at", iso8601(now - 24h * 300)},
                {"updated_at", iso8601(now - 24h * 20)},
                {"permissions",
                 {{"actions", "write"},
                  {"checks", "write"},
                  {"contents", "write"},
                  {"metadata", "read"},
                  {"pull_requests", "read"}}},
                {"events", {"check_run", "check_suite", "pull_request", "push"}}};
}

Json installation(Random& random) {
    const std::uint64_t id = random.between(40'000'000, 90'000'000);
    return Json{{"id", id}, {"node_id", node_id("IntegrationInstallation", id)}};
}

// What a re-run request is about: the pull request and commit its check runs belong to.
struct CheckFacts {
    std::uint64_t pr = 0;
    std::string head_sha;
    std::string head_ref;
    std::string before; // the head before the last push
    std::uint64_t suite_id = 0;
    Json repository;
    Json pull_requests; // GitHub's short form, as check runs and suites carry them
};

CheckFacts check_facts(const PayloadShape& shape, Random& random, Clock::time_point now) {
    if (shape.action != "rerequested") {
        throw Error(fmt::format("{} action '{}': crcr simulates 'rerequested', the one the relay "
                                "acts on",
                                shape.event,
                                shape.action),
                    ExitCode::usage);
    }
    CheckFacts facts;
    facts.pr = shape.pr.value_or(random.between(150'000, 175'000));
    facts.head_sha = or_random_sha(shape.head_sha, "--head-sha", random);
    facts.head_ref = shape.head_ref.empty()
                         ? fmt::format("gh/{}/{}/head", shape.sender, facts.pr % 1000)
                         : shape.head_ref;
    facts.before = random.hex(40);
    facts.suite_id = shape.check_suite_id.value_or(random.between(30'000'000'000, 45'000'000'000));
    const RepoFacts repo = repo_facts(shape.repo, random, now);
    facts.repository = repository(shape.repo, repo, now, false);
    const std::string api = fmt::format("{}/repos/{}", k_api, shape.repo);
    const Json short_repo = {{"id", repo.id}, {"url", api}, {"name", facts.repository["name"]}};
    facts.pull_requests = Json::array(
        {Json{{"url", fmt::format("{}/pulls/{}", api, facts.pr)},
              {"id", random.between(2'500'000'000, 3'200'000'000)},
              {"number", facts.pr},
              {"head", {{"ref", facts.head_ref}, {"sha", facts.head_sha}, {"repo", short_repo}}},
              {"base", {{"ref", shape.base_ref}, {"sha", random.hex(40)}, {"repo", short_repo}}}}});
    return facts;
}

// The check suite of the relay's App on the commit: `full` adds what check_suite events carry.
Json check_suite(const PayloadShape& shape,
                 const CheckFacts& facts,
                 bool full,
                 Random& random,
                 Clock::time_point now) {
    const std::string api = fmt::format("{}/repos/{}", k_api, shape.repo);
    Json suite = {{"id", facts.suite_id},
                  {"node_id", node_id("CheckSuite", facts.suite_id)},
                  {"head_branch", facts.head_ref},
                  {"head_sha", facts.head_sha},
                  {"status", "completed"},
                  {"conclusion", "failure"},
                  {"url", fmt::format("{}/check-suites/{}", api, facts.suite_id)},
                  {"before", facts.before},
                  {"after", facts.head_sha},
                  {"pull_requests", facts.pull_requests},
                  {"app", relay_app(now)},
                  {"created_at", iso8601(now - 2h)},
                  {"updated_at", iso8601(now - 20min)}};
    if (full) {
        const Account author = account(shape.sender);
        const Json person = {{"name", author.login}, {"email", noreply_email(author)}};
        suite["latest_check_runs_count"] = random.between(1, 8);
        suite["check_runs_url"] = fmt::format("{}/check-suites/{}/check-runs", api, facts.suite_id);
        suite["head_commit"] = {{"id", facts.head_sha},
                                {"tree_id", random.hex(40)},
                                {"message", "Add a kernel for aten::addmm on the new backend"},
                                {"timestamp", iso8601(now - 3h)},
                                {"author", person},
                                {"committer", person}};
    }
    return suite;
}

// check_run rerequested: what the relay reads is the name (crcr/<downstream>/<workflow>/<job>),
// `external_id` (<downstream run id>:<pr number>) and, for the suite, `check_suite.id`.
Json build_check_run_event(const PayloadShape& shape, Random& random, Clock::time_point now) {
    const CheckFacts facts = check_facts(shape, random, now);
    const std::string name = shape.check_name.empty()
                                 ? check_run_name("pytorch/crcr-test", "PyTorch CI", "build")
                                 : shape.check_name;
    const std::uint64_t run_id =
        shape.run_id.value_or(random.between(19'000'000'000, 21'000'000'000));
    const std::uint64_t id = random.between(50'000'000'000, 60'000'000'000);
    const std::string api = fmt::format("{}/repos/{}/check-runs/{}", k_api, shape.repo, id);
    // The downstream run's page, where the relay's check run links.
    std::string downstream = check_run_repo(name);
    if (downstream.empty()) {
        downstream = "pytorch/crcr-test";
    }
    Json check_run = {
        {"id", id},
        {"name", name},
        {"node_id", node_id("CheckRun", id)},
        {"head_sha", facts.head_sha},
        {"external_id", fmt::format("{}:{}", run_id, facts.pr)},
        {"url", api},
        {"html_url", fmt::format("{}/{}/runs/{}", k_web, shape.repo, id)},
        {"details_url", fmt::format("{}/{}/actions/runs/{}", k_web, downstream, run_id)},
        {"status", "completed"},
        {"conclusion", "failure"},
        {"started_at", iso8601(now - 1h)},
        {"completed_at", iso8601(now - 20min)},
        {"output",
         {{"title", "failure"},
          {"summary", fmt::format("Downstream job in {}: failure", downstream)},
          {"text", nullptr},
          {"annotations_count", 0},
          {"annotations_url", api + "/annotations"}}},
        {"check_suite", check_suite(shape, facts, false, random, now)},
        {"app", relay_app(now)},
        {"pull_requests", facts.pull_requests}};
    return Json{{"action", shape.action},
                {"check_run", std::move(check_run)},
                {"repository", facts.repository},
                {"sender", user(account(shape.sender))},
                {"installation", installation(random)}};
}

// check_suite rerequested ("Re-run all checks"): the relay reads `check_suite.id`.
Json build_check_suite_event(const PayloadShape& shape, Random& random, Clock::time_point now) {
    const CheckFacts facts = check_facts(shape, random, now);
    return Json{{"action", shape.action},
                {"check_suite", check_suite(shape, facts, true, random, now)},
                {"repository", facts.repository},
                {"sender", user(account(shape.sender))},
                {"installation", installation(random)}};
}

// The ping GitHub sends when the App's webhook is set up or tested: the hook's configuration.
Json build_ping_event(const PayloadShape& shape, Random& random, Clock::time_point now) {
    if (!shape.action.empty()) {
        throw Error(fmt::format("ping has no action, got '{}'", shape.action), ExitCode::usage);
    }
    const std::uint64_t hook_id = random.between(400'000'000, 600'000'000);
    const std::string hook_api = fmt::format("{}/app/hook", k_api);
    return Json{{"zen", "Design for failure."},
                {"hook_id", hook_id},
                {"hook",
                 {{"type", "App"},
                  {"id", hook_id},
                  {"name", "web"},
                  {"active", true},
                  {"events", {"check_run", "check_suite", "pull_request", "push"}},
                  {"config",
                   {{"content_type", "json"},
                    {"insecure_ssl", "0"},
                    {"url", "https://relay.example.com/github/webhook"},
                    {"secret", "********"}}},
                  {"updated_at", iso8601(now - 1min)},
                  {"created_at", iso8601(now - 1min)},
                  {"app_id", k_relay_app_id},
                  {"url", hook_api + "/config"},
                  {"ping_url", hook_api + "/pings"},
                  {"deliveries_url", hook_api + "/deliveries"}}},
                {"sender", user(account(shape.sender))}};
}

} // namespace

std::string check_run_repo(std::string_view name) {
    if (!name.starts_with("crcr/")) {
        return {};
    }
    name.remove_prefix(5);
    const std::size_t owner_end = name.find('/');
    const std::size_t repo_end =
        owner_end == std::string_view::npos ? owner_end : name.find('/', owner_end + 1);
    if (owner_end == 0 || repo_end == std::string_view::npos || repo_end == owner_end + 1) {
        return {};
    }
    return std::string(name.substr(0, repo_end));
}

std::span<const std::string_view> simulated_events() {
    static constexpr std::array<std::string_view, 5> k_events = {
        "pull_request", "push", "check_run", "check_suite", "ping"};
    return k_events;
}

std::span<const std::string_view> pull_request_actions() {
    return k_pr_actions;
}

Json build_payload(const PayloadShape& shape, Random& random, Clock::time_point now) {
    for (const auto& [text, what] : {std::pair{&shape.title, "--title"},
                                     std::pair{&shape.head_ref, "--head-ref"},
                                     std::pair{&shape.base_ref, "--base-ref"},
                                     std::pair{&shape.ref, "--ref"}}) {
        check_utf8(*text, what);
    }
    for (const std::string& label : shape.labels) {
        check_utf8(label, "--label");
    }
    check_repo(shape.repo, "--repo");
    if (const std::optional<std::string> problem = login_problem(shape.sender);
        problem && !shape.sender.ends_with("[bot]")) {
        throw Error(fmt::format("--sender '{}' is not a GitHub login: {}", shape.sender, *problem),
                    ExitCode::usage);
    }
    if (shape.event == "pull_request") {
        return build_pull_request_event(shape, random, now);
    }
    if (shape.event == "push") {
        return build_push_event(shape, random, now);
    }
    if (shape.event == "check_run" || shape.event == "check_suite") {
        PayloadShape rerun = shape;
        if (rerun.action.empty()) {
            rerun.action = "rerequested";
        }
        return shape.event == "check_run" ? build_check_run_event(rerun, random, now)
                                          : build_check_suite_event(rerun, random, now);
    }
    if (shape.event == "ping") {
        return build_ping_event(shape, random, now);
    }
    throw Error(fmt::format("unknown event '{}': crcr simulates pull_request and push (which the "
                            "relay dispatches), check_run and check_suite (rerequested) and ping",
                            shape.event),
                ExitCode::usage);
}

namespace {

// Where GitHub's webhook schemas (@octokit/webhooks-schemas and @octokit/openapi-webhooks, both)
// let a field of the bodies crcr builds be null, as --set paths with [*] for any list item; found
// by setting each field of every simulated event to null and validating.
// tests/e2e/simulate_schemas.sh checks a --set null on each kind of field.
// Left out: fields whose nullability depends on the action or event (pull_request.merged,
// pull_request.head.repo, the repositories' pushed_at).
constexpr std::array<std::string_view, 51> k_nullable = {
    // the repository objects of every event
    "repository.description",
    "repository.homepage",
    "repository.language",
    "repository.license",
    "pull_request.base.repo.description",
    "pull_request.base.repo.homepage",
    "pull_request.base.repo.language",
    "pull_request.base.repo.license",
    "pull_request.base.repo.license.url",
    "pull_request.head.repo.description",
    "pull_request.head.repo.homepage",
    "pull_request.head.repo.language",
    "pull_request.head.repo.license",
    "pull_request.head.repo.license.url",
    "repository.license.url",
    // pull_request
    "pull_request.body",
    "pull_request.labels[*].description",
    "label.description",
    "pull_request.merge_commit_sha",
    "pull_request.mergeable",
    "pull_request.rebaseable",
    "pull_request.merged_at",
    "pull_request.merged_by",
    "pull_request.assignee",
    "pull_request.active_lock_reason",
    "pull_request.auto_merge",
    "pull_request.auto_merge.enabled_by",
    "pull_request.auto_merge.commit_title",
    "pull_request.auto_merge.commit_message",
    // push
    "head_commit",
    "head_commit.author.email",
    "head_commit.committer.email",
    "commits[*].author.email",
    "commits[*].committer.email",
    "pusher.email",
    // check_run, check_suite
    "check_run.conclusion",
    "check_run.output.title",
    "check_run.output.summary",
    "check_run.app.description",
    "check_run.check_suite.head_branch",
    "check_run.check_suite.before",
    "check_run.check_suite.after",
    "check_run.check_suite.app.description",
    "check_suite.head_branch",
    "check_suite.status",
    "check_suite.conclusion",
    "check_suite.before",
    "check_suite.after",
    "check_suite.app.description",
    "check_suite.head_commit.author.email",
    "check_suite.head_commit.committer.email",
};

bool nullable(std::string_view pattern) {
    return std::find(k_nullable.begin(), k_nullable.end(), pattern) != k_nullable.end();
}

std::string_view json_type(const Json& value) {
    if (value.is_number()) {
        return "number";
    }
    return value.type_name();
}

} // namespace

void set_path(Json& payload, std::string_view path, const Json& value) {
    Json* node = &payload;
    std::string walked;
    std::string pattern; // `walked` with [*] for list items, as k_nullable writes paths
    std::size_t pos = 0;
    while (pos < path.size()) {
        std::string key;
        bool index = false;
        if (path[pos] == '[') {
            const std::size_t close = path.find(']', pos);
            if (close == std::string_view::npos) {
                throw Error(fmt::format("--set path '{}' has an unclosed '['", path),
                            ExitCode::usage);
            }
            key = std::string(path.substr(pos + 1, close - pos - 1));
            index = true;
            pos = close + 1;
            if (pos < path.size() && path[pos] == '.') {
                ++pos;
            }
        } else {
            const std::size_t end = std::min(path.find_first_of(".[", pos), path.size());
            key = std::string(path.substr(pos, end - pos));
            pos = end < path.size() && path[end] == '.' ? end + 1 : end;
        }
        const std::string here = walked.empty() ? key
                                                : (index ? fmt::format("{}[{}]", walked, key)
                                                         : fmt::format("{}.{}", walked, key));
        if (key.empty()) {
            throw Error(fmt::format("--set path '{}' has an empty part after '{}'", path, walked),
                        ExitCode::usage);
        }
        if (node->is_array()) {
            const bool digits =
                std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
            if (!digits || std::stoul(key) >= node->size()) {
                throw Error(fmt::format("--set path '{}': '{}' has {} items, there is no item {}",
                                        path,
                                        walked,
                                        node->size(),
                                        key),
                            ExitCode::usage);
            }
            node = &(*node)[std::stoul(key)];
            pattern += "[*]";
        } else if (node->is_object() && !index && node->contains(key)) {
            node = &(*node)[key];
            pattern += pattern.empty() ? key : "." + key;
        } else {
            throw Error(fmt::format("--set path '{}': there is no '{}' in the payload", path, here),
                        ExitCode::usage);
        }
        walked = here;
    }
    if (value.is_null() && !node->is_null() && !nullable(pattern)) {
        throw Error(fmt::format("--set {}: GitHub's webhook schema does not allow null there; it "
                                "wants a {}",
                                path,
                                json_type(*node)),
                    ExitCode::usage);
    }
    if (!value.is_null() && !node->is_null() && json_type(*node) != json_type(value)) {
        throw Error(
            fmt::format(
                "--set {}: the payload has a {} there, and the webhook schema wants one; got a {}",
                path,
                json_type(*node),
                json_type(value)),
            ExitCode::usage);
    }
    *node = value;
}

std::pair<std::string, Json> parse_assignment(std::string_view assignment) {
    const std::size_t equals = assignment.find('=');
    if (equals == std::string_view::npos || equals == 0) {
        throw Error(fmt::format("--set '{}' is not PATH=VALUE", assignment), ExitCode::usage);
    }
    const std::string_view text = assignment.substr(equals + 1);
    Json value = Json::parse(text, nullptr, false);
    if (value.is_discarded()) {
        check_utf8(text, fmt::format("--set '{}' value", assignment.substr(0, equals)));
        value = std::string(text);
    }
    return {std::string(assignment.substr(0, equals)), value};
}

std::string iso8601(Clock::time_point when) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(when));
}

Clock::time_point parse_time(std::string_view text) {
    // The clock counts nanoseconds in 64 bits, from 1677 to 2262: times outside (and @ numbers
    // past 64 bits) would wrap. Nothing crcr meets is outside these three centuries.
    constexpr std::int64_t k_start = -2'208'988'800; // 1900-01-01T00:00:00Z
    constexpr std::int64_t k_end = 7'258'118'400;    // 2200-01-01T00:00:00Z
    const auto in_range = [&](std::int64_t seconds) {
        if (seconds < k_start || seconds >= k_end) {
            throw Error(fmt::format("time '{}' is out of range: crcr takes times from "
                                    "1900-01-01T00:00:00Z to 2199-12-31T23:59:59Z",
                                    text),
                        ExitCode::usage);
        }
        return Clock::time_point(std::chrono::seconds(seconds));
    };
    if (text.starts_with('@') && text.size() > 1
        && text.find_first_not_of("0123456789", 1) == std::string_view::npos) {
        std::int64_t seconds = 0;
        const std::from_chars_result read =
            std::from_chars(text.data() + 1, text.data() + text.size(), seconds);
        return in_range(read.ec == std::errc() ? seconds : k_end);
    }
    std::tm tm{};
    int consumed = 0;
    const std::string copy(text);
    if (std::sscanf(copy.c_str(),
                    "%4d-%2d-%2dT%2d:%2d:%2d%n",
                    &tm.tm_year,
                    &tm.tm_mon,
                    &tm.tm_mday,
                    &tm.tm_hour,
                    &tm.tm_min,
                    &tm.tm_sec,
                    &consumed)
        == 6) {
        std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
        if (rest.starts_with('.')) {
            rest.remove_prefix(std::min(rest.find_first_not_of("0123456789", 1), rest.size()));
        }
        const bool valid = tm.tm_mon >= 1 && tm.tm_mon <= 12 && tm.tm_mday >= 1 && tm.tm_mday <= 31
                           && tm.tm_hour <= 23 && tm.tm_min <= 59 && tm.tm_sec <= 59;
        if (valid && (rest == "Z" || rest == "+00:00")) {
            const int day = tm.tm_mday;
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            const std::time_t seconds = timegm(&tm);
            if (tm.tm_mday == day) { // timegm moved 2026-02-31 to March: not a date
                return in_range(seconds);
            }
        }
    }
    throw Error(
        fmt::format("'{}' is not a time: write it as 2026-11-26T10:00:00Z (UTC) or @<unix seconds>",
                    text),
        ExitCode::usage);
}

namespace {

constexpr std::size_t k_max_json_depth = 512;

// Why `text` cannot be a webhook body's JSON (with its line and column), or nothing. Nesting is
// bounded first: nlohmann's recursive parser and serializer would overflow the stack.
std::optional<std::string> json_problem(std::string_view text) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            i += c == '\\' ? 1 : 0;
            in_string = c != '"';
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > k_max_json_depth) {
                return fmt::format(
                    "nested more than {} levels deep (byte {})", k_max_json_depth, i + 1);
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    try {
        const Json parsed = Json::parse(text);
        static_cast<void>(parsed);
    } catch (const Json::parse_error& e) {
        const std::string what = e.what();
        const std::size_t at = what.find("parse error at ");
        return at == std::string::npos ? what : what.substr(at + 15);
    } catch (const Json::out_of_range& e) { // 406: a number beyond a double's range
        const std::string what = e.what();
        const std::size_t quote = what.find('\'');
        return fmt::format("number {} is too large for JSON numbers (doubles): write a smaller "
                           "one, or a string",
                           quote == std::string::npos ? what : what.substr(quote));
    }
    return std::nullopt;
}

} // namespace

Json parse_json_document(std::string_view text, std::string_view source) {
    if (const std::optional<std::string> problem = json_problem(text)) {
        throw Error(fmt::format("{} is not JSON: {}", source, *problem));
    }
    return Json::parse(text);
}

Json parse_webhook_body(std::string_view text, std::string_view source) {
    Json body = parse_json_document(text, source);
    if (!body.is_object()) {
        throw Error(fmt::format("{} is a JSON {}, not an object: a webhook body is an object",
                                source,
                                body.type_name()));
    }
    return body;
}

} // namespace crcr
