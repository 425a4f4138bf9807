// Single-use OAuth login states (DESIGN §6.5) on both backends: any replica can finish a callback,
// but a state works once, within ten minutes, and a value that was never issued does nothing.
import { describe, expect, it } from "vitest";
import type { Store } from "../../../src/store/index.ts";
import {
  consumeLoginState,
  createLoginState,
  deleteExpiredLoginStates,
  LOGIN_STATE_TTL_MS,
} from "../../../src/store/login-states.ts";
import { backends, useMigratedStore } from "./backends.ts";

const STATE = {
  purpose: "connect" as const,
  codeVerifier: "v".repeat(43),
  nonce: "n-1",
  returnTo: "/account",
};

describe.each(backends())("login states on $name", (backend) => {
  let store: Store;
  useMigratedStore(backend, (s) => {
    store = s;
  });

  it("gives the stored values back once, then refuses the same state", async () => {
    const value = await createLoginState(store.db, STATE);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await consumeLoginState(store.db, value)).toEqual(STATE);
    expect(await consumeLoginState(store.db, value)).toBeUndefined();
  });

  it("stores only a hash of the state", async () => {
    const value = await createLoginState(store.db, STATE);
    const rows = await store.db.selectFrom("login_states").select("state_hash").execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.state_hash).not.toBe(value);
  });

  it("refuses an unknown state and an expired one", async () => {
    expect(await consumeLoginState(store.db, "never-issued")).toBeUndefined();
    const issued = new Date("2026-01-01T10:00:00Z");
    const value = await createLoginState(store.db, STATE, issued);
    const late = new Date(issued.getTime() + LOGIN_STATE_TTL_MS + 1);
    expect(await consumeLoginState(store.db, value, late)).toBeUndefined();
    expect(await deleteExpiredLoginStates(store.db, late)).toBe(1);
  });

  it("lets exactly one of several concurrent callbacks win", async () => {
    const value = await createLoginState(store.db, STATE);
    const results = await Promise.all(Array.from({ length: 5 }, () => consumeLoginState(store.db, value)));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });
});
