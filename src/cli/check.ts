import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { describeError } from "../errors.ts";
import { IdpClient } from "../idp/index.ts";
import { probeClientCredentials, type ProbeResult } from "../idp/probe.ts";
import type { Logger } from "../log.ts";
import {
  openStore,
  pendingMigrations,
  PGLITE_SUBDIR,
  pgliteExists,
  readMigrations,
  type Migration,
  type Store,
} from "../store/index.ts";

/** One line of the `check` report. */
export interface CheckLine extends ProbeResult {
  name: string;
}

/**
 * `nextcloud-mcp-gateway check`: after the configuration validated, tests that the IdP and the
 * database are reachable and set up for the gateway. Returns every line; ok when all are.
 */
export async function runCheck(config: Config, log: Logger): Promise<CheckLine[]> {
  const lines: CheckLine[] = [{ name: "configuration", ok: true, message: "all variables valid" }];
  const idp = new IdpClient(
    {
      issuer: config.oidc.issuer,
      clientId: config.oidc.clientId,
      clientSecret: config.oidc.clientSecret,
      allowInsecureHttp: config.allowInsecureHttp,
      timeoutMs: config.outboundTimeoutMs,
    },
    log,
  );
  try {
    const loaded = await idp.load();
    lines.push({ name: "idp discovery", ok: true, message: `issuer ${loaded.metadata.issuer}` });
    lines.push({
      name: "idp keys",
      ok: true,
      message: `${loaded.jwks.jwks()?.keys.length ?? 0} signing keys loaded`,
    });
    lines.push({ name: "idp client", ...(await probeClientCredentials(loaded, config.oidc.clientId)) });
  } catch (err) {
    const status = idp.status;
    lines.push({
      name: status.discovery === "loaded" ? "idp keys" : "idp discovery",
      ok: false,
      message: `${status.error ?? describeError(err)}; check OIDC_ISSUER and that the IdP is reachable from here`,
    });
  }
  const target = config.database;
  if (target.backend === "pglite" && !pgliteExists(target.dataDir)) {
    // `check` only looks: the first `serve` or `migrate` creates the embedded database.
    const pending = await readMigrations();
    lines.push(
      {
        name: "database",
        ok: true,
        message: `embedded database (PGlite) in ${join(target.dataDir, PGLITE_SUBDIR)} not created yet; \`serve\` or \`migrate\` creates it`,
      },
      pendingLine(pending),
    );
    return lines;
  }
  let store: Store | undefined;
  try {
    store = await openStore(target, {
      poolMax: 1,
      connectTimeoutS: Math.ceil(config.outboundTimeoutMs / 1000),
    });
    const pending = await pendingMigrations(store);
    lines.push({
      name: "database",
      ok: true,
      message:
        store.backend === "postgres"
          ? "PostgreSQL reachable"
          : `embedded database (PGlite) in ${store.location}`,
    });
    lines.push(pendingLine(pending));
  } catch (err) {
    const fix =
      target.backend === "postgres"
        ? "check DATABASE_URL and that PostgreSQL is reachable"
        : "check DATA_DIR, or set DATABASE_URL to use PostgreSQL";
    lines.push({ name: "database", ok: false, message: `${describeError(err)}; ${fix}` });
  } finally {
    await store?.close();
  }
  return lines;
}

function pendingLine(pending: readonly Migration[]): CheckLine {
  return pending.length === 0
    ? { name: "database schema", ok: true, message: "up to date" }
    : {
        name: "database schema",
        ok: false,
        message: `${pending.length} migration(s) pending (${pending.map((m) => m.file).join(", ")}); run \`nextcloud-mcp-gateway migrate\``,
      };
}

/** Formats the report for a terminal. */
export function formatCheck(lines: readonly CheckLine[]): string {
  const width = Math.max(...lines.map((l) => l.name.length));
  return (
    lines.map((l) => `${l.ok ? "ok  " : "FAIL"}  ${l.name.padEnd(width)}  ${l.message}`).join("\n") + "\n"
  );
}
