// withEitherSignal: the work sees an abort from any of the signals, and nothing of it stays attached
// to them once the work is over (a request's signal outlives many tool calls in a test, not in use).
import { describe, expect, it } from "vitest";
import { withEitherSignal } from "../../src/abort.ts";

/** An AbortSignal that counts the abort listeners attached to it. */
function counted() {
  const controller = new AbortController();
  let attached = 0;
  const { signal } = controller;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<AbortSignal["addEventListener"]>) => {
    if (args[0] === "abort") attached++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<AbortSignal["removeEventListener"]>) => {
    if (args[0] === "abort") attached--;
    remove(...args);
  };
  return { controller, signal, attached: () => attached };
}

describe("withEitherSignal", () => {
  it("aborts the work's signal when either signal aborts, with that signal's reason", async () => {
    for (const which of [0, 1]) {
      const a = counted();
      const b = counted();
      const reason = new Error(`signal ${String(which)} went`);
      const seen = await withEitherSignal([a.signal, b.signal], async (signal) => {
        expect(signal.aborted).toBe(false);
        (which === 0 ? a : b).controller.abort(reason);
        await Promise.resolve();
        return { aborted: signal.aborted, reason: signal.reason as unknown };
      });
      expect(seen).toEqual({ aborted: true, reason });
    }
  });

  it("detaches from both signals when the work ends, by result or by error", async () => {
    const a = counted();
    const b = counted();
    expect(await withEitherSignal([a.signal, b.signal], () => Promise.resolve(7))).toBe(7);
    expect([a.attached(), b.attached()]).toEqual([0, 0]);
    await expect(
      withEitherSignal([a.signal, b.signal], () => Promise.reject(new Error("tool failed"))),
    ).rejects.toThrow("tool failed");
    expect([a.attached(), b.attached()]).toEqual([0, 0]);
    // A later abort reaches no finished work.
    a.controller.abort(new Error("late"));
  });

  it("hands an already aborted signal to work started after an abort", async () => {
    const a = counted();
    const gone = new Error("client went away");
    a.controller.abort(gone);
    const reason = await withEitherSignal([a.signal, new AbortController().signal], (signal) =>
      Promise.resolve(signal.aborted ? (signal.reason as unknown) : undefined),
    );
    expect(reason).toBe(gone);
    expect(a.attached()).toBe(0);
  });
});
