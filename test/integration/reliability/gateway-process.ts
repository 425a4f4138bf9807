// A gateway replica as its own process (`src/main.ts serve`) for the reliability scenarios: the
// way it runs in production, so that SIGTERM, its sockets and its memory are its own.
import { inject } from "vitest";
import { createTestDatabase } from "../../harness/postgres.ts";
import { gatewayCli, waitForReady, type Child } from "../../harness/process.ts";
import type { ScenarioRealm } from "../../harness/scenario-realm.ts";
import { freePort } from "../../harness/wait.ts";

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly child: Child;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code once the process ended. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `serve` with exactly `env` (plus PORT and HOST) and waits for `/readyz` 200. */
export async function startGatewayProcess(
  env: Record<string, string>,
  options: { port?: number; readyTimeoutMs?: number } = {},
): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  const child = gatewayCli(["serve"], { LOG_LEVEL: "warn", ...env, HOST: "127.0.0.1", PORT: String(port) });
  try {
    await waitForReady(child, port, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    child,
    async stop(signal = "SIGTERM") {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.kill(signal);
      return child.exited;
    },
  };
}

/**
 * The environment of a replica whose users sign in through a scenario realm: at `publicUrl`, a
 * database of its own (its drop pushed onto `stops`), Nextcloud at `nextcloudUrl`, the notes
 * toolset; `extra` added.
 */
export async function realmReplicaEnv(
  o: {
    realm: ScenarioRealm;
    publicUrl: string;
    nextcloudUrl: string;
    stops: (() => Promise<unknown>)[];
  },
  extra: Record<string, string> = {},
): Promise<Record<string, string> & { DATABASE_URL: string }> {
  const db = await createTestDatabase(inject("pgAdminUrl"), "gw");
  o.stops.push(() => db.drop());
  return {
    GATEWAY_PUBLIC_URL: o.publicUrl,
    OIDC_ISSUER: o.realm.issuer,
    OIDC_CLIENT_SECRET: o.realm.gatewayClientSecret,
    DATABASE_URL: db.url,
    NEXTCLOUD_URL: o.nextcloudUrl,
    MCP_DEFAULT_APPS: "notes",
    ...extra,
  };
}
