import { validate as cronValidate } from "node-cron";
import { z } from "zod";
import { parseSealingKeys } from "../store/sealing.ts";
import { parseAddressRange } from "./address.ts";

/** What the generated reference (docs/configuration.md) shows for each variable. */
export interface VariableDoc {
  /** One or two sentences for operators: what it does and when to change it. */
  description: string;
  /** A value that would work, shown in the docs. */
  example: string;
  /** Never echoed in errors or logs. */
  secret?: boolean;
  /** Section heading in the docs. */
  group:
    | "Public URL and listener"
    | "Identity provider"
    | "Nextcloud"
    | "Tools"
    | "Database"
    | "Offline access"
    | "Background jobs"
    | "Rate limits"
    | "Webhooks"
    | "Operations";
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** True for the host names that only this machine can reach. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || hostname.endsWith(".localhost");
}

const httpUrl = (what: string, example: string) =>
  z
    .string({
      error: (i) => (i.input === undefined ? `missing; set it to ${what}, e.g. ${example}` : undefined),
    })
    .trim()
    .refine((s) => URL.canParse(s), { error: `not a URL; set it to ${what}, e.g. ${example}` })
    .transform((s) => new URL(s))
    .refine((u) => u.protocol === "https:" || u.protocol === "http:", {
      error: `must start with https:// (or http:// on this machine only), e.g. ${example}`,
    })
    .refine((u) => u.search === "" && u.hash === "", { error: "must not carry a query string or fragment" })
    .refine((u) => u.username === "" && u.password === "", {
      error: "must not carry a user name or password",
    })
    .transform((u) => u.href.replace(/\/+$/, ""));

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: `not a number; give a whole number from ${min} to ${max}` })
    .int({ error: `not a whole number; give a whole number from ${min} to ${max}` })
    .min(min, { error: `too small; give a whole number from ${min} to ${max}` })
    .max(max, { error: `too large; give a whole number from ${min} to ${max}` });

