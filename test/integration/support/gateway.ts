// A real gateway for integration tests: its own database, the real Keycloak, the realm's URL as its
// public URL (the audience Keycloak puts in MCP tokens), listening on `port` or a free one.
import { inject } from "vitest";
import { startGateway, type RunningGateway } from "../../../src/cli/serve.ts";
import { loadConfig } from "../../../src/config/index.ts";
import type { ToolGroup } from "../../../src/mcp/index.ts";
import type { RouteProbe } from "../../../src/nextcloud/index.ts";
import { createLogger, type Logger } from "../../../src/log.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { lockPort } from "../../harness/port-lock.ts";
import { freePort } from "../../harness/wait.ts";

/** A running gateway and how to stop it and drop its database. */
export interface TestGateway {
  gateway: RunningGateway;
  /** The gateway's database, for assertions on what it stored. */
  databaseUrl: string;
  stop(): Promise<void>;
}

export async function startTestGateway(
  options: {
    port?: number;
    env?: Record<string, string>;
    routeProbe?: RouteProbe;
    /** The PostgreSQL server the gateway's database is created on; the harness's by default. */
    pgAdminUrl?: string;
    /** The gateway's logger (a test that reads the log); silent by default. */
    log?: Logger;
    /** The tool groups instead of the app groups, e.g. with a fixture tool. */
    groups?: readonly ToolGroup[];
  } = {},
): Promise<TestGateway> {
  const kc = inject("keycloak");
  const realmEnv = inject("realmEnv");
  // The realm's gateway URL has one port; test files that listen there take turns.
  const release = options.port === inject("gatewayPort") ? await lockPort(options.port) : undefined;
  const db = await createTestDatabase(options.pgAdminUrl ?? inject("pgAdminUrl"), "gw");
  const gateway = await startGateway(
    loadConfig({
      GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
      PORT: String(options.port ?? (await freePort())),
      OIDC_ISSUER: kc.issuer,
      OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
      DATABASE_URL: db.url,
      ...options.env,
    }),
    // TEST_GATEWAY_LOG_LEVEL=debug shows the gateway's log on stdout while debugging a test.
    options.log ?? createLogger(process.env.TEST_GATEWAY_LOG_LEVEL ?? "silent"),
    {
      migrate: true,
      ...(options.routeProbe === undefined ? {} : { routeProbe: options.routeProbe }),
      ...(options.groups === undefined ? {} : { groups: options.groups }),
    },
  ).catch(async (err: unknown) => {
    await release?.();
    await db.drop();
    throw err;
  });
  return {
    gateway,
    databaseUrl: db.url,
    async stop() {
      await gateway.shutdown("test end");
      await release?.();
      await db.drop();
    },
  };
}
