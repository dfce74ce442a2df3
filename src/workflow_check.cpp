#include "crcr/workflow_check.hpp"

#include "crcr/callback.hpp"
#include "crcr/report.hpp"
#include "crcr/text.hpp"
#include "crcr/workflow.hpp"
#include "crcr/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace crcr {

namespace {

using yaml::Kind;
using yaml::Node;

constexpr std::array<Rule, 19> k_rules = {{
    {"invalid-utf8", Severity::error, "the file is not valid UTF-8"},
    {"non-printable-character", Severity::error, "a character YAML does not allow"},
    {"hidden-line-break",
     Severity::error,
     "a line break editors do not show (CR, U+0085, U+2028, U+2029)"},
    {"yaml-tab", Severity::error, "a tab outside a quoted string, comment or block scalar"},
    {"yaml-syntax", Severity::error, "the file is not YAML"},
    {"duplicate-key", Severity::error, "a key written twice in one mapping (GitHub rejects it)"},
    {"not-a-workflow", Severity::error, "the file is not a workflow (no mapping with 'jobs')"},
    {"no-repository-dispatch", Severity::error, "no repository_dispatch trigger"},
    {"dispatch-types-not-list", Severity::error, "repository_dispatch 'types' is not a list"},
    {"dispatch-types-missing",
     Severity::error,
     "repository_dispatch 'types' lacks pull_request or push"},
    {"dispatch-types-unknown",
     Severity::error,
     "a repository_dispatch type the relay never sends (synchronized, pytorch-pr-trigger, ...)"},
    {"unknown-payload-path",
     Severity::error,
     "a client_payload field the relay never sends (pr_number, head_sha, upstream_repo, ...)"},
    {"pytorch-checkout-ref",
     Severity::error,
     "PyTorch checked out at a ref other than the PR head or the push's after"},
    {"no-cancel-on-closed",
     Severity::error,
     "no cancel path when a PR is closed (cancel job, concurrency group with the PR number)"},
    {"callback-without-id-token", Severity::error, "a job that calls back without id-token: write"},
    {"matrix-callback-job-name",
     Severity::error,
     "a matrix job that calls back without a job name including the matrix values"},
    {"completed-callback-not-always",
     Severity::error,
     "a completed callback that does not run always()"},
    {"callback-action-input",
     Severity::error,
     "the callback action used with an input it does not have, or without one it needs"},
    {"generated-drift",
     Severity::note,
     "a generated workflow that differs from what its header's options generate now"},
}};

// The lines of `text`, each without its line break (nor a CR before it: a checkout with CRLF line
// ends is no drift).
std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        lines.push_back(line);
        start = end + 1;
    }
    return lines;
}

Finding make(std::string_view rule, std::string message, SourceLocation location) {
    return Finding{Severity::error, std::string(rule), std::move(message), location};
}

std::optional<yaml::Entry> find_entry(Node mapping, std::string_view key) {
    if (!mapping || mapping.kind() != Kind::mapping) {
        return std::nullopt;
    }
    for (const yaml::Entry entry : mapping.entries()) {
        if (entry.key.is_scalar() && entry.key.text() == key) {
            return entry;
        }
    }
    return std::nullopt;
}

Node get(Node mapping, std::string_view key) {
    const std::optional<yaml::Entry> entry = find_entry(mapping, key);
    return entry ? entry->value : Node();
}

std::string text_of(Node node) {
    return node && node.is_scalar() ? std::string(node.text()) : std::string();
}

// `text` without any white space, so expressions compare however they are wrapped or spaced.
std::string squeeze(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            out += c;
        }
    }
    return out;
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// Line starts, to turn byte offsets into line and column.
class SourceMap {
public:
    explicit SourceMap(std::string_view text) : m_text(text) {
        m_starts.push_back(0);
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\n') {
                m_starts.push_back(i + 1);
            }
        }
    }

    std::size_t offset(const SourceLocation& where) const {
        if (where.line < 1 || static_cast<std::size_t>(where.line) > m_starts.size()) {
            return 0;
        }
        std::size_t pos = m_starts[static_cast<std::size_t>(where.line) - 1];
        for (int column = 1; column < where.column && pos < m_text.size(); ++column) {
            ++pos;
            while (pos < m_text.size()
                   && (static_cast<unsigned char>(m_text[pos]) & 0xC0U) == 0x80U) {
                ++pos;
            }
        }
        return pos;
    }

    SourceLocation location(std::size_t offset, int length) const {
        const auto it = std::upper_bound(m_starts.begin(), m_starts.end(), offset);
        const std::size_t line_start = *(it - 1);
        int column = 1;
        for (std::size_t i = line_start; i < offset; ++i) {
            if ((static_cast<unsigned char>(m_text[i]) & 0xC0U) != 0x80U) {
                ++column;
            }
        }
        return {static_cast<int>(it - m_starts.begin()), column, length};
    }

    std::string_view text() const { return m_text; }

