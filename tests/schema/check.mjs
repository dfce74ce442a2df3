// Checks crcr's simulated deliveries against what GitHub ships:
//   node check.mjs MANIFEST.json
// MANIFEST is a list of {"name", "event", "action" (null for push or a dispatch), "file"}, where
// file is a crcr capture record (JSON line: headers + raw body) or, with "dispatch": true, a
// repository_dispatch event. Each body must validate against @octokit/webhooks-schemas (the
// definition for its event and action) and @octokit/openapi-webhooks, and each signed record's
// X-Hub-Signature-256 must pass @octokit/webhooks-methods' verify with SECRET (env).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { verify } from "@octokit/webhooks-methods";

const require = createRequire(import.meta.url);
const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const secret = process.env.SECRET;

// @octokit/webhooks-schemas: draft-07, one definition per "<event>$<action>".
const schemas = require("@octokit/webhooks-schemas/schema.json");
const draft7 = new Ajv({ strict: false, allErrors: true });
addFormats(draft7);
draft7.addKeyword({ keyword: "tsAdditionalProperties", schemaType: "boolean" });
draft7.addSchema(schemas, "schemas");

// @octokit/openapi-webhooks: OpenAPI 3.1 (JSON Schema 2020-12), webhooks under "webhooks".
const openapi = require("@octokit/openapi-webhooks/generated/api.github.com.json");
const draft2020 = new Ajv2020({ strict: false, allErrors: true });
addFormats(draft2020);
draft2020.addKeyword({ keyword: "example" });
draft2020.addSchema({ components: { schemas: openapi.components.schemas } }, "openapi");

function openapiRef(event, action) {
  if (event === "repository_dispatch") return "#/components/schemas/webhook-repository-dispatch-sample";
  const key = [event, action].filter(Boolean).join("-").replaceAll("_", "-");
  const hook = openapi.webhooks[key];
  if (!hook || (hook.post["x-github"]?.subcategory ?? event) !== event) return null;
  return hook.post.requestBody.content["application/json"].schema.$ref;
}

const problems = (validate) => validate.errors.slice(0, 8).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);

let passed = 0;
let failed = 0;
for (const job of manifest) {
  const text = readFileSync(job.file, "utf8");
  let body, headers;
  if (job.dispatch) {
    body = JSON.parse(text);
  } else {
    const record = JSON.parse(text.split("\n")[0]);
    headers = record.headers;
    body = JSON.parse(record.body);
    if (secret) {
      const ok = await verify(secret, record.body, headers["X-Hub-Signature-256"]);
      if (!ok) {
        failed++;
        console.log(`FAIL ${job.name}: @octokit/webhooks-methods verify() rejects X-Hub-Signature-256`);
        continue;
      }
    }
  }
  const errors = [];
  const definition = job.dispatch ? "repository_dispatch$event" : `${job.event}$${job.action ?? "event"}`;
  const v7 = draft7.getSchema(`schemas#/definitions/${definition}`);
  if (!v7) errors.push(`webhooks-schemas has no definition ${definition}`);
  else if (!v7(body)) errors.push(...problems(v7).map((p) => `webhooks-schemas ${definition}: ${p}`));
  const ref = openapiRef(job.dispatch ? "repository_dispatch" : job.event, job.action);
  const v2020 = ref && draft2020.getSchema(`openapi${ref}`);
  if (!v2020) errors.push(`openapi-webhooks has no webhook for ${job.event} ${job.action}`);
  else if (!v2020(body)) errors.push(...problems(v2020).map((p) => `openapi-webhooks ${ref.split("/").pop()}: ${p}`));
  if (errors.length) {
    failed++;
    console.log(`FAIL ${job.name}\n  ${errors.join("\n  ")}`);
  } else {
    passed++;
  }
}

// GitHub's documented test vector, through octokit's verify.
const vector = await verify("It's a Secret to Everybody", "Hello, World!",
  "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
if (vector) passed++; else { failed++; console.log("FAIL GitHub's test vector"); }

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
