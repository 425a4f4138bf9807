// Key rotation at the job and CLI level: `keys reencrypt` / grants-reencrypt moves every stored
// refresh token to the first key of SEALING_KEYS, the tokens still refresh at the real Keycloak
// afterwards, and old-key rows read before that; a missing or wrong key fails loudly, names the
// key id, exits non-zero and changes no row. `keys status` shows rows per key id without secrets.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { refreshAtIdp } from "../../../src/idp/index.ts";
import { reencryptJob, runJob, type JobContext } from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log.ts";
import {
  GrantStore,
  migrate,
  openStore,
  Sealer,
  type OfflineGrant,
  type SealingKey,
  type Store,
} from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { runGatewayCli } from "../../harness/process.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { backends, useMigratedStore } from "../store/backends.ts";
import { loadIdp } from "../tokens/support.ts";
import {
  fakeGrants,
  realGrants,
  renewedDaysAgo,
  rowsOf,
  sealingKey,
  sealingKeysEnv,
  storedToken,
} from "./grants-support.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
const k1 = sealingKey("k1");
const k2 = sealingKey("k2");
const k3 = sealingKey("k3");
/** Key id k1 with other key material: what a mistyped SEALING_KEYS looks like. */
const wrongK1 = sealingKey("k1");

const ctxFor = (store: Store): JobContext => ({
  store,
  log: createLogger("silent"),
  now: () => new Date(),
  replica: "r1",
});

async function allRows(store: Store) {
  return store.db.selectFrom("offline_grants").selectAll().orderBy("id").execute();
}

/** No key material of any test key appears in `text`. */
function expectNoKeys(text: string, ...keys: SealingKey[]) {
  for (const k of keys) expect(text).not.toContain(Buffer.from(k.key).toString("base64"));
}

describe("`keys` CLI on PostgreSQL with real offline tokens", () => {
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let real: OfflineGrant[];
  let others: OfflineGrant[];
  const env = (...keys: SealingKey[]): Record<string, string> => ({
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: database.url,
    LOG_LEVEL: "warn",
    ...(keys.length > 0 ? { SEALING_KEYS: sealingKeysEnv(...keys) } : {}),
  });

  beforeAll(async () => {
    database = await createTestDatabase(inject("pgAdminUrl"), "reencrypt");
    store = await openStore({ backend: "postgres", url: database.url, poolMax: 3 });
    await migrate(store);
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const browser: Browser = await launchBrowser();
    try {
      real = await realGrants(browser, store, grants, 2);
    } finally {
      await browser.close();
    }
    others = await fakeGrants(store, grants, 2);
    // A revoked row keeps no token (blanked): nothing to move, nothing stranded when k1 goes.
    await grants.revokeAllForUser(others[1]?.user_id ?? "", "test");
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it("reads k1 rows after the ring becomes k2,k1; `keys reencrypt` moves every row to k2; the tokens refresh with k2 alone", async () => {
    const status = await runGatewayCli(["keys", "status"], env(k2, k1));
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain("SEALING_KEYS: k2 (current), k1\n");
    expect(status.stdout).toMatch(/^k1 +3 +0 +yes$/m);
    expect(status.stdout).toMatch(/^k2 +0 +0 +yes \(current\)$/m);
    expect(status.stdout).toMatch(
      /Rows sealed with k1 are not yet under k2: run `nextcloud-mcp-gateway keys reencrypt`/,
    );
    expectNoKeys(status.stdout + status.stderr, k1, k2);

    // Before re-encryption, the keepalive job reads a k1 row with the rotated ring (and re-seals it under k2).
    const [first, second] = real as [OfflineGrant, OfflineGrant];
    await renewedDaysAgo(store, [first.id], 20);
    const keepalive = await runGatewayCli(["jobs", "run", "grants-keepalive"], env(k2, k1));
    expect(keepalive.code, keepalive.stdout + keepalive.stderr).toBe(0);
    expect(keepalive.stdout).toMatch(/^grants-keepalive: ok \{"due":1,"claimed":1,"refreshed":1,/m);
    expect((await rowsOf(store, [first.id])).get(first.id)?.key_id).toBe("k2");

    const r = await runGatewayCli(["keys", "reencrypt"], env(k2, k1));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^grants-reencrypt: ok \{"reencrypted":2,"missingKey":0,"unreadable":0\}$/m);
    expectNoKeys(r.stdout + r.stderr, k1, k2);
    expect((await allRows(store)).map((g) => g.key_id).sort()).toEqual(["k2", "k2", "k2", null]);

    const onlyK2 = new Sealer([k2]);
    expect(await storedToken(store, others[0] as OfflineGrant, onlyK2.open.bind(onlyK2))).toMatch(
      /^not-a-token-/,
    );
    const idp = await loadIdp();
    const grants = new GrantStore(store.db, onlyK2);
    for (const g of [first, second]) {
      await expect(grants.refresh(g.id, (rt) => refreshAtIdp(idp, rt))).resolves.toMatchObject({
        accessToken: expect.stringMatching(/^eyJ/) as unknown,
      });
    }

    const after = await runGatewayCli(["keys", "status"], env(k2));
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^k2 +3 +0 +yes \(current\)$/m);
    expect(after.stdout).toContain("Every row is sealed with the current key k2.");
    const [run] = await store.db
      .selectFrom("job_runs")
      .selectAll()
      .where("job", "=", "grants-reencrypt")
      .execute();
    expect(run).toMatchObject({ outcome: "ok", counts: { reencrypted: 2, missingKey: 0, unreadable: 0 } });
  });

  it("with the old key gone from SEALING_KEYS, fails loudly naming it, exits 1 and changes no row", async () => {
    const before = await allRows(store);
    for (const args of [
      ["keys", "reencrypt"],
      ["jobs", "run", "grants-reencrypt"],
    ]) {
      const r = await runGatewayCli(args, env(k3));
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout).toMatch(
        /^grants-reencrypt: failed \{"reencrypted":0,"missingKey":3,"unreadable":0\} — 3 rows of offline grants are sealed with keys that SEALING_KEYS does not contain: k2 \(3 rows\)\. Nothing was re-encrypted, changed or deleted\. Put these keys back into SEALING_KEYS \(after the current key k3\)/m,
      );
      expectNoKeys(r.stdout + r.stderr, k2, k3);
    }
    expect(await allRows(store)).toEqual(before);
    const runs = await store.db
      .selectFrom("job_runs")
      .select(["outcome", "error"])
      .where("job", "=", "grants-reencrypt")
      .where("outcome", "=", "failed")
      .execute();
    expect(runs).toHaveLength(2);
    for (const run of runs)
      expect(run.error).toMatch(/sealed with keys that SEALING_KEYS does not contain: k2/);

    const status = await runGatewayCli(["keys", "status"], env(k3));
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^k2 +3 +0 +NO: these rows cannot be read$/m);
    expect(status.stdout).toMatch(/^k3 +0 +0 +yes \(current\)$/m);
    expect(status.stdout).toContain(
      "Rows sealed with k2 cannot be read: put that key back into SEALING_KEYS",
    );
    // `check` says the same on its offline access line.
    const check = await runGatewayCli(["check"], env(k3));
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      /^FAIL {2}offline access +3 stored grant\(s\) sealed with k2, which SEALING_KEYS lacks/m,
    );
  });

  it("says offline access is off when SEALING_KEYS is unset", async () => {
    for (const args of [
      ["jobs", "run", "grants-keepalive"],
      ["jobs", "run", "grants-reencrypt"],
      ["keys", "reencrypt"],
    ]) {
      const r = await runGatewayCli(args, env());
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/offline access is off: SEALING_KEYS is not set/);
    }
    const status = await runGatewayCli(["keys", "status"], env());
    expect(status.stdout).toContain("SEALING_KEYS: not set (offline access is off)");
    expect(status.code).toBe(1);
  });
});

