// Validates SARIF logs against the official SARIF 2.1.0 JSON schema (draft-04, as shipped in
// @microsoft/jest-sarif): node check-sarif.mjs FILE...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv04 from "ajv-draft-04";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
// The schema's own patterns are not valid in unicode mode.
const ajv = new Ajv04({ strict: false, allErrors: true, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);
let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const log = JSON.parse(readFileSync(file, "utf8"));
  if (validate(log) && log.runs?.[0]?.results?.length > 0) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${file}: ${JSON.stringify(validate.errors ?? "no results")}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
