#include "crcr/github_names.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crcr {

namespace {

bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::optional<std::string> owner_rule(std::string_view name, std::string_view what) {
    if (name.empty()) {
        return fmt::format("{} is empty", what);
    }
    if (name.size() > 39) {
        return fmt::format("{} '{}' is longer than 39 characters", what, name);
    }
    if (!std::all_of(
            name.begin(), name.end(), [](char c) { return is_ascii_alnum(c) || c == '-'; })) {
        return fmt::format(
            "{} '{}' may contain only ASCII letters, digits and hyphens", what, name);
    }
    if (name.front() == '-' || name.back() == '-') {
        return fmt::format("{} '{}' cannot start or end with a hyphen", what, name);
    }
    if (name.find("--") != std::string_view::npos) {
        return fmt::format("{} '{}' cannot contain two hyphens in a row", what, name);
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> owner_name_problem(std::string_view name) {
    return owner_rule(name, "owner");
}

std::optional<std::string> login_problem(std::string_view login) {
    return owner_rule(login, "login");
}

std::optional<std::string> repo_name_problem(std::string_view name) {
    if (name.empty()) {
        return std::string("repository name is empty");
    }
    if (name.size() > 100) {
        return fmt::format("repository name '{}' is longer than 100 characters", name);
    }
    if (name == "." || name == "..") {
        return fmt::format("repository name cannot be '{}'", name);
    }
    if (!std::all_of(name.begin(), name.end(), [](char c) {
            return is_ascii_alnum(c) || c == '.' || c == '-' || c == '_';
        })) {
        return fmt::format(
            "repository name '{}' may contain only ASCII letters, digits, '.', '-' and '_'", name);
    }
    return std::nullopt;
}

std::optional<std::string> full_name_problem(std::string_view full_name) {
    const std::size_t slash = full_name.find('/');
    if (slash == std::string_view::npos) {
        return fmt::format("'{}' is not in owner/repo form", full_name);
    }
    if (full_name.find('/', slash + 1) != std::string_view::npos) {
        return fmt::format("'{}' has more than one '/'", full_name);
    }
    if (std::optional<std::string> problem = owner_name_problem(full_name.substr(0, slash))) {
        return problem;
    }
    return repo_name_problem(full_name.substr(slash + 1));
}

std::string check_run_name(std::string_view repo, std::string_view workflow, std::string_view job) {
    return fmt::format("crcr/{}/{}/{}", repo, workflow, job);
}

} // namespace crcr
