// Parses workflow files with GitHub's own parser for the Actions language
// (@actions/workflow-parser) and prints every error; exits 1 when there is any.
// Usage: node parse.mjs FILE...
import { register } from "node:module";
import { readFile } from "node:fs/promises";

// Node 20 refuses the parser's `import schema from "./x.json"` without an import attribute.
register("./json-loader.mjs", import.meta.url);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import(
  "@actions/workflow-parser"
);

let failed = false;
for (const file of process.argv.slice(2)) {
  const content = await readFile(file, "utf8");
  const problems = new Set();
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  for (const e of parsed.context.errors.getErrors()) {
    problems.add(e.message);
  }
  if (parsed.value !== undefined) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of template.errors ?? []) {
      problems.add(e.Message ?? e.message ?? JSON.stringify(e));
    }
  }
  for (const p of problems) {
    console.log(`${file}: workflow-parser: ${p}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
