// The bound on exchanges in flight at the IdP: no more than the limit at once, the rest served in
// arrival order, and a wait that ends in an error only when the IdP answers nothing for `stallMs`.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Slots, SlotsStalled, type SlotOutcome } from "../../../src/tokens/slots.ts";

type Release = (outcome: SlotOutcome) => void;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 15, 12) });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Settles pending promise callbacks. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function track(p: Promise<Release>) {
  const state: { release?: Release; error?: unknown } = {};
  p.then(
    (r) => (state.release = r),
    (e: unknown) => (state.error = e),
  );
  return state;
}

describe("Slots", () => {
  it("lets `limit` holders in at once and the next in arrival order as they leave", async () => {
    const slots = new Slots({ limit: 2, stallMs: 10_000 });
    const a = track(slots.acquire());
    const b = track(slots.acquire());
    const c = track(slots.acquire());
    const d = track(slots.acquire());
    await settle();
    expect([a, b, c, d].map((s) => s.release !== undefined)).toEqual([true, true, false, false]);
    expect(slots.stats).toMatchObject({ active: 2, waiting: 2, waited: 2 });
    b.release?.("answered");
    await settle();
    expect([c, d].map((s) => s.release !== undefined)).toEqual([true, false]);
    a.release?.("answered");
    await settle();
    expect(d.release).toBeDefined();
    c.release?.("answered");
    d.release?.("answered");
    expect(slots.stats).toMatchObject({ active: 0, waiting: 0, stalled: 0 });
  });

  it("keeps a waiter waiting past stallMs while the IdP answers the holders", async () => {
    const slots = new Slots({ limit: 1, stallMs: 10_000 });
    let holder = track(slots.acquire());
    const waiters = [track(slots.acquire()), track(slots.acquire()), track(slots.acquire())];
    await settle();
    // Each holder is answered after 6 s: the last waiter waits 18 s in all, and is served.
    for (const next of waiters) {
      await vi.advanceTimersByTimeAsync(6000);
      holder.release?.("answered");
      await settle();
      expect(next.error).toBeUndefined();
      expect(next.release).toBeDefined();
      holder = next;
    }
    holder.release?.("answered");
    expect(slots.stats).toMatchObject({ stalled: 0, longestWaitMs: 18_000 });
  });

  it("fails the waiters with SlotsStalled once nothing was answered for stallMs", async () => {
    const slots = new Slots({ limit: 1, stallMs: 10_000 });
    const holder = track(slots.acquire());
    const first = track(slots.acquire());
    await vi.advanceTimersByTimeAsync(4000);
    const second = track(slots.acquire());
    await vi.advanceTimersByTimeAsync(5999);
    expect(first.error).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(first.error).toBeInstanceOf(SlotsStalled);
    expect((first.error as SlotsStalled).message).toBe(
      "waited 10000 ms for one of 1 exchange slots; the identity provider answered none of the exchanges in flight for 10000 ms",
    );
    // The second waiter arrived 4 s later: its own 10 s count from then.
    expect(second.error).toBeUndefined();
    await vi.advanceTimersByTimeAsync(4000);
    expect(second.error).toBeInstanceOf(SlotsStalled);
    expect(slots.stats).toMatchObject({ waiting: 0, stalled: 2, active: 1 });
    holder.release?.("failed");
    expect(slots.stats.active).toBe(0);
  });

  it("a holder that failed (timeout) is no sign of life: the waiter behind it still stalls", async () => {
    const slots = new Slots({ limit: 1, stallMs: 10_000 });
    const holder = track(slots.acquire());
    const waiter = track(slots.acquire());
    const last = track(slots.acquire());
    await vi.advanceTimersByTimeAsync(9000);
    holder.release?.("failed");
    await settle();
    expect(waiter.release).toBeDefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(last.error).toBeInstanceOf(SlotsStalled);
    waiter.release?.("failed");
  });

  it("a release counts once", async () => {
    const slots = new Slots({ limit: 1, stallMs: 10_000 });
    const a = track(slots.acquire());
    const b = track(slots.acquire());
    const c = track(slots.acquire());
    await settle();
    a.release?.("answered");
    a.release?.("answered");
    await settle();
    expect(b.release).toBeDefined();
    expect(c.release).toBeUndefined();
    expect(slots.stats.active).toBe(1);
  });

  it("refuses a limit or stall time that cannot work", () => {
    expect(() => new Slots({ limit: 0, stallMs: 1 })).toThrow(RangeError);
    expect(() => new Slots({ limit: 1.5, stallMs: 1 })).toThrow(RangeError);
    expect(() => new Slots({ limit: 1, stallMs: 0 })).toThrow(RangeError);
  });
});
