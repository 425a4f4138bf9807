// The key set that survives an IdP outage (src/idp/keys.ts), against a small JWKS server on
// 127.0.0.1 that can be made to fail. jose's copy is made to age at once (cacheMaxAge 0), the case
// where jose alone would refuse every token while the IdP is down. The reliability scenario with
// the real Keycloak: test/integration/reliability/keycloak-down.test.ts.
import { createServer, type Server } from "node:http";
import { errors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { KeysCoolingDown, outageTolerantKeys, remoteKeys } from "../../../src/idp/keys.ts";

let server: Server;
let url: URL;
let up = true;
let requests = 0;
let signing: CryptoKey;
let other: CryptoKey;
let jwks: { keys: Record<string, unknown>[] };

beforeAll(async () => {
  const k1 = await generateKeyPair("RS256");
  const k2 = await generateKeyPair("RS256");
  signing = k1.privateKey;
  other = k2.privateKey;
  jwks = { keys: [{ ...(await exportJWK(k1.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  server = createServer((_req, res) => {
    requests++;
    if (!up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  url = new URL(`http://127.0.0.1:${String(address.port)}/certs`);
});

afterAll(() => {
  server.close();
});

beforeEach(() => {
  up = true;
  requests = 0;
});

const token = (key: CryptoKey = signing, kid = "k1") =>
  new SignJWT({ sub: "alice" }).setProtectedHeader({ alg: "RS256", kid }).setExpirationTime("5m").sign(key);

function setUp(options: { maxStaleMs?: number } = {}) {
  let clock = 1_000_000;
  const events: string[] = [];
  const fetched = remoteKeys(url, { timeoutMs: 2000, cacheMaxAgeMs: 0, cooldownMs: 0 });
  const keys = outageTolerantKeys(fetched, {
    now: () => clock,
    retryAfterMs: 10_000,
    ...options,
    onOutage: () => events.push("outage"),
    onRecovery: () => events.push("recovery"),
  });
  return {
    keys,
    events,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

it("keeps verifying with the keys last fetched while the IdP fails, without asking it on every request", async () => {
  const { keys, events } = setUp();
  await expect(jwtVerify(await token(), keys)).resolves.toBeTruthy();
  expect(requests).toBe(1);
  up = false;
  await expect(jwtVerify(await token(), keys)).resolves.toBeTruthy();
  await expect(jwtVerify(await token(), keys)).resolves.toBeTruthy();
  // One failed fetch, then the last keys for retryAfterMs.
  expect(requests).toBe(2);
  expect(events).toEqual(["outage"]);
});

it("refuses a key it never saw during the outage with the fetch's error, not as an invalid token", async () => {
  const { keys } = setUp();
  await jwtVerify(await token(), keys);
  up = false;
  const err = await jwtVerify(await token(other, "k2"), keys).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(errors.JWKSNoMatchingKey);
  expect(String(err)).toMatch(/200 OK/);
});

it("stops using keys older than maxStaleMs", async () => {
  const { keys, advance } = setUp({ maxStaleMs: 60_000 });
  await jwtVerify(await token(), keys);
  up = false;
  await expect(jwtVerify(await token(), keys)).resolves.toBeTruthy();
  advance(61_000);
  await expect(jwtVerify(await token(), keys)).rejects.toThrow(/200 OK/);
});

it("asks the IdP again after retryAfterMs and reports the recovery", async () => {
  const { keys, events, advance } = setUp();
  await jwtVerify(await token(), keys);
  up = false;
  await jwtVerify(await token(), keys);
  up = true;
  advance(10_001);
  await expect(jwtVerify(await token(), keys)).resolves.toBeTruthy();
  expect(requests).toBe(3);
  expect(events).toEqual(["outage", "recovery"]);
});

it("fails as before when no keys were ever fetched", async () => {
  up = false;
  const { keys } = setUp();
  await expect(jwtVerify(await token(), keys)).rejects.toThrow(/200 OK/);
});

it("answers an unknown kid right after a fetch with 'try again shortly', and a refetch after the cooldown finds it", async () => {
  const fetched = remoteKeys(url, { timeoutMs: 2000, cooldownMs: 60_000 });
  const keys = outageTolerantKeys(fetched);
  await jwtVerify(await token(), keys);
  // The IdP rotates: its JWKS now holds k2, which the copy fetched a moment ago does not.
  const k2 = await generateKeyPair("RS256");
  const saved = jwks;
  jwks = {
    keys: [...saved.keys, { ...(await exportJWK(k2.publicKey)), kid: "k2", alg: "RS256", use: "sig" }],
  };
  try {
    const err = await jwtVerify(await token(k2.privateKey, "k2"), keys).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeysCoolingDown);
    // A kid unknown even after a fresh fetch is the token's fault: jose's own error.
    await fetched.remote.reload();
    await expect(jwtVerify(await token(k2.privateKey, "k2"), keys)).resolves.toBeTruthy();
    await expect(jwtVerify(await token(other, "k3"), keys)).rejects.toBeInstanceOf(KeysCoolingDown);
  } finally {
    jwks = saved;
  }
});
