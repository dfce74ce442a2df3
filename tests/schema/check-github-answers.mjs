// Checks the answers the fake GitHub API serves `crcr doctor` against GitHub's REST description
// (@octokit/openapi, pinned), so the fake answers in GitHub's shapes:
//   node check-github-answers.mjs DIR
// DIR holds files "<operation>.<n>.json" written by tests/support/fake_github_doctor.cpp, where
// <operation> is an operationId with "--" for "/"; each is validated against the operation's
// 200 response schema. The description is OpenAPI 3.0: `nullable: true` becomes a "null" type.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const spec = require("@octokit/openapi/generated/api.github.com.deref.json");
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

function nullable(schema, seen = new Set()) {
  if (!schema || typeof schema !== "object" || seen.has(schema)) return schema;
  seen.add(schema);
  if (schema.nullable === true) {
    if (typeof schema.type === "string") schema.type = [schema.type, "null"];
    else if (schema.anyOf) schema.anyOf.push({ type: "null" });
    else if (schema.oneOf) schema.oneOf.push({ type: "null" });
    else if (schema.allOf) {
      schema.anyOf = [{ allOf: schema.allOf }, { type: "null" }];
      delete schema.allOf;
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum.push(null);
  }
  delete schema.nullable;
  for (const value of Object.values(schema)) nullable(value, seen);
  return schema;
}

const operations = new Map();
for (const [path, methods] of Object.entries(spec.paths)) {
  for (const [method, operation] of Object.entries(methods)) {
    if (operation && operation.operationId) operations.set(operation.operationId, { method, path, operation });
  }
}

const dir = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
const seen = new Set();
let failures = 0;
for (const file of files) {
  const id = file.slice(0, file.indexOf(".")).replaceAll("--", "/");
  const found = operations.get(id);
  const schema = found?.operation.responses?.["200"]?.content?.["application/json"]?.schema;
  if (!schema) {
    console.error(`${file}: no operation '${id}' with a 200 JSON answer in @octokit/openapi`);
    failures++;
    continue;
  }
  seen.add(id);
  const data = JSON.parse(readFileSync(`${dir}/${file}`, "utf8"));
  if (!ajv.validate(nullable(schema), data)) {
    console.error(`${file}: GET ${found.path}: ${ajv.errorsText(ajv.errors, { separator: "\n  " })}`);
    failures++;
  }
}
const required = [
  "repos/get", "repos/get-content", "actions/get-github-actions-permissions-repository",
  "actions/list-repo-workflows", "orgs/list-app-installations", "users/get-by-username",
  "apps/get-authenticated",
];
for (const id of required) {
  if (!seen.has(id)) {
    console.error(`no answer for ${id} was captured`);
    failures++;
  }
}
console.log(`${files.length} answers checked against @octokit/openapi, ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
