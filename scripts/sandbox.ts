// `npm run sandbox`: the whole system on this machine with nothing to install by hand beyond
// `npm run setup`: the gateway on its embedded database (PGlite in .data/sandbox), the tests'
// Keycloak with the project's realm and demo users, and the Nextcloud stand-in seeded with demo
// notes, files, calendars, tasks and contacts (CalDAV/CardDAV through Radicale). Prints where to
// connect; Ctrl-C stops everything.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startGateway } from "../src/cli/serve.ts";
import { loadConfig } from "../src/config/index.ts";
import { createLogger } from "../src/log.ts";
import { startKeycloak, testRealmEnv } from "../test/harness/keycloak.ts";
import { freePort } from "../test/harness/wait.ts";
import { startNextcloudStandin } from "../test/standin/index.ts";

const port = Number(process.env.PORT ?? 8080);
const gatewayUrl = `http://localhost:${port}`;
const dataDir = process.env.DATA_DIR ?? ".data/sandbox";
const say = (s: string) => process.stderr.write(`sandbox: ${s}\n`);

const stops: (() => Promise<void>)[] = [];
async function stopAll(code: number): Promise<never> {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

const DEMO_FILES: Record<string, Record<string, string>> = {
  alice: {
    "Notes/Welcome.md":
      "# Welcome\n\nThis note lives in the Nextcloud stand-in. Ask your assistant to list your notes.\n",
    "Notes/Work/Standup.md": "# Standup\n\n- shipped the MCP gateway sandbox\n- next: calendar tools\n",
    "Documents/Project plan.md":
      "# Project plan\n\n1. Sign in through Keycloak\n2. Let the assistant read this file\n",
    "Documents/budget.csv": "item,amount\nlaptops,4200\ntravel,1300\n",
  },
  bob: {
    "Notes/Groceries.md": "# Groceries\n\n- coffee\n- oat milk\n",
    "Documents/Readme.md": "Bob's files: alice cannot see them.\n",
  },
};

try {
  say("starting Keycloak and the Nextcloud stand-in (the first start of Keycloak takes about a minute)…");
  const kc = await startKeycloak(testRealmEnv(gatewayUrl, `http://localhost:${await freePort()}`));
  stops.push(() => kc.stop());
  // uid = preferred_username, as `occ user_oidc:provider … --mapping-uid=preferred_username --unique-uid=0`.
  const nextcloud = await startNextcloudStandin({
    issuer: kc.issuer,
    audience: "nextcloud",
    uidClaim: "preferred_username",
  });
  stops.push(() => nextcloud.stop());
  for (const [uid, files] of Object.entries(DEMO_FILES)) await nextcloud.seed(uid, files);
  // Calendars and contacts are seeded while the gateway starts.
  const groupware = Promise.all(
    (["alice", "bob"] as const).map((who) => nextcloud.seedDemoGroupware(who, who)),
  );
  groupware.catch(() => undefined); // awaited below; this only keeps an early failure handled
  mkdirSync(dataDir, { recursive: true });
  // A sealing key of the sandbox's own, kept next to its database, so that /connect works.
  const keyFile = join(dataDir, "sealing-key");
  if (!existsSync(keyFile)) {
    writeFileSync(keyFile, `sandbox:${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  }
  const config = loadConfig({
    GATEWAY_PUBLIC_URL: gatewayUrl,
    PORT: String(port),
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: kc.realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    NEXTCLOUD_URL: nextcloud.url,
    DATA_DIR: dataDir,
    SEALING_KEYS: process.env.SEALING_KEYS ?? readFileSync(keyFile, "utf8").trim(),
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  });
  const gateway = await startGateway(config, createLogger(config.logLevel), { migrate: true });
  stops.push(() => gateway.shutdown("sandbox stop"));
  await groupware;
  process.stdout.write(`
Nextcloud MCP gateway sandbox is running.

  MCP endpoint     ${config.resourceUrl}
  Account page     ${gatewayUrl}/account  (grant offline access: ${gatewayUrl}/connect)
  Health           ${gatewayUrl}/readyz
  Keycloak         ${kc.url}/admin  (admin / ${kc.adminPassword})
  Realm issuer     ${kc.issuer}
  Nextcloud        ${nextcloud.url}  (stand-in with demo notes, files, calendars, tasks and contacts)
  Demo users       alice / alice-demo-password, bob / bob-demo-password
  Database         embedded (PGlite) in ${dataDir}

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
