// A real gateway for integration tests: its own database, the real Keycloak, the realm's URL as its
// public URL (the audience Keycloak puts in MCP tokens), listening on `port` or a free one.
import { inject } from "vitest";
import { startGateway, type RunningGateway } from "../../../src/cli/serve.ts";
import { loadConfig } from "../../../src/config/index.ts";
import { createLogger } from "../../../src/log.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { freePort } from "../../harness/wait.ts";

/** A running gateway and how to stop it and drop its database. */
export interface TestGateway {
  gateway: RunningGateway;
  stop(): Promise<void>;
}

export async function startTestGateway(
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<TestGateway> {
  const kc = inject("keycloak");
  const realmEnv = inject("realmEnv");
  const db = await createTestDatabase(inject("pgAdminUrl"), "gw");
  const gateway = await startGateway(
    loadConfig({
      GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
      PORT: String(options.port ?? (await freePort())),
      OIDC_ISSUER: kc.issuer,
      OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
      DATABASE_URL: db.url,
      ...options.env,
    }),
    createLogger("silent"),
    { migrate: true },
  );
  return {
    gateway,
    async stop() {
      await gateway.shutdown("test end");
      await db.drop();
    },
  };
}