private:
    std::string_view m_text;
    std::vector<std::size_t> m_starts;
};

struct PayloadSuggestion {
    std::string_view field;
    std::string_view instead;
};

constexpr std::array<PayloadSuggestion, 6> k_payload_suggestions = {{
    {"pr_number", "client_payload.payload.pull_request.number"},
    {"head_sha",
     "client_payload.payload.pull_request.head.sha (pull_request) or "
     "client_payload.payload.after (push)"},
    {"upstream_repo", "client_payload.payload.repository.full_name"},
    {"action", "client_payload.payload.action"},
    {"pull_request", "client_payload.payload.pull_request"},
    {"repository", "client_payload.payload.repository"},
}};

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
}

class Checker {
public:
    explicit Checker(std::string_view text) : m_map(text) {}

    std::vector<Finding> run(const yaml::Document& doc) {
        for (const yaml::DuplicateKey& dup : doc.duplicates) {
            m_findings.push_back(make(
                "duplicate-key",
                fmt::format("'{}' is written twice{}: GitHub rejects a workflow with a duplicate "
                            "key; keep one",
                            dup.second.text(),
                            dup.path.empty() ? std::string() : fmt::format(" in '{}'", dup.path)),
                dup.second.location()));
        }
        const Node root = doc.root;
        const Node jobs = get(root, "jobs");
        if (!root || root.kind() != Kind::mapping || !jobs || jobs.kind() != Kind::mapping) {
            m_findings.push_back(
                make("not-a-workflow",
                     !root ? "the file is empty, not a workflow"
                           : "not a GitHub Actions workflow: a workflow is a mapping "
                             "with 'on:' and 'jobs:'",
                     !root ? SourceLocation{} : root.location()));
            return std::move(m_findings);
        }
        check_trigger(root);
        scan_payload_paths(root);
        check_cancel_path(root, *find_entry(root, "jobs"));
        for (const yaml::Entry job : jobs.entries()) {
            check_job(root, job);
        }
        return std::move(m_findings);
    }

private:
    void check_trigger(Node root) {
        const std::optional<yaml::Entry> on = find_entry(root, "on");
        const std::string fix = "add 'on: {repository_dispatch: {types: [pull_request, push]}}' "
                                "(written as a block mapping)";
        if (!on) {
            m_findings.push_back(make("no-repository-dispatch",
                                      "no 'on:' trigger: the relay's repository_dispatch cannot "
                                      "start this workflow; "
                                          + fix,
                                      {}));
            return;
        }
        const Node value = on->value;
        if (value.is_scalar() && value.text() == "repository_dispatch") {
            return;
        }
        if (value.kind() == Kind::sequence) {
            for (const Node item : value.items()) {
                if (item.is_scalar() && item.text() == "repository_dispatch") {
                    return;
                }
            }
        }
        const std::optional<yaml::Entry> dispatch = find_entry(value, "repository_dispatch");
        if (!dispatch) {
            m_findings.push_back(make("no-repository-dispatch",
                                      "no repository_dispatch trigger: the relay starts "
                                      "downstream workflows only with repository_dispatch; "
                                          + fix,
                                      on->key.location()));
            return;
        }
        const std::optional<yaml::Entry> types = find_entry(dispatch->value, "types");
        if (!types) {
            return; // every type, which includes the relay's two
        }
        const Node list = types->value;
        if (list.kind() != Kind::sequence) {
            m_findings.push_back(
                make("dispatch-types-not-list",
                     fmt::format("'types' is {} instead of a list; write 'types: [pull_request, "
                                 "push]'",
                                 list.is_scalar() ? fmt::format("the string '{}'", list.text())
                                                  : std::string("a mapping")),
                     list.location()));
            return;
        }
        bool pull_request = false;
        bool push = false;
        for (const Node item : list.items()) {
            const std::string type = text_of(item);
            if (type == "pull_request") {
                pull_request = true;
            } else if (type == "push") {
                push = true;
            } else {
                m_findings.push_back(
                    make("dispatch-types-unknown", unknown_type_message(type), item.location()));
            }
        }
        if (!pull_request || !push) {
            m_findings.push_back(make(
                "dispatch-types-missing",
                fmt::format("'types' lacks {}: the relay dispatches every pull_request and push "
                            "with these event types; write 'types: [pull_request, push]'",
                            !pull_request && !push ? "'pull_request' and 'push'"
                            : !pull_request        ? "'pull_request'"
                                                   : "'push'"),
                types->key.location()));
        }
    }

