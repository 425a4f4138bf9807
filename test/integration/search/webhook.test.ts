// POST /webhooks/nextcloud through the real app wiring: a gateway with jobs on (the index schedule
// never fires during the test), alice's real offline grant at the real Keycloak, the stand-in, and
// the gateway's PostgreSQL. What a user notices: a file changed in Nextcloud is found by `search`
// within seconds of Nextcloud's delivery, not at the next scheduled run. What an attacker notices:
// forged, replayed, stale, oversized, mistyped and malformed deliveries get the right status and
// change nothing in the store; a rotated-out secret works while configured and not after; no
// secret ever reaches the log.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../../../src/config/index.ts";
import { runJobNow } from "../../../src/cli/jobs.ts";
import { createLogger } from "../../../src/log.ts";
import { GrantStore, openStore, Sealer, type Store } from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { waitFor } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { realGrants, sealingKey, sealingKeysEnv } from "../jobs/grants-support.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { callTool } from "../support/mcp-call.ts";
import { claims, clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
const CURRENT = "current-webhook-secret-0123456789abcdef";
const PREVIOUS = "previous-webhook-secret-0123456789abcdef";
const MAX_BODY = 4096;
const NEVER = "0 0 1 1 *";
const k1 = sealingKey("k1");

let nc: NextcloudStandin;
let gw: TestGateway;
let store: Store;
let alice: string;
let aliceUid: string;
let aliceId: string;
let env: Record<string, string>;
const logged: string[] = [];

const FILE = "Projects/plan.md";

interface Found {
  source: string;
  hits: { id: string | number }[];
}

/** The ids `search` finds for alice, and where it answered from. */
async function search(query: string): Promise<Found> {
  const r = await callTool(gw.gateway.url, alice, "search", { query });
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as unknown as Found;
}

/** Nextcloud's envelope for a node event on alice's file, sent now. */
function nodeEvent(kind: string, path = `/${aliceUid}/files/${FILE}`, time = Math.floor(Date.now() / 1000)) {
  return JSON.stringify({
    event: { class: `OCP\\Files\\Events\\Node\\Node${kind}Event`, node: { id: 42, path } },
    user: { uid: aliceUid, displayName: "Alice" },
    time,
  });
}

async function deliver(
  body: string | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {
    authorization: `Bearer ${CURRENT}`,
    "content-type": "application/json",
  },
  url = gw.gateway.url,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const init: RequestInit & { duplex?: "half" } = { method: "POST", headers, body };
  if (body instanceof ReadableStream) init.duplex = "half";
  const res = await fetch(`${url}/webhooks/nextcloud`, init);
  const text = await res.text();
  return {
    status: res.status,
    json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: res.headers,
  };
}

/** Everything a delivery could change: the index, its sync state, per-user state, deliveries, job runs. */
async function snapshot() {
  const { db } = store;
  return {
    items: await db
      .selectFrom("search_items")
      .select(["user_id", "source", "item_key", "title", "body", "etag", "indexed_at"])
      .orderBy("item_key")
      .execute(),
    sync: await db.selectFrom("search_sync").selectAll().orderBy("scope_key").execute(),
    users: await db.selectFrom("search_index_users").selectAll().execute(),
    deliveries: await db
      .selectFrom("webhook_deliveries")
      .select(["digest", "event_time"])
      .orderBy("digest")
      .execute(),
    runs: await db.selectFrom("job_runs").select(["id", "finished_at"]).orderBy("id").execute(),
  };
}

/** A counter of the gateway's /metrics (0 when absent). */
async function metric(series: string): Promise<number> {
  const text = await (await fetch(`${gw.gateway.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Finished search-index runs so far. */
async function finishedRuns(): Promise<number> {
  const rows = await store.db
    .selectFrom("job_runs")
    .select("id")
    .where("job", "=", "search-index")
    .where("finished_at", "is not", null)
    .execute();
  return rows.length;
}

/** Changes alice's file, then waits until a delivery made `search` find `word` and its run ended. */
async function changeAndFind(
  word: string,
  send: () => Promise<{ status: number; json: Record<string, unknown> }>,
) {
  await writeFile(join(nc.filesRoot(aliceUid), FILE), `We chose the ${word} option.`);
  expect((await search(word)).hits).toEqual([]);
  const runsBefore = await finishedRuns();
  const r = await send();
  expect(r).toMatchObject({ status: 202, json: { status: "scheduled" } });
  await waitFor(`a prompted run to index "${word}"`, async () =>
    (await finishedRuns()) > runsBefore && (await search(word)).hits.length === 1 ? true : undefined,
  );
}

beforeAll(async () => {
  nc = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  env = {
    NEXTCLOUD_URL: nc.url,
    MCP_DEFAULT_APPS: "all",
    SEALING_KEYS: sealingKeysEnv(k1),
    SEARCH_INDEX_ENABLED: "true",
    JOBS_ENABLED: "true",
    SEARCH_INDEX_SCHEDULE: NEVER,
    HOUSEKEEPING_SCHEDULE: NEVER,
    KEEPALIVE_SCHEDULE: NEVER,
    REENCRYPT_SCHEDULE: NEVER,
    WEBHOOK_SECRET: CURRENT,
    WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
    WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY),
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString("utf8"));
      done();
    },
  });
  gw = await startTestGateway({ env, log: createLogger("debug", sink) });
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  const browser = await launchBrowser();
  try {
    const [grant] = await realGrants(browser, store, new GrantStore(store.db, new Sealer([k1])), 1);
    aliceId = grant?.user_id ?? "";
    alice = (
      await signIn(browser, {
        config: await clientConfig("mcp-client"),
        redirectUri: "http://127.0.0.1:38140/callback",
        scope: "openid mcp:tools",
        user: DEMO_USERS.alice,
      })
    ).access_token;
  } finally {
    await browser.close();
  }
  aliceUid = claims(alice).sub ?? "";
  await nc.seed(aliceUid, { [FILE]: "We chose the heron option." });
  // The first pass, as an operator runs it: alice's index becomes ready and learns her Nextcloud uid.
  const config = loadConfig({
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: gw.databaseUrl,
    ...env,
  });
  const first = await runJobNow(config, createLogger("silent"), "search-index");
  expect(first).toMatchObject({ outcome: "ok", counts: { passes: 1 } });
  expect((await search("heron")).source).toBe("index");
}, 300_000);

afterAll(async () => {
  await store.close();
  await gw.stop();
  await nc.stop();
});

describe("POST /webhooks/nextcloud", () => {
  it("a genuine delivery makes the changed file findable at once: the index job runs for its user", async () => {
    await changeAndFind("osprey", () => deliver(nodeEvent("Written")));
    expect((await search("heron")).hits).toEqual([]);
    const [run] = await store.db
      .selectFrom("job_runs")
      .select("counts")
      .where("job", "=", "search-index")
      .orderBy("id", "desc")
      .limit(1)
      .execute();
    expect(run?.counts).toMatchObject({ claimed: 1, passes: 1, indexed: 1 });
  });

  it("a replayed delivery is recognised: nothing scheduled, nothing changed", async () => {
    const body = nodeEvent("Written");
    await changeAndFind("avocet", () => deliver(body));
    const before = await snapshot();
    const asked = await metric("gateway_index_prompt_requests_total");
    for (let i = 0; i < 3; i++) {
      expect(await deliver(body)).toMatchObject({ status: 202, json: { status: "duplicate" } });
    }
    expect(await snapshot()).toEqual(before);
    expect(await metric("gateway_index_prompt_requests_total")).toBe(asked);
    expect(await metric('gateway_webhook_deliveries_total{outcome="duplicate"}')).toBe(3);
  });

  it("forged, stale, oversized, mistyped and malformed deliveries get their status and change nothing", async () => {
    // A real change waits in Nextcloud: any delivery that got through would have work to schedule.
    await writeFile(join(nc.filesRoot(aliceUid), FILE), "We chose the kestrel option.");
    const body = nodeEvent("Written");
    const json = { "content-type": "application/json" };
    const bearer = (secret: string) => ({ ...json, authorization: `Bearer ${secret}` });
    const before = await snapshot();
    const asked = await metric("gateway_index_prompt_requests_total");

    const forged = [
      json,
      bearer(CURRENT.replace(/.$/, "X")), // same length, last character wrong
      bearer("short"),
      bearer(`${CURRENT}${CURRENT}`),
      bearer(""),
      { ...json, authorization: `Basic ${CURRENT}` },
      { ...json, authorization: CURRENT },
      { ...json, "x-webhook-secret": CURRENT },
    ];
    for (const headers of forged) {
      const r = await deliver(body, headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="webhooks"');
      expect(r.json).toMatchObject({ error: "invalid_token" });
    }

    const stale = await deliver(nodeEvent("Written", undefined, Math.floor(Date.now() / 1000) - 2 * 3600));
    expect(stale.status).toBe(400);
    expect(stale.json.error_description).toContain("WEBHOOK_MAX_AGE_SECONDS");
    const ahead = await deliver(nodeEvent("Written", undefined, Math.floor(Date.now() / 1000) + 3600));
    expect(ahead.status).toBe(400);

    const big = JSON.stringify({ ...(JSON.parse(body) as object), pad: "x".repeat(MAX_BODY) });
    expect((await deliver(big)).status).toBe(413);
    // Without a Content-Length (chunked): refused while reading, at the bound.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(1024)));
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    expect((await deliver(chunks)).status).toBe(413);

    for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "application/jsonp"]) {
      const headers: Record<string, string> = { authorization: `Bearer ${CURRENT}` };
      if (type !== undefined) headers["content-type"] = type;
      const r = await deliver(body, headers);
      expect(r.status, type).toBe(415);
      expect(r.json.error_description).toContain("application/json");
    }

    const malformed = await deliver(`${body.slice(0, -1)},`);
    expect(malformed.status).toBe(400);
    expect(malformed.json.error_description).toMatch(/^The body is not JSON/);
    for (const wrong of [
      "[]",
      JSON.stringify({ event: { class: "OCP\\Files\\Events\\Node\\NodeWrittenEvent" } }),
      JSON.stringify({
        event: { class: "OCP\\Files\\Events\\Node\\NodeWrittenEvent" },
        time: Date.now() / 1000,
      }),
      nodeEvent("Written", `/${aliceUid}/files/../../etc/passwd`),
      nodeEvent("Written", "relative/path"),
    ]) {
      const r = await deliver(wrong);
      expect(r.status, wrong).toBe(400);
      expect(r.json.error_description).toMatch(/^Not a webhook_listeners delivery: /);
    }

    // Authenticated but not for the index: answered, ignored.
    for (const ignored of [
      JSON.stringify({
        event: { class: "OCP\\User\\Events\\UserLoggedInEvent" },
        user: null,
        time: Math.floor(Date.now() / 1000),
      }),
      nodeEvent("Written", `/${aliceUid}/files_versions/${FILE}.v1`),
    ]) {
      expect(await deliver(ignored)).toMatchObject({ status: 202, json: { status: "ignored" } });
    }
    // A user the gateway has no index for.
    expect(await deliver(nodeEvent("Written", `/someone-else/files/${FILE}`))).toMatchObject({
      status: 202,
      json: { status: "ignored" },
    });

    const after = await snapshot();
    expect({ ...after, deliveries: after.deliveries.length }).toEqual({
      ...before,
      deliveries: before.deliveries.length + 1,
    });
    expect(await metric("gateway_index_prompt_requests_total")).toBe(asked);
    expect(await metric('gateway_webhook_deliveries_total{outcome="unauthorized"}')).toBe(forged.length);
    expect((await search("kestrel")).hits).toEqual([]);
  });

  it("rotation: the previous secret works while it is configured, and not once it is removed", async () => {
    await changeAndFind("plover", () =>
      deliver(nodeEvent("Written"), {
        authorization: `Bearer ${PREVIOUS}`,
        "content-type": "application/json",
      }),
    );
    // The same gateway configuration without WEBHOOK_SECRET_PREVIOUS.
    const rest = { ...env };
    delete rest.WEBHOOK_SECRET_PREVIOUS;
    const rotated = await startTestGateway({ env: rest });
    try {
      const body = nodeEvent("Created", `/nobody/files/${FILE}`);
      const old = await deliver(
        body,
        { authorization: `Bearer ${PREVIOUS}`, "content-type": "application/json" },
        rotated.gateway.url,
      );
      expect(old.status).toBe(401);
      const current = await deliver(body, undefined, rotated.gateway.url);
      expect(current).toMatchObject({ status: 202, json: { status: "ignored" } });
    } finally {
      await rotated.stop();
    }
  });

  it("a calendar object event schedules a run for the calendar's owner", async () => {
    const asked = await metric("gateway_index_prompt_requests_total");
    const r = await deliver(
      JSON.stringify({
        event: {
          class: "OCP\\Calendar\\Events\\CalendarObjectUpdatedEvent",
          calendarId: 7,
          calendarData: { principaluri: `principals/users/${aliceUid}`, uri: "personal" },
          shares: [],
          objectData: {
            uri: "e1.ics",
            calendardata: "BEGIN:VCALENDAR\nSUMMARY:injected words\nEND:VCALENDAR",
          },
        },
        user: { uid: aliceUid, displayName: "Alice" },
        time: Math.floor(Date.now() / 1000),
      }),
    );
    expect(r).toMatchObject({ status: 202, json: { status: "scheduled" } });
    expect(await metric("gateway_index_prompt_requests_total")).toBe(asked + 1);
    // The payload's calendar data is never indexed.
    const injected = await store.db
      .selectFrom("search_items")
      .select("item_key")
      .where("user_id", "=", aliceId)
      .where("body", "like", "%injected%")
      .execute();
    expect(injected).toEqual([]);
  });

  it("never logs a secret", () => {
    const text = logged.join("");
    expect(text).toContain('"webhook delivery refused"');
    for (const secret of [CURRENT, PREVIOUS, CURRENT.slice(0, 16), PREVIOUS.slice(0, 16)]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/Bearer /i);
  });
});
