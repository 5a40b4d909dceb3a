// Drives a clerk-mcp binary with the official TypeScript SDK client over
// real pipes. Usage: node client.mjs BINARY STEP...
// Steps: list, whoami-ok, whoami-error:REASON, api-error:REASON:PATH,
// whoami-login, confirm-delete:APPLICATION:USER.
// Prints one JSON line per step (with what the Go test checks further);
// exits 1 on the first failed step.
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

// envelope is the error object of an isError result: an agent reads it
// from the text content, which is JSON.
function envelope(result) {
  return JSON.parse(result.content[0].text).error;
}

function reason(result) {
  return envelope(result).reason;
}

for (const step of steps) {
  const [kind, arg, path] = step.split(":");
  let out = {};
  try {
    if (kind === "list") {
      const { tools } = await client.listTools();
      if (tools.length !== 4) fail(step, `got ${tools.length} tools`);
      // Every tool declares the result budget it honours, and this SDK
      // still accepts the list with it.
      for (const t of tools) {
        const budget = t._meta?.["anthropic/maxResultSizeChars"];
        if (!Number.isInteger(budget) || budget <= 0) fail(step, `${t.name}: no _meta maxResultSizeChars: ${JSON.stringify(t._meta)}`);
      }
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
    } else if (kind === "whoami-login") {
      // Not logged in, login from the agent on, and this client cannot
      // open URLs: the link comes in the envelope for the agent to show.
      const r = await client.callTool({ name: "whoami", arguments: {} });
      const e = r.isError && envelope(r);
      if (!e || e.reason !== "not_logged_in" || !e.login_url?.startsWith("http") ||
          Number.isNaN(Date.parse(e.login_expires_at))) fail(step, JSON.stringify(r));
      out = { reason: e.reason, login_url: e.login_url, login_expires_at: e.login_expires_at, remedy: e.remedy };
    } else if (kind === "confirm-delete") {
      // A production delete from a client without elicitation: nothing is
      // sent until the agent repeats the call with the confirmation token
      // (after showing the summary to the user, who agreed).
      const args = { target: "backend", method: "DELETE", path: `/users/${path}`, application_id: arg, instance: "production" };
      const r = await client.callTool({ name: "api", arguments: args });
      const e = r.isError && envelope(r);
      if (!e || e.reason !== "confirmation_required" || !e.confirmation?.summary || !e.confirmation?.token) {
        fail(step, JSON.stringify(r));
      }
      const again = await client.callTool({ name: "api", arguments: { ...args, confirm: e.confirmation.token } });
      // The agent reads the answer from the text, as JSON.
      const sent = !again.isError && JSON.parse(again.content[0].text);
      if (!sent || sent.status !== 200) fail(step, JSON.stringify(again));
      out = { summary: e.confirmation.summary, status: sent.status };
    } else {
      fail(step, "unknown step");
    }
  } catch (e) {
    fail(step, `protocol error: ${e.message}`);
  }
  console.log(JSON.stringify({ step, ok: true, ...out }));
}
await client.close();
