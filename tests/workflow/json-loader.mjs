// Node 20 refuses `import x from "./file.json"` without an import attribute, which
// @actions/workflow-parser's build omits: add the attribute for every .json module.
export async function load(url, context, nextLoad) {
  if (new URL(url).pathname.endsWith(".json")) {
    return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
  }
  return nextLoad(url, context);
}
