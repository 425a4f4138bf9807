// The broker's own logic: cache lifetime, single flight, failures not remembered, the bound and the
// counters. The exchange is a local function here; the real one runs against Keycloak in
// test/integration/tokens/.
import { UnsecuredJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { tokenDigest } from "../../../src/auth/index.ts";
import { GatewayError } from "../../../src/errors.ts";
import type { Idp } from "../../../src/idp/index.ts";
import type { ExchangeOptions, ExchangeRequest } from "../../../src/idp/exchange.ts";
import {
  DEFAULT_UNREACHABLE_HOLD_MS,
  TokenBroker,
  type ExchangedToken,
  type TokenBrokerOptions,
} from "../../../src/tokens/index.ts";

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW = NOW_MS / 1000;
const IDP = { name: "the loaded idp" } as unknown as Idp;

interface Call {
  idp: Idp;
  subjectToken: string;
  request: ExchangeRequest;
  options: ExchangeOptions | undefined;
}

/** A controllable exchange: answers with a token of `lifetime` seconds, unless held. */
function fakeExchange(clock: { now: () => number }, lifetime = 300) {
  const calls: Call[] = [];
  const held: PromiseWithResolvers<ExchangedToken>[] = [];
  const exchange = (
    idp: Idp,
    subjectToken: string,
    request: ExchangeRequest,
    options?: ExchangeOptions,
  ): Promise<ExchangedToken> => {
    calls.push({ idp, subjectToken, request, options });
    const next = held.shift();
    if (next) return next.promise;
    return Promise.resolve({
      accessToken: `nextcloud-token-${calls.length}`,
      expiresAt: Math.floor(clock.now() / 1000) + lifetime,
      issuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
    });
  };
  return {
    exchange,
    calls,
    /** The next exchange waits until the returned handle settles it. */
    hold(): PromiseWithResolvers<ExchangedToken> {
      const deferred = Promise.withResolvers<ExchangedToken>();
      held.push(deferred);
      return deferred;
    },
  };
}

function clock(start = NOW_MS): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function setup(options: Partial<TokenBrokerOptions> & { lifetime?: number } = {}) {
  const c = clock();
  const fake = fakeExchange(c, options.lifetime);
  const broker = new TokenBroker({
    idp: () => Promise.resolve(IDP),
    audience: "nextcloud",
    scope: "nextcloud-audience",
    now: c.now,
    exchange: fake.exchange,
    ...options,
  });
  return { broker, fake, clock: c };
}

/** An MCP-like subject token (a JWT; the broker only reads its exp). */
function subject(exp: number | undefined, jti = "1"): string {
  const jwt = new UnsecuredJWT({ sub: "alice", jti });
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.encode();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

describe("TokenBroker cache", () => {
  it("exchanges once and serves the second call from the cache", async () => {
    const { broker, fake } = setup();
    const token = subject(NOW + 600);
    const first = await broker.nextcloudToken(token);
    const second = await broker.nextcloudToken(token);
    expect(second).toBe(first);
    expect(fake.calls).toHaveLength(1);
    expect(broker.stats).toEqual({ exchanges: 1, cacheHits: 1, failures: 0 });
  });

  it("finds the entry by the digest a caller computed once (bearer auth) as by the token itself", async () => {
    const { broker, fake } = setup();
    const token = subject(NOW + 600);
    const first = await broker.nextcloudToken(token, undefined, tokenDigest(token));
    expect(await broker.nextcloudToken(token)).toBe(first);
    expect(await broker.nextcloudToken(token, undefined, tokenDigest(token))).toBe(first);
    expect(fake.calls).toHaveLength(1);
    // Another token's digest is another entry.
    const other = subject(NOW + 600, "2");
    expect(await broker.nextcloudToken(other, undefined, tokenDigest(other))).not.toBe(first);
    expect(fake.calls).toHaveLength(2);
  });

  it("asks for the configured audience and scope with the loaded IdP and the broker's clock", async () => {
    const { broker, fake, clock: c } = setup();
    await broker.nextcloudToken(subject(NOW + 600));
    const call = fake.calls[0];
    expect(call?.idp).toBe(IDP);
    expect(call?.request).toEqual({ audience: "nextcloud", scope: "nextcloud-audience" });
    expect(call?.options?.now?.()).toBe(c.now());
    expect(call?.options?.signal).toBeUndefined();
  });

  it("omits the scope when none is configured", async () => {
    const { broker, fake } = setup({ scope: undefined });
    await broker.nextcloudToken(subject(NOW + 600));
    expect(fake.calls[0]?.request).toEqual({ audience: "nextcloud" });
  });

  it("keeps one entry per subject token", async () => {
    const { broker, fake } = setup();
    const a = await broker.nextcloudToken(subject(NOW + 600, "a"));
    const b = await broker.nextcloudToken(subject(NOW + 600, "b"));
    expect(a.accessToken).not.toBe(b.accessToken);
    expect(fake.calls).toHaveLength(2);
    expect(broker.size).toBe(2);
  });

  it("serves a token until expiresAt minus the skew, then exchanges again", async () => {
    const { broker, fake, clock: c } = setup({ lifetime: 300, skewSeconds: 30 });
    const token = subject(NOW + 3600);
    await broker.nextcloudToken(token);
    c.advance(270_000 - 1);
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(1);
    c.advance(1);
    const renewed = await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(2);
    expect(renewed.accessToken).toBe("nextcloud-token-2");
    expect(broker.stats).toEqual({ exchanges: 2, cacheHits: 1, failures: 0 });
  });

  it("uses a skew of 30 seconds by default", async () => {
    const { broker, fake, clock: c } = setup({ lifetime: 300 });
    const token = subject(NOW + 3600);
    await broker.nextcloudToken(token);
    c.advance(269_999);
    await broker.nextcloudToken(token);
    c.advance(1);
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(2);
  });

  it("never serves a token past the subject token's own exp", async () => {
    const { broker, fake, clock: c } = setup({ lifetime: 300 });
    const token = subject(NOW + 100);
    await broker.nextcloudToken(token);
    c.advance(99_999);
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(1);
    c.advance(1);
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(2);
  });

  it("caches by the exchanged token alone when the subject token is not a JWT", async () => {
    const { broker, fake } = setup();
    await broker.nextcloudToken("opaque-subject-token");
    await broker.nextcloudToken("opaque-subject-token");
    expect(fake.calls).toHaveLength(1);
  });

  it("does not cache a token that is already within the skew", async () => {
    const { broker, fake } = setup({ lifetime: 20, skewSeconds: 30 });
    const token = subject(NOW + 600);
    const first = await broker.nextcloudToken(token);
    expect(first.accessToken).toBe("nextcloud-token-1");
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(2);
    expect(broker.size).toBe(0);
  });

  it("drops expired entries before evicting live ones at the bound", async () => {
    const { broker, fake, clock: c } = setup({ maxEntries: 2, lifetime: 300, skewSeconds: 0 });
    await broker.nextcloudToken(subject(NOW + 60, "short-lived subject"));
    await broker.nextcloudToken(subject(NOW + 3600, "b"));
    c.advance(60_000);
    await broker.nextcloudToken(subject(NOW + 3600, "c"));
    expect(broker.size).toBe(2);
    await broker.nextcloudToken(subject(NOW + 3600, "b"));
    expect(fake.calls).toHaveLength(3);
  });

  it("evicts the oldest entry when all are live", async () => {
    const { broker, fake } = setup({ maxEntries: 2 });
    const [a, b, c] = [subject(NOW + 600, "a"), subject(NOW + 600, "b"), subject(NOW + 600, "c")];
    await broker.nextcloudToken(a);
    await broker.nextcloudToken(b);
    await broker.nextcloudToken(c);
    expect(broker.size).toBe(2);
    await broker.nextcloudToken(c);
    await broker.nextcloudToken(b);
    expect(fake.calls).toHaveLength(3);
    await broker.nextcloudToken(a);
    expect(fake.calls).toHaveLength(4);
  });
});

describe("TokenBroker single flight", () => {
  it("lets concurrent calls for one subject token share one exchange", async () => {
    const { broker, fake } = setup();
    const held = fake.hold();
    const token = subject(NOW + 600);
    const calls = Array.from({ length: 10 }, () => broker.nextcloudToken(token));
    held.resolve({ accessToken: "shared", expiresAt: NOW + 300, issuedTokenType: "x" });
    const results = await Promise.all(calls);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(["shared"]));
    expect(fake.calls).toHaveLength(1);
    expect(broker.stats).toEqual({ exchanges: 1, cacheHits: 0, failures: 0 });
    await broker.nextcloudToken(token);
    expect(broker.stats.cacheHits).toBe(1);
  });

  it("does not make concurrent calls for different subject tokens wait for each other", async () => {
    const { broker, fake } = setup();
    const held = fake.hold();
    const a = broker.nextcloudToken(subject(NOW + 600, "a"));
    const b = await broker.nextcloudToken(subject(NOW + 600, "b"));
    expect(b.accessToken).toBe("nextcloud-token-2");
    held.resolve({ accessToken: "a", expiresAt: NOW + 300, issuedTokenType: "x" });
    expect((await a).accessToken).toBe("a");
  });

  it("rejects every waiter of a failed exchange, remembers nothing, and tries again next time", async () => {
    const { broker, fake } = setup();
    const held = fake.hold();
    const token = subject(NOW + 600);
    const calls = Array.from({ length: 3 }, () => rejection(broker.nextcloudToken(token)));
    const refused = new GatewayError("invalid_token", "Your sign-in is no longer valid; sign in again.");
    held.reject(refused);
    for (const err of await Promise.all(calls)) expect(err).toBe(refused);
    expect(broker.stats).toEqual({ exchanges: 1, cacheHits: 0, failures: 1 });
    expect(broker.size).toBe(0);

    const retried = await broker.nextcloudToken(token);
    expect(retried.accessToken).toBe("nextcloud-token-2");
    expect(broker.stats).toEqual({ exchanges: 2, cacheHits: 0, failures: 1 });
  });

  it("ends only the wait of a caller whose signal aborts; the shared exchange goes on and is cached", async () => {
    const { broker, fake } = setup();
    const held = fake.hold();
    const token = subject(NOW + 600);
    const controller = new AbortController();
    const impatient = rejection(broker.nextcloudToken(token, controller.signal));
    const patient = broker.nextcloudToken(token);
    const reason = new Error("client went away");
    controller.abort(reason);
    expect(await impatient).toBe(reason);
    held.resolve({ accessToken: "shared", expiresAt: NOW + 300, issuedTokenType: "x" });
    expect((await patient).accessToken).toBe("shared");
    expect((await broker.nextcloudToken(token)).accessToken).toBe("shared");
    expect(broker.stats).toEqual({ exchanges: 1, cacheHits: 1, failures: 0 });
  });

  it("does not start an exchange for an already aborted signal", async () => {
    const { broker, fake } = setup();
    const err = await rejection(broker.nextcloudToken(subject(NOW + 600), AbortSignal.abort()));
    expect((err as Error).name).toBe("AbortError");
    expect(fake.calls).toHaveLength(0);
  });
});

describe("TokenBroker and the IdP", () => {
  it("answers temporarily_unavailable while the IdP is not loaded, and tries again next call", async () => {
    let loaded = false;
    const {
      broker,
      fake,
      clock: c,
    } = setup({
      idp: () =>
        loaded ? Promise.resolve(IDP) : Promise.reject(new Error("discovery at https://sso: fetch failed")),
    });
    const token = subject(NOW + 600);
    const err = await rejection(broker.nextcloudToken(token));
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({
      code: "temporarily_unavailable",
      status: 503,
      description: "The identity provider is unreachable; try again in a moment.",
    });
    expect((err as GatewayError).detail).toMatch(/fetch failed/);
    expect(fake.calls).toHaveLength(0);
    expect(broker.stats.failures).toBe(1);

    loaded = true;
    c.advance(DEFAULT_UNREACHABLE_HOLD_MS);
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(1);
  });

  it("after the IdP refused the connection, fails further exchanges at once for the hold, then asks again", async () => {
    const { broker, fake, clock: c } = setup();
    const held = fake.hold();
    const first = rejection(broker.nextcloudToken(subject(NOW + 600, "a")));
    held.reject(
      new GatewayError(
        "temporarily_unavailable",
        "The identity provider is unreachable; try again in a moment.",
        {
          detail: "token exchange at https://sso/token: fetch failed",
          cause: new TypeError("fetch failed", {
            cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
          }),
        },
      ),
    );
    await first;
    // Another user, a moment later: not sent to the IdP, the same message for the user.
    c.advance(DEFAULT_UNREACHABLE_HOLD_MS - 1);
    const second = await rejection(broker.nextcloudToken(subject(NOW + 600, "b")));
    expect(second).toMatchObject({
      code: "temporarily_unavailable",
      description: "The identity provider is unreachable; try again in a moment.",
    });
    expect((second as GatewayError).detail).toMatch(/not attempted.*fetch failed/);
    expect(fake.calls).toHaveLength(1);
    expect(broker.stats.failures).toBe(2);
    // After the hold the IdP is asked again, and its answer ends the hold.
    c.advance(1);
    await broker.nextcloudToken(subject(NOW + 600, "b"));
    await broker.nextcloudToken(subject(NOW + 600, "c"));
    expect(fake.calls).toHaveLength(3);
  });

  it("does not hold exchanges after a refusal that is the token's fault, or after a timeout (a slow IdP)", async () => {
    const { broker, fake } = setup();
    for (const err of [
      new GatewayError("invalid_token", "Your sign-in is no longer valid; sign in again."),
      new GatewayError(
        "temporarily_unavailable",
        "The identity provider is unreachable; try again in a moment.",
        {
          cause: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
        },
      ),
    ]) {
      const held = fake.hold();
      const first = rejection(broker.nextcloudToken(subject(NOW + 600, String(Math.random()))));
      held.reject(err);
      await first;
    }
    await broker.nextcloudToken(subject(NOW + 600, "b"));
    expect(fake.calls).toHaveLength(3);
  });

  it("passes a GatewayError from the IdP loader on unchanged", async () => {
    const own = new GatewayError("server_error", "misconfigured");
    const { broker } = setup({ idp: () => Promise.reject(own) });
    expect(await rejection(broker.nextcloudToken("t"))).toBe(own);
  });
});

describe("TokenBroker options", () => {
  it("rejects an empty audience, a negative skew and a bound that is not a positive integer", () => {
    const base = { idp: () => Promise.resolve(IDP), audience: "nextcloud" };
    expect(() => new TokenBroker({ ...base, audience: "" })).toThrow(RangeError);
    expect(() => new TokenBroker({ ...base, skewSeconds: -1 })).toThrow(RangeError);
    expect(() => new TokenBroker({ ...base, maxEntries: 0 })).toThrow(RangeError);
    expect(() => new TokenBroker({ ...base, maxEntries: 1.5 })).toThrow(RangeError);
  });

  it("exposes counters as a read-only snapshot", async () => {
    const { broker } = setup();
    const before = broker.stats;
    await broker.nextcloudToken(subject(NOW + 600));
    expect(before).toEqual({ exchanges: 0, cacheHits: 0, failures: 0 });
    expect(broker.stats).toEqual({ exchanges: 1, cacheHits: 0, failures: 0 });
  });
});

describe("TokenBroker after a slow IdP", () => {
  it("fails the same token's next exchange at once after a timeout, not another user's", async () => {
    const { broker, fake, clock: c } = setup();
    const held = fake.hold();
    const token = subject(NOW + 600, "slow");
    const first = rejection(broker.nextcloudToken(token));
    held.reject(
      new GatewayError(
        "temporarily_unavailable",
        "The identity provider is unreachable; try again in a moment.",
        {
          cause: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
        },
      ),
    );
    await first;
    expect(await rejection(broker.nextcloudToken(token))).toMatchObject({ code: "temporarily_unavailable" });
    expect(fake.calls).toHaveLength(1);
    await broker.nextcloudToken(subject(NOW + 600, "other"));
    expect(fake.calls).toHaveLength(2);
    c.advance(DEFAULT_UNREACHABLE_HOLD_MS);
    await broker.nextcloudToken(token);
    expect(fake.calls).toHaveLength(3);
  });
});

describe("TokenBroker under a burst of new users", () => {
  it("has at most maxConcurrent exchanges in flight; the others wait their turn and all succeed", async () => {
    const { broker, fake } = setup({ maxConcurrent: 4 });
    const helds = Array.from({ length: 40 }, () => fake.hold());
    const answers = Array.from({ length: 40 }, (_, i) =>
      broker.nextcloudToken(subject(NOW + 600, `burst-${String(i)}`)),
    );
    await Promise.resolve();
    for (let answered = 0; answered < 40; answered++) {
      await new Promise((r) => setImmediate(r));
      expect(fake.calls.length).toBe(Math.min(40, answered + 4));
      expect(broker.slots.active).toBe(Math.min(4, 40 - answered));
      helds[answered]?.resolve({
        accessToken: `nc-${String(answered)}`,
        expiresAt: NOW + 300,
        issuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
      });
    }
    const tokens = await Promise.all(answers);
    expect(tokens.map((t) => t.accessToken)).toEqual(Array.from({ length: 40 }, (_, i) => `nc-${String(i)}`));
    expect(broker.stats).toEqual({ exchanges: 40, cacheHits: 0, failures: 0 });
    expect(broker.slots).toMatchObject({ active: 0, waiting: 0, waited: 36, stalled: 0 });
  });

  it("fails a waiting exchange as 'unreachable' once the IdP answered none in flight for stallMs", async () => {
    vi.useFakeTimers({ now: NOW_MS });
    try {
      const { broker, fake } = setup({ maxConcurrent: 1, stallMs: 10_000, now: () => Date.now() });
      fake.hold(); // the IdP never answers the first
      void broker.nextcloudToken(subject(NOW + 600, "first")).catch(() => undefined);
      const second = rejection(broker.nextcloudToken(subject(NOW + 600, "second")));
      await vi.advanceTimersByTimeAsync(10_000);
      const err = (await second) as GatewayError;
      expect(err).toBeInstanceOf(GatewayError);
      expect(err.code).toBe("temporarily_unavailable");
      expect(err.description).toBe("The identity provider is unreachable; try again in a moment.");
      expect(err.detail).toMatch(/^token exchange not sent: waited 10000 ms for one of 1 exchange slots/);
      expect(fake.calls).toHaveLength(1);
      expect(broker.slots.stalled).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
