import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSealingKeys, type SealingKey } from "../store/sealing.ts";
import { isLoopbackHost, variables, type Env, type VariableDoc } from "./schema.ts";

/**
 * A secret variable's value: `NAME`, or the contents of the file `NAME_FILE` names (a Kubernetes
 * or Docker secret mounted as a file; one trailing newline dropped). Both set is a problem.
 */
function secretValue(
  env: Record<string, string | undefined>,
  name: string,
  problems: string[],
): string | undefined {
  const direct = env[name] === "" ? undefined : env[name];
  const file = env[`${name}_FILE`] === "" ? undefined : env[`${name}_FILE`];
  if (file === undefined) return direct;
  if (direct !== undefined) {
    problems.push(`${name}_FILE: ${name} is set too; set one of them`);
    return direct;
  }
  try {
    const value = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    return value === "" ? undefined : value;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    problems.push(
      `${name}_FILE: cannot read ${file} (${typeof code === "string" ? code : "unreadable"}); mount the secret there or fix the path`,
    );
    return undefined;
  }
}

/** The gateway's configuration, validated and shaped for use. */
export interface Config {
  /** Public base URL without trailing slash. */
  publicUrl: string;
  /** The protected resource: `<publicUrl>/mcp`, the audience tokens must carry. */
  resourceUrl: string;
  listen: { host: string; port: number };
  /** Extra browser origins allowed on /mcp (the public URL's origin always is). */
  allowedOrigins: readonly string[];
  /** Scopes the 401 challenge names (what clients ask for at sign-in). */
  signInScopes: readonly string[];
  oidc: { issuer: string; clientId: string; clientSecret: string };
  /** Plain http allowed to non-loopback hosts (test networks only). */
  allowInsecureHttp: boolean;
  /** Nextcloud, when configured: where, which audience and scope the exchange asks for, time limit. */
  nextcloud: { url: string; audience: string; tokenScope: string; timeoutMs: number } | undefined;
  /** Which tools exist and which a user sees; app ids are checked against the groups at start-up. */
  tools: {
    defaultApps: readonly string[] | "all";
    allow: readonly string[];
    deny: readonly string[];
    appsClaim: { name: string; prefix: string } | undefined;
  };
  /** PostgreSQL when DATABASE_URL is set, else the embedded PGlite in `<DATA_DIR>/pglite`. */
  database: { backend: "postgres"; url: string; poolMax: number } | { backend: "pglite"; dataDir: string };
  /** The key ring for sealing refresh tokens, current key first; undefined turns offline access off. */
  sealingKeys: readonly SealingKey[] | undefined;
  /** Background jobs: whether this process schedules them, when, and retention. */
  jobs: {
    enabled: boolean;
    housekeepingSchedule: string;
    retentionJobRunsDays: number;
    retentionAuditDays: number;
    retentionRevokedGrantsDays: number;
    keepaliveSchedule: string;
    /** Refresh a grant idle for longer than this share of `offlineIdleTimeoutSeconds`. */
    keepaliveIdleShare: number;
    keepaliveConcurrency: number;
    reencryptSchedule: string;
  };
  /** The content index (`search-index` job and the search tool on it). */
  searchIndex: { enabled: boolean; schedule: string; language: string; maxFileBytes: number };
  /** POST /webhooks/nextcloud, when WEBHOOK_SECRET is set: secrets (current first), bounds. */
  webhooks:
    | {
        secrets: readonly string[];
        maxBodyBytes: number;
        maxAgeSeconds: number;
        /** Per client address, or undefined when off (0, or RATE_LIMITS_ENABLED=false). */
        perMinute: number | undefined;
      }
    | undefined;
  /** Back-channel logout: how long after its `iat` a logout token is accepted, in seconds. */
  logoutTokenMaxAgeSeconds: number;
  /** The IdP's offline session idle timeout, in seconds. */
  offlineIdleTimeoutSeconds: number;
  /** Per-replica request limits (requests per minute; 0 = that limit off), or undefined when all are off. */
  rateLimits:
    { anonymousPerIp: number; anonymousGlobal: number; mcpPerUser: number; maxKeys: number } | undefined;
  /** Reverse proxies whose X-Forwarded-For is believed (addresses and CIDR ranges); empty: none. */
  trustedProxies: readonly string[];
  /** Access to `/metrics`: a bearer token, and/or its own listener instead of the public one. */
  metrics: { token: string | undefined; listen: { host: string; port: number } | undefined };
  logLevel: Env["LOG_LEVEL"];
  outboundTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Node's headersTimeout and requestTimeout of the HTTP listeners. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number };
}

