// `npm run sandbox`: the gateway on this machine with everything it needs and nothing to install
// by hand beyond `npm run setup`: a throwaway PostgreSQL, the tests' Keycloak with the project's
// realm and demo users. Prints where to connect; Ctrl-C stops everything.
import { startGateway } from "../src/cli/serve.ts";
import { loadConfig } from "../src/config/index.ts";
import { createLogger } from "../src/log.ts";
import { startKeycloak, testRealmEnv } from "../test/harness/keycloak.ts";
import { createTestDatabase, startPostgres } from "../test/harness/postgres.ts";
import { freePort } from "../test/harness/wait.ts";

const port = Number(process.env.PORT ?? 8080);
const gatewayUrl = `http://localhost:${port}`;
const say = (s: string) => process.stderr.write(`sandbox: ${s}\n`);

const stops: (() => Promise<void>)[] = [];
async function stopAll(code: number): Promise<never> {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  say("starting PostgreSQL and Keycloak (the first start of Keycloak takes about a minute)…");
  const [pg, kc] = await Promise.all([
    startPostgres(),
    startKeycloak(testRealmEnv(gatewayUrl, `http://localhost:${await freePort()}`)),
  ]);
  stops.push(
    () => pg.stop(),
    () => kc.stop(),
  );
  const db = await createTestDatabase(pg.adminUrl, "sandbox");
  const config = loadConfig({
    GATEWAY_PUBLIC_URL: gatewayUrl,
    PORT: String(port),
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: kc.realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: db.url,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  });
  const gateway = await startGateway(config, createLogger(config.logLevel), { migrate: true });
  stops.push(() => gateway.shutdown("sandbox stop"));
  process.stdout.write(`
Nextcloud MCP gateway sandbox is running.

  MCP endpoint     ${config.resourceUrl}
  Health           ${gatewayUrl}/readyz
  Keycloak         ${kc.url}/admin  (admin / ${kc.adminPassword})
  Realm issuer     ${kc.issuer}
  Demo users       alice / alice-demo-password, bob / bob-demo-password

  Claude Code:     claude mcp add --transport http nextcloud ${config.resourceUrl}
  VS Code (.vscode/mcp.json):
    { "servers": { "nextcloud": { "type": "http", "url": "${config.resourceUrl}" } } }
  Pre-registered public client for clients without dynamic registration: mcp-client

Press Ctrl-C to stop everything.
`);
} catch (err) {
  say(`could not start: ${(err as Error).message}`);
  await stopAll(1);
}
