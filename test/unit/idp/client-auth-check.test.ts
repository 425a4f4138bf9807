// /readyz includes the gateway's client authentication at the IdP, but probes it at most once per
// TTL: an orchestrator probing every few seconds must not hammer the token endpoint.
import { describe, expect, it } from "vitest";
import { ClientAuthCheck } from "../../../src/idp/index.ts";

function counted(results: { ok: boolean; message: string }[]) {
  let calls = 0;
  return {
    run: () => Promise.resolve(results[Math.min(calls++, results.length - 1)] ?? { ok: true, message: "" }),
    get calls() {
      return calls;
    },
  };
}

describe("ClientAuthCheck", () => {
  it("keeps a pass for okTtlMs and a failure for failTtlMs", async () => {
    let now = 0;
    const probe = counted([
      { ok: false, message: "refused" },
      { ok: true, message: "fine" },
      { ok: true, message: "fine again" },
    ]);
    const check = new ClientAuthCheck(probe.run, { okTtlMs: 1000, failTtlMs: 100, now: () => now });
    expect(await check.result()).toEqual({ ok: false, message: "refused" });
    now = 99;
    expect((await check.result()).message).toBe("refused");
    expect(probe.calls).toBe(1);
    now = 100;
    expect((await check.result()).message).toBe("fine");
    now = 1099;
    expect((await check.result()).message).toBe("fine");
    expect(probe.calls).toBe(2);
    now = 1100;
    expect((await check.result()).message).toBe("fine again");
    expect(probe.calls).toBe(3);
  });

  it("keeps a pass 5 minutes and a failure 30 seconds by default", async () => {
    let now = 0;
    const pass = counted([{ ok: true, message: "fine" }]);
    const passing = new ClientAuthCheck(pass.run, { now: () => now });
    await passing.result();
    now = 5 * 60_000 - 1;
    await passing.result();
    expect(pass.calls).toBe(1);
    now = 5 * 60_000;
    await passing.result();
    expect(pass.calls).toBe(2);
    now = 0;
    const fail = counted([{ ok: false, message: "refused" }]);
    const failing = new ClientAuthCheck(fail.run, { now: () => now });
    await failing.result();
    now = 29_999;
    await failing.result();
    expect(fail.calls).toBe(1);
    now = 30_000;
    await failing.result();
    expect(fail.calls).toBe(2);
  });

  it("shares one probe between concurrent callers, and turns a throw into a failure", async () => {
    const probe = counted([{ ok: true, message: "fine" }]);
    const check = new ClientAuthCheck(probe.run);
    const all = await Promise.all([check.result(), check.result(), check.result()]);
    expect(all.map((r) => r.ok)).toEqual([true, true, true]);
    expect(probe.calls).toBe(1);
    const throwing = new ClientAuthCheck(() => Promise.reject(new Error("IdP not loaded")));
    expect(await throwing.result()).toEqual({ ok: false, message: "IdP not loaded" });
  });
});
