// Checks the requests crcr sent to the fake GitHub API against GitHub's REST description
// (@octokit/openapi, pinned):
//   node check-github-requests.mjs DIR
// DIR holds files "<operation>.<n>.json" written by tests/support/fake_github.cpp, where
// <operation> is an operationId with "--" for "/". A file is a request body, validated against
// the operation's requestBody schema; for GET operations it is the query parameters, each of
// which must be a query parameter the operation declares (and valid against its schema). A file
// "answer@<status>@<operation>.<n>.json" is the fake's answer, validated against the operation's
// response schema for that status: the fake must answer in GitHub's shapes.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const spec = require("@octokit/openapi/generated/api.github.com.deref.json");
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

const operations = new Map();
for (const [path, methods] of Object.entries(spec.paths)) {
  for (const [method, operation] of Object.entries(methods)) {
    if (operation && operation.operationId) operations.set(operation.operationId, { method, path, operation });
  }
}

// A query value as its schema types it. Date-time filters such as `created` take GitHub's search
// syntax, a date-time after a comparison (">=2026-11-26T10:00:00Z"), which the description
// documents in prose while its schema says only "date-time": the date-time part is checked.
function typed(parameter, value) {
  if (parameter.schema.type === "integer") return Number(value);
  if (parameter.schema.format === "date-time") return value.replace(/^(>=|<=|>|<)/, "");
  return value;
}

const dir = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
const seen = new Set();
let failures = 0;
const answered = new Set();
for (const file of files) {
  let name = file.slice(0, file.indexOf("."));
  let status = null;
  if (name.startsWith("answer@")) {
    [, status, name] = name.split("@");
  }
  const id = name.replaceAll("--", "/");
  const found = operations.get(id);
  if (!found) {
    console.error(`${file}: no operation '${id}' in @octokit/openapi`);
    failures++;
    continue;
  }
  const data = JSON.parse(readFileSync(`${dir}/${file}`, "utf8"));
  if (status !== null) {
    answered.add(id);
    const schema = found.operation.responses?.[status]?.content?.["application/json"]?.schema;
    if (!schema) {
      console.error(`${file}: ${found.path} documents no JSON answer ${status}`);
      failures++;
    } else if (!ajv.validate(schema, data)) {
      console.error(`${file}: answer ${status} of ${found.path}: ${ajv.errorsText(ajv.errors, { separator: "\n  " })}`);
      failures++;
    }
    continue;
  }
  seen.add(id);
  if (found.method === "get") {
    const declared = new Map((found.operation.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p]));
    for (const [name, value] of Object.entries(data)) {
      const parameter = declared.get(name);
      if (!parameter) {
        console.error(`${file}: ${found.path} has no query parameter '${name}'`);
        failures++;
      } else if (parameter.schema && !ajv.validate(parameter.schema, typed(parameter, value))) {
        console.error(`${file}: query parameter '${name}'=${value}: ${ajv.errorsText()}`);
        failures++;
      }
    }
    continue;
  }
  const schema = found.operation.requestBody?.content?.["application/json"]?.schema;
  if (!ajv.validate(schema, data)) {
    console.error(`${file}: ${found.method.toUpperCase()} ${found.path}: ${ajv.errorsText(ajv.errors, { separator: "\n  " })}`);
    failures++;
  }
}
const required = [
  "repos/create-dispatch-event",
  "apps/create-installation-access-token",
  "actions/list-workflow-runs-for-repo",
  "apps/list-webhook-deliveries",
  "repos/list-webhook-deliveries",
];
for (const id of required) {
  if (!seen.has(id)) {
    console.error(`no request for ${id} was captured`);
    failures++;
  }
}
const requiredAnswers = [
  "apps/list-webhook-deliveries",
  "apps/get-webhook-delivery",
  "apps/redeliver-webhook-delivery",
  "repos/list-webhook-deliveries",
];
for (const id of requiredAnswers) {
  if (!answered.has(id)) {
    console.error(`no answer of the fake for ${id} was captured`);
    failures++;
  }
}
console.log(`${files.length} requests checked against @octokit/openapi, ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