    static std::string unknown_type_message(const std::string& type) {
        if (type == "synchronized" || type == "synchronize" || type == "opened"
            || type == "reopened" || type == "closed") {
            return fmt::format("'{}' is not an event type the relay sends: pull request actions "
                               "('synchronize', 'opened', ...) arrive as type 'pull_request' with "
                               "the action in client_payload.payload.action; remove it",
                               type);
        }
        if (type == "pytorch-pr-trigger") {
            return "'pytorch-pr-trigger' is the RFC's old event type, never sent by the relay; "
                   "use 'pull_request' and 'push'";
        }
        return fmt::format("'{}' is not an event type the relay sends (it sends 'pull_request' "
                           "and 'push' only); remove it",
                           type);
    }

    // Every `client_payload.<field>` in a string, where the relay sends only event_type,
    // delivery_id and payload.
    void scan_payload_paths(Node node) {
        if (node.kind() == Kind::sequence) {
            for (const Node item : node.items()) {
                scan_payload_paths(item);
            }
            return;
        }
        if (node.kind() == Kind::mapping) {
            for (const yaml::Entry entry : node.entries()) {
                scan_payload_paths(entry.value);
            }
            return;
        }
        if (node.kind() != Kind::string) {
            return;
        }
        constexpr std::string_view k_needle = "client_payload";
        const std::string_view text = node.text();
        std::size_t source_pos = m_map.offset(node.location());
        std::size_t pos = 0;
        while ((pos = text.find(k_needle, pos)) != std::string_view::npos) {
            std::size_t i = pos + k_needle.size();
            std::string field;
            while (i < text.size() && text[i] == ' ') {
                ++i;
            }
            if (i < text.size() && text[i] == '.') {
                ++i;
                while (i < text.size() && text[i] == ' ') {
                    ++i;
                }
                while (i < text.size() && is_name_char(text[i])) {
                    field += text[i++];
                }
            } else if (i + 1 < text.size() && text[i] == '['
                       && (text[i + 1] == '\'' || text[i + 1] == '"')) {
                const char quote = text[i + 1];
                const std::size_t end = text.find(quote, i + 2);
                if (end != std::string_view::npos) {
                    field = text.substr(i + 2, end - i - 2);
                    i = end + 1 < text.size() && text[end + 1] == ']' ? end + 2 : end + 1;
                }
            }
            const std::string_view written = text.substr(pos, i - pos);
            const std::size_t found = m_map.text().find(written, source_pos);
            if (found != std::string_view::npos) {
                source_pos = found + written.size();
            }
            if (!field.empty() && field != "event_type" && field != "delivery_id"
                && field != "payload") {
                const auto suggestion =
                    std::find_if(k_payload_suggestions.begin(),
                                 k_payload_suggestions.end(),
                                 [&field](const PayloadSuggestion& s) { return s.field == field; });
                const std::string instead =
                    suggestion != k_payload_suggestions.end()
                        ? fmt::format("use {}", suggestion->instead)
                        : std::string("the webhook's own fields are under client_payload.payload");
                m_findings.push_back(
                    make("unknown-payload-path",
                         fmt::format(
                             "'client_payload.{}' is never sent: the relay's client_payload has "
                             "only event_type, delivery_id and payload{}; {}",
                             field,
                             field == "pr_number" || field == "head_sha" || field == "upstream_repo"
                                 ? " (pr_number, head_sha and upstream_repo are the RFC's names)"
                                 : "",
                             instead),
                         found != std::string_view::npos
                             ? m_map.location(found, static_cast<int>(written.size()))
                             : node.location()));
            }
            pos = i;
        }
    }

