// The one bounded cache: size bound (oldest first out) and time to live on an injected clock.
import { describe, expect, it } from "vitest";
import { BoundedCache } from "../../src/cache.ts";

describe("BoundedCache", () => {
  it("evicts the oldest entry when full, and a re-set entry counts as new", () => {
    const cache = new BoundedCache<string, number>({ maxEntries: 2 });
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("a", 3);
    cache.set("c", 4);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([3, undefined, 4]);
    expect(cache.size).toBe(2);
  });

  it("forgets entries when their time to live is over", () => {
    let now = 1000;
    const cache = new BoundedCache<string, string>({ maxEntries: 10, ttlMs: 100, now: () => now });
    cache.set("k", "v");
    now = 1099;
    expect(cache.get("k")).toBe("v");
    now = 1100;
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("refuses a bound below one", () => {
    expect(() => new BoundedCache({ maxEntries: 0 })).toThrow("maxEntries must be at least 1");
  });
});
