// What the job scenarios (keepalive-kill, rolling-restart-jobs, index-kill) share: a job process's
// result line, the lease owner pattern of a process, the fault-injection hold after a refresh, and
// the scene of the keepalive scenarios: a realm of their own, a database with grants of that realm.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, inject } from "vitest";
import {
  GrantStore,
  migrate,
  openStore,
  Sealer,
  type OfflineGrant,
  type Store,
} from "../../../src/store/index.ts";
import type { Child } from "../../harness/process.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { waitFor } from "../../harness/wait.ts";
import { saveGrants, sealingKey, sealingKeysEnv, type TokenOf } from "../jobs/grants-support.ts";
import { createOwnRealm, type OwnRealm } from "./own-realm.ts";

/** The counts of a `jobs run <job>` process that exited 0 and printed `<job>: ok {…}`; fails otherwise. */
export async function jobRanOk(child: Child, job: string): Promise<Record<string, number>> {
  const code = await child.exited;
  expect(code, child.stdout() + child.stderr()).toBe(0);
  const line = new RegExp(`^${job}: ok (\\{.*\\})$`, "m").exec(child.stdout());
  expect(line, child.stdout()).not.toBeNull();
  return JSON.parse(line?.[1] ?? "{}") as Record<string, number>;
}

/** A LIKE pattern of the lease_owner values a process writes (`<host>:<pid>/<n>`). */
export const leasedBy = (child: Child): string => `%:${String(child.proc.pid)}/%`;

/**
 * Waits until a process started with GATEWAY_FAULT_HOLD_AFTER_REFRESH=`marker` holds after Keycloak
 * answered a refresh (it writes the grant's id to `marker` there); the id.
 */
export function heldAfterRefresh(
  marker: string,
  options: Parameters<typeof waitFor>[2] = {},
): Promise<string> {
  return waitFor(
    "the run to stop after Keycloak answered the refresh",
    async () => (await readFile(marker, "utf8").catch(() => undefined)) || undefined,
    options,
  );
}

/** A realm of the scenario's own and a database of its own, migrated, for keepalive processes. */
export interface GrantsScene {
  realm: OwnRealm;
  store: Store;
  /** Opens what the scene's processes seal (SEALING_KEYS of `env`). */
  sealer: Sealer;
  /** A temporary folder of the scene (for hold markers). */
  work: string;
  /** What every gateway process of the scene needs: the realm, the database, the sealing key. */
  env: Record<string, string>;
  /** Stores `tokens` of the realm as grants, each under a user of its own (`<sub>#<prefix><n>`). */
  seed(tokens: readonly TokenOf[], prefix: string): Promise<OfflineGrant[]>;
  stop(): Promise<void>;
}

export async function startGrantsScene(name: string, poolMax: number): Promise<GrantsScene> {
  const realm = await createOwnRealm(name);
  const database = await createTestDatabase(inject("pgAdminUrl"), name);
  const store = await openStore({ backend: "postgres", url: database.url, poolMax });
  await migrate(store);
  const key = sealingKey("k1");
  const sealer = new Sealer([key]);
  const grants = new GrantStore(store.db, sealer);
  const work = await mkdtemp(path.join(tmpdir(), `ncmcp-${name}-`));
  return {
    realm,
    store,
    sealer,
    work,
    env: {
      GATEWAY_PUBLIC_URL: inject("realmEnv").MCP_GATEWAY_URL,
      OIDC_ISSUER: realm.issuer,
      OIDC_CLIENT_SECRET: realm.clientSecret,
      DATABASE_URL: database.url,
      SEALING_KEYS: sealingKeysEnv(key),
    },
    seed: (tokens, prefix) =>
      saveGrants(store, grants, tokens, {
        issuer: realm.issuer,
        scope: "openid offline_access",
        subject: (t, n) => `${t.sub}#${prefix}${String(n)}`,
        username: "worker",
      }),
    async stop() {
      await store.close();
      await database.drop();
      await realm.remove();
      await rm(work, { recursive: true, force: true });
    },
  };
}