    void check_cancel_path(Node root, yaml::Entry jobs) {
        const std::optional<yaml::Entry> concurrency = find_entry(root, "concurrency");
        const std::string group_fix =
            "write 'concurrency: {group: pytorch-ci-${{ "
            "github.event.client_payload.payload.repository.full_name }}-${{ "
            "github.event.client_payload.payload.pull_request.number || github.run_id }}, "
            "cancel-in-progress: true}' at the top level";
        if (!concurrency) {
            m_findings.push_back(make("no-cancel-on-closed",
                                      "no top-level 'concurrency': when a pull request is closed "
                                      "(or updated) its runs in progress go on; "
                                          + group_fix,
                                      {}));
        } else {
            const Node group = get(concurrency->value, "group");
            const Node cancel = get(concurrency->value, "cancel-in-progress");
            if (!group || !contains(squeeze(text_of(group)), "pull_request.number")) {
                m_findings.push_back(make("no-cancel-on-closed",
                                          "the concurrency group does not include the pull "
                                          "request's number, so the run for 'closed' cannot "
                                          "cancel that pull request's runs; "
                                              + group_fix,
                                          group ? group.location() : concurrency->key.location()));
            }
            if (!cancel || text_of(cancel) != "true") {
                m_findings.push_back(
                    make("no-cancel-on-closed",
                         "the concurrency group does not cancel runs in progress; add "
                         "'cancel-in-progress: true'",
                         cancel ? cancel.location() : concurrency->key.location()));
            }
        }
        bool cancel_job = false;
        for (const yaml::Entry job : jobs.value.entries()) {
            const std::string condition = squeeze(text_of(get(job.value, "if")));
            cancel_job =
                cancel_job || contains(condition, "payload.action=='closed'")
                || contains(condition, "'closed'==github.event.client_payload.payload.action");
        }
        if (!cancel_job) {
            m_findings.push_back(
                make("no-cancel-on-closed",
                     "no job runs when a pull request is closed, so nothing joins its "
                     "concurrency group to cancel its runs; add a job with 'if: "
                     "github.event.client_payload.payload.action == 'closed'' (crcr gen-workflow "
                     "writes one, 'cancel-pr')",
                     jobs.key.location()));
        }
    }

public:
    struct Callback {
        Node step;
        bool action = false;
        bool completed = false;
    };

    static std::vector<Callback> callbacks_of(Node steps) {
        std::vector<Callback> found;
        if (!steps || steps.kind() != Kind::sequence) {
            return found;
        }
        const std::string action_path(k_callback_action.substr(0, k_callback_action.find('@') + 1));
        for (const Node step : steps.items()) {
            const std::string uses = text_of(get(step, "uses"));
            const std::string run = text_of(get(step, "run"));
            if (uses.starts_with(action_path)) {
                found.push_back(
                    {step, true, text_of(get(get(step, "with"), "status")) == "completed"});
            } else if (contains(run, "crcr callback")) {
                found.push_back({step,
                                 false,
                                 contains(squeeze(run), "--statuscompleted")
                                     || contains(run, "--status=completed")});
            }
        }
        return found;
    }

private:
    static bool grants_id_token(Node permissions) {
        if (!permissions) {
            return false;
        }
        if (permissions.is_scalar()) {
            return permissions.text() == "write-all";
        }
        return text_of(get(permissions, "id-token")) == "write";
    }

    void check_job(Node root, yaml::Entry job) {
        const Node body = job.value;
        const std::vector<Callback> callbacks = callbacks_of(get(body, "steps"));
        check_pytorch_checkout(get(body, "steps"));
        if (callbacks.empty()) {
            return;
        }
        const std::optional<yaml::Entry> job_permissions = find_entry(body, "permissions");
        const Node permissions =
            job_permissions ? job_permissions->value : get(root, "permissions");
        if (!grants_id_token(permissions)) {
            m_findings.push_back(make(
                "callback-without-id-token",
                fmt::format("job '{}' calls back to the relay but cannot mint the OIDC token the "
                            "relay requires; add 'id-token: write' to its permissions (with "
                            "'contents: read')",
                            job.key.text()),
                job_permissions ? job_permissions->key.location() : job.key.location()));
        }
        const Node strategy = get(body, "strategy");
        const bool matrix = find_entry(strategy, "matrix").has_value();
        for (const Callback& callback : callbacks) {
            check_callback(callback, body, matrix, job.key.text());
        }
    }

