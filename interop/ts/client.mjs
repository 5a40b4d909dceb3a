// Drives a clerk-mcp binary with the official TypeScript SDK client over
// real pipes. Usage: node client.mjs BINARY STEP...
// Steps: list, whoami-ok, whoami-error:REASON, api-error:REASON:PATH.
// Prints one JSON line per step; exits 1 on the first failed step.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [binary, ...steps] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: binary, args: ["serve"], env: process.env, stderr: "ignore" });
const client = new Client({ name: "ts-interop", version: "1.0.0" });
await client.connect(transport);

function fail(step, why) {
  console.log(JSON.stringify({ step, ok: false, why }));
  process.exit(1);
}

function reason(result) {
  const env = JSON.parse(result.content[0].text);
  return env.error.reason;
}

for (const step of steps) {
  const [kind, arg, path] = step.split(":");
  try {
    if (kind === "list") {
      const { tools } = await client.listTools();
      if (tools.length !== 4) fail(step, `got ${tools.length} tools`);
    } else if (kind === "whoami-ok") {
      const r = await client.callTool({ name: "whoami", arguments: {} });
      if (r.isError || !r.structuredContent?.email) fail(step, JSON.stringify(r));
    } else if (kind === "whoami-error") {
      const r = await client.callTool({ name: "whoami", arguments: {} });
      if (!r.isError || reason(r) !== arg) fail(step, JSON.stringify(r));
    } else if (kind === "endpoints-first") {
      // arg is the query, path the expected "METHOD /path" of the first match;
      // the SDK validates structuredContent against the output schema.
      const r = await client.callTool({ name: "api_endpoints", arguments: { query: arg } });
      const first = r.structuredContent?.endpoints?.[0];
      if (r.isError || !first || `${first.method} ${first.path}` !== path) fail(step, JSON.stringify(r));
    } else if (kind === "api-error") {
      const r = await client.callTool({ name: "api", arguments: { path } });
      if (!r.isError || reason(r) !== arg) fail(step, JSON.stringify(r));
    } else {
      fail(step, "unknown step");
    }
  } catch (e) {
    fail(step, `protocol error: ${e.message}`);
  }
  console.log(JSON.stringify({ step, ok: true }));
}
await client.close();
