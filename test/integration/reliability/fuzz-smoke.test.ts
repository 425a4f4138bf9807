// Reliability scenario "fuzz-smoke": bad input at volume. Real parts: Keycloak (alice's sign-in and
// the token exchange), the gateway with every app, the Nextcloud stand-in. fast-check sends arbitrary
// arguments to every listed tool through tools/call, and malformed or forged HTTP goes to /mcp and to
// every endpoint that writes (account forms, back-channel logout, webhooks, the sign-in callback).
// Asserted: no 5xx, no crash (/healthz answers after every batch), every refusal says what was wrong,
// and nothing stored changed: every table of the gateway's database is snapshot before and after and
// compared row by row (stored.ts). The one change allowed is the index pruning itself: a search hit
// that Nextcloud no longer has is dropped from the caller's own index (its row and its folder's
// sync token go), never added to, never another user's. No audit row is written either: the audit
// trail records what happens to offline grants, and a refused request is logged, not audited.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import {
  GrantStore,
  openStore,
  SearchIndex,
  Sealer,
  upsertUser,
  type Store,
} from "../../../src/store/index.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { sealingKey, sealingKeysEnv } from "../jobs/grants-support.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { claims } from "../support/oauth.ts";
import { mcpTokens } from "../search/support.ts";
import { Figures } from "./figures.ts";
import { changes, snapshot, type Snapshot } from "./stored.ts";

/** Arbitrary argument objects per tool; small, so the run stays well under a minute. */
const RUNS_PER_TOOL = 12;
const figures = new Figures("fuzz-smoke");
let standin: NextcloudStandin;
let gw: TestGateway;
let browser: Browser;
let alice: string;
let store: Store;
let before: Snapshot;
/** The gateway's user ids of alice (the caller) and of another user. */
const ids = { alice: "", other: "" };
const WEBHOOK_SECRET = randomBytes(24).toString("hex");

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  const key = sealingKey("k1");
  gw = await startTestGateway({
    env: {
      NEXTCLOUD_URL: standin.url,
      MCP_DEFAULT_APPS: "all",
      SEALING_KEYS: sealingKeysEnv(key),
      SEARCH_INDEX_ENABLED: "true",
      WEBHOOK_SECRET,
      // No scheduled job runs: what a job writes is legitimate and its own scenarios' subject.
      JOBS_ENABLED: "false",
      // The fuzz pass sends thousands of calls as one user within a minute or two; the per-user limit
      // (600/min) would answer the later ones 429 (rate limits have tests of their own).
      RATE_LIMIT_MCP_PER_USER: "0",
    },
  });
  browser = await launchBrowser();
  ({ alice } = await mcpTokens(browser, ["alice"], "openid mcp:tools mcp:write"));
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  await seedStored(new Sealer([key]), claims(alice).sub ?? "");
  before = await snapshot(store.db);
});

/**
 * Something in every table a request could reach: alice and another user, each with an offline
 * grant (and its audit row), a ready content index with items and sync tokens, a finished job run,
 * a used logout token, an accepted webhook delivery.
 */
async function seedStored(sealer: Sealer, aliceSub: string): Promise<void> {
  const { issuer } = inject("keycloak");
  const grants = new GrantStore(store.db, sealer);
  const index = new SearchIndex(store.db);
  for (const [who, subject] of [
    ["alice", aliceSub],
    ["other", `other-${randomBytes(4).toString("hex")}`],
  ] as const) {
    const user = await upsertUser(store.db, { issuer, subject, username: who });
    ids[who] = user.id;
    await grants.saveGrant(user.id, subject, `not-a-token-${who}`, "openid offline_access");
    await index.upsert(
      user.id,
      ["Budget plan", "Travel notes", "Quarterly report"].map((title, n) => ({
        source: "files" as const,
        key: `/Seeded/${who}-${String(n)}.md`,
        title,
        body: `${title} of ${who}: decided, approved, Notes, passwd`,
        container: "/Seeded",
        etag: `"e${String(n)}"`,
        modifiedAt: new Date("2026-01-01T00:00:00Z"),
      })),
    );
    await index.setSyncToken(user.id, "files", "/Seeded", '"s1"');
    await index.setPaused(user.id, false);
    await store.db
      .updateTable("search_index_users")
      .set({ ready_at: new Date("2026-01-02T00:00:00Z") })
      .where("user_id", "=", user.id)
      .execute();
  }
  await store.db
    .insertInto("job_runs")
    .values({
      job: "housekeeping",
      replica: "seed",
      finished_at: new Date(),
      outcome: "ok",
      counts: JSON.stringify({ deleted: 0 }),
    })
    .execute();
  await store.db
    .insertInto("logout_token_uses")
    .values({ jti_hash: "seeded", expires_at: new Date(Date.now() + 3600_000) })
    .execute();
  await store.db
    .insertInto("webhook_deliveries")
    .values({ digest: new Uint8Array(randomBytes(32)), event_time: new Date() })
    .execute();
}

afterAll(async () => {
  figures.flush();
  await store.close();
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

/** A request to the gateway; redirects are not followed (a redirect is an answer too). */
async function send(path: string, init: RequestInit = {}) {
  const res = await fetch(`${gw.gateway.url}${path}`, {
    redirect: "manual",
    signal: AbortSignal.timeout(30_000),
    ...init,
  });
  return { status: res.status, text: await res.text(), location: res.headers.get("location") };
}

const form = (fields: Record<string, string>, extra: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...extra },
  body: new URLSearchParams(fields).toString(),
});

