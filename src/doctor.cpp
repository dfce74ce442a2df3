#include "crcr/doctor.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/dispatch.hpp"
#include "crcr/error.hpp"
#include "crcr/jwt.hpp"
#include "crcr/payload.hpp"
#include "crcr/text.hpp"
#include "crcr/workflow_check.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace crcr {

namespace {

using std::chrono::hours;
using std::chrono::system_clock;

// R1 the repository, R2 the allowlist, R3 the upstream (only when no dispatch came), R4 and R5
// the App, R6 the workflow folder, its files, R7 Actions' settings, R8 the workflows, files on
// other branches, R9 the runs, the oncalls.
constexpr std::size_t k_fixed_requests = 9;

std::string percent_encode(std::string_view value, bool keep_slash) {
    std::string out;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~'
            || (keep_slash && c == '/')) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

std::string contents_path(std::string_view repo, std::string_view path, std::string_view ref) {
    std::string out =
        fmt::format("/repos/{}/contents/{}", repo, percent_encode(path, /*keep_slash=*/true));
    if (!ref.empty()) {
        out += "?ref=" + percent_encode(ref, /*keep_slash=*/false);
    }
    return out;
}

Json parse_object(const std::string& body) {
    Json parsed = Json::parse(body, nullptr, false);
    return parsed.is_object() || parsed.is_array() ? parsed : Json();
}

// `object[key]`, or null when `object` is not an object or has no such key.
Json field(const Json& object, const char* key) {
    return object.is_object() && object.contains(key) ? object[key] : Json();
}

std::string string_at(const Json& object, const char* key) {
    return object.is_object() && object.contains(key) && object[key].is_string()
               ? object[key].get<std::string>()
               : std::string();
}

// A file from the contents API ({"type": "file", "encoding": "base64", "content": ...}); nothing
// when the answer is not one (a folder, a file over 1 MB sent without content, bad base64).
std::optional<std::string> file_content(const HttpResponse& response) {
    const Json body = parse_object(response.body);
    if (string_at(body, "type") != "file" || string_at(body, "encoding") != "base64") {
        return std::nullopt;
    }
    std::string text;
    for (const char c : string_at(body, "content")) {
        if (c == '+') {
            text += '-';
        } else if (c == '/') {
            text += '_';
        } else if (c != '\n' && c != '\r' && c != '=') {
            text += c;
        }
    }
    try {
        return base64url_decode(text);
    } catch (const Error&) {
        return std::nullopt;
    }
}

std::string located(std::string_view file, const Finding& f) {
    return fmt::format("{}:{}:{}: {}: {} [{}]",
                       file,
                       f.location.line,
                       f.location.column,
                       to_string(f.severity),
                       f.message,
                       f.rule);
}

std::string answered(const HttpResponse& response) {
    return fmt::format("GitHub answered {} ({})", response.status, github_error_message(response));
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

struct WorkflowFile {
    std::string path;
    std::string text;
};

// Everything GitHub answered, gathered before the checks are judged (later checks give evidence
// to earlier ones).
class Doctor {
public:
    Doctor(GitHubApi& api, const DoctorInput& input) : m_api(api), m_in(input) {}

    DoctorReport run() {
        read_repository();
        DoctorCheck onboarding = check_onboarding();
        read_runs();
        read_workflows();
        DoctorCheck workflow = check_workflow_files();
        DoctorCheck actions = check_actions();
        DoctorCheck traffic = check_traffic();
        DoctorCheck app = check_app();
        DoctorCheck callbacks = check_callbacks();
        m_report.checks = {std::move(onboarding),
                           std::move(app),
                           std::move(workflow),
                           std::move(actions),
                           std::move(traffic),
                           std::move(callbacks)};
        return std::move(m_report);
    }

private:
    HttpResponse get(const std::string& path, const std::string& bearer) {
        if (m_report.requests >= doctor_max_requests()) {
            throw Error(
                fmt::format("internal error: more than {} requests", doctor_max_requests()));
        }
        ++m_report.requests;
        HttpRequest request = m_api.request("GET", path, bearer);
        if (bearer.empty()) {
            std::erase_if(request.headers,
                          [](const auto& h) { return h.first == "Authorization"; });
        }
        return m_api.send(request);
    }

    HttpResponse get(const std::string& path) { return get(path, m_in.token); }

    std::string token_text() const {
        return m_in.token.empty() ? std::string("no token")
                                  : fmt::format("the token from {}", m_in.token_source);
    }

    void read_repository() {
        const HttpResponse response = get(fmt::format("/repos/{}", m_in.repo));
        if (response.status == 401) {
            throw Error(fmt::format("GitHub refused {} ({}): it is expired, revoked or mistyped; "
                                    "make a new one (read access to '{}' is enough), or unset it "
                                    "for a public repository",
                                    token_text(),
                                    answered(response),
                                    m_in.repo),
                        ExitCode::auth);
        }
        if (response.status == 404) {
            throw Error(
                fmt::format("repository '{}' was not found with {} (GitHub answers 404 both when "
                            "it does not exist and when it is private to others): check the "
                            "name; for a private repository use a token that can read it "
                            "(fine-grained: the repository selected, 'metadata: read'; classic: "
                            "'repo')",
                            m_in.repo,
                            token_text()));
        }
        if (response.status != 200) {
            throw github_failure(fmt::format("reading repository '{}'", m_in.repo), response);
        }
        const Json body = parse_object(response.body);
        m_repo = string_at(body, "full_name");
        m_default_branch = string_at(body, "default_branch");
        if (m_repo.empty() || m_default_branch.empty()) {
            throw Error(fmt::format("GitHub's answer for repository '{}' has no full_name or "
                                    "default_branch",
                                    m_in.repo),
                        ExitCode::unavailable);
        }
        m_owner_type = string_at(field(body, "owner"), "type");
        m_report.repo = m_repo;
    }

    DoctorCheck check_onboarding() {
        DoctorCheck check{.id = "onboarding", .title = "Onboarding"};
        std::string text;
        std::string name = m_in.allowlist_name;
        if (m_in.allowlist_text) {
            text = *m_in.allowlist_text;
        } else {
            name = fmt::format("{}:{}", m_in.upstream, m_in.allowlist_path);
            const HttpResponse response =
                get(contents_path(m_in.upstream, m_in.allowlist_path, ""));
            const std::optional<std::string> content =
                response.status == 200 ? file_content(response) : std::nullopt;
            if (!content) {
                check.summary = fmt::format(
                    "the allowlist '{}' could not be read from the upstream's default branch: {}",
                    name,
                    response.status == 200 ? "the answer is not a file with base64 content"
                                           : answered(response));
                check.fix = "check --upstream and --allowlist-path, or give the file with "
                            "--allowlist FILE";
                return check;
            }
            text = *content;
        }
        const AllowlistCheck allowlist = check_allowlist(text);
        const auto entry =
            std::find_if(allowlist.allowlist.entries.begin(),
                         allowlist.allowlist.entries.end(),
                         [this](const AllowlistEntry& e) { return iequals(e.repo, m_repo); });
        if (entry == allowlist.allowlist.entries.end()) {
            check.status = CheckStatus::failed;
            check.summary = fmt::format("'{}' is not in the allowlist '{}': the relay dispatches "
                                        "only to listed repositories",
                                        m_repo,
                                        name);
            check.fix = fmt::format("onboard: open a pull request to {} adding '- {}' under L1 "
                                    "in {} (new repositories start at L1)",
                                    m_in.upstream,
                                    m_repo,
                                    m_in.allowlist_path);
            return check;
        }
        m_level = entry->level;
        m_oncalls = entry->oncalls;
        check.details.push_back(
            fmt::format("{}:{}: level {}", name, entry->location.line, to_string(entry->level)));
        if (!entry->device.empty()) {
            check.details.push_back(
                fmt::format("device '{}' (label ciflow/crcr/{})", entry->device, entry->device));
        }
        if (!entry->oncalls.empty()) {
            check.details.push_back(fmt::format("oncalls: {}", fmt::join(entry->oncalls, ", ")));
        }
        bool errors = false;
        for (const Finding& f : allowlist.findings) {
            if (iequals(f.repository, entry->repo)) {
                check.details.push_back(located(name, f));
                errors = errors || f.severity == Severity::error;
            }
        }
        if (entry->repo != m_repo) {
            check.status = CheckStatus::failed;
            check.summary = fmt::format("listed at {} as '{}', but GitHub's name is '{}': the "
                                        "relay compares callback identities case-sensitively, so "
                                        "callbacks from '{}' are not matched to the entry",
                                        to_string(entry->level),
                                        entry->repo,
                                        m_repo,
                                        m_repo);
            check.fix = fmt::format(
                "write '{}' in {} exactly as GitHub spells it", m_repo, m_in.allowlist_path);
            return check;
        }
        if (errors) {
            check.status = CheckStatus::failed;
            check.summary = fmt::format("listed at {}, but the entry has errors the relay "
                                        "trips on",
                                        to_string(entry->level));
            check.fix = fmt::format("fix the entry in {} (crcr validate-allowlist explains each "
                                    "finding)",
                                    m_in.allowlist_path);
            return check;
        }
        check.status = CheckStatus::passed;
        check.summary = fmt::format("listed at {}", to_string(entry->level));
        return check;
    }

    void read_runs() {
        const HttpResponse response = get(
            fmt::format("/repos/{}/actions/runs?event=repository_dispatch&per_page=100", m_repo));
        if (response.status != 200) {
            m_runs_problem = answered(response);
            return;
        }
        try {
            m_runs = parse_workflow_runs(response.body);
        } catch (const Error& e) {
            m_runs_problem = e.what();
            return;
        }
        m_github_now = m_api.now();
        if (const auto date = response.header("date")) {
            if (const auto github_now = parse_http_date(*date)) {
                m_github_now = *github_now;
            }
        }
        m_runs_read = true;
        for (const WorkflowRun& run : m_runs) {
            if (run.created_at && *run.created_at >= m_github_now - hours(24)) {
                m_recent.push_back(run);
            }
        }
    }

    void read_workflows() {
        const HttpResponse folder =
            get(contents_path(m_repo, ".github/workflows", m_default_branch));
        const Json listing = parse_object(folder.body);
        if (folder.status == 200 && listing.is_array()) {
            m_folder_read = true;
            for (const Json& item : listing) {
                const std::string path = string_at(item, "path");
                if (string_at(item, "type") == "file"
                    && (path.ends_with(".yml") || path.ends_with(".yaml"))) {
                    m_default_paths.push_back(path);
                }
            }
        } else if (folder.status == 404) {
            m_folder_read = true; // no folder: no workflow on the default branch
        } else {
            m_folder_problem = answered(folder);
        }
        std::size_t read = 0;
        for (const std::string& path : m_default_paths) {
            if (read++ == k_doctor_max_workflow_files) {
                m_unread = m_default_paths.size() - k_doctor_max_workflow_files;
                break;
            }
            const HttpResponse response = get(contents_path(m_repo, path, m_default_branch));
            if (const auto text = response.status == 200 ? file_content(response) : std::nullopt) {
                if (text->find("repository_dispatch") != std::string::npos) {
                    m_dispatch_files.push_back({path, *text});
                }
            } else {
                ++m_unread;
            }
        }
        const HttpResponse permissions = get(fmt::format("/repos/{}/actions/permissions", m_repo));
        const Json settings = parse_object(permissions.body);
        if (permissions.status == 200 && settings.is_object() && settings.contains("enabled")
            && settings["enabled"].is_boolean()) {
            m_actions_enabled = settings["enabled"].get<bool>();
        } else {
            m_actions_problem = answered(permissions);
        }
        const HttpResponse workflows =
            get(fmt::format("/repos/{}/actions/workflows?per_page=100", m_repo));
        const Json list = parse_object(workflows.body);
        if (workflows.status == 200 && list.is_object() && list.contains("workflows")
            && list["workflows"].is_array()) {
            m_workflows = list["workflows"];
            m_workflows_read = true;
        } else {
            m_workflows_problem = answered(workflows);
        }
        if (m_dispatch_files.empty() && m_workflows_read) {
            read_other_branches();
        }
    }

    // Workflows GitHub knows that are not on the default branch: their html_url says where they
    // are (https://github.com/o/r/blob/<branch>/<path>).
    void read_other_branches() {
        std::size_t read = 0;
        for (const Json& workflow : m_workflows) {
            const std::string path = string_at(workflow, "path");
            const std::string url = string_at(workflow, "html_url");
            const std::size_t blob = url.find("/blob/");
            const std::size_t at = url.rfind("/" + path);
            if (path.empty() || blob == std::string::npos || at == std::string::npos || at <= blob
                || std::find(m_default_paths.begin(), m_default_paths.end(), path)
                       != m_default_paths.end()) {
                continue;
            }
            const std::string branch = url.substr(blob + 6, at - blob - 6);
            if (branch == m_default_branch || read++ == k_doctor_max_branch_files) {
                continue;
            }
            const HttpResponse response = get(contents_path(m_repo, path, branch));
            const auto text = response.status == 200 ? file_content(response) : std::nullopt;
            if (text && text->find("repository_dispatch") != std::string::npos) {
                m_other_branch.emplace_back(path, branch);
            }
        }
    }

    DoctorCheck check_workflow_files() {
        DoctorCheck check{.id = "workflow", .title = "The workflow"};
        const std::string generate =
            fmt::format("crcr gen-workflow --level {} > .github/workflows/crcr.yml, committed to "
                        "'{}'",
                        m_level ? to_string(*m_level) : "L1",
                        m_default_branch);
        if (m_dispatch_files.empty()) {
            if (!m_folder_read) {
                check.summary = fmt::format("the workflows on '{}' could not be listed: {}",
                                            m_default_branch,
                                            m_folder_problem);
                check.fix = "use a token that can read the repository's contents";
                return check;
            }
            check.status = CheckStatus::failed;
            for (const auto& [path, branch] : m_other_branch) {
                check.details.push_back(fmt::format(
                    "'{}' listens to repository_dispatch on branch '{}' only", path, branch));
            }
            if (!m_other_branch.empty()) {
                check.summary = fmt::format(
                    "the repository_dispatch workflow is only on branch '{}', and GitHub runs "
                    "repository_dispatch workflows only from the default branch '{}'",
                    m_other_branch.front().second,
                    m_default_branch);
                check.fix = fmt::format(
                    "merge '{}' into '{}'", m_other_branch.front().first, m_default_branch);
                return check;
            }
            check.summary = fmt::format(
                "no workflow under .github/workflows/ on the default "
                "branch '{}' is triggered by repository_dispatch{}",
                m_default_branch,
                m_unread > 0 ? fmt::format(" ({} not read)", plural(m_unread, "file", "files"))
                             : std::string());
            check.fix = fmt::format("add one: {}", generate);
            return check;
        }
        std::size_t errors = 0;
        for (const WorkflowFile& file : m_dispatch_files) {
            const std::vector<Finding> findings = check_workflow(file.text);
            check.details.push_back(fmt::format("{}: {} on '{}'",
                                                file.path,
                                                findings.empty() ? "passes" : "has findings",
                                                m_default_branch));
            for (const Finding& f : findings) {
                check.details.push_back(located(file.path, f));
                errors += f.severity == Severity::error ? 1 : 0;
            }
        }
        if (errors > 0) {
            check.status = CheckStatus::failed;
            check.summary = fmt::format("{} on '{}', with {} the relay needs fixed",
                                        plural(m_dispatch_files.size(),
                                               "repository_dispatch workflow",
                                               "repository_dispatch workflows"),
                                        m_default_branch,
                                        plural(errors, "finding", "findings"));
            check.fix = fmt::format("fix each finding (crcr gen-workflow --check FILE explains "
                                    "them), or start again from {}",
                                    generate);
            return check;
        }
        check.status = CheckStatus::passed;
        check.summary = fmt::format("{} on '{}', passing crcr gen-workflow --check",
                                    plural(m_dispatch_files.size(),
                                           "repository_dispatch workflow",
                                           "repository_dispatch workflows"),
                                    m_default_branch);
        return check;
    }

    DoctorCheck check_actions() {
        DoctorCheck check{.id = "actions", .title = "Actions"};
        std::vector<std::string> disabled;
        std::size_t active = 0;
        for (const Json& workflow : m_workflows) {
            const std::string path = string_at(workflow, "path");
            const bool dispatch =
                std::any_of(m_dispatch_files.begin(),
                            m_dispatch_files.end(),
                            [&path](const WorkflowFile& f) { return f.path == path; });
            if (!dispatch) {
                continue;
            }
            const std::string state = string_at(workflow, "state");
            check.details.push_back(fmt::format("{}: {}", path, state));
            if (state == "active") {
                ++active;
            } else {
                disabled.push_back(fmt::format("'{}' ({})", path, state));
            }
        }
        if (m_actions_enabled == false) {
            check.status = CheckStatus::failed;
            check.summary = "GitHub Actions is disabled for the repository, so no dispatch starts "
                            "a run";
            check.fix = fmt::format("enable Actions: Settings > Actions > General > Actions "
                                    "permissions of '{}' (or the organization's policy)",
                                    m_repo);
            return check;
        }
        if (!disabled.empty()) {
            check.status = CheckStatus::failed;
            check.summary = fmt::format("the workflow {} disabled", fmt::join(disabled, ", "));
            check.fix = "enable it: gh workflow enable PATH, or the Actions tab > the workflow > "
                        "Enable workflow";
            return check;
        }
        if (!m_actions_enabled) {
            check.summary = fmt::format("Actions' settings could not be read ({}): GitHub shows "
                                        "them only to the repository's administrators",
                                        m_actions_problem);
            if (!m_recent.empty()) {
                check.summary += fmt::format("; evidence they work: {} in the last 24 h",
                                             plural(m_recent.size(),
                                                    "dispatch run",
                                                    "dispatch "
                                                    "runs"));
            }
            check.fix = "use an administrator's token, or look at Settings > Actions > General";
            return check;
        }
        if (!m_workflows_read) {
            check.summary = fmt::format("Actions is enabled, but the workflows could not be "
                                        "listed ({})",
                                        m_workflows_problem);
            check.fix = "use a token with 'actions: read'";
            return check;
        }
        check.status = CheckStatus::passed;
        check.summary = active > 0 ? fmt::format("Actions is enabled and the repository_dispatch "
                                                 "{} active",
                                                 active == 1 ? "workflow is" : "workflows are")
                                   : "Actions is enabled";
        return check;
    }

    DoctorCheck check_traffic() {
        DoctorCheck check{.id = "traffic", .title = "Traffic"};
        if (!m_runs_read) {
            check.summary = fmt::format("the repository_dispatch runs could not be listed ({})",
                                        m_runs_problem);
            check.fix = "use a token with 'actions: read' (fine-grained) or 'repo' (classic)";
            return check;
        }
        const auto last =
            std::max_element(m_runs.begin(), m_runs.end(), [](const auto& a, const auto& b) {
                return a.created_at < b.created_at;
            });
        if (last != m_runs.end() && last->created_at) {
            check.details.push_back(fmt::format("last repository_dispatch run: {} ({})",
                                                iso8601(*last->created_at),
                                                last->html_url));
        }
        if (!m_recent.empty()) {
            std::map<std::string, std::size_t> conclusions;
            for (const WorkflowRun& run : m_recent) {
                ++conclusions[run.status == "completed" ? run.conclusion : run.status];
            }
            std::vector<std::string> counts;
            for (const auto& [conclusion, count] : conclusions) {
                counts.push_back(fmt::format("{} {}", count, conclusion));
            }
            check.status = CheckStatus::passed;
            check.summary = fmt::format(
                "{} in the last 24 h: {}",
                plural(m_recent.size(), "repository_dispatch run", "repository_dispatch runs"),
                fmt::join(counts, ", "));
            return check;
        }
        // Nothing in 24 h: a failure only if the upstream had something to dispatch.
        const HttpResponse upstream = get(fmt::format("/repos/{}", m_in.upstream));
        const std::string pushed = string_at(parse_object(upstream.body), "pushed_at");
        std::optional<system_clock::time_point> pushed_at;
        try {
            pushed_at = pushed.empty() ? std::nullopt : std::optional(parse_time(pushed));
        } catch (const Error&) {
            pushed_at = std::nullopt;
        }
        if (!pushed_at) {
            check.summary =
                fmt::format("no repository_dispatch run in the last 24 h, and when "
                            "'{}' last had a push is not known ({})",
                            m_in.upstream,
                            upstream.status == 200 ? "no pushed_at" : answered(upstream));
            check.fix = "see the checks above";
            return check;
        }
        if (*pushed_at < m_github_now - hours(24)) {
            check.status = CheckStatus::passed;
            check.summary = fmt::format("no repository_dispatch run in the last 24 h, but '{}' "
                                        "had no push either (last at {})",
                                        m_in.upstream,
                                        iso8601(*pushed_at));
            return check;
        }
        check.status = CheckStatus::failed;
        check.summary = fmt::format("no repository_dispatch run in the last 24 h, while '{}' had "
                                    "pushes (last at {}), each dispatched to every listed "
                                    "repository",
                                    m_in.upstream,
                                    iso8601(*pushed_at));
        check.fix = "the relay's dispatches do not start runs here: fix the checks above "
                    "(onboarding, the App, the workflow on the default branch, Actions); then "
                    "crcr dispatch-test --repo "
                    + m_repo + " --watch";
        return check;
    }

    std::string traffic_evidence() const {
        if (!m_runs_read) {
            return "";
        }
        return m_recent.empty() ? "; no repository_dispatch run in the last 24 h either"
                                : fmt::format("; evidence that it is: {} in the last 24 h",
                                              plural(m_recent.size(),
                                                     "repository_dispatch run",
                                                     "repository_"
                                                     "dispatch "
                                                     "runs"));
    }

    DoctorCheck check_app() {
        DoctorCheck check{.id = "app", .title = "The App"};
        const std::string install =
            fmt::format("install the App '{}' on '{}' (the relay's onboarding does it through "
                        "https://github.com/apps/{})",
                        m_in.app_slug,
                        m_repo,
                        m_in.app_slug);
        if (!m_in.app_jwt.empty()) {
            const HttpResponse app = get("/app", m_in.app_jwt);
            const std::string slug = string_at(parse_object(app.body), "slug");
            if (app.status != 200 || slug.empty()) {
                check.summary =
                    fmt::format("the App's credentials were refused ({})", answered(app))
                    + traffic_evidence();
                check.fix = "check --app-id and --private-key";
                return check;
            }
            if (slug != m_in.app_slug) {
                check.summary = fmt::format("the App credentials given are for '{}', not the "
                                            "relay's App '{}'",
                                            slug,
                                            m_in.app_slug)
                                + traffic_evidence();
                check.fix = "use the relay App's credentials, or a token of an organization owner";
                return check;
            }
            const HttpResponse response =
                get(fmt::format("/repos/{}/installation", m_repo), m_in.app_jwt);
            if (response.status == 404) {
                check.status = CheckStatus::failed;
                check.summary =
                    fmt::format("the App '{}' is not installed on '{}'", m_in.app_slug, m_repo);
                check.fix = install;
                return check;
            }
            if (response.status == 200) {
                check.status = CheckStatus::passed;
                check.summary = fmt::format("the App '{}' is installed (installation {})",
                                            m_in.app_slug,
                                            field(parse_object(response.body), "id").dump());
                return check;
            }
            check.summary = fmt::format("the App's installation could not be looked up ({})",
                                        answered(response))
                            + traffic_evidence();
            return check;
        }
        if (m_in.token.empty() || m_owner_type != "Organization") {
            check.summary =
                fmt::format(
                    "{} cannot tell: {}",
                    m_in.token.empty() ? "no token" : "this token",
                    m_owner_type == "Organization"
                        ? "an organization's installations are listed only to its owners"
                        : "a user's App installations are visible only to that user's App tokens")
                + traffic_evidence();
            check.fix = fmt::format("look at https://github.com/{}/settings/installations, or "
                                    "run with the relay App's credentials (--app-id, "
                                    "--private-key)",
                                    m_repo);
            return check;
        }
        const std::string owner = m_repo.substr(0, m_repo.find('/'));
        const HttpResponse response =
            get(fmt::format("/orgs/{}/installations?per_page=100", owner));
        const Json body = parse_object(response.body);
        if (response.status != 200 || !body.is_object() || !body.contains("installations")
            || !body["installations"].is_array()) {
            check.summary = fmt::format("listing the installations of '{}' needs an organization "
                                        "owner's token ({}){}",
                                        owner,
                                        answered(response),
                                        traffic_evidence());
            check.fix = fmt::format("ask an owner of '{}' to run crcr doctor, or look at "
                                    "https://github.com/organizations/{}/settings/installations",
                                    owner,
                                    owner);
            return check;
        }
        for (const Json& installation : body["installations"]) {
            if (string_at(installation, "app_slug") != m_in.app_slug) {
                continue;
            }
            const std::string selection = string_at(installation, "repository_selection");
            check.status = CheckStatus::passed;
            check.summary = fmt::format("the App '{}' is installed on '{}' ({} repositories)",
                                        m_in.app_slug,
                                        owner,
                                        selection.empty() ? "some" : selection);
            return check;
        }
        const Json total = field(body, "total_count");
        if (total.is_number_unsigned() && total.get<std::size_t>() > body["installations"].size()) {
            check.summary = fmt::format("'{}' has more installations than one page lists", owner)
                            + traffic_evidence();
            return check;
        }
        check.status = CheckStatus::failed;
        check.summary = fmt::format(
            "the App '{}' is not installed on the organization '{}'", m_in.app_slug, owner);
        check.fix = install;
        return check;
    }

    DoctorCheck check_callbacks() {
        DoctorCheck check{.id = "callbacks", .title = "Callbacks"};
        if (!m_level) {
            check.summary = "the level is not known (see Onboarding)";
            return check;
        }
        if (*m_level == Level::l1) {
            check.status = CheckStatus::passed;
            check.summary = "not needed at L1 (the relay ignores callbacks below L2)";
            return check;
        }
        bool failed = false;
        if (m_dispatch_files.empty()) {
            check.details.push_back("no repository_dispatch workflow was read (see The workflow)");
        }
        int in_progress = 0;
        int completed = 0;
        for (const WorkflowFile& file : m_dispatch_files) {
            const WorkflowCallbacks callbacks = workflow_callbacks(file.text);
            in_progress += callbacks.in_progress;
            completed += callbacks.completed;
            for (const Finding& f : callbacks.wrong_audience) {
                check.details.push_back(located(file.path, f));
                failed = true;
            }
        }
        const bool workflow_known = !m_dispatch_files.empty();
        if (workflow_known && (in_progress == 0 || completed == 0)) {
            failed = true;
            check.details.push_back(fmt::format(
                "the workflow sends {} in_progress and {} completed callbacks; at {} the relay "
                "expects both (the official action or crcr callback)",
                in_progress,
                completed,
                to_string(*m_level)));
        }
        std::size_t looked_up = 0;
        for (const std::string& login : m_oncalls) {
            if (looked_up++ == k_doctor_max_oncalls) {
                check.details.push_back("more oncalls not looked up");
                break;
            }
            const HttpResponse response = get(fmt::format("/users/{}", login));
            if (response.status == 404) {
                failed = true;
                check.details.push_back(
                    fmt::format("oncall '{}' is not a GitHub user: the oncall bot cannot mention "
                                "it",
                                login));
            } else if (response.status != 200) {
                check.details.push_back(fmt::format(
                    "oncall '{}' could not be looked up ({})", login, answered(response)));
            }
        }
        if (failed) {
            check.status = CheckStatus::failed;
            check.summary = fmt::format("at {}, the callbacks or the oncalls are not as the relay "
                                        "needs",
                                        to_string(*m_level));
            check.fix = fmt::format("report with the official callback action or crcr callback "
                                    "(crcr gen-workflow --level {} writes both), with 'id-token: "
                                    "write'; list oncalls that are GitHub logins",
                                    to_string(*m_level));
            return check;
        }
        if (!workflow_known) {
            check.summary = "the workflow could not be read";
            return check;
        }
        check.status = CheckStatus::passed;
        check.summary = fmt::format(
            "the workflow sends in_progress and completed callbacks with "
            "the relay's audience{}",
            m_oncalls.empty() ? std::string()
                              : fmt::format("; {} exist on GitHub",
                                            plural(m_oncalls.size(), "oncall", "oncalls")));
        return check;
    }

    GitHubApi& m_api;
    const DoctorInput& m_in;
    DoctorReport m_report;
    std::string m_repo;
    std::string m_default_branch;
    std::string m_owner_type;
    std::optional<Level> m_level;
    std::vector<std::string> m_oncalls;
    bool m_runs_read = false;
    std::string m_runs_problem;
    std::vector<WorkflowRun> m_runs;
    std::vector<WorkflowRun> m_recent;
    system_clock::time_point m_github_now;
    bool m_folder_read = false;
    std::string m_folder_problem;
    std::vector<std::string> m_default_paths;
    std::size_t m_unread = 0;
    std::vector<WorkflowFile> m_dispatch_files;
    std::vector<std::pair<std::string, std::string>> m_other_branch; // path, branch
    std::optional<bool> m_actions_enabled;
    std::string m_actions_problem;
    bool m_workflows_read = false;
    std::string m_workflows_problem;
    Json m_workflows = Json::array();
};

} // namespace

std::string_view to_string(CheckStatus status) {
    switch (status) {
    case CheckStatus::passed:
        return "passed";
    case CheckStatus::failed:
        return "failed";
    case CheckStatus::unknown:
        break;
    }
    return "unknown";
}

bool DoctorReport::failed() const {
    return std::any_of(checks.begin(), checks.end(), [](const DoctorCheck& c) {
        return c.status == CheckStatus::failed;
    });
}

std::size_t doctor_max_requests() {
    return k_fixed_requests + k_doctor_max_workflow_files + k_doctor_max_branch_files
           + k_doctor_max_oncalls;
}

std::vector<std::string> doctor_requests(const DoctorInput& input, std::string_view api_url) {
    const std::string& repo = input.repo;
    const auto line = [api_url](const std::string& path, std::string_view note = {}) {
        return fmt::format("GET {}{}{}{}", api_url, path, note.empty() ? "" : "  # ", note);
    };
    std::vector<std::string> out;
    out.push_back(line(fmt::format("/repos/{}", repo)));
    if (!input.allowlist_text) {
        out.push_back(line(contents_path(input.upstream, input.allowlist_path, "")));
    }
    out.push_back(
        line(fmt::format("/repos/{}/actions/runs?event=repository_dispatch&per_page=100", repo)));
    out.push_back(
        line(contents_path(repo, ".github/workflows", "BRANCH"), "BRANCH: the default branch"));
    out.push_back(
        line(contents_path(repo, ".github/workflows/FILE", "BRANCH"),
             fmt::format("each .yml or .yaml file, at most {}", k_doctor_max_workflow_files)));
    out.push_back(line(fmt::format("/repos/{}/actions/permissions", repo)));
    out.push_back(line(fmt::format("/repos/{}/actions/workflows?per_page=100", repo)));
    out.push_back(line(contents_path(repo, ".github/workflows/FILE", "OTHER"),
                       fmt::format("when none on BRANCH listens: workflows GitHub lists on other "
                                   "branches, at most {}",
                                   k_doctor_max_branch_files)));
    out.push_back(line(fmt::format("/repos/{}", input.upstream),
                       "when no repository_dispatch run came in 24 h: its last push"));
    if (!input.app_jwt.empty()) {
        out.push_back(line("/app", "with the App's JWT"));
        out.push_back(line(fmt::format("/repos/{}/installation", repo), "with the App's JWT"));
    } else if (!input.token.empty()) {
        out.push_back(
            line(fmt::format("/orgs/{}/installations?per_page=100", repo.substr(0, repo.find('/'))),
                 "when OWNER is an organization"));
    }
    out.push_back(
        line("/users/LOGIN",
             fmt::format("at L2 and above: each oncall, at most {}", k_doctor_max_oncalls)));
    return out;
}

DoctorReport diagnose(GitHubApi& api, const DoctorInput& input) {
    return Doctor(api, input).run();
}

} // namespace crcr
