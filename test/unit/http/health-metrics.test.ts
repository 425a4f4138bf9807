// What anyone on the network learns from /readyz and /metrics: readiness without internal detail
// (hosts, error numbers stay in the log), and metrics only with METRICS_TOKEN or on their own listener.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { allTools, createApp, createMetricsApp, type AppDeps } from "../../../src/app.ts";
import { createTokenVerifier } from "../../../src/auth/index.ts";
import { ConfigError, loadConfig, type Config } from "../../../src/config/index.ts";
import type { ReadinessProbes } from "../../../src/http/health.ts";
import { createLogger } from "../../../src/log.ts";
import { ToolRegistry } from "../../../src/mcp/index.ts";
import { createIdp, ISSUER, RESOURCE } from "../auth/fixtures.ts";

const BASE_ENV = {
  GATEWAY_PUBLIC_URL: "https://mcp.example.com",
  OIDC_ISSUER: ISSUER,
  OIDC_CLIENT_SECRET: "x",
  DATABASE_URL: "postgres://u:p@localhost/db",
};
const METRICS_TOKEN = "m3tr1cs-".padEnd(40, "x");
const idp = await createIdp();

function logSink(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  return { lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>), stream };
}

function makeApp(config: Config, readiness: ReadinessProbes, stream?: Writable) {
  const deps: AppDeps = {
    config,
    log: createLogger(stream ? "info" : "silent", stream),
    readiness,
    verifier: createTokenVerifier({ issuer: ISSUER, audience: RESOURCE, getKey: idp.getKey }),
    registry: new ToolRegistry(allTools),
  };
  return { app: createApp(deps), metricsApp: createMetricsApp(deps) };
}

const ready: ReadinessProbes = {
  shuttingDown: () => false,
  idp: () => ({ discovery: "loaded", jwks: "loaded" }),
  database: () => Promise.resolve({ ok: true }),
};

describe("/readyz to anyone", () => {
  it("says ready, and which checks passed", async () => {
    const { app } = makeApp(loadConfig(BASE_ENV), ready);
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ready",
      checks: { database: { status: "ok" }, idp: { status: "ok" } },
    });
  });

  it("names the failed checks without their detail, and logs the detail", async () => {
    const sink = logSink();
    const internal = "connect ECONNREFUSED 10.1.2.3:5432 (db.internal.example)";
    const { app } = makeApp(
      loadConfig(BASE_ENV),
      {
        shuttingDown: () => false,
        idp: () => ({ discovery: "failed", jwks: "pending", error: "getaddrinfo ENOTFOUND sso.internal" }),
        database: () => Promise.resolve({ ok: false, error: internal }),
      },
      sink.stream,
    );
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      status: "not_ready",
      checks: { database: { status: "failed" }, idp: { status: "failed" } },
    });
    for (const leak of ["ECONNREFUSED", "10.1.2.3", "internal", "ENOTFOUND", "pending"]) {
      expect(text).not.toContain(leak);
    }
    const logged = sink.lines().find((l) => l.msg === "not ready");
    expect(logged).toMatchObject({
      level: "warn",
      database: internal,
      idp: { discovery: "failed", jwks: "pending", error: "getaddrinfo ENOTFOUND sso.internal" },
    });
  });

  it("is not ready while the IdP refuses the gateway's client, and says why in the log only", async () => {
    const sink = logSink();
    const refused =
      'the IdP refused the client credentials (unauthorized_client "Invalid client or Invalid client credentials"); check OIDC_CLIENT_ID (mcp-gateway) and OIDC_CLIENT_SECRET';
    const { app } = makeApp(
      loadConfig(BASE_ENV),
      { ...ready, idpClient: () => Promise.resolve({ ok: false, message: refused }) },
      sink.stream,
    );
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      status: "not_ready",
      checks: { database: { status: "ok" }, idp: { status: "failed" } },
    });
    expect(text).not.toContain("unauthorized_client");
    const lines = sink.lines();
    expect(lines.find((l) => l.msg === "not ready")).toMatchObject({
      level: "warn",
      idp: { client: refused },
    });
    // A not-ready answer is not a failed request: alerts on "request failed" must not fire for it.
    expect(lines.filter((l) => l.msg === "request failed")).toEqual([]);
  });

  it("stays ready when the IdP is only unreachable for the client check (transient)", async () => {
    const { app } = makeApp(loadConfig(BASE_ENV), {
      ...ready,
      idpClient: () => Promise.resolve({ ok: false, transient: true, message: "token endpoint unreachable" }),
    });
    expect((await app.request("/readyz")).status).toBe(200);
  });

  it("reports an IdP that stopped answering, without a host or error, and stays ready", async () => {
    const sink = logSink();
    const { app } = makeApp(
      loadConfig(BASE_ENV),
      {
        ...ready,
        idpReachability: () => ({
          reachable: false,
          error: "http://sso.internal:8080/realms/r/.well-known/openid-configuration: fetch failed",
        }),
      },
      sink.stream,
    );
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      status: "ready",
      checks: { database: { status: "ok" }, idp: { status: "unreachable" } },
    });
    expect(text).not.toContain("sso.internal");
    // The operator's log names it.
    expect(sink.lines().some((l) => l.msg === "identity provider unreachable")).toBe(true);
  });

  it("says shutting down while draining", async () => {
    const { app } = makeApp(loadConfig(BASE_ENV), { ...ready, shuttingDown: () => true });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: "not_ready",
      reason: "shutting down",
      checks: { database: { status: "ok" }, idp: { status: "ok" } },
    });
  });
});

