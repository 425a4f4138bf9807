import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { decodeJwt } from "jose";
import { verifyAccessToken } from "../auth/index.ts";
import { describeError, GatewayError } from "../errors.ts";
import { routeMatrixLines } from "./check-routes.ts";
import {
  IdpClient,
  idpSettingsOf,
  ownClientToken,
  probeClientCredentials,
  type Idp,
  type ProbeResult,
} from "../idp/index.ts";
import { grantsByKey } from "../jobs/index.ts";
import { fetchCapabilities } from "../nextcloud/index.ts";
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

/** The scope whose tokens /mcp accepts; its audience mapper must name the gateway's resource URL. */
const TOOLS_SCOPE = "mcp:tools";

/** One line of the `check` report. */
export interface CheckLine extends ProbeResult {
  name: string;
}

/** What the sections of `check` share: the configuration, and the IdP once the idp section loaded it. */
interface CheckContext {
  readonly config: Config;
  readonly log: Logger;
  idp?: Idp;
}

/** One part of the report; sections run in order, each adds its lines. */
type CheckSection = (ctx: CheckContext) => Promise<CheckLine[]>;

/**
 * The report's sections, in order. A new part of `check` is a new section here (it may read
 * `ctx.idp`, loaded by the idp section).
 */
const SECTIONS: readonly CheckSection[] = [idpSection, nextcloudSection, databaseSection];

/**
 * `nextcloud-mcp-gateway check`: after the configuration validated, tests that the IdP, Nextcloud
 * and the database are reachable and set up for the gateway. Returns every line; ok when all are.
 */
export async function runCheck(config: Config, log: Logger): Promise<CheckLine[]> {
  const lines: CheckLine[] = [{ name: "configuration", ok: true, message: "all variables valid" }];
  const ctx: CheckContext = { config, log };
  for (const section of SECTIONS) lines.push(...(await section(ctx)));
  return lines;
}

/** Discovery, keys, the gateway's client credentials, and the audience the realm gives MCP tokens. */
async function idpSection(ctx: CheckContext): Promise<CheckLine[]> {
  const { config } = ctx;
  const idp = new IdpClient(idpSettingsOf(config), ctx.log);
  try {
    const loaded = await idp.load();
    ctx.idp = loaded;
    const client = await probeClientCredentials(loaded, config.oidc.clientId);
    return [
      { name: "idp discovery", ok: true, message: `issuer ${loaded.metadata.issuer}` },
      { name: "idp keys", ok: true, message: `${loaded.jwks.jwks()?.keys.length ?? 0} signing keys loaded` },
      { name: "idp client", ...client },
      client.ok
        ? await audienceLine(config, loaded)
        : {
            name: "idp audience",
            ok: false,
            message: "not checked: the IdP refused the client (idp client)",
          },
    ];
  } catch (err) {
    const status = idp.status;
    return [
      {
        name: status.discovery === "loaded" ? "idp keys" : "idp discovery",
        ok: false,
        message: `${status.error ?? describeError(err)}; check OIDC_ISSUER and that the IdP is reachable from here`,
      },
    ];
  }
}

/**
 * Whether tokens the realm issues for the `mcp:tools` scope name this gateway's resource URL in
 * their audience (else every /mcp request gets 401): proven with a token of the gateway's own
 * client (client credentials), verified as /mcp verifies (without the own-client refusal).
 */