describe.each(backends())("grants-reencrypt on $name", (backend) => {
  let store: Store;
  useMigratedStore(backend, (s) => {
    store = s;
  });

  it("re-seals every row that holds a token under the current key, skips blanked revoked rows, and records the counts", async () => {
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const list = await fakeGrants(store, grants, 3);
    await grants.revokeAllForUser(list[2]?.user_id ?? "", "test");
    const result = await runJob(reencryptJob(new Sealer([k2, k1])), ctxFor(store));
    expect(result).toEqual({
      job: "grants-reencrypt",
      outcome: "ok",
      counts: { reencrypted: 2, missingKey: 0, unreadable: 0 },
    });
    const onlyK2 = new Sealer([k2]);
    for (const g of list.slice(0, 2)) {
      expect(await storedToken(store, g, onlyK2.open.bind(onlyK2))).toMatch(/^not-a-token-/);
    }
    const blanked = await store.db
      .selectFrom("offline_grants")
      .selectAll()
      .where("id", "=", list[2]?.id ?? "")
      .executeTakeFirstOrThrow();
    expect(blanked).toMatchObject({ status: "revoked", refresh_token_sealed: null, key_id: null });
    expect((await runJob(reencryptJob(onlyK2), ctxFor(store))).counts).toEqual({
      reencrypted: 0,
      missingKey: 0,
      unreadable: 0,
    });
  });

  it("changes no row, not even readable ones, while any key is missing, and names it", async () => {
    await fakeGrants(store, new GrantStore(store.db, new Sealer([k3])), 1, "old");
    await fakeGrants(store, new GrantStore(store.db, new Sealer([k1])), 2, "kept");
    const before = await allRows(store);
    const result = await runJob(reencryptJob(new Sealer([k2, k1])), ctxFor(store));
    expect(result.outcome).toBe("failed");
    expect(result.counts).toEqual({ reencrypted: 0, missingKey: 1, unreadable: 0 });
    expect(result.error).toContain("sealed with keys that SEALING_KEYS does not contain: k3 (1 row)");
    expect(await allRows(store)).toEqual(before);
    const [run] = await store.db.selectFrom("job_runs").selectAll().execute();
    expect(run).toMatchObject({ outcome: "failed", error: result.error, counts: result.counts });
  });

  it("leaves rows a wrong key cannot open unchanged and fails, naming the key id", async () => {
    await fakeGrants(store, new GrantStore(store.db, new Sealer([k1])), 2);
    const before = await allRows(store);
    const result = await runJob(reencryptJob(new Sealer([k2, wrongK1])), ctxFor(store));
    expect(result.outcome).toBe("failed");
    expect(result.counts).toEqual({ reencrypted: 0, missingKey: 0, unreadable: 2 });
    expect(result.error).toMatch(
      /^0 rows re-encrypted under k2; 2 rows left unchanged \(nothing was deleted\): 2 rows did not open with the key SEALING_KEYS gives under their key id \(k1\)/,
    );
    expect(result.error).toContain("Put the original keys back into SEALING_KEYS");
    expect(await allRows(store)).toEqual(before);
  });
});
