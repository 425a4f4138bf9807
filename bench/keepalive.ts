// grants-keepalive throughput: one run of the real job (src/jobs/keepalive.ts, in this process) over
// 1,000 real offline grants of the gateway client, against the bench's own Keycloak (the test
// harness's distribution with the project's realm) and its own PostgreSQL (the harness's throwaway
// cluster). Each grant is refreshed through GrantStore.refresh: row lock, refresh_token grant at
// Keycloak as mcp-gateway, the rotated token sealed and stored, audit event, lease released.
//
// Obtaining 1,000 offline tokens through the login page would take far too long, so this bench
// turns on direct access grants (the password grant) for mcp-gateway in ITS OWN Keycloak through
// the admin API (and its brute-force detection off, which refuses concurrent logins of one user),
// and signs alice and bob in with scope "openid offline_access nextcloud-audience" many times: each
// password grant starts a new offline session. The shipped realm keeps both as they are.
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import * as oidc from "openid-client";
import type { TestKeycloak } from "../test/harness/keycloak.ts";
import type { TestPostgres } from "../test/harness/postgres.ts";
import { cpuSample, othersCores } from "./cpu.ts";
import { metric, type Metric, type SectionResult } from "./report.ts";
import { withResources, type Resources } from "./resources.ts";
import { summarize } from "./stats.ts";

export interface KeepaliveBenchSettings {
  /** Offline grants to create and refresh. */
  readonly grants: number;
  /** KEEPALIVE_CONCURRENCY of each measured run, one run per value (the grants are made due again between runs). */
  readonly concurrency: readonly number[];
}

/** 1,000 grants at the gateway's default KEEPALIVE_CONCURRENCY. */
export const KEEPALIVE_DEFAULTS: KeepaliveBenchSettings = { grants: 1000, concurrency: [4] };
export const MAX_GRANTS = 20_000;
export const MAX_KEEPALIVE_CONCURRENCY = 64;

const SCOPE = "openid offline_access nextcloud-audience";
const THIRTY_DAYS = 2_592_000;
/** Password grants in flight while the offline tokens are obtained. */
const SETUP_PARALLEL = 8;
/** Grants refreshed once more after the runs, to show that the stored (rotated) tokens are alive. */
const SPOT_CHECKS = 20;

function progress(message: string): void {
  process.stderr.write(`bench:   ${message}\n`);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return `${err.message}${cause}`;
}