async function audienceLine(config: Config, idp: Idp): Promise<CheckLine> {
  const name = "idp audience";
  const got = await ownClientToken(idp, config.oidc.clientId, TOOLS_SCOPE);
  if (!got.ok) return { name, ok: false, message: got.message };
  const resource = config.resourceUrl;
  try {
    const verified = await verifyAccessToken(
      got.accessToken,
      { issuer: config.oidc.issuer, audience: resource },
      idp.jwks,
    );
    if (!verified.scopes.includes(TOOLS_SCOPE)) {
      return {
        name,
        ok: false,
        message: `the IdP left the scope ${TOOLS_SCOPE} out of the token (scope "${verified.scopes.join(" ")}"); in Keycloak make ${TOOLS_SCOPE} an optional client scope of ${config.oidc.clientId} and of the MCP clients`,
      };
    }
    return { name, ok: true, message: `tokens with scope ${TOOLS_SCOPE} name ${resource} in their audience` };
  } catch (err) {
    const detail = err instanceof GatewayError ? (err.detail ?? "") : describeError(err);
    if (!detail.startsWith("aud")) {
      return { name, ok: false, message: `the realm's ${TOOLS_SCOPE} token does not verify: ${detail}` };
    }
    const audience = audienceOf(got.accessToken);
    const candidates = audience
      .filter((a) => /^https?:\/\/[^/]+.*\/mcp\/?$/.test(a))
      .map((a) => a.replace(/\/mcp\/?$/, ""));
    const setUrl =
      candidates.length > 0
        ? `if ${candidates.join(" or ")} is this gateway's public URL, set GATEWAY_PUBLIC_URL to it; otherwise `
        : "";
    return {
      name,
      ok: false,
      message: `tokens with scope ${TOOLS_SCOPE} have aud ${JSON.stringify(audience)}, which lacks ${resource}, so every /mcp request would get 401; ${setUrl}in the realm set the ${TOOLS_SCOPE} client scope's audience mapper "audience: gateway resource URL" (included.custom.audience) to ${resource}`,
    };
  }
}

function audienceOf(token: string): string[] {
  try {
    const { aud } = decodeJwt(token);
    return typeof aud === "string" ? [aud] : (aud ?? []);
  } catch {
    return [];
  }
}

/** The database, its schema and the offline-access key ring. */
async function databaseSection({ config }: CheckContext): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
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
    if (pending.length === 0) lines.push(await offlineAccessLine(config, store));
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

/**
 * Offline access: off without SEALING_KEYS; else the ring and whether every stored grant can be
 * read with it (key ids and counts only).
 */
async function offlineAccessLine(config: Config, store: Store): Promise<CheckLine> {
  const name = "offline access";
  const ring = config.sealingKeys?.map((k) => k.kid);
  if (ring === undefined) {
    return {
      name,
      ok: true,
      message: "off: SEALING_KEYS is not set, so /connect and grant jobs are disabled",
    };
  }
  const usage = await grantsByKey(store.db);
  const count = (keys: typeof usage) => keys.reduce((n, u) => n + u.active + u.revoked, 0);
  const missing = usage.filter((u) => !ring.includes(u.keyId));
  if (missing.length > 0) {
    return {
      name,
      ok: false,
      message: `${count(missing)} stored grant(s) sealed with ${missing.map((u) => u.keyId).join(", ")}, which SEALING_KEYS lacks, cannot be read; put the key(s) back (after the current one)`,
    };
  }
  const older = count(usage.filter((u) => u.keyId !== ring[0]));
  const active = usage.reduce((n, u) => n + u.active, 0);
  return {
    name,
    ok: true,
    message: `on, keys ${ring.join(", ")} (${ring[0] ?? ""} seals); ${count(usage)} grant(s), ${active} active${older > 0 ? `; ${older} not yet under ${ring[0] ?? ""}: run \`nextcloud-mcp-gateway keys reencrypt\`` : ""}`,
  };
}

/** Nextcloud reachable, with its version and the apps the tools use (capabilities are public). */
async function nextcloudSection({ config }: CheckContext): Promise<CheckLine[]> {
  return [await nextcloudLine(config), ...(await routeMatrixLines(config.nextcloud))];
}

async function nextcloudLine(config: Config): Promise<CheckLine> {
  if (config.nextcloud === undefined) {
    return {
      name: "nextcloud",
      ok: false,
      message: "NEXTCLOUD_URL is not set: the gateway offers no Nextcloud tools",
    };
  }
  try {
    const caps = await fetchCapabilities({
      baseUrl: config.nextcloud.url,
      timeoutMs: config.nextcloud.timeoutMs,
      token: () => "",
    });
    const apps = caps.notes ? "notes" : "no notes app";
    return {
      name: "nextcloud",
      ok: true,
      message: `Nextcloud ${caps.version.string} at ${config.nextcloud.url} (${apps})`,
    };
  } catch (err) {
    return {
      name: "nextcloud",
      ok: false,
      message: `${describeError(err)}; check NEXTCLOUD_URL and that Nextcloud is reachable from here`,
    };
  }
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
