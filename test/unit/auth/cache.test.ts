import { describe, expect, it } from "vitest";
import { tokenDigest, VerifiedTokenCache, type VerifiedToken } from "../../../src/auth/index.ts";
import { claims, countingVerifier, createIdp, ISSUER, NOW, NOW_MS, rejection, RESOURCE } from "./fixtures.ts";

const idp = await createIdp();

function clock(start = NOW_MS): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function verified(expiresAt: number, subject = "alice"): VerifiedToken {
  return { subject, issuer: ISSUER, clientId: "c", scopes: [], audience: [RESOURCE], expiresAt, claims: {} };
}

describe("VerifiedTokenCache", () => {
  it("serves an entry until its exp and not from exp on", () => {
    const c = clock();
    const cache = new VerifiedTokenCache({ now: c.now });
    cache.set("tok", verified(NOW + 10));
    c.advance(9_999);
    expect(cache.get("tok")?.subject).toBe("alice");
    c.advance(1);
    expect(cache.get("tok")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("does not store an entry already at its exp", () => {
    const cache = new VerifiedTokenCache({ now: () => NOW_MS });
    cache.set("tok", verified(NOW));
    expect(cache.size).toBe(0);
  });

  it("evicts the oldest inserted entry at the bound", () => {
    const cache = new VerifiedTokenCache({ maxEntries: 2, now: () => NOW_MS });
    cache.set("a", verified(NOW + 60, "a"));
    cache.set("b", verified(NOW + 60, "b"));
    cache.set("a", verified(NOW + 60, "a2"));
    cache.set("c", verified(NOW + 60, "c"));
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.subject).toBe("a2");
    expect(cache.get("c")?.subject).toBe("c");
  });

  it("replaces an entry in place when full, evicting nothing else", () => {
    const cache = new VerifiedTokenCache({ maxEntries: 2, now: () => NOW_MS });
    cache.set("a", verified(NOW + 60, "a"));
    cache.set("b", verified(NOW + 60, "b"));
    cache.set("b", verified(NOW + 60, "b2"));
    expect(cache.size).toBe(2);
    expect(cache.get("a")?.subject).toBe("a");
    expect(cache.get("b")?.subject).toBe("b2");
  });

  it("accepts a bound of one entry", () => {
    const cache = new VerifiedTokenCache({ maxEntries: 1, now: () => NOW_MS });
    cache.set("a", verified(NOW + 60, "a"));
    cache.set("b", verified(NOW + 60, "b"));
    expect(cache.size).toBe(1);
    expect(cache.get("b")?.subject).toBe("b");
  });

  it("rejects a bound that is not a positive integer", () => {
    expect(() => new VerifiedTokenCache({ maxEntries: 0 })).toThrow(
      new RangeError("maxEntries must be a positive integer, got 0"),
    );
  });
});

describe("createTokenVerifier", () => {
  it("serves the second verify from the cache without asking for a key", async () => {
    const { keys, verifier } = countingVerifier(idp);
    const token = await idp.sign(claims());
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(keys.calls).toBe(1);
    expect(verifier.stats).toEqual({ hits: 1, misses: 1 });
  });

  it("finds a token by the digest its caller computed as by the token, and only that token", async () => {
    const { keys, verifier } = countingVerifier(idp);
    const token = await idp.sign(claims());
    const first = await verifier.verify(token, tokenDigest(token));
    expect(await verifier.verify(token)).toBe(first);
    expect(keys.calls).toBe(1);
    expect(tokenDigest(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenDigest(token)).not.toContain(token.slice(0, 20));
    const other = await idp.sign(claims({ sub: "bob" }));
    expect((await verifier.verify(other, tokenDigest(other))).subject).toBe("bob");
    expect(keys.calls).toBe(2);
  });

  it("stops serving an entry after exp and verifies again", async () => {
    const c = clock();
    const { keys, verifier } = countingVerifier(idp, { now: c.now });
    const token = await idp.sign(claims({ exp: NOW + 30 }));
    await verifier.verify(token);
    c.advance(30_000);
    // Past exp but inside the leeway: verified again (a miss), and not cached since it is past exp.
    await verifier.verify(token);
    expect(keys.calls).toBe(2);
    c.advance(61_000);
    expect((await rejection(verifier.verify(token))).detail).toMatch(/^expired /);
    expect(verifier.stats).toEqual({ hits: 0, misses: 3 });
  });

  it("never caches a failure", async () => {
    const cache = new VerifiedTokenCache({ now: () => NOW_MS });
    const { keys, verifier } = countingVerifier(idp, { cache });
    const token = await idp.sign(claims({ aud: "nextcloud" }));
    for (let i = 0; i < 2; i++) expect((await rejection(verifier.verify(token))).code).toBe("invalid_token");
    expect(keys.calls).toBe(2);
    expect(cache.size).toBe(0);
    expect(verifier.stats).toEqual({ hits: 0, misses: 2 });
  });

  it("verifies again once the bound evicted a token", async () => {
    const cache = new VerifiedTokenCache({ maxEntries: 2, now: () => NOW_MS });
    const { keys, verifier } = countingVerifier(idp, { cache });
    const tokens = await Promise.all(["a", "b", "c"].map((sub) => idp.sign(claims({ sub }))));
    for (const token of tokens) await verifier.verify(token);
    expect(cache.size).toBe(2);
    expect(keys.calls).toBe(3);
    const [first, , third] = tokens;
    await verifier.verify(third ?? "");
    expect(keys.calls).toBe(3);
    await verifier.verify(first ?? "");
    expect(keys.calls).toBe(4);
    expect(verifier.stats).toEqual({ hits: 1, misses: 4 });
  });
});
