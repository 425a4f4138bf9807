// vitest globalSetup of the integration and e2e projects: one real PostgreSQL and one real
// Keycloak (importing keycloak/realm-export.json) for the whole run, stopped afterwards.
import type { TestProject } from "vitest/node";
import { startKeycloak, testRealmEnv, type RealmEnv } from "./keycloak.ts";
import { startPostgres } from "./postgres.ts";
import { freePort } from "./wait.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    keycloak: { url: string; issuer: string; adminUser: string; adminPassword: string };
    realmEnv: RealmEnv;
    /** The port that MCP_GATEWAY_URL and MCP_GATEWAY_BACKCHANNEL_URL (the realm's gateway URLs) point at on localhost. */
    gatewayPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const gatewayPort = Number(process.env.TEST_GATEWAY_PORT ?? (await freePort()));
  const nextcloudPort = await freePort();
  const started = Date.now();
  const results = await Promise.allSettled([
    startPostgres(),
    startKeycloak(testRealmEnv(`http://localhost:${gatewayPort}`, `http://localhost:${nextcloudPort}`)),
  ]);
  const [pgResult, kcResult] = results;
  if (pgResult.status === "rejected" || kcResult.status === "rejected") {
    // Stop whatever did start, then fail with every reason.
    await Promise.allSettled(
      results.map((r) => (r.status === "fulfilled" ? r.value.stop() : Promise.resolve())),
    );
    const reasons = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
    throw new Error(`test harness could not start:\n${reasons.join("\n")}`);
  }
  const pg = pgResult.value;
  const kc = kcResult.value;
  process.stderr.write(
    `harness: PostgreSQL (${pg.source}) and Keycloak (${kc.source}, ${kc.url}) ready in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  project.provide("pgAdminUrl", pg.adminUrl);
  project.provide("keycloak", {
    url: kc.url,
    issuer: kc.issuer,
    adminUser: kc.adminUser,
    adminPassword: kc.adminPassword,
  });
  project.provide("realmEnv", kc.realmEnv);
  project.provide("gatewayPort", gatewayPort);
  return async () => {
    await Promise.allSettled([kc.stop(), pg.stop()]);
  };
}
