// Reliability scenario "keycloak-down": Keycloak unreachable for a while, then back, then a JWKS key
// rotation. Real parts: Keycloak (a realm of this scenario's own, so that cutting it off and rotating
// its keys disturbs no other test; scenario-realm.ts), PostgreSQL, the Nextcloud stand-in, the
// gateway as its own process. Everything the gateway sends to Keycloak passes a TCP proxy
// (tcp-proxy.ts): the realm's frontend URL names the proxy, so its issuer, token endpoint and JWKS
// do. The outage first refuses connections (Keycloak stopped), then swallows them (a partition).
//
// Duration: RELIABILITY_OUTAGE_SECONDS, else 60 s in a full `npm run reliability` run and 15 s in
// the ordinary test run and `--ci` (the behaviour is the same; only the time it is held differs).
import { performance } from "node:perf_hooks";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createScenarioRealm, type ScenarioRealm, type ScenarioUser } from "../../harness/scenario-realm.ts";
import { startTcpProxy, type TcpProxy } from "../../harness/tcp-proxy.ts";
import { freePort, waitFor } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { Figures } from "./figures.ts";
import { realmReplicaEnv, startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { describeAnswer, toolCall, toolOk, toolsList, toolText, type McpAnswer } from "./mcp-client.ts";

const OUTAGE_MS =
  1000 *
  Number(process.env.RELIABILITY_OUTAGE_SECONDS ?? (process.env.RELIABILITY_FULL === "1" ? "60" : "15"));
/** The gateway's OUTBOUND_TIMEOUT_MS here: the bound on every call to the IdP. */
const IDP_TIMEOUT_MS = 2000;
const UNREACHABLE = /identity provider is unreachable/i;

const figures = new Figures("keycloak-down");
let kcProxy: TcpProxy;
let realm: ScenarioRealm;
let standin: NextcloudStandin;
let gw: GatewayProcess;
// Each part, once started, registers how it stops: afterAll stops what did start, in reverse.
const stops: (() => Promise<unknown>)[] = [];
let users: ScenarioUser[];
/** Seen by the gateway before the outage (verified, exchanged). */
let seen: string;
/** Obtained before the outage, first shown to the gateway during it (signed by a key it holds). */
let unseen: string;
/** Likewise, for the exchange while connections are swallowed. */
let unseen2: string;

beforeAll(async () => {
  const kc = inject("keycloak");
  kcProxy = await startTcpProxy(kc.url);
  stops.push(() => kcProxy.stop());
  const gatewayPort = await freePort();
  const gatewayUrl = `http://localhost:${String(gatewayPort)}`;
  realm = await createScenarioRealm({
    keycloak: kc,
    name: "rel-keycloak-down",
    gatewayUrl,
    nextcloudUrl: "http://localhost:9",
    frontendUrl: `http://localhost:${String(kcProxy.port)}`,
  });
  stops.push(() => realm.delete());
  users = await realm.addUsers("kcdown", 3);
  standin = await startNextcloudStandin({ issuer: realm.issuer, audience: "nextcloud" });
  stops.push(() => standin.stop());
  gw = await startGatewayProcess(
    await realmReplicaEnv(
      { realm, publicUrl: gatewayUrl, nextcloudUrl: standin.url, stops },
      { OUTBOUND_TIMEOUT_MS: String(IDP_TIMEOUT_MS) },
    ),
    { port: gatewayPort },
  );
  stops.push(() => gw.stop());
  const [a, b, c] = users;
  if (!a || !b || !c) throw new Error("users missing");
  [seen, unseen, unseen2] = await Promise.all([realm.token(a), realm.token(b), realm.token(c)]);
});

afterAll(async () => {
  figures.flush();
  for (const stop of stops.reverse()) await stop();
});

const readyz = async () => {
  const res = await fetch(`${gw.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: { idp: { status: string } } } };
};

function expectOk(a: McpAnswer) {
  expect(
    toolOk(a) || (a.status === 200 && a.result !== undefined && !("isError" in a.result)),
    describeAnswer(a),
  ).toBe(true);
}

it("works before the outage: tools/list and a Nextcloud call (verified, exchanged)", async () => {
  expectOk(await toolsList(gw.url, seen));
  expectOk(await toolCall(gw.url, seen, "notes_list"));
  expect((await readyz()).body.checks.idp.status).toBe("ok");
});

it(
  `keeps serving seen users while Keycloak refuses connections, fails new exchanges at once, and /readyz says so (${String(OUTAGE_MS / 1000)} s)`,
  { timeout: OUTAGE_MS + 60_000 },
  async () => {
    await kcProxy.cut("refuse");
    const started = performance.now();
    const reported = await waitFor("/readyz to report the IdP unreachable", async () => {
      const r = await readyz();
      return r.body.checks.idp.status === "unreachable" ? r : undefined;
    });
    // Reported, not unready: every replica shares the IdP, and seen tokens keep working.
    expect(reported.status).toBe(200);
    figures.add("readyz.ms", "/readyz reports the IdP unreachable after", performance.now() - started, "ms");

    // A token signed by a key the gateway holds but never shown to it verifies from the cached keys;
    // its exchange for Nextcloud cannot happen: a clear tool error, at once.
    expectOk(await toolsList(gw.url, unseen));
    const exchange = await toolCall(gw.url, unseen, "notes_list");
    expect(exchange.status, describeAnswer(exchange)).toBe(200);
    expect(exchange.result?.isError, describeAnswer(exchange)).toBe(true);
    expect(toolText(exchange)).toMatch(UNREACHABLE);
    figures.add(
      "exchange-refused.ms",
      "New exchange answered while Keycloak refuses connections",
      exchange.ms,
      "ms",
    );

    // The seen user keeps working for the whole outage: verification and its Nextcloud token are cached.
    let calls = 0;
    let failures: string[] = [];
    let slowest = 0;
    while (performance.now() - started < OUTAGE_MS) {
      for (const a of [await toolsList(gw.url, seen), await toolCall(gw.url, seen, "notes_list")]) {
        calls++;
        slowest = Math.max(slowest, a.ms);
        if (!(a.status === 200 && a.result !== undefined && a.result.isError !== true))
          failures.push(describeAnswer(a));
      }
      // Pacing of the client, not synchronisation.
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(failures).toEqual([]);
    figures.add("outage.seconds", "Outage held (connections refused)", OUTAGE_MS / 1000, "s");
    figures.add("outage.calls", "Calls of a signed-in user during the outage (all answered)", calls, "");
    figures.add("outage.slowest", "Slowest of them", slowest, "ms");
    failures = [];
  },
);

it("bounds a new user's calls by OUTBOUND_TIMEOUT_MS when Keycloak swallows connections (partition)", async () => {
  await kcProxy.restore();
  await kcProxy.cut("blackhole");
  // Each exchange the calls need waits at most the IdP's time limit (tools/list's app check, the
  // tool call's app check and the call itself); a failed one is not retried within the call.
  const started = performance.now();
  expectOk(await toolsList(gw.url, unseen2));
  const exchange = await toolCall(gw.url, unseen2, "notes_list");
  const ms = performance.now() - started;
  expect(exchange.result?.isError, describeAnswer(exchange)).toBe(true);
  expect(toolText(exchange)).toMatch(UNREACHABLE);
  // Not a hang: the IdP call's own time limit ended it (with room for a busy machine).
  expect(ms).toBeLessThan(3 * IDP_TIMEOUT_MS + 3000);
  figures.add(
    "blackhole.ms",
    `A new user's tools/list and tool call while Keycloak is silent (limit ${String(IDP_TIMEOUT_MS)} ms)`,
    ms,
    "ms",
  );
  figures.add("blackhole.call.ms", "Of which the tool call", exchange.ms, "ms");
  // The seen user still works.
  expectOk(await toolCall(gw.url, seen, "notes_list"));
});

