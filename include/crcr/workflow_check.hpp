#pragma once

// `crcr gen-workflow --check`: lints a downstream workflow for what the relay needs (relay-contract
// sections 5 and 6). The YAML is read with crcr's loader, but every scalar by its text as written,
// as GitHub's YAML 1.2 parser reads it (`on:` is the key "on", not a YAML 1.1 boolean). Pure.

#include "crcr/finding.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// Every rule `check_workflow` applies, plus `generated-drift` (which needs to run the command line
// and so is checked by the command), for documentation.
std::span<const Rule> workflow_rules();

// The findings for workflow `text`, ordered by line then column; empty when it has everything the
// relay needs. Text that is not YAML, or not a workflow, is a finding too. Never throws.
std::vector<Finding> check_workflow(std::string_view text);

// The callbacks a workflow sends the relay: steps using the official callback action or running
// `crcr callback` (both ask for the relay's audience), and any hand-made OIDC token request
// (`audience=...`) for another audience (rule `callback-audience`). Text that is not YAML has no
// callback steps. Never throws.
struct WorkflowCallbacks {
    int in_progress = 0;
    int completed = 0;
    std::vector<Finding> wrong_audience;
};
WorkflowCallbacks workflow_callbacks(std::string_view text);

// A `generated-drift` note: `text`, a generated workflow, differs from `expected`, what its
// header's options generate now (editing a generated file is normal: `gen-workflow --check
// --strict` makes it an error); the note points at the first line that differs and says how to
// generate it again (`command`). The header's first line (the version) is not compared.
std::vector<Finding>
drift_findings(std::string_view text, std::string_view expected, std::string_view command);

// How `text` differs from `expected` as a unified diff (`---` generated now, `+++` this file, three
// lines of context), the header's first line excepted; empty when they match. Line ends CR LF and
// LF are the same line.
std::string drift_diff(std::string_view text, std::string_view expected);

} // namespace crcr