    void check_callback(const Callback& callback, Node job, bool matrix, std::string_view job_id) {
        const Node step = callback.step;
        const Node with = get(step, "with");
        if (callback.action) {
            check_action_inputs(step, with);
        }
        if (callback.completed && !contains(text_of(get(step, "if")), "always()")) {
            m_findings.push_back(make("completed-callback-not-always",
                                      "the completed callback is skipped when an earlier step "
                                      "fails or the run is cancelled, leaving the relay and HUD "
                                      "at in_progress; add 'if: always()' to it",
                                      step.location()));
        }
        if (!matrix) {
            return;
        }
        bool names_leg = false;
        if (callback.action) {
            names_leg = contains(squeeze(text_of(get(with, "job-name"))), "matrix.");
        } else {
            const std::string run = text_of(get(step, "run"));
            names_leg = contains(run, "--job-name")
                        && (contains(run, "matrix.") || env_mentions_matrix(get(step, "env"))
                            || env_mentions_matrix(get(job, "env")));
        }
        if (!names_leg) {
            m_findings.push_back(make(
                "matrix-callback-job-name",
                fmt::format("job '{}' is a matrix, and its legs call back under one job name: "
                            "they collide in the relay's state store and on the check run; "
                            "pass {} with the matrix values, e.g. '{}-${{{{ matrix.device }}}}'",
                            job_id,
                            callback.action ? "'job-name:'" : "--job-name",
                            job_id),
                step.location()));
        }
    }

    static bool env_mentions_matrix(Node env) {
        if (!env || env.kind() != Kind::mapping) {
            return false;
        }
        const yaml::Entries entries = env.entries();
        return std::any_of(entries.begin(), entries.end(), [](const yaml::Entry& e) {
            return contains(squeeze(text_of(e.value)), "matrix.");
        });
    }

    void check_action_inputs(Node step, Node with) {
        const std::vector<std::string_view> inputs = callback_action_inputs();
        if (with && with.kind() == Kind::mapping) {
            for (const yaml::Entry entry : with.entries()) {
                if (std::find(inputs.begin(), inputs.end(), entry.key.text()) == inputs.end()) {
                    m_findings.push_back(make(
                        "callback-action-input",
                        fmt::format("the callback action has no input '{}'; its inputs are "
                                    "status, conclusion, job-name, callback-url, test-results, "
                                    "artifact-url, max-time, delivery-id, event-type, "
                                    "failed-tests-detail and triage-verdict",
                                    entry.key.text()),
                        entry.key.location()));
                }
            }
        }
        const std::string status = text_of(get(with, "status"));
        if (status.empty()) {
            m_findings.push_back(make("callback-action-input",
                                      "the callback action needs 'status: in_progress' or "
                                      "'status: completed' under 'with:'",
                                      step.location()));
        } else if (status == "completed" && !get(with, "conclusion")) {
            m_findings.push_back(make("callback-action-input",
                                      "a completed callback needs a 'conclusion:' (from "
                                      "${{ job.status }}); the relay rejects it without one",
                                      get(with, "status").location()));
        } else if (status != "completed" && status != "in_progress" && !contains(status, "${{")) {
            m_findings.push_back(make("callback-action-input",
                                      fmt::format("status '{}' is not one the relay accepts; "
                                                  "write in_progress or completed",
                                                  status),
                                      get(with, "status").location()));
        }
    }