it("recovers without a restart when Keycloak is back", async () => {
  await kcProxy.restore();
  const started = performance.now();
  await waitFor("/readyz to report the IdP reachable again", async () =>
    (await readyz()).body.checks.idp.status === "ok" ? true : undefined,
  );
  // Exchanges resume once the broker's hold after the last failure (3 s) has passed.
  const exchange = await waitFor(
    "a new exchange to work again",
    async () => {
      const r = await toolCall(gw.url, unseen, "notes_list");
      if (r.result?.isError === true) expect(toolText(r)).toMatch(UNREACHABLE);
      return toolOk(r) ? r : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  expectOk(exchange);
  figures.add(
    "recovery.ms",
    "Back to normal (/readyz ok, a new exchange works) after Keycloak returned",
    performance.now() - started,
    "ms",
  );
});

it("picks up a JWKS key rotation: a token signed by a new key is accepted, tokens of the old key still are", async () => {
  const [a, b] = users;
  if (!a || !b) throw new Error("users missing");
  const before = await realm.rsaKeys();
  const oldToken = await realm.token(b); // old key, never shown to the gateway
  const added = await realm.addActiveRsaKey();
  const rotated = await realm.token(a);
  expect(decodeProtectedHeader(rotated).kid).toBe(added.kid);
  const started = performance.now();
  const answers: number[] = [];
  // jose refetches the JWKS on an unknown kid, except within 30 s of its last fetch: then the
  // gateway answers 503 with Retry-After (not 401, which would send the client to sign in again).
  const accepted = await waitFor(
    "a token signed by the new key to be accepted",
    async () => {
      const r = await toolsList(gw.url, rotated);
      answers.push(r.status);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 1000 },
  );
  expectOk(accepted);
  expect(answers.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  figures.add("rotation.ms", "A token of the new key accepted after", performance.now() - started, "ms");
  figures.add(
    "rotation.refused",
    "Answers 503 (retry) before that",
    answers.filter((s) => s === 503).length,
    "",
  );
  // Its exchange works too, once Nextcloud (the stand-in: jose, the same 30 s refetch cooldown as
  // user_oidc's key cache has a refetch limit) has the new key as well: its refusals are Nextcloud's.
  const ncStarted = performance.now();
  const ncAnswers: string[] = [];
  await waitFor(
    "Nextcloud to accept a token exchanged under the new key",
    async () => {
      const r = await toolCall(gw.url, rotated, "notes_list");
      if (!toolOk(r)) ncAnswers.push(toolText(r));
      return toolOk(r) ? r : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 1000 },
  );
  // The gateway's side of it worked at once: any refusal came from Nextcloud, none from the exchange.
  expect(ncAnswers.filter((t) => !/Nextcloud did not accept your sign-in/.test(t))).toEqual([]);
  figures.add(
    "rotation.nextcloud.ms",
    "Nextcloud (stand-in) accepted the new key after",
    performance.now() - ncStarted,
    "ms",
  );
  // The old key is still published: its tokens, seen or not, verify.
  expectOk(await toolsList(gw.url, oldToken));
  expectOk(await toolsList(gw.url, seen));
  figures.note(
    `Keys before the rotation: ${String(before.length)}; the old key stays until removed. After its removal the gateway drops it at its next JWKS fetch (at most 10 min, jose's cacheMaxAge); a token it has verified stays accepted until its exp (5 min in the realm).`,
  );
});