/** A comma-separated list of tool names or app ids (lowercase words joined by "_"). */
const nameList = (defaultValue: string) =>
  z
    .string()
    .trim()
    .default(defaultValue)
    .transform((s) => [
      ...new Set(
        s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .refine((list) => list.every((x) => /^[a-z]+(_[a-z]+)*$/.test(x)), {
      error: 'not a list of names; give comma-separated tool names or app ids, e.g. "notes,files_read"',
    });

const boolean = (defaultValue = false) =>
  z.stringbool({ error: 'not a boolean; use "true" or "false"' }).default(defaultValue);

/**
 * Every environment variable the gateway reads, with its validation and its documentation.
 * docs/configuration.md is generated from this table (`npm run docs:gen`); a test fails on drift.
 */
export const variables = {
  GATEWAY_PUBLIC_URL: {
    schema: httpUrl("the URL MCP clients use to reach the gateway", "https://mcp.example.com"),
    doc: {
      group: "Public URL and listener",
      description:
        "The gateway's public base URL, as MCP clients and browsers reach it (behind any proxy). The MCP endpoint is `<GATEWAY_PUBLIC_URL>/mcp`, which is also the audience tokens must carry and the `resource` of the protected resource metadata; it is never derived from the Host header. https is required except on loopback hosts.",
      example: "https://mcp.example.com",
    },
  },
  HOST: {
    schema: z
      .string()
      .trim()
      .min(1, { error: "empty; give an address to listen on, e.g. 0.0.0.0" })
      .default("127.0.0.1"),
    doc: {
      group: "Public URL and listener",
      description:
        "Address the HTTP server listens on. The default only accepts connections from this machine; use `0.0.0.0` in a container.",
      example: "0.0.0.0",
    },
  },
  PORT: {
    schema: integer(1, 65535).default(8080),
    doc: {
      group: "Public URL and listener",
      description: "TCP port the HTTP server listens on.",
      example: "8080",
    },
  },
  ALLOWED_ORIGINS: {
    schema: z
      .string()
      .trim()
      .default("")
      .transform((s) =>
        s
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((o) => /^https?:\/\/[^/?#\s]+$/.test(o)), {
        error:
          'not a list of origins; give comma-separated scheme://host[:port] values, e.g. "https://inspector.example.com,http://localhost:*"',
      }),
    doc: {
      group: "Public URL and listener",
      description:
        "Browser origins allowed to call /mcp besides the gateway's own (a request whose `Origin` header is not allowed gets 403, which stops DNS-rebinding and cross-site calls). Comma-separated; `:*` as the port allows any port, e.g. `http://localhost:*` for a local MCP Inspector. While the gateway listens on loopback (HOST), loopback origins are allowed too. Requests without an `Origin` header (desktop clients) are not affected.",
      example: "https://inspector.example.com,http://localhost:*",
    },
  },
  MCP_SIGN_IN_SCOPES: {
    schema: z
      .string()
      .trim()
      .default("mcp:tools mcp:write")
      .transform((s) => [...new Set(s.split(/[\s,]+/).filter(Boolean))])
      .refine(
        (list) => list.includes("mcp:tools") && list.every((x) => x === "mcp:tools" || x === "mcp:write"),
        {
          error: 'must be "mcp:tools" or "mcp:tools mcp:write"',
        },
      ),
    doc: {
      group: "Public URL and listener",
      description:
        "Scopes named in the 401 challenge, which MCP clients request when they sign in (and register with). The default lets users grant write access at the first sign-in; `mcp:tools` alone makes sign-ins read-only, and tools that change data then stay hidden until a client asks for `mcp:write` itself.",
      example: "mcp:tools",
    },
  },
  OIDC_ISSUER: {
    schema: httpUrl("the issuer URL of your IdP realm", "https://sso.example.com/realms/nextcloud-mcp"),
    doc: {
      group: "Identity provider",
      description:
        "Issuer of the IdP realm that MCP clients, the gateway and Nextcloud's user_oidc all trust. It must be the exact `issuer` of the discovery document (`<OIDC_ISSUER>/.well-known/openid-configuration`); tokens whose `iss` differs are refused.",
      example: "https://sso.example.com/realms/nextcloud-mcp",
    },
  },
  OIDC_CLIENT_ID: {
    schema: z
      .string()
      .trim()
      .min(1, { error: "empty; give the gateway's client id at the IdP" })
      .default("mcp-gateway"),
    doc: {
      group: "Identity provider",
      description:
        "Client id of the gateway at the IdP (confidential client with standard token exchange enabled). Keycloak exchanges only tokens whose `aud` names this client, so the realm's `mcp:tools` scope adds it to MCP tokens.",
      example: "mcp-gateway",
    },
  },
  OIDC_CLIENT_SECRET: {
    schema: z
      .string({
        error: (i) =>
          i.input === undefined ? "missing; set it to the gateway client's secret at the IdP" : undefined,
      })
      .min(1, { error: "empty; set it to the gateway client's secret at the IdP" }),
    doc: {
      group: "Identity provider",
      description:
        "Secret of the gateway's client at the IdP (Keycloak: Clients → mcp-gateway → Credentials). Never logged.",
      example: "<from your IdP>",
      secret: true,
    },
  },
  NEXTCLOUD_URL: {
    schema: z
      .string()
      .trim()
      .default("")
      .refine((s) => s === "" || URL.canParse(s), {
        error: "not a URL; set it to your Nextcloud's base URL, e.g. https://cloud.example.com",
      })
      .transform((s) => s.replace(/\/+$/, "")),
    doc: {
      group: "Nextcloud",
      description:
        "Base URL of the Nextcloud the tools work in (the one that trusts the IdP through user_oidc). Unset, the gateway offers no Nextcloud tools and `check` fails. https is required except on loopback hosts.",
      example: "https://cloud.example.com",
    },
  },
  NEXTCLOUD_AUDIENCE: {
    schema: z
      .string()
      .trim()
      .min(1, { error: "empty; give the client id Nextcloud's user_oidc checks" })
      .default("nextcloud"),
    doc: {
      group: "Nextcloud",
      description:
        "The `audience` of every token exchange (RFC 8693): the client id that Nextcloud's user_oidc checks in `aud` (its `--clientid`).",
      example: "nextcloud",
    },
  },
  NEXTCLOUD_TOKEN_SCOPE: {
    schema: z.string().trim().default("nextcloud-audience"),
    doc: {
      group: "Nextcloud",
      description:
        "The `scope` sent with each token exchange; in the shipped Keycloak realm the `nextcloud-audience` scope is what adds the Nextcloud client to the exchanged token's audience. Empty sends none.",
      example: "nextcloud-audience",
    },
  },
  NEXTCLOUD_TIMEOUT_MS: {
    schema: integer(500, 300_000).default(30_000),
    doc: {
      group: "Nextcloud",
      description:
        "Time limit for each call to Nextcloud, in milliseconds, retries included: a read answered 429 or 503 is retried (after its `Retry-After`, at most 5 s) only while the wait fits in this limit; writes are never retried.",
      example: "30000",
    },
  },
  MCP_DEFAULT_APPS: {
    schema: nameList("notes,files,calendar,search").refine((l) => l.length > 0, {
      error: 'is empty; give "all" or comma-separated app ids, e.g. "notes,files,calendar"',
    }),
    doc: {
      group: "Tools",
      description:
        "The toolset a client gets when its MCP URL asks for none: `all`, or comma-separated app ids (docs/tools.md lists them). The default keeps tools/list under 8,000 tokens (measured by `npm run bench`); `all` lists every app (several times that, growing with each app; the bench reports each app's share). A client can ask for another set with `/mcp?apps=contacts,notes` or `/mcp?apps=all`. The gateway's own tools (server_info, whoami, offline_access_status) are always listed. Unknown ids stop the gateway at start-up.",
      example: "notes,files,calendar,contacts",
    },
  },
  TOOLS_ALLOW: {
    schema: nameList(""),
    doc: {
      group: "Tools",
      description:
        "Only these tools and app groups exist on this gateway (comma-separated tool names or app ids, e.g. `notes,files_read,files_list`); empty allows every tool. Applied before TOOLS_DENY. Unknown names stop the gateway at start-up.",
      example: "notes,calendar,files_list,files_read",
    },
  },
  TOOLS_DENY: {
    schema: nameList(""),
    doc: {
      group: "Tools",
      description:
        "Tools and app groups removed from this gateway (comma-separated tool names or app ids, e.g. `files_delete,notes_delete`). Unknown names stop the gateway at start-up.",
      example: "files_delete,notes_delete",
    },
  },
  APPS_CLAIM: {
    schema: z
      .string()
      .trim()
      .default("")
      .refine((s) => s === "" || /^[A-Za-z0-9_.:-]+$/.test(s), {
        error: 'not a claim name; give a top-level access-token claim such as "groups"',
      }),
    doc: {
      group: "Tools",
      description:
        "An access-token claim that limits each user to some apps, e.g. `groups` from Keycloak's group membership mapper. Its values (a list, or a space- or comma-separated string), less APPS_CLAIM_PREFIX, are app ids; a user sees the tools of those apps only (plus the gateway's own). Unset: no limit by claim. A token without the claim then sees no app tools.",
      example: "groups",
    },
  },
  APPS_CLAIM_PREFIX: {
    schema: z.string().trim().default(""),
    doc: {
      group: "Tools",
      description:
        "With APPS_CLAIM: only claim values starting with this prefix count, and the prefix is removed to give the app id, e.g. `/mcp-` turns the group `/mcp-calendar` into the app `calendar`.",
      example: "/mcp-",
    },
  },
  DATABASE_URL: {
    schema: z
      .string()
      .trim()
      .refine((s) => URL.canParse(s) && /^postgres(ql)?:$/.test(new URL(s).protocol), {
        error: "not a PostgreSQL URL; use postgres://user:password@host:5432/database",
      })
      // Unset selects the embedded database; "" (rendered as "none" in the docs) stands for unset.
      .default(""),
    doc: {
      group: "Database",
      description:
        "PostgreSQL connection URL. The database holds users, encrypted offline grants, job runs and the audit trail; it is the only state shared between replicas. Add `?sslmode=require` for TLS. When unset, the gateway uses an embedded PostgreSQL (PGlite) in DATA_DIR instead: fine for one gateway process on one machine, but set DATABASE_URL for production and for more than one replica.",
      example: "postgres://gateway:secret@db.example.com:5432/gateway",
      secret: true,
    },
  },
  DATABASE_POOL_MAX: {
    schema: integer(1, 200).default(10),
    doc: {
      group: "Database",
      description:
        "Connections one replica keeps for queries and transactions. Migrations at start and singleton jobs (housekeeping, grants-reencrypt) open one more each while they run.",
      example: "10",
    },
  },
  DATA_DIR: {
    schema: z
      .string()
      .trim()
      .min(1, {
        error: "empty; give a directory the gateway may write to, e.g. /var/lib/nextcloud-mcp-gateway",
      })
      .default("./.data"),
    doc: {
      group: "Database",
      description:
        "Directory of the embedded database, used only when DATABASE_URL is unset: PGlite keeps its files in `<DATA_DIR>/pglite` and the gateway creates the directory on first start. A relative path is resolved against the working directory at start (the default is `.data` next to where the gateway is started), so give an absolute path in services and containers, on a persistent volume. Only one gateway process may use a directory at a time; a second one refuses to start.",
      example: "/var/lib/nextcloud-mcp-gateway",
    },
  },
  SEALING_KEYS: {
    schema: z
      .string()
      .trim()
      .default("")
      .superRefine((s, ctx) => {
        for (const message of parseSealingKeys(s).problems) ctx.addIssue({ code: "custom", message });
      }),
    doc: {
      group: "Offline access",
      description:
        "Key ring that encrypts the stored refresh tokens of offline grants (AES-256-GCM): comma-separated `<kid>:<base64 key>` entries, each key exactly 32 bytes, key ids of letters, digits, `_` and `-`. Generate a key with `openssl rand -base64 32`. The first key seals new values; the others stay readable. To rotate, put a new key first and keep the old one after it until re-encryption has moved every row to the new key. A row sealed with a key that is no longer listed cannot be read, and its user must reconnect. Unset, offline access is off.",
      example: "k2:<base64 32 bytes>,k1:<base64 32 bytes>",
      secret: true,
    },
  },
  OFFLINE_IDLE_TIMEOUT_SECONDS: {
    schema: integer(600, 10 * 365 * 86400).default(2_592_000),
    doc: {
      group: "Offline access",
      description:
        "The IdP's offline session idle timeout in seconds: an offline grant that is not refreshed for this long dies at the IdP. Keycloak's realm setting is Realm settings → Sessions → Offline Session Idle (`offlineSessionIdleTimeout`, 30 days by default and in the shipped realm). `grants-keepalive` refreshes grants well before it.",
      example: "2592000",
    },
  },
  LOGOUT_TOKEN_MAX_AGE_SECONDS: {
    schema: integer(30, 3600).default(300),
    doc: {
      group: "Offline access",
      description:
        "Back-channel logout accepts a logout token only this many seconds after its `iat` (plus 60 s clock leeway), and each token (`jti`) only once, on any replica. Keycloak sends logout tokens at once, so the default 300 leaves room for retries; a token without `iat` or `jti` is refused.",
      example: "300",
    },
  },
  KEEPALIVE_IDLE_SHARE: {
    schema: z.coerce
      .number({ error: "not a number; give a share between 0.05 and 0.9, e.g. 0.5" })
      .min(0.05, { error: "too small; give a share between 0.05 and 0.9, e.g. 0.5" })
      .max(0.9, { error: "too large; give a share between 0.05 and 0.9, e.g. 0.5" })
      .default(0.5),
    doc: {
      group: "Background jobs",
      description:
        "`grants-keepalive` refreshes a grant once it has been idle (not refreshed) for longer than this share of OFFLINE_IDLE_TIMEOUT_SECONDS. The default 0.5 refreshes a 30-day grant after 15 days, leaving many missed runs before the grant would expire.",
      example: "0.5",
    },
  },
  KEEPALIVE_SCHEDULE: {
    schema: z
      .string()
      .trim()
      .default("*/15 * * * *")
      .refine((s) => cronValidate(s), {
        error: 'not a cron expression; e.g. "*/15 * * * *" (every 15 minutes)',
      }),
    doc: {
      group: "Background jobs",
      description:
        "When `grants-keepalive` runs (cron). Every replica may run it at once: each grant due is leased in the database (`FOR UPDATE SKIP LOCKED`), so replicas share the work and never refresh one grant twice.",
      example: "*/15 * * * *",
    },
  },
  KEEPALIVE_CONCURRENCY: {
    schema: integer(1, 64).default(4),
    doc: {
      group: "Background jobs",
      description:
        "Refreshes one replica sends to the IdP at the same time during `grants-keepalive`; keeps the IdP spared when many grants are due at once.",
      example: "4",
    },
  },
  REENCRYPT_SCHEDULE: {
    schema: z
      .string()
      .trim()
      .default("41 3 * * *")
      .refine((s) => cronValidate(s), { error: 'not a cron expression; e.g. "41 3 * * *" (daily at 03:41)' }),
    doc: {
      group: "Background jobs",
      description:
        "When `grants-reencrypt` runs (cron): it re-seals every stored refresh token not yet under the first key of SEALING_KEYS. It finds nothing to do unless the key ring has just been rotated; `nextcloud-mcp-gateway keys reencrypt` runs it at once.",
      example: "41 3 * * *",
    },
  },
  SEARCH_INDEX_ENABLED: {
    schema: boolean(false),
    doc: {
      group: "Background jobs",
      description:
        "Keep a full-text index of the files, notes, events, tasks, contacts and Deck cards of every user who has granted offline access; the `search` tool answers from it instead of querying Nextcloud live. Needs SEALING_KEYS and NEXTCLOUD_URL. Each user can pause or delete their index on the account page; disconnecting deletes it.",
      example: "true",
    },
  },
  SEARCH_INDEX_SCHEDULE: {
    schema: z
      .string()
      .trim()
      .default("*/10 * * * *")
      .refine((s) => cronValidate(s), {
        error: 'not a cron expression; e.g. "*/10 * * * *" (every 10 minutes)',
      }),
    doc: {
      group: "Background jobs",
      description:
        "When `search-index` runs (cron). Every replica may run it at once: each user is leased in the database (`FOR UPDATE SKIP LOCKED`), so no user is indexed twice at a time. A pass over an unchanged tree costs one Nextcloud request per user (plus one refresh and one token exchange at the IdP).",
      example: "*/10 * * * *",
    },
  },
  SEARCH_LANGUAGE: {
    schema: z
      .string()
      .trim()
      .default("simple")
      .refine((s) => /^[a-z_][a-z0-9_]*$/.test(s), {
        error: 'not a text search configuration name; e.g. "simple", "english", "german"',
      }),
    doc: {
      group: "Background jobs",
      description:
        "The PostgreSQL text search configuration the index stems words with (`simple` does not stem and fits every language; `english`, `german`, `french`… stem for one). Checked against the database at start (`SELECT cfgname FROM pg_ts_config`).",
      example: "simple",
    },
  },
  SEARCH_INDEX_MAX_FILE_BYTES: {
    schema: integer(1024, 16 * 1024 * 1024).default(1024 * 1024),
    doc: {
      group: "Background jobs",
      description:
        "Text files, PDFs and Office documents (.docx, .xlsx, .pptx, .odt, .ods, .odp) up to this size (bytes) are indexed with their content; larger files, other files, and documents whose text cannot be read (corrupt, encrypted, inflating past 32 times this size, or taking more than 10 s) are indexed by name only. Extracted text is cut at this many characters.",
      example: "1048576",
    },
  },
  WEBHOOK_SECRET: {
    schema: z
      .string()
      .trim()
      .default("")
      .refine((s) => s === "" || s.length >= 32, {
        error: "too short; give at least 32 random characters, e.g. from `openssl rand -hex 32`",
      })
      .refine((s) => /^[A-Za-z0-9\-._~+/]*$/.test(s), {
        error: "has characters a bearer token cannot carry; use letters, digits and - . _ ~ + / only",
      }),
    doc: {
      group: "Webhooks",
      description:
        "Turns on `POST /webhooks/nextcloud`, where Nextcloud's webhook_listeners app announces changed files and calendar objects so that the content index reads them again within seconds instead of at the next SEARCH_INDEX_SCHEDULE run (needs SEARCH_INDEX_ENABLED). Nextcloud must send `Authorization: Bearer <WEBHOOK_SECRET>` (register the webhook with `authMethod: header`, see docs/operations.md); it is compared in constant time and never logged. Unset: the endpoint answers 404.",
      example: "<openssl rand -hex 32>",
      secret: true,
    },
  },
  WEBHOOK_SECRET_PREVIOUS: {
    schema: z
      .string()
      .trim()
      .default("")
      .refine((s) => s === "" || s.length >= 32, {
        error: "too short; give the former WEBHOOK_SECRET (at least 32 characters)",
      }),
    doc: {
      group: "Webhooks",
      description:
        "While rotating the webhook secret: the former WEBHOOK_SECRET, still accepted until Nextcloud's webhooks send the new one. Remove it once they do; from then on the former secret is refused (401).",
      example: "<the former WEBHOOK_SECRET>",
      secret: true,
    },
  },
  WEBHOOK_MAX_BODY_BYTES: {
    schema: integer(1024, 16 * 1024 * 1024).default(256 * 1024),
    doc: {
      group: "Webhooks",
      description:
        "Largest webhook body accepted (bytes); a larger one gets 413 before more than this is read. Calendar object events carry the whole iCalendar object, so give room for large events.",
      example: "262144",
    },
  },
  WEBHOOK_MAX_AGE_SECONDS: {
    schema: integer(60, 7 * 24 * 3600).default(3600),
    doc: {
      group: "Webhooks",
      description:
        "A webhook body whose event `time` is older than this (or more than 5 minutes ahead) is refused (400): a replay of an old delivery schedules nothing. Nextcloud sends deliveries from its background jobs, so allow for how often its cron runs.",
      example: "3600",
    },
  },
  WEBHOOK_RATE_LIMIT_PER_MINUTE: {
    schema: integer(0, 1_000_000).default(1200),
    doc: {
      group: "Webhooks",
      description:
        "Requests per minute one client address may send to `/webhooks/nextcloud` (up to this many at once), counted before the secret is checked; over it: 429 with `Retry-After`. Nextcloud does not retry a refused delivery: the next scheduled index run picks the change up. `0` (or RATE_LIMITS_ENABLED=false) turns this limit off.",
      example: "1200",
    },
  },
  ALLOW_INSECURE_HTTP: {
    schema: boolean(),
    doc: {
      group: "Operations",
      description:
        "Allow `http://` for GATEWAY_PUBLIC_URL, OIDC_ISSUER and NEXTCLOUD_URL on hosts other than localhost. Only for isolated test networks: tokens and secrets would cross the network in clear text.",
      example: "false",
    },
  },
  JOBS_ENABLED: {
    schema: boolean(true),
    doc: {
      group: "Background jobs",
      description:
        "Run the background jobs on their schedules in this process. Every replica may keep it on: each run is claimed in the database, so a job runs once per schedule across replicas. `nextcloud-mcp-gateway jobs run <name>` runs a job by hand either way.",
      example: "true",
    },
  },
  HOUSEKEEPING_SCHEDULE: {
    schema: z
      .string()
      .trim()
      .default("17 * * * *")
      .refine((s) => cronValidate(s), { error: 'not a cron expression; e.g. "17 * * * *" (hourly at :17)' }),
    doc: {
      group: "Background jobs",
      description:
        "When `housekeeping` runs (cron: minute hour day month weekday): it deletes expired logout-token replay records, and job runs, audit events and revoked grants past their retention.",
      example: "17 * * * *",
    },
  },
  RETENTION_JOB_RUNS_DAYS: {
    schema: integer(1, 3650).default(30),
    doc: {
      group: "Background jobs",
      description: "Days a finished job run stays in job_runs.",
      example: "30",
    },
  },
  RETENTION_REVOKED_GRANTS_DAYS: {
    schema: integer(1, 3650).default(30),
    doc: {
      group: "Background jobs",
      description:
        "Days a revoked offline grant (its reason and dates; the token itself is deleted when it is revoked) stays on the account page before housekeeping deletes the row. The audit trail keeps the events.",
      example: "30",
    },
  },
  RETENTION_AUDIT_DAYS: {
    schema: integer(1, 36500).default(365),
    doc: {
      group: "Background jobs",
      description: "Days an audit event (connect, refresh, revoke, disconnect) is kept.",
      example: "365",
    },
  },
  RATE_LIMITS_ENABLED: {
    schema: boolean(true),
    doc: {
      group: "Rate limits",
      description:
        "Whether the gateway answers 429 (with `Retry-After`) to clients over the limits below. The limits are counted in memory per replica: with N replicas a client gets up to N times each limit. `false` turns every limit off (for a gateway behind a proxy that limits already).",
      example: "true",
    },
  },
  RATE_LIMIT_ANONYMOUS_PER_IP: {
    schema: integer(0, 1_000_000).default(60),
    doc: {
      group: "Rate limits",
      description:
        "Requests per minute one client address may send to the endpoints that need no sign-in (`/login`, `/connect`, `/oauth/callback`, `/oauth/backchannel-logout`, `/.well-known/*`), and refused (401) requests to `/mcp`; up to this many at once. IPv6 addresses count per /64. `0` turns this limit off.",
      example: "60",
    },
  },
  RATE_LIMIT_ANONYMOUS_GLOBAL: {
    schema: integer(0, 10_000_000).default(1200),
    doc: {
      group: "Rate limits",
      description:
        "Requests per minute all clients together may send to the endpoints that need no sign-in (the list under RATE_LIMIT_ANONYMOUS_PER_IP, without `/mcp`), for floods from many addresses. `0` turns this limit off.",
      example: "1200",
    },
  },
  RATE_LIMIT_MCP_PER_USER: {
    schema: integer(0, 10_000_000).default(600),
    doc: {
      group: "Rate limits",
      description:
        "Requests per minute one signed-in user (the verified token's subject) may send to `/mcp`, over all their clients; up to this many at once. `0` turns this limit off.",
      example: "600",
    },
  },
  RATE_LIMIT_MAX_KEYS: {
    schema: integer(100, 10_000_000).default(10_000),
    doc: {
      group: "Rate limits",
      description:
        "How many client addresses and users each limit remembers at most; the least recently seen is forgotten first. Bounds the limiter's memory (roughly 100 bytes a key).",
      example: "10000",
    },
  },
  TRUSTED_PROXIES: {
    schema: z
      .string()
      .trim()
      .default("")
      .transform((s) =>
        s
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((entry) => parseAddressRange(entry) !== undefined), {
        error:
          'not a list of addresses; give comma-separated IP addresses or CIDR ranges of your reverse proxies, e.g. "10.0.0.0/8,fd00::/8"',
      }),
    doc: {
      group: "Rate limits",
      description:
        "Reverse proxies whose `X-Forwarded-For` header the gateway believes (comma-separated IP addresses or CIDR ranges). Empty (the default): the client address is the connection's, and `X-Forwarded-For` is ignored. Set it when a proxy or load balancer stands in front of the gateway, or every client counts as the proxy's address.",
      example: "10.0.0.0/8,fd00::/8",
    },
  },
  LOG_LEVEL: {
    schema: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "unknown level; use one of fatal, error, warn, info, debug, trace, silent",
      })
      .default("info"),
    doc: {
      group: "Operations",
      description:
        "Lowest level written to the JSON log on stdout. Tokens and secrets are never logged at any level.",
      example: "info",
    },
  },
  METRICS_TOKEN: {
    schema: z
      .string()
      .trim()
      .default("")
      .refine((s) => s === "" || s.length >= 32, {
        error: "too short; give at least 32 random characters, e.g. from `openssl rand -hex 32`",
      })
      .refine((s) => /^[A-Za-z0-9\-._~+/]*$/.test(s), {
        error: "has characters a bearer token cannot carry; use letters, digits and - . _ ~ + / only",
      }),
    doc: {
      group: "Operations",
      description:
        "When set, `/metrics` answers only requests with `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time; others get 401). Give Prometheus the same value as `authorization.credentials`. Never logged.",
      example: "<openssl rand -hex 32>",
      secret: true,
    },
  },
  METRICS_PORT: {
    schema: integer(1, 65535).optional(),
    doc: {
      group: "Operations",
      description:
        "When set, `/metrics` moves off the public listener to a second one on `METRICS_HOST:METRICS_PORT` that serves nothing else; the public port then answers 404 there. Do not publish this port to the internet.",
      example: "9464",
    },
  },
  METRICS_HOST: {
    schema: z
      .string()
      .trim()
      .min(1, { error: "empty; give an address for the metrics listener, e.g. 0.0.0.0" })
      .default("127.0.0.1"),
    doc: {
      group: "Operations",
      description:
        "Address of the metrics listener (only with METRICS_PORT). The default accepts connections from this machine only; use `0.0.0.0` in a container whose metrics port is reached by Prometheus on a private network.",
      example: "0.0.0.0",
    },
  },
  OUTBOUND_TIMEOUT_MS: {
    schema: integer(100, 120_000).default(10_000),
    doc: {
      group: "Operations",
      description: "Time limit for each call to the IdP (discovery, JWKS, token endpoint), in milliseconds.",
      example: "10000",
    },
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: integer(0, 600_000).default(10_000),
    doc: {
      group: "Operations",
      description:
        "On SIGTERM/SIGINT the gateway stops accepting connections, tells running jobs to stop taking new work, and waits this long for requests and job work in flight before it exits. Job work still running then stays leased to this replica and is taken over by another once its lease ends.",
      example: "10000",
    },
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    schema: integer(1000, 600_000).default(10_000),
    doc: {
      group: "Operations",
      description:
        "Time a client has to send a request's headers, in milliseconds; a connection that takes longer (slow-loris) is answered 408 and closed.",
      example: "10000",
    },
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    schema: integer(1000, 3_600_000).default(60_000),
    doc: {
      group: "Operations",
      description:
        "Time a client has to send a whole request, headers and body, in milliseconds; a slower upload is answered 408 and closed. Answers (such as event streams) are not limited by it.",
      example: "60000",
    },
  },
} as const satisfies Record<string, { schema: z.ZodType; doc: VariableDoc }>;

export type VariableName = keyof typeof variables;

type Schemas = { [K in VariableName]: (typeof variables)[K]["schema"] };

function schemaShape(): Schemas {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, v] of Object.entries(variables)) shape[name] = v.schema;
  return shape as Schemas;
}

/** The whole environment schema; unknown variables are ignored. */
export const envSchema = z.object(schemaShape());

/** Parsed and validated configuration, as the rest of the gateway sees it. */
export type Env = z.output<typeof envSchema>;