    void check_pytorch_checkout(Node steps) {
        if (!steps || steps.kind() != Kind::sequence) {
            return;
        }
        for (const Node step : steps.items()) {
            const Node with = get(step, "with");
            const std::string repository = to_lower_ascii(text_of(get(with, "repository")));
            if (!text_of(get(step, "uses")).starts_with("actions/checkout@")
                || repository != "pytorch/pytorch") {
                continue;
            }
            const std::string fix =
                "write 'ref: ${{ github.event.client_payload.event_type == 'pull_request' && "
                "github.event.client_payload.payload.pull_request.head.sha || "
                "github.event.client_payload.payload.after }}'";
            const Node ref = get(with, "ref");
            if (!ref) {
                m_findings.push_back(make("pytorch-checkout-ref",
                                          "pytorch/pytorch is checked out at its default branch, "
                                          "not at the commit the relay dispatched; "
                                              + fix,
                                          get(with, "repository").location()));
                continue;
            }
            const std::string expression = squeeze(text_of(ref));
            if (!contains(expression, "client_payload.payload.pull_request.head.sha")
                || !contains(expression, "client_payload.payload.after")) {
                m_findings.push_back(
                    make("pytorch-checkout-ref",
                         fmt::format("pytorch/pytorch is checked out at '{}', which is not the "
                                     "pull request's head commit and the push's 'after' commit; "
                                     "{}",
                                     text_of(ref),
                                     fix),
                         ref.location()));
            }
        }
    }

    SourceMap m_map;
    std::vector<Finding> m_findings;
};

} // namespace

std::span<const Rule> workflow_rules() {
    return k_rules;
}

std::vector<Finding> check_workflow(std::string_view text) {
    const yaml::Document doc = yaml::load(text);
    std::vector<Finding> findings;
    if (!doc.errors.empty()) {
        findings = doc.errors;
        for (Finding& f : findings) {
            if (f.rule == "yaml-tab") {
                f.message = "tab character outside a quoted string, comment or block scalar: "
                            "crcr reads workflows with a YAML 1.1 loader that rejects it (GitHub "
                            "accepts tabs inside plain values); use spaces or quote the value";
            }
        }
    } else {
        findings = Checker(text).run(doc);
    }
    std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
        return std::pair(a.location.line, a.location.column)
               < std::pair(b.location.line, b.location.column);
    });
    return findings;
}

WorkflowCallbacks workflow_callbacks(std::string_view text) {
    WorkflowCallbacks out;
    const yaml::Document doc = yaml::load(text);
    const Node jobs = doc.errors.empty() ? get(doc.root, "jobs") : Node();
    if (jobs && jobs.kind() == Kind::mapping) {
        for (const yaml::Entry job : jobs.entries()) {
            for (const Checker::Callback& callback :
                 Checker::callbacks_of(get(job.value, "steps"))) {
                ++(callback.completed ? out.completed : out.in_progress);
            }
        }
    }
    // A hand-made token request: `audience=<value>` in the text, other than the relay's.
    const SourceMap map(text);
    constexpr std::string_view k_key = "audience=";
    for (std::size_t pos = text.find(k_key); pos != std::string_view::npos;
         pos = text.find(k_key, pos + 1)) {
        std::size_t end = pos + k_key.size();
        while (end < text.size() && (is_name_char(text[end]) || text[end] == '.')) {
            ++end;
        }
        const std::string_view value = text.substr(pos + k_key.size(), end - pos - k_key.size());
        if (!value.empty() && value != k_relay_audience) {
            out.wrong_audience.push_back(
                make("callback-audience",
                     fmt::format("an OIDC token is requested for audience '{}', and the relay "
                                 "accepts only '{}'",
                                 value,
                                 k_relay_audience),
                     map.location(pos, static_cast<int>(end - pos))));
        }
    }
    return out;
}

std::vector<Finding>
drift_findings(std::string_view text, std::string_view expected, std::string_view command) {
    // The header's first line names the version that wrote it; only what follows must match.
    const std::vector<std::string_view> a = lines_of(text);
    const std::vector<std::string_view> b = lines_of(expected);
    std::size_t line = 1;
    while (line < a.size() && line < b.size() && a[line] == b[line]) {
        ++line;
    }
    if (line == a.size() && line == b.size()) {
        return {};
    }
    Finding note = make("generated-drift",
                        fmt::format("this file differs from what its header's options generate "
                                    "now (first at line {}): edited by hand, which is fine, or "
                                    "written by another version; to generate it again: {}",
                                    line + 1,
                                    command),
                        {static_cast<int>(line + 1), 1, 0});
    note.severity = Severity::note;
    return {note};
}

