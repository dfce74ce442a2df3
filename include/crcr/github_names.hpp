#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crcr {

// GitHub's naming rules (relay-contract section 3). Each returns why `name` cannot exist on
// GitHub, or nothing when it can.

// An owner (user or organisation): 1-39 ASCII letters, digits and single hyphens, neither first
// nor last.
std::optional<std::string> owner_name_problem(std::string_view name);

// A login (an oncall): the owner rule.
std::optional<std::string> login_problem(std::string_view login);

// A repository name: 1-100 ASCII letters, digits, '.', '-' and '_', and not '.' or '..'.
std::optional<std::string> repo_name_problem(std::string_view name);

// `owner/name`, both parts valid, exactly one '/'.
std::optional<std::string> full_name_problem(std::string_view full_name);

// GitHub compares names ignoring ASCII case: compare their `to_lower_ascii` (crcr/text.hpp).

// The name production gives the check run of a downstream job:
// crcr/<owner>/<repo>/<workflow>/<job>.
std::string check_run_name(std::string_view repo, std::string_view workflow, std::string_view job);

} // namespace crcr
