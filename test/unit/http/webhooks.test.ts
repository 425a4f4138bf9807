// POST /webhooks/nextcloud in the app, before anything reaches the store: off (404) unless
// WEBHOOK_SECRET is set; the rate limit comes first (429 with Retry-After), then the secret (401),
// the content type (415), the size (413), JSON (400), the envelope and its time (400); events the
// index does not follow are answered 202 and ignored. The store stub throws on any use, so each of
// these answers provably wrote nothing.
import { Writable } from "node:stream";
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import { allTools, createApp, type AppDeps } from "../../../src/app.ts";
import { createTokenVerifier } from "../../../src/auth/index.ts";
import { loadConfig } from "../../../src/config/index.ts";
import { webhookCounts } from "../../../src/http/webhooks.ts";
import { createLogger } from "../../../src/log.ts";
import { ToolRegistry } from "../../../src/mcp/index.ts";
import type { Database } from "../../../src/store/index.ts";

const SECRET = "s".repeat(40);
const PREVIOUS = "p".repeat(40);
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- a stub that throws on any use
const untouchable = new Proxy(
  {},
  {
    get() {
      throw new Error("the store was used");
    },
  },
) as Kysely<Database>;

function app(env: Record<string, string>, lines: string[] = []) {
  const config = loadConfig({
    GATEWAY_PUBLIC_URL: "https://mcp.example.com",
    OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
    OIDC_CLIENT_SECRET: "x",
    DATABASE_URL: "postgres://u:p@localhost/db",
    SEALING_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
    NEXTCLOUD_URL: "https://cloud.example.com",
    SEARCH_INDEX_ENABLED: "true",
    WEBHOOK_MAX_BODY_BYTES: "2048",
    ...env,
  });
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const deps: AppDeps = {
    config,
    log: createLogger("debug", sink),
    readiness: {
      shuttingDown: () => false,
      idp: () => ({ discovery: "loaded", jwks: "loaded" }),
      database: () => Promise.resolve({ ok: true }),
    },
    verifier: createTokenVerifier({
      issuer: config.oidc.issuer,
      audience: config.resourceUrl,
      getKey: () => Promise.reject(new Error("unused")),
    }),
    registry: new ToolRegistry(allTools),
    webhooks: { db: untouchable, counts: webhookCounts() },
  };
  return createApp(deps);
}

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    event: {
      class: "OCP\\Files\\Events\\Node\\NodeWrittenEvent",
      node: { id: 1, path: "/alice/files/a.md" },
    },
    user: { uid: "alice" },
    time: Math.floor(Date.now() / 1000),
    ...extra,
  });
const post = (
  a: ReturnType<typeof app>,
  payload: string | Uint8Array,
  headers: Record<string, string> = { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
) => a.request("/webhooks/nextcloud", { method: "POST", headers, body: payload });

describe("POST /webhooks/nextcloud", () => {
  it("does not exist unless WEBHOOK_SECRET is set", async () => {
    const r = await post(app({}), body());
    expect(r.status).toBe(404);
  });

  it("refuses a missing or wrong secret with 401 and a Bearer challenge, and accepts the previous one", async () => {
    const a = app({ WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_PREVIOUS: PREVIOUS });
    for (const authorization of [undefined, `Bearer ${"s".repeat(39)}t`, "Bearer short", `Basic ${SECRET}`]) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (authorization !== undefined) headers.authorization = authorization;
      const r = await post(a, body(), headers);
      expect(r.status, authorization).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="webhooks"');
      expect(await r.json()).toMatchObject({ error: "invalid_token" });
    }
    // Past the secret: an event the index does not follow is answered without the store.
    const other = JSON.stringify({
      event: { class: "OCP\\User\\Events\\UserLoggedInEvent" },
      time: Math.floor(Date.now() / 1000),
    });
    for (const secret of [SECRET, PREVIOUS]) {
      const r = await post(a, other, {
        authorization: `Bearer ${secret}`,
        "content-type": "application/json",
      });
      expect(r.status).toBe(202);
      expect(await r.json()).toMatchObject({ status: "ignored" });
    }
  });

  it("checks the content type (415), the size (413), JSON and the envelope (400) before the store", async () => {
    const lines: string[] = [];
    const a = app({ WEBHOOK_SECRET: SECRET }, lines);
    const auth = { authorization: `Bearer ${SECRET}` };
    const json = { ...auth, "content-type": "application/json" };
    expect((await post(a, body(), auth)).status).toBe(415);
    expect((await post(a, body(), { ...auth, "content-type": "text/plain" })).status).toBe(415);
    expect((await post(a, body(), { ...auth, "content-type": "application/json-patch+json" })).status).toBe(
      415,
    );

    const big = await post(a, body({ pad: "x".repeat(2048) }), json);
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      error_description: expect.stringContaining("WEBHOOK_MAX_BODY_BYTES") as unknown,
    });
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(" ".repeat(1000)));
        c.close();
      },
    });
    expect(
      (
        await a.request("/webhooks/nextcloud", {
          method: "POST",
          headers: json,
          body: stream,
          duplex: "half",
        })
      ).status,
    ).toBe(413);

    const notJson = await post(a, "{event:", json);
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({
      error: "invalid_request",
      error_description: expect.stringMatching(/^The body is not JSON \(/) as unknown,
    });
    const latin1 = await post(a, new Uint8Array([0x7b, 0xe9, 0x7d]), json);
    expect(latin1.status).toBe(400);
    expect((await post(a, JSON.stringify({ event: { class: "X" } }), json)).status).toBe(400);
    const old = await post(a, body({ time: Math.floor(Date.now() / 1000) - 7200 }), json);
    expect(old.status).toBe(400);
    expect(await old.json()).toMatchObject({
      error_description: expect.stringContaining("WEBHOOK_MAX_AGE_SECONDS") as unknown,
    });

    // A delivery that passes every check is the first to reach the store (here: a stub that throws).
    const passed = await post(a, body(), { ...auth, "content-type": "Application/JSON; charset=utf-8" });
    expect(passed.status).toBe(500);
    expect(lines.join("")).not.toContain(SECRET);
  });

  it("limits deliveries per address before the secret is checked: 429 with Retry-After", async () => {
    const a = app({ WEBHOOK_SECRET: SECRET, WEBHOOK_RATE_LIMIT_PER_MINUTE: "2" });
    const other = JSON.stringify({ event: { class: "X" }, time: Math.floor(Date.now() / 1000) });
    const json = { authorization: `Bearer ${SECRET}`, "content-type": "application/json" };
    expect((await post(a, other, json)).status).toBe(202);
    expect((await post(a, other, { "content-type": "application/json" })).status).toBe(401);
    const limited = await post(a, other, json);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: "too_many_requests" });
    // Off with RATE_LIMITS_ENABLED=false.
    const open = app({
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RATE_LIMIT_PER_MINUTE: "1",
      RATE_LIMITS_ENABLED: "false",
    });
    for (let i = 0; i < 3; i++) expect((await post(open, other, json)).status).toBe(202);
  });
});