/** Thrown by {@link loadConfig}; `problems` names every variable that is wrong and how to fix it. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      `Configuration is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nSee docs/configuration.md for every variable.",
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

function insecureHttp(name: string, url: string): string | undefined {
  const u = new URL(url);
  if (u.protocol === "http:" && !isLoopbackHost(u.hostname)) {
    return `${name}: uses http:// on a host other than localhost; use https://, or set ALLOW_INSECURE_HTTP=true on an isolated test network`;
  }
  return undefined;
}

/**
 * Reads and validates the environment once; reports every problem at once.
 * @throws ConfigError listing each wrong variable with what to do.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Each variable is parsed on its own so that one message can list every problem at once,
  // including the checks across variables. Empty strings count as unset, as in most env files.
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(variables)) {
    const doc: VariableDoc = v.doc;
    const raw =
      doc.secret === true ? secretValue(env, name, problems) : env[name] === "" ? undefined : env[name];
    const r = v.schema.safeParse(raw);
    if (r.success) values[name] = r.data;
    else problems.push(...new Set(r.error.issues.map((issue) => `${name}: ${issue.message}`)));
  }
  const e = values as Partial<Env>;
  if (e.ALLOW_INSECURE_HTTP === false) {
    for (const [name, url] of [
      ["GATEWAY_PUBLIC_URL", e.GATEWAY_PUBLIC_URL],
      ["OIDC_ISSUER", e.OIDC_ISSUER],
      ["NEXTCLOUD_URL", e.NEXTCLOUD_URL === "" ? undefined : e.NEXTCLOUD_URL],
    ] as const) {
      const p = url === undefined ? undefined : insecureHttp(name, url);
      if (p) problems.push(p);
    }
  }
  if (e.GATEWAY_PUBLIC_URL !== undefined && new URL(e.GATEWAY_PUBLIC_URL).pathname.endsWith("/mcp")) {
    problems.push(
      "GATEWAY_PUBLIC_URL: ends in /mcp; give the base URL (the gateway adds /mcp), e.g. https://mcp.example.com",
    );
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    problems.push(
      `METRICS_PORT: the same as PORT (${e.PORT}); give the metrics listener a port of its own, e.g. 9464`,
    );
  }
  if (e.SEARCH_INDEX_ENABLED === true && (e.SEALING_KEYS === "" || e.NEXTCLOUD_URL === "")) {
    problems.push(
      "SEARCH_INDEX_ENABLED: the content index reads Nextcloud with each user's offline grant; set SEALING_KEYS and NEXTCLOUD_URL too, or set SEARCH_INDEX_ENABLED=false",
    );
  }
  if (e.WEBHOOK_SECRET !== undefined && e.WEBHOOK_SECRET !== "" && e.SEARCH_INDEX_ENABLED === false) {
    problems.push(
      "WEBHOOK_SECRET: the webhook endpoint only schedules re-indexing; set SEARCH_INDEX_ENABLED=true too, or unset WEBHOOK_SECRET",
    );
  }
  if (
    e.WEBHOOK_SECRET_PREVIOUS !== undefined &&
    e.WEBHOOK_SECRET_PREVIOUS !== "" &&
    e.WEBHOOK_SECRET === ""
  ) {
    problems.push(
      "WEBHOOK_SECRET_PREVIOUS: set without WEBHOOK_SECRET; set the new secret in WEBHOOK_SECRET, or unset both",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const parsed = values as Env;
  return {
    publicUrl: parsed.GATEWAY_PUBLIC_URL,
    resourceUrl: `${e.GATEWAY_PUBLIC_URL}/mcp`,
    listen: { host: parsed.HOST, port: parsed.PORT },
    allowedOrigins: parsed.ALLOWED_ORIGINS,
    signInScopes: parsed.MCP_SIGN_IN_SCOPES,
    oidc: {
      issuer: parsed.OIDC_ISSUER,
      clientId: parsed.OIDC_CLIENT_ID,
      clientSecret: parsed.OIDC_CLIENT_SECRET,
    },
    allowInsecureHttp: parsed.ALLOW_INSECURE_HTTP,
    nextcloud:
      parsed.NEXTCLOUD_URL === ""
        ? undefined
        : {
            url: parsed.NEXTCLOUD_URL,
            audience: parsed.NEXTCLOUD_AUDIENCE,
            tokenScope: parsed.NEXTCLOUD_TOKEN_SCOPE,
            timeoutMs: parsed.NEXTCLOUD_TIMEOUT_MS,
          },
    tools: {
      defaultApps: parsed.MCP_DEFAULT_APPS.includes("all") ? "all" : parsed.MCP_DEFAULT_APPS,
      allow: parsed.TOOLS_ALLOW,
      deny: parsed.TOOLS_DENY,
      appsClaim:
        parsed.APPS_CLAIM === "" ? undefined : { name: parsed.APPS_CLAIM, prefix: parsed.APPS_CLAIM_PREFIX },
    },
    database:
      parsed.DATABASE_URL === ""
        ? { backend: "pglite", dataDir: resolve(parsed.DATA_DIR) }
        : { backend: "postgres", url: parsed.DATABASE_URL, poolMax: parsed.DATABASE_POOL_MAX },
    jobs: {
      enabled: parsed.JOBS_ENABLED,
      housekeepingSchedule: parsed.HOUSEKEEPING_SCHEDULE,
      retentionJobRunsDays: parsed.RETENTION_JOB_RUNS_DAYS,
      retentionAuditDays: parsed.RETENTION_AUDIT_DAYS,
      retentionRevokedGrantsDays: parsed.RETENTION_REVOKED_GRANTS_DAYS,
      keepaliveSchedule: parsed.KEEPALIVE_SCHEDULE,
      keepaliveIdleShare: parsed.KEEPALIVE_IDLE_SHARE,
      keepaliveConcurrency: parsed.KEEPALIVE_CONCURRENCY,
      reencryptSchedule: parsed.REENCRYPT_SCHEDULE,
    },
    searchIndex: {
      enabled: parsed.SEARCH_INDEX_ENABLED,
      schedule: parsed.SEARCH_INDEX_SCHEDULE,
      language: parsed.SEARCH_LANGUAGE,
      maxFileBytes: parsed.SEARCH_INDEX_MAX_FILE_BYTES,
    },
    webhooks:
      parsed.WEBHOOK_SECRET === ""
        ? undefined
        : {
            secrets: [parsed.WEBHOOK_SECRET, parsed.WEBHOOK_SECRET_PREVIOUS].filter((x) => x !== ""),
            maxBodyBytes: parsed.WEBHOOK_MAX_BODY_BYTES,
            maxAgeSeconds: parsed.WEBHOOK_MAX_AGE_SECONDS,
            perMinute:
              parsed.RATE_LIMITS_ENABLED && parsed.WEBHOOK_RATE_LIMIT_PER_MINUTE > 0
                ? parsed.WEBHOOK_RATE_LIMIT_PER_MINUTE
                : undefined,
          },
    offlineIdleTimeoutSeconds: parsed.OFFLINE_IDLE_TIMEOUT_SECONDS,
    logoutTokenMaxAgeSeconds: parsed.LOGOUT_TOKEN_MAX_AGE_SECONDS,
    sealingKeys: parsed.SEALING_KEYS === "" ? undefined : parseSealingKeys(parsed.SEALING_KEYS).keys,
    rateLimits: parsed.RATE_LIMITS_ENABLED
      ? {
          anonymousPerIp: parsed.RATE_LIMIT_ANONYMOUS_PER_IP,
          anonymousGlobal: parsed.RATE_LIMIT_ANONYMOUS_GLOBAL,
          mcpPerUser: parsed.RATE_LIMIT_MCP_PER_USER,
          maxKeys: parsed.RATE_LIMIT_MAX_KEYS,
        }
      : undefined,
    trustedProxies: parsed.TRUSTED_PROXIES,
    metrics: {
      token: parsed.METRICS_TOKEN === "" ? undefined : parsed.METRICS_TOKEN,
      listen:
        parsed.METRICS_PORT === undefined
          ? undefined
          : { host: parsed.METRICS_HOST, port: parsed.METRICS_PORT },
    },
    logLevel: parsed.LOG_LEVEL,
    outboundTimeoutMs: parsed.OUTBOUND_TIMEOUT_MS,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    http: {
      headersTimeoutMs: parsed.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: parsed.HTTP_REQUEST_TIMEOUT_MS,
    },
  };
}
