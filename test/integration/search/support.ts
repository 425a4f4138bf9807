// The scene the content-index tests share: the Nextcloud stand-in, a gateway with the index on and
// its jobs off (a test runs the passes itself), its PostgreSQL migrated; MCP tokens of the demo
// users; an index marked ready as a complete pass leaves it; the environment of `jobs run`, and the
// scene of `jobs run` alone: a database with real offline grants, and the stand-in.
import type { Browser } from "playwright-core";
import { expect, inject } from "vitest";
import {
  GrantStore,
  migrate,
  openStore,
  SearchIndex,
  Sealer,
  type OfflineGrant,
  type Store,
} from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { realGrants, sealingKey, sealingKeysEnv } from "../jobs/grants-support.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { callTool, type ToolResult } from "../support/mcp-call.ts";
import { clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

/** The sealing key the scene's gateway and its job processes share. */
export const k1 = sealingKey("k1");

export interface SearchScene {
  nc: NextcloudStandin;
  gw: TestGateway;
  /** The gateway's database, migrated. */
  store: Store;
  index: SearchIndex;
  stop(): Promise<void>;
}

/** The stand-in, and a gateway on it with the content index enabled and no jobs of its own. */
export async function startSearchScene(): Promise<SearchScene> {
  const nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  const gw = await startTestGateway({
    env: {
      NEXTCLOUD_URL: nc.url,
      MCP_DEFAULT_APPS: "all",
      SEALING_KEYS: sealingKeysEnv(k1),
      SEARCH_INDEX_ENABLED: "true",
      JOBS_ENABLED: "false",
    },
  });
  const store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  await migrate(store);
  return {
    nc,
    gw,
    store,
    index: new SearchIndex(store.db),
    async stop() {
      await store.close();
      await gw.stop();
      await nc.stop();
    },
  };
}

/** The scene of `jobs run search-index` with no gateway serving: its database and the stand-in. */
export interface JobScene {
  nc: NextcloudStandin;
  /** A database of the scene's own, migrated. */
  databaseUrl: string;
  store: Store;
  index: SearchIndex;
  /** Real offline grants, sealed with k1: alice and bob taking turns (realGrants). */
  grants: OfflineGrant[];
  stop(): Promise<void>;
}

/** A database named after `name` with `grants` real offline grants on it, and the stand-in. */
export async function startJobScene(name: string, grants: number): Promise<JobScene> {
  const database = await createTestDatabase(inject("pgAdminUrl"), name);
  const store = await openStore({ backend: "postgres", url: database.url, poolMax: 3 });
  let saved: OfflineGrant[];
  try {
    await migrate(store);
    const browser: Browser = await launchBrowser();
    try {
      saved = await realGrants(browser, store, new GrantStore(store.db, new Sealer([k1])), grants);
    } finally {
      await browser.close();
    }
  } catch (err) {
    await store.close();
    await database.drop();
    throw err;
  }
  const nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  return {
    nc,
    databaseUrl: database.url,
    store,
    index: new SearchIndex(store.db),
    grants: saved,
    async stop() {
      await store.close();
      await database.drop();
      await nc.stop();
    },
  };
}

/** MCP access tokens of demo users, signed in on Keycloak's login page through `mcp-client`. */
export async function mcpTokens<U extends keyof typeof DEMO_USERS>(
  browser: Browser,
  users: readonly U[],
  scope = "openid mcp:tools",
): Promise<Record<U, string>> {
  const config = await clientConfig("mcp-client");
  const tokens = {} as Record<U, string>;
  for (const user of users) {
    tokens[user] = (
      await signIn(browser, {
        config,
        redirectUri: "http://127.0.0.1:38140/callback",
        scope,
        user: DEMO_USERS[user],
      })
    ).access_token;
  }
  return tokens;
}

/** Marks the user's index as a complete first pass leaves it: not paused, ready. */
export async function markIndexReady(store: Store, index: SearchIndex, userId: string): Promise<void> {
  await index.setPaused(userId, false);
  await store.db
    .updateTable("search_index_users")
    .set({ ready_at: new Date() })
    .where("user_id", "=", userId)
    .execute();
}

/** The environment of `jobs run search-index` on this database and Nextcloud. */
export function jobEnv(databaseUrl: string, nextcloudUrl: string): Record<string, string> {
  const realmEnv = inject("realmEnv");
  return {
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    OIDC_ISSUER: inject("keycloak").issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: databaseUrl,
    SEALING_KEYS: sealingKeysEnv(k1),
    NEXTCLOUD_URL: nextcloudUrl,
    SEARCH_INDEX_ENABLED: "true",
    LOG_LEVEL: "warn",
  };
}

/** The `search` tool's answer, which must not be an error; `T` is the caller's view of its result. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape of structuredContent
export async function searchTool<T>(
  gatewayUrl: string,
  token: string,
  args: Record<string, unknown>,
): Promise<{ r: ToolResult; o: T }> {
  const r = await callTool(gatewayUrl, token, "search", args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return { r, o: r.structuredContent as unknown as T };
}
