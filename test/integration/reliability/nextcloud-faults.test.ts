// Reliability scenario "nextcloud-faults": Nextcloud slow, throttling (429) and unavailable (503).
// Real parts: Keycloak (sign-in and token exchange), the gateway, the Nextcloud stand-in; between the
// gateway and the stand-in a fault proxy (test/harness/fault-proxy.ts) that answers 429/503 itself,
// loses answers of requests the stand-in applied, or holds answers back. What a user or operator
// would see is asserted: the call's outcome and message, and how many requests reached Nextcloud.
import { performance } from "node:perf_hooks";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inject } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startFaultProxy, type FaultProxy } from "../../harness/fault-proxy.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { callTool, type ToolResult } from "../support/mcp-call.ts";
import { mcpTokens } from "../search/support.ts";
import { Figures } from "./figures.ts";

/** The gateway's NEXTCLOUD_TIMEOUT_MS in this scenario: the per-request deadline under test. */
const TIMEOUT_MS = 1500;
const NOTES = /\/apps\/notes\/api\/v1\/notes(\?|$|\/)/;

const figures = new Figures("nextcloud-faults");
let standin: NextcloudStandin;
let proxy: FaultProxy;
let gw: TestGateway;
let browser: Browser;
let alice: string;

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  proxy = await startFaultProxy(standin.url);
  gw = await startTestGateway({
    env: { NEXTCLOUD_URL: proxy.url, MCP_DEFAULT_APPS: "notes", NEXTCLOUD_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  browser = await launchBrowser();
  ({ alice } = await mcpTokens(browser, ["alice"], "openid mcp:tools mcp:write"));
  // Warm: the exchange and the capabilities are fetched once, so the faults below hit only the call.
  const warm = await call("notes_list");
  expect(warm.isError, warm.content[0]?.text).toBeFalsy();
});

afterAll(async () => {
  figures.flush();
  await browser.close();
  await gw.stop();
  await proxy.stop();
  await standin.stop();
});

const call = (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> =>
  callTool(gw.gateway.url, alice, name, args);

/** Calls a tool with fresh proxy log and rules; the result, the wall time and the Notes API requests. */
async function callWith(
  rules: Parameters<FaultProxy["setRules"]>[0],
  name: string,
  args: Record<string, unknown> = {},
) {
  proxy.reset();
  standin.resetRequests();
  proxy.setRules(rules);
  const started = performance.now();
  try {
    const result = await call(name, args);
    const ms = performance.now() - started;
    const notesRequests = proxy.log().filter((r) => NOTES.test(r.path));
    return { result, ms, notesRequests, text: result.content.map((c) => c.text ?? "").join("\n") };
  } finally {
    proxy.setRules([]);
  }
}

/** POSTs that reached the stand-in's Notes API (applied writes). */
const appliedCreates = () =>
  standin.requests().filter((r) => r.method === "POST" && NOTES.test(r.rawPath)).length;

it("retries a read after a 429 and waits the Retry-After it was given", async () => {
  const r = await callWith(
    [{ method: "GET", path: NOTES, fault: { kind: "answer", status: 429, retryAfter: "1" }, times: 1 }],
    "notes_list",
  );
  expect(r.result.isError, r.text).toBeFalsy();
  expect(r.notesRequests.map((q) => q.fault ?? "forwarded")).toEqual(["answer", "forwarded"]);
  const [first, second] = r.notesRequests;
  const waited = (second?.atMs ?? 0) - (first?.atMs ?? 0);
  // Retry-After: 1 is a lower bound the gateway must honour (timers fire at or after their delay).
  expect(waited).toBeGreaterThanOrEqual(990);
  figures.add("retry-after.wait", "Wait before the retry after `429 Retry-After: 1`", waited, "ms");
  figures.add("retry-after.call", "notes_list answered after one 429", r.ms, "ms");
});

it("gives up at once, saying when to try again, when Retry-After is longer than the gateway waits", async () => {
  const r = await callWith(
    [{ method: "GET", path: NOTES, fault: { kind: "answer", status: 429, retryAfter: "120" } }],
    "notes_list",
  );
  expect(r.result.isError).toBe(true);
  expect(r.text).toMatch(/rate limiting.*Try again in 120 s/s);
  expect(r.notesRequests).toHaveLength(1);
  figures.add("retry-after-long.call", "notes_list refused with `429 Retry-After: 120`", r.ms, "ms");
});

it("never retries a write: a create whose answer was lost is applied once, and the user is told", async () => {
  const title = `Lost answer ${String(Date.now())}`;
  const r = await callWith(
    [{ method: "POST", path: NOTES, fault: { kind: "lose-answer", status: 503, retryAfter: "1" }, times: 1 }],
    "notes_create",
    { title, content: "written once" },
  );
  expect(r.result.isError).toBe(true);
  expect(r.text).toMatch(/Nextcloud failed \(503\)/);
  expect(appliedCreates()).toBe(1);
  const listed = await call("notes_list");
  const notes = (listed.structuredContent as { notes: { title: string }[] }).notes;
  expect(notes.filter((n) => n.title.startsWith(title))).toHaveLength(1);
  figures.add("write.applied", "Creates applied by Nextcloud after a lost 503 answer", appliedCreates(), "");
});

it("does not retry a write refused with 429 either: nothing is applied, the user is told when to retry", async () => {
  const r = await callWith(
    [{ method: "POST", path: NOTES, fault: { kind: "answer", status: 429, retryAfter: "1" } }],
    "notes_create",
    { title: `Throttled ${String(Date.now())}`, content: "never written" },
  );
  expect(r.result.isError).toBe(true);
  expect(r.text).toMatch(/rate limiting.*Try again in 1 s/s);
  expect(r.notesRequests).toHaveLength(1);
  expect(appliedCreates()).toBe(0);
});

it("tells the user Nextcloud is in maintenance when it stays down, after a bounded number of tries", async () => {
  standin.setMaintenance(true, 1);
  let r;
  try {
    r = await callWith([], "notes_list");
  } finally {
    standin.setMaintenance(false);
  }
  expect(r.result.isError).toBe(true);
  expect(r.text).toMatch(/maintenance mode/);
  // Retry-After: 1 is honoured once; a second wait would pass the 1.5 s deadline, so the call ends.
  expect(r.notesRequests).toHaveLength(2);
  const [first, second] = r.notesRequests;
  expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(990);
  expect(r.ms).toBeLessThan(2 * TIMEOUT_MS);
  figures.add(
    "maintenance.tries",
    "Requests sent while Nextcloud stays in maintenance",
    r.notesRequests.length,
    "",
  );
  figures.add("maintenance.call", "notes_list answered while Nextcloud stays in maintenance", r.ms, "ms");
  // And it recovers by itself once Nextcloud is back.
  const back = await call("notes_list");
  expect(back.isError, back.content[0]?.text).toBeFalsy();
});

it("holds the per-request deadline when Nextcloud is slow: the user gets an answer before Nextcloud does", async () => {
  const slowMs = 4 * TIMEOUT_MS;
  const r = await callWith(
    [{ method: "GET", path: NOTES, fault: { kind: "delay", ms: slowMs } }],
    "notes_list",
  );
  expect(r.result.isError).toBe(true);
  expect(r.text).toContain(`did not answer within ${String(TIMEOUT_MS)} ms`);
  expect(r.notesRequests).toHaveLength(1);
  // The call ended before the slow answer arrived: the deadline, not Nextcloud, decided.
  expect(r.ms).toBeLessThan(slowMs);
  figures.add("slow.call", `notes_list with Nextcloud answering after ${String(slowMs)} ms`, r.ms, "ms");
  figures.add("slow.deadline", "NEXTCLOUD_TIMEOUT_MS in this scenario", TIMEOUT_MS, "ms");
});

it("holds the deadline across retries: a slow 503 is not retried past NEXTCLOUD_TIMEOUT_MS", async () => {
  // Each answer comes late (but within the per-request limit) and asks for a retry in 1 s: retrying
  // as often as allowed would take 3 × 1 s + 2 × 1 s, far past the deadline the operator set.
  const r = await callWith(
    [{ method: "GET", path: NOTES, fault: { kind: "answer", status: 503, retryAfter: "1", delayMs: 1000 } }],
    "notes_list",
  );
  expect(r.result.isError).toBe(true);
  expect(r.text).toMatch(/Nextcloud failed \(503\).*Try again in 1 s/s);
  expect(r.notesRequests).toHaveLength(1);
  expect(r.ms).toBeLessThan(2 * TIMEOUT_MS);
  figures.add("slow-503.call", "notes_list with slow 503 answers (1 s each, Retry-After: 1)", r.ms, "ms");
  figures.add("slow-503.tries", "Requests sent for it", r.notesRequests.length, "");
});
