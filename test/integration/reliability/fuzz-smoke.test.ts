// Reliability scenario "fuzz-smoke": bad input at volume. Real parts: Keycloak (alice's sign-in and
// the token exchange), the gateway with every app, the Nextcloud stand-in. fast-check sends arbitrary
// arguments to every listed tool through tools/call, and malformed HTTP goes to /mcp. Asserted: no
// 5xx, no crash (/healthz answers after every batch), every refusal says what was wrong.
import fc from "fast-check";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";
import { Figures } from "./figures.ts";

/** Arbitrary argument objects per tool; small, so the run stays well under a minute. */
const RUNS_PER_TOOL = 12;
const figures = new Figures("fuzz-smoke");
let standin: NextcloudStandin;
let gw: TestGateway;
let browser: Browser;
let alice: string;

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  gw = await startTestGateway({ env: { NEXTCLOUD_URL: standin.url, MCP_DEFAULT_APPS: "all" } });
  browser = await launchBrowser();
  alice = (
    await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri: "http://127.0.0.1:38140/callback",
      scope: "openid mcp:tools mcp:write",
      user: DEMO_USERS.alice,
    })
  ).access_token;
});

afterAll(async () => {
  figures.flush();
  await browser.close();
  await gw.stop();
  await standin.stop();
});

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** Values of roughly the property's type, edge cases included (paths, empty, long, out of range). */
function valueFor(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.enum !== undefined && schema.enum.length > 0) {
    return fc.oneof(fc.constantFrom(...schema.enum), fc.string({ maxLength: 8 }));
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(
          "",
          "/",
          "../../etc/passwd",
          "a/../../b",
          "%2e%2e/",
          "x".repeat(5000),
          "\u0000",
          "Notes",
        ),
      );
    case "integer":
      return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER));
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 });
    case "object":
      return fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** Argument objects shaped by the tool's input schema: required properties present, others sometimes. */
function argsFor(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(props).map(([name, sub]) =>
    required.has(name)
      ? valueFor(sub).map((v) => [name, v] as const)
      : fc.option(valueFor(sub), { nil: undefined }).map((v) => [name, v] as const),
  );
  return fc
    .tuple(...entries)
    .map((pairs) => Object.fromEntries(pairs.filter(([, v]) => v !== undefined)) as Record<string, unknown>);
}

const headers = () => ({
  authorization: `Bearer ${alice}`,
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
});

async function post(body: string | Uint8Array, extra: Record<string, string> = {}) {
  const res = await fetch(`${gw.gateway.url}/mcp`, {
    method: "POST",
    headers: { ...headers(), ...extra },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

async function alive(): Promise<void> {
  const res = await fetch(`${gw.gateway.url}/healthz`);
  expect(res.status).toBe(200);
}

it("answers arbitrary arguments to every tool without a 5xx, an internal error or a crash", async () => {
  const list = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
  const tools = (JSON.parse(list.text) as { result: { tools: { name: string; inputSchema: JsonSchema }[] } })
    .result.tools;
  expect(tools.length).toBeGreaterThan(10);
  let calls = 0;
  let refused = 0;
  const problems: string[] = [];
  for (const tool of tools) {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { arbitrary: argsFor(tool.inputSchema), weight: 3 },
          {
            arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })),
            weight: 1,
          },
        ),
        async (args) => {
          calls++;
          const r = await post(
            JSON.stringify({
              jsonrpc: "2.0",
              id: calls,
              method: "tools/call",
              params: { name: tool.name, arguments: args },
            }),
          );
          if (r.status >= 500)
            problems.push(`${tool.name} answered HTTP ${String(r.status)}: ${r.text.slice(0, 200)}`);
          const body = JSON.parse(r.text) as {
            result?: { isError?: boolean; content?: { text?: string }[] };
            error?: { code: number; message: string };
          };
          if (body.error !== undefined) {
            if (body.error.code === -32603)
              problems.push(`${tool.name}: internal error ${body.error.message}`);
            refused++;
          } else if (body.result?.isError === true) {
            const text = body.result.content?.map((c) => c.text ?? "").join(" ") ?? "";
            if (text.trim().length < 10)
              problems.push(`${tool.name}: an error without an explanation: ${text}`);
            if (/internal error|unexpected error|TypeError|cannot read propert/i.test(text)) {
              problems.push(`${tool.name}: ${text.slice(0, 300)}`);
            }
            refused++;
          }
        },
      ),
      { numRuns: RUNS_PER_TOOL, seed: 16 },
    );
    await alive();
  }
  figures.add("tools", "Tools fuzzed", tools.length);
  figures.add("calls", "tools/call requests with arbitrary arguments", calls);
  figures.add("refused", "Of which refused with an explanation", refused);
  figures.add("problems", "5xx, internal errors or unexplained errors", problems.length);
  expect(problems).toEqual([]);
});

it("refuses malformed HTTP on /mcp with a 4xx that says what was wrong", async () => {
  const cases: [string, () => Promise<{ status: number; text: string }>][] = [
    ["bad JSON", () => post("{not json")],
    ["an empty body", () => post("")],
    ["JSON that is not JSON-RPC", () => post(JSON.stringify({ hello: "world" }))],
    ["a JSON-RPC batch of junk", () => post(JSON.stringify([1, "x", null]))],
    ["a wrong content type", () => post("hello", { "content-type": "text/plain" })],
    ["a huge body (20 MiB)", () => post(new Uint8Array(20 * 1024 * 1024).fill(32))],
    ["an unknown method", () => post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "no/such" }))],
  ];
  const problems: string[] = [];
  for (const [what, send] of cases) {
    const r = await send();
    if (r.status >= 500 || r.text.trim() === "") {
      problems.push(`${what}: HTTP ${String(r.status)} ${r.text.slice(0, 200)}`);
    }
  }
  await alive();
  figures.add("http.cases", "Malformed HTTP requests sent", cases.length);
  figures.add("http.problems", "Of which answered 5xx or without an explanation", problems.length);
  expect(problems).toEqual([]);
});