/** An unsigned logout token (alg none) naming alice, as a forger would send it. */
function unsignedLogoutToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const sub = claims(alice).sub ?? "";
  return `${part({ alg: "none", typ: "logout+jwt" })}.${part({
    iss: inject("keycloak").issuer,
    aud: "mcp-gateway",
    sub,
    iat: Math.floor(Date.now() / 1000),
    jti: "forged",
    events: { "http://schemas.openid.net/event/backchannel-logout": {} },
  })}.`;
}

it("refuses forged and malformed requests to every endpoint that writes, with a 4xx or a redirect that says what to do", async () => {
  const forgedSession = { cookie: "ncmcp_session=forged.session.value; __Host-ncmcp_session=forged" };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const cases: [string, () => ReturnType<typeof send>][] = [
    ["disconnect without a session", () => send("/account/disconnect", form({ csrf: "x" }))],
    [
      "disconnect with a forged session",
      () => send("/account/disconnect", form({ csrf: "x" }, forgedSession)),
    ],
    ["index delete with a forged session", () => send("/account/index/delete", form({}, forgedSession))],
    ["index pause with a forged session", () => send("/account/index/pause", form({}, forgedSession))],
    ["sign-out with a forged session", () => send("/account/logout", form({ csrf: "x" }, forgedSession))],
    ["connect without a form token", () => send("/connect", form({}))],
    ["a callback with an unknown state", () => send("/oauth/callback?code=x&state=y")],
    ["a callback with an IdP error", () => send("/oauth/callback?error=access_denied&state=y")],
    ["back-channel logout of junk", () => send("/oauth/backchannel-logout", form({ logout_token: "junk" }))],
    ["back-channel logout without a token", () => send("/oauth/backchannel-logout", form({}))],
    [
      "back-channel logout of an unsigned token naming alice",
      () => send("/oauth/backchannel-logout", form({ logout_token: unsignedLogoutToken() })),
    ],
    ["a webhook without its secret", () => send("/webhooks/nextcloud", { method: "POST", body: "{}" })],
    [
      "a webhook with a wrong secret",
      () => send("/webhooks/nextcloud", { method: "POST", headers: bearer("x".repeat(48)), body: "{}" }),
    ],
    [
      "a webhook with its secret and bad JSON",
      () =>
        send("/webhooks/nextcloud", {
          method: "POST",
          headers: { ...bearer(WEBHOOK_SECRET), "content-type": "application/json" },
          body: "{not json",
        }),
    ],
    [
      "a webhook with its secret and an event of no known shape",
      () =>
        send("/webhooks/nextcloud", {
          method: "POST",
          headers: { ...bearer(WEBHOOK_SECRET), "content-type": "application/json" },
          body: JSON.stringify({ event: { class: "Nope" }, user: { uid: "alice" }, time: "soon" }),
        }),
    ],
  ];
  const problems: string[] = [];
  for (const [what, sendIt] of cases) {
    const r = await sendIt();
    const redirect = r.status >= 300 && r.status < 400 && r.location !== null;
    if (r.status >= 500 || r.status < 300 || (!redirect && r.text.trim() === "")) {
      problems.push(`${what}: HTTP ${String(r.status)} ${r.text.slice(0, 200)}`);
    }
  }
  await alive();
  figures.add("http.writers", "Forged or malformed requests to endpoints that write", cases.length);
  figures.add(
    "http.writers.problems",
    "Of which answered 5xx, 2xx or without an explanation",
    problems.length,
  );
  expect(problems).toEqual([]);
});

it("answers well-formed calls that read the stored state (the index, the grant) without writing more than the pruning", async () => {
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 9000, method: "tools/call", params: { name, arguments: args } }),
    );
    expect(r.status, r.text).toBe(200);
    return JSON.parse(r.text) as {
      result?: { isError?: boolean; structuredContent?: Record<string, unknown> };
    };
  };
  // The seeded hits are not in Nextcloud: searching finds them in the index and drops them on read.
  for (const query of ["Budget plan", "approved", "Quarterly report", "passwd"]) {
    const r = await call("search", { query });
    expect(r.result?.isError, JSON.stringify(r)).not.toBe(true);
    expect(r.result?.structuredContent?.source).toBe("index");
  }
  // The allowed change happened, so the rule of the last test is put to the test: alice's seeded
  // hits were dropped on read, the other user's stay.
  const left = await store.db
    .selectFrom("search_items")
    .select("user_id")
    .where("user_id", "in", [ids.alice, ids.other])
    .execute();
  expect(left.filter((r) => r.user_id === ids.alice)).toEqual([]);
  expect(left.filter((r) => r.user_id === ids.other)).toHaveLength(3);
  const status = await call("offline_access_status", {});
  expect(status.result?.isError, JSON.stringify(status)).not.toBe(true);
  await alive();
});

it("changed nothing stored: every table as before, but for the caller's index hits that Nextcloud no longer has", async () => {
  const after = await snapshot(store.db);
  const found = changes(before, after);
  const pruning = new Set(["search_items", "search_sync"]);
  const unexpected = found.filter(
    (c) =>
      !pruning.has(c.table) ||
      c.added.length > 0 ||
      c.gone.some((row) => (JSON.parse(row) as { user_id?: string }).user_id !== ids.alice),
  );
  const rows = [...before.values()].reduce((n, r) => n + r.length, 0);
  figures.add("stored.rows", `Rows stored before the fuzzing (${String(before.size)} tables)`, rows);
  figures.add(
    "stored.pruned",
    "Of which dropped by the index pruning (the caller's hits gone from Nextcloud, their sync token)",
    found.reduce((n, c) => n + c.gone.length, 0),
  );
  figures.add("stored.changed", "Rows added, changed or removed otherwise", unexpected.length);
  expect(before.get("users")).toHaveLength(2);
  expect(before.get("offline_grants")).toHaveLength(2);
  expect(before.get("audit_events")?.length).toBeGreaterThan(0);
  expect(unexpected).toEqual([]);
});