/** Runs `fn` over 0…count-1 with at most `parallel` in flight; stops at the first error. */
async function inPool(count: number, parallel: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

export function runKeepalive(settings: KeepaliveBenchSettings = KEEPALIVE_DEFAULTS): Promise<SectionResult> {
  return withResources("Keycloak and PostgreSQL", (resources) => measureKeepalive(settings, resources));
}

async function measureKeepalive(
  settings: KeepaliveBenchSettings,
  resources: Resources,
): Promise<SectionResult> {
  // Loaded here, not at the top: the other benches should not pay for the harness and the store.
  const { adminToken, REALM, startKeycloak, testRealmEnv } = await import("../test/harness/keycloak.ts");
  const { createTestDatabase, startPostgres } = await import("../test/harness/postgres.ts");
  const { DEMO_USERS } = await import("../test/integration/support/oauth.ts");
  const { IdpClient, refreshAtIdp } = await import("../src/idp/index.ts");
  const { keepaliveJob, runJob } = await import("../src/jobs/index.ts");
  const { createLogger } = await import("../src/log.ts");
  const { GrantStore, migrate, openStore, Sealer, upsertUser } = await import("../src/store/index.ts");

  progress("starting Keycloak and PostgreSQL (the harness's; 30–60 s, more on a busy machine)…");
  const started = performance.now();
  // Nothing listens at these URLs: no browser flow here.
  const realmEnv = testRealmEnv("http://127.0.0.1:9", "http://127.0.0.1:9");
  const [kcResult, pgResult] = await Promise.allSettled([
    startKeycloak(realmEnv).then((kc: TestKeycloak) => {
      resources.add("Keycloak", () => kc.stop());
      return kc;
    }),
    startPostgres().then((pg: TestPostgres) => {
      resources.add("PostgreSQL", () => pg.stop());
      return pg;
    }),
  ]);
  if (kcResult.status === "rejected") throw kcResult.reason as Error;
  if (pgResult.status === "rejected") throw pgResult.reason as Error;
  const kc = kcResult.value;
  const pg = pgResult.value;
  const startSeconds = (performance.now() - started) / 1000;
  resources.check();

  // The bench's own Keycloak only: let mcp-gateway use the password grant.
  const admin = async (path: string, method = "GET", body?: unknown): Promise<unknown> => {
    const res = await fetch(`${kc.url}/admin/realms/${REALM}${path}`, {
      method,
      headers: { authorization: `Bearer ${await adminToken(kc)}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`Keycloak admin ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : await res.json();
  };
  const [client] = (await admin("/clients?clientId=mcp-gateway")) as ({ id: string } & Record<
    string,
    unknown
  >)[];
  if (!client) throw new Error("the realm has no mcp-gateway client");
  await admin(`/clients/${client.id}`, "PUT", { ...client, directAccessGrantsEnabled: true });
  // Keycloak's brute-force detection refuses concurrent logins of one user ("Invalid user credentials").
  await admin("", "PUT", { bruteForceProtected: false });

  const configuration = await oidc.discovery(
    new URL(kc.issuer),
    "mcp-gateway",
    undefined,
    oidc.ClientSecretPost(kc.realmEnv.MCP_GATEWAY_CLIENT_SECRET),
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the bench's Keycloak is plain http on loopback
    { execute: [oidc.allowInsecureRequests] },
  );
  const people = [DEMO_USERS.alice, DEMO_USERS.bob];
  progress(`obtaining ${settings.grants} offline tokens (password grants, ${SETUP_PARALLEL} at a time)…`);
  const tokens: { rt: string; sub: string; username: string }[] = new Array<{
    rt: string;
    sub: string;
    username: string;
  }>(settings.grants);
  const setupStarted = performance.now();
  await inPool(settings.grants, SETUP_PARALLEL, async (i) => {
    resources.check();
    const user = people[i % people.length] ?? DEMO_USERS.alice;
    const r = await oidc
      .genericGrantRequest(configuration, "password", {
        username: user.username,
        password: user.password,
        scope: SCOPE,
      })
      .catch((err: unknown) => {
        const said =
          err instanceof oidc.ResponseBodyError
            ? `${err.error}: ${err.error_description ?? ""}`
            : describe(err);
        throw new Error(`the password grant for ${user.username} failed: ${said}`, { cause: err });
      });
    const sub = decodeJwt(r.access_token).sub;
    if (r.refresh_token === undefined || sub === undefined)
      throw new Error("a password grant gave no refresh token");
    if (decodeJwt(r.refresh_token).typ !== "Offline")
      throw new Error("Keycloak issued a refresh token that is not an offline token");
    tokens[i] = { rt: r.refresh_token, sub, username: user.username };
  });
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  const sessions = (await admin(`/clients/${client.id}/offline-session-count`)) as { count: number };

  progress("storing the grants in PostgreSQL…");
  const database = await createTestDatabase(pg.adminUrl, "bench");
  resources.add("the bench database", () => database.drop());
  const maxConcurrency = Math.max(...settings.concurrency);
  const store = await openStore({ backend: "postgres", url: database.url, poolMax: maxConcurrency + 2 });
  resources.add("the store", () => store.close());
  await migrate(store);
  const sealer = new Sealer([{ kid: "bench", key: new Uint8Array(randomBytes(32)) }]);
  const grants = new GrantStore(store.db, sealer);
  const grantIds: string[] = new Array<string>(settings.grants);
  await inPool(settings.grants, 8, async (i) => {
    const t = tokens[i];
    if (!t) throw new Error(`no token ${i}`);
    // The store keeps one active grant per user: one user row per grant (Keycloak never sees it).
    const subject = `${t.sub}#${i}`;
    const user = await upsertUser(store.db, { issuer: kc.issuer, subject, username: t.username });
    grantIds[i] = (await grants.saveGrant(user.id, subject, t.rt, SCOPE)).id;
  });
  tokens.length = 0;

  const idp = await new IdpClient(
    {
      issuer: kc.issuer,
      clientId: "mcp-gateway",
      clientSecret: kc.realmEnv.MCP_GATEWAY_CLIENT_SECRET,
      allowInsecureHttp: true,
      timeoutMs: 10_000,
    },
    createLogger("silent"),
  ).load();
  const log = createLogger("silent");
  const metrics: Metric[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  const runs: string[] = [];

  for (const concurrency of settings.concurrency) {
    resources.check();
    // Every grant idle for 20 of the realm's 30 offline-idle days: all due at the default share of 0.5.
    await store.db
      .updateTable("offline_grants")
      .set({
        last_refreshed_at: new Date(Date.now() - 20 * 86_400_000),
        lease_owner: null,
        lease_until: null,
      })
      .execute();
    const auditMark = await store.db
      .selectFrom("audit_events")
      .select((eb) => eb.fn.max("id").as("id"))
      .executeTakeFirst();
    progress(`grants-keepalive over ${settings.grants} grants at concurrency ${concurrency}…`);
    const samples: number[] = [];
    const cpuStart = cpuSample();
    const runStarted = performance.now();
    const result = await runJob(
      keepaliveJob({
        sealer,
        idp: () => Promise.resolve(idp),
        offlineIdleTimeoutSeconds: THIRTY_DAYS,
        idleShare: 0.5,
        concurrency,
        onGrant: (e) => {
          if (e.outcome === "refreshed") samples.push(e.ms);
        },
      }),
      { store, log, now: () => new Date(), replica: "bench" },
    );
    const seconds = (performance.now() - runStarted) / 1000;
    const cpuEnd = cpuSample();
    const ownCpuMs = cpuEnd.ownMs - cpuStart.ownMs;
    const others = othersCores(cpuStart, cpuEnd);
    const refreshed = result.counts.refreshed ?? 0;
    if (result.outcome !== "ok" || refreshed !== settings.grants) {
      failures.push(
        `concurrency ${concurrency}: the run was ${result.outcome} with ${JSON.stringify(result.counts)}${result.error ? `: ${result.error}` : ""}`,
      );
    }
    const perGrant = await store.db
      .selectFrom("audit_events")
      .select((eb) => [eb.ref("detail", "->>").key("grantId").as("grant"), eb.fn.countAll<string>().as("n")])
      .where("action", "=", "refresh")
      .where("id", ">", auditMark?.id ?? "0")
      .groupBy("grant")
      .execute();
    const twice = perGrant.filter((r) => Number(r.n) !== 1).length;
    if (perGrant.length !== settings.grants || twice > 0) {
      failures.push(
        `concurrency ${concurrency}: ${perGrant.length} grants have refresh events, ${twice} of them more than one`,
      );
    }
    const s = summarize(samples);
    const id = `keepalive.c${concurrency}`;
    metrics.push(
      metric(
        `${id}.throughput`,
        `grants-keepalive throughput (concurrency ${concurrency})`,
        refreshed / seconds,
        "grants/s",
      ),
      metric(`${id}.run`, `grants-keepalive run over ${settings.grants} grants`, seconds, "s"),
      metric(`${id}.refresh.p50`, "Refresh per grant p50 (row lock, Keycloak, re-seal, audit)", s.p50, "ms"),
      metric(`${id}.refresh.p99`, "Refresh per grant p99", s.p99, "ms"),
      metric(`${id}.refreshed`, "Grants refreshed", refreshed, ""),
      metric(`${id}.not_refreshed`, "Grants revoked or failed", settings.grants - refreshed, "", {
        op: "<=",
        value: 0,
      }),
      metric(
        `${id}.job_cpu_per_grant`,
        "Job CPU per grant (this process)",
        (ownCpuMs / Math.max(1, refreshed)) * 1000,
        "µs",
      ),
      metric(
        `${id}.others_cores`,
        "Keycloak, PostgreSQL and other processes' CPU meanwhile",
        others,
        "cores",
      ),
    );
    runs.push(
      `concurrency ${concurrency}: ${refreshed} refreshed in ${seconds.toFixed(1)} s; counts ${JSON.stringify(result.counts)}`,
    );
  }

  progress(`refreshing ${SPOT_CHECKS} grants once more (are the stored rotated tokens alive?)…`);
  let alive = 0;
  for (const grantId of grantIds.slice(0, SPOT_CHECKS)) {
    try {
      await grants.refresh(grantId, (rt) => refreshAtIdp(idp, rt));
      alive++;
    } catch (err) {
      failures.push(`grant ${grantId} no longer refreshes after the runs: ${describe(err)}`);
    }
  }
  metrics.push(
    metric("keepalive.offline_sessions", "Offline sessions of mcp-gateway at Keycloak", sessions.count, "", {
      op: ">=",
      value: settings.grants,
    }),
    metric(
      "keepalive.setup.password_grants",
      "Offline tokens obtained (password grant)",
      settings.grants / setupSeconds,
      "grants/s",
    ),
  );
  notes.push(
    `Setup: Keycloak ${kc.source} and PostgreSQL (${pg.source}) started in ${startSeconds.toFixed(0)} s. ${settings.grants} offline refresh tokens of mcp-gateway from password grants for alice and bob (scope "${SCOPE}", ${SETUP_PARALLEL} at a time, ${setupSeconds.toFixed(0)} s): direct access grants were turned on for mcp-gateway, and brute-force detection (which refuses concurrent logins of one user) off, in this bench's own Keycloak through the admin API; the shipped realm keeps both as they are. Keycloak then held ${sessions.count} offline sessions of mcp-gateway (it does not cap offline sessions per user).`,
    `Grants: sealed (AES-256-GCM) and stored by GrantStore.saveGrant, one user row per grant (the store keeps one active grant per user; the subjects are made distinct, Keycloak never sees them). Before each run every grant is set to 20 days idle, so all are due (30-day offline idle timeout, share 0.5).`,
    `Run: runJob(keepaliveJob) in this process, as \`jobs run grants-keepalive\` runs it, with a pool of ${maxConcurrency + 2} connections; batches of 2 × concurrency claimed with FOR UPDATE SKIP LOCKED leases. Per-grant latency is GrantStore.refresh: row lock, refresh_token grant at Keycloak (which rotates the token), re-seal, update, audit event; the lease release comes on top. Every grant had exactly one refresh audit event per run; ${alive} of ${SPOT_CHECKS} grants refreshed once more afterwards (the stored rotated tokens are alive).`,
    ...runs,
    "Keycloak (one node, dev-mem H2 database, the harness's JVM settings: 640 MB heap, C1 JIT only for a fast start) and PostgreSQL share this machine with the job, so the throughput is the setup's, not the gateway's alone: when they keep the cores busy, Keycloak is the limit; the job's own CPU per grant is given separately.",
  );
  return { metrics, notes, failures };
}