std::string drift_diff(std::string_view text, std::string_view expected) {
    const std::vector<std::string_view> a = lines_of(expected);
    const std::vector<std::string_view> b = lines_of(text);
    // The common start (the header's first line always counts as common) and end, then the
    // longest common subsequence of the middle when it is small enough to tabulate; a bigger
    // middle shows as removed and added whole.
    std::size_t head = std::min<std::size_t>(1, std::min(a.size(), b.size()));
    while (head < a.size() && head < b.size() && a[head] == b[head]) {
        ++head;
    }
    std::size_t tail = 0;
    while (tail < a.size() - head && tail < b.size() - head
           && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
        ++tail;
    }
    if (head == a.size() && head == b.size()) {
        return {};
    }
    const std::size_t n = a.size() - head - tail;
    const std::size_t m = b.size() - head - tail;
    // The edit script over the whole files: ' ' kept, '-' only in `expected`, '+' only in `text`.
    struct Edit {
        char op;
        std::string_view line;
        std::size_t a_line; // 1-based line in `expected` (next one, for '+')
        std::size_t b_line; // likewise in `text`
    };
    std::vector<Edit> edits;
    for (std::size_t i = 0; i < head; ++i) {
        edits.push_back({' ', a[i], i + 1, i + 1});
    }
    constexpr std::size_t k_max_table = 4'000'000;
    std::size_t i = 0;
    std::size_t j = 0;
    if (n > 0 && m > 0 && (n + 1) * (m + 1) <= k_max_table) {
        std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0); // lcs[x][y]: of a[x..], b[y..]
        const auto at = [&lcs, m](std::size_t x, std::size_t y) -> std::uint32_t& {
            return lcs[x * (m + 1) + y];
        };
        for (std::size_t x = n; x-- > 0;) {
            for (std::size_t y = m; y-- > 0;) {
                at(x, y) = a[head + x] == b[head + y] ? at(x + 1, y + 1) + 1
                                                      : std::max(at(x + 1, y), at(x, y + 1));
            }
        }
        while (i < n && j < m) {
            if (a[head + i] == b[head + j]) {
                edits.push_back({' ', a[head + i], head + i + 1, head + j + 1});
                ++i;
                ++j;
            } else if (at(i + 1, j) >= at(i, j + 1)) {
                edits.push_back({'-', a[head + i], head + i + 1, head + j + 1});
                ++i;
            } else {
                edits.push_back({'+', b[head + j], head + i + 1, head + j + 1});
                ++j;
            }
        }
    }
    for (; i < n; ++i) {
        edits.push_back({'-', a[head + i], head + i + 1, head + j + 1});
    }
    for (; j < m; ++j) {
        edits.push_back({'+', b[head + j], head + n + 1, head + j + 1});
    }
    for (std::size_t k = 0; k < tail; ++k) {
        edits.push_back({' ', a[head + n + k], head + n + k + 1, head + m + k + 1});
    }
    // Hunks: each change with three lines of context, hunks closer than that merged.
    constexpr std::size_t k_context = 3;
    std::string out = "--- generated now\n+++ this file\n";
    std::size_t e = 0;
    while (e < edits.size()) {
        if (edits[e].op == ' ') {
            ++e;
            continue;
        }
        const std::size_t first = e - std::min(e, k_context);
        std::size_t last = e; // one past the hunk's last change
        for (std::size_t k = e; k < edits.size(); ++k) {
            if (edits[k].op != ' ') {
                last = k + 1;
            } else if (k - last >= 2 * k_context) {
                break;
            }
        }
        const std::size_t end = std::min(edits.size(), last + k_context);
        std::size_t a_count = 0;
        std::size_t b_count = 0;
        for (std::size_t k = first; k < end; ++k) {
            a_count += edits[k].op != '+' ? 1 : 0;
            b_count += edits[k].op != '-' ? 1 : 0;
        }
        out += fmt::format("@@ -{},{} +{},{} @@\n",
                           edits[first].a_line - (a_count == 0 ? 1 : 0),
                           a_count,
                           edits[first].b_line - (b_count == 0 ? 1 : 0),
                           b_count);
        for (std::size_t k = first; k < end; ++k) {
            out += edits[k].op;
            out += printable(edits[k].line); // no control character reaches the terminal
            out += '\n';
        }
        e = end;
    }
    return out;
}

} // namespace crcr