describe("/metrics", () => {
  it("is open on the public port when neither METRICS_TOKEN nor METRICS_PORT is set", async () => {
    const { app } = makeApp(loadConfig(BASE_ENV), ready);
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^gateway_token_verify_cache_hits_total 0$/m);
  });

  it("answers only the METRICS_TOKEN bearer when it is set", async () => {
    const { app } = makeApp(loadConfig({ ...BASE_ENV, METRICS_TOKEN }), ready);
    for (const authorization of [
      undefined,
      "",
      "Bearer",
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.toUpperCase()}`,
      `Basic ${Buffer.from(`prometheus:${METRICS_TOKEN}`).toString("base64")}`,
      `Bearer ${METRICS_TOKEN} ${METRICS_TOKEN}`,
    ]) {
      const res = await app.request("/metrics", {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      const text = await res.text();
      expect(text).not.toContain("gateway_token");
      expect(text).not.toContain(METRICS_TOKEN);
    }
    for (const authorization of [`Bearer ${METRICS_TOKEN}`, `bearer  ${METRICS_TOKEN}`]) {
      const res = await app.request("/metrics", { headers: { authorization } });
      expect(res.status, authorization).toBe(200);
      expect(await res.text()).toMatch(/^# TYPE gateway_token_verify_cache_misses_total counter$/m);
    }
  });

  it("moves to its own listener with METRICS_PORT: 404 on the public app, served there alone", async () => {
    const config = loadConfig({ ...BASE_ENV, METRICS_PORT: "9464", METRICS_HOST: "0.0.0.0" });
    expect(config.metrics).toEqual({ token: undefined, listen: { host: "0.0.0.0", port: 9464 } });
    const { app, metricsApp } = makeApp(config, ready);
    expect((await app.request("/metrics")).status).toBe(404);
    expect((await metricsApp.request("/metrics")).status).toBe(200);
    for (const path of ["/mcp", "/readyz", "/healthz", "/account", "/.well-known/oauth-protected-resource"]) {
      expect((await metricsApp.request(path)).status, path).toBe(404);
    }
  });

  it("takes both: its own listener and the token", async () => {
    const config = loadConfig({ ...BASE_ENV, METRICS_PORT: "9464", METRICS_TOKEN });
    const { metricsApp } = makeApp(config, ready);
    expect((await metricsApp.request("/metrics")).status).toBe(401);
    const res = await metricsApp.request("/metrics", {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(res.status).toBe(200);
  });
});

describe("metrics configuration", () => {
  function problems(env: Record<string, string>): readonly string[] {
    try {
      loadConfig({ ...BASE_ENV, ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  }

  it("refuses a short token, one a bearer header cannot carry, and a metrics port equal to PORT", () => {
    expect(problems({ METRICS_TOKEN: "short" })).toEqual([
      "METRICS_TOKEN: too short; give at least 32 random characters, e.g. from `openssl rand -hex 32`",
    ]);
    expect(problems({ METRICS_TOKEN: `${"a".repeat(32)} b` })).toEqual([
      "METRICS_TOKEN: has characters a bearer token cannot carry; use letters, digits and - . _ ~ + / only",
    ]);
    expect(problems({ METRICS_PORT: "8080" })).toEqual([
      "METRICS_PORT: the same as PORT (8080); give the metrics listener a port of its own, e.g. 9464",
    ]);
    expect(problems({ METRICS_PORT: "0" })).toEqual([
      "METRICS_PORT: too small; give a whole number from 1 to 65535",
    ]);
  });

  it("never shows the token in an error", () => {
    const token = `${"s".repeat(40)} secret`;
    expect(problems({ METRICS_TOKEN: token }).join("\n")).not.toContain("secret");
  });
});

describe("/metrics: the database pool", () => {
  it("shows the pool's waits and how full it is, in seconds and counts", async () => {
    const deps: AppDeps = {
      config: loadConfig(BASE_ENV),
      log: createLogger("silent"),
      readiness: ready,
      verifier: createTokenVerifier({ issuer: ISSUER, audience: RESOURCE, getKey: idp.getKey }),
      registry: new ToolRegistry(allTools),
      pool: () => ({
        size: 10,
        inUse: 3,
        waiting: 1,
        acquisitions: 1234,
        waits: 7,
        waitMsTotal: 2500,
        waitMsMax: 900,
      }),
    };
    const text = await (await createApp(deps).request("/metrics")).text();
    for (const line of [
      "gateway_db_pool_acquisitions_total 1234",
      "gateway_db_pool_waits_total 7",
      "gateway_db_pool_wait_seconds_total 2.5",
      "gateway_db_pool_wait_seconds_max 0.9",
      "gateway_db_pool_connections_in_use 3",
      "gateway_db_pool_waiting 1",
      "gateway_db_pool_size 10",
    ]) {
      expect(text.split("\n")).toContain(line);
    }
    expect(text).toContain("# TYPE gateway_db_pool_waits_total counter");
    expect(text).toContain("# TYPE gateway_db_pool_connections_in_use gauge");
  });

  it("shows no pool on the embedded database", async () => {
    const { app } = makeApp(loadConfig(BASE_ENV), ready);
    expect(await (await app.request("/metrics")).text()).not.toContain("gateway_db_pool");
  });
});
