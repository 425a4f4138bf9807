import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import type { TokenVerifier } from "./auth/index.ts";
import type { Config } from "./config/index.ts";
import { describeError } from "./errors.ts";
import type { AppEnv } from "./http/env.ts";
import { healthz, readyz, type ReadinessProbes } from "./http/health.ts";
import { mcpEndpoint, mcpMethodNotAllowed } from "./http/mcp.ts";
import { metricsEndpoint, type Metric } from "./http/metrics.ts";
import { bearerAuth } from "./http/middleware/bearer-auth.ts";
import { declaredBodyLimit } from "./http/middleware/body-limit.ts";
import { corsHeaders } from "./http/middleware/cors.ts";
import { originAllowed, originGuard } from "./http/middleware/origin.ts";
import {
  addressKey,
  anonymousRateLimit,
  clientAddress,
  RateLimiter,
  unauthenticatedRateLimit,
  userRateLimit,
  type RateLimits,
  type TooManyRequests,
} from "./http/middleware/rate-limit.ts";
import { requestLog } from "./http/middleware/request-log.ts";
import { addressList } from "./config/address.ts";
import { calendarGroup } from "./apps/calendar/index.ts";
import { page, pageHeaders } from "./web/html.ts";
import { problemPage } from "./web/pages.ts";
import { protectedResourceMetadata, resourceMetadataUrl } from "./http/protected-resource.ts";
import type { Logger } from "./log.ts";
import { contactsGroup } from "./apps/contacts/index.ts";
import { deckGroup } from "./apps/deck/index.ts";
import { filesGroup } from "./apps/files/index.ts";
import { notesGroup } from "./apps/notes/index.ts";
import { searchGroup } from "./apps/search/index.ts";
import { tablesGroup } from "./apps/tables/index.ts";
import { talkGroup } from "./apps/talk/index.ts";
import { sharingGroup } from "./apps/sharing/index.ts";
import { applyToolPolicy, gatewayGroup, parseToolset, ToolRegistry, type ToolGroup } from "./mcp/index.ts";
import { appAvailability, nextcloudClients, type NextcloudAccess } from "./http/nextcloud-access.ts";
import { refusedRequests } from "./nextcloud/index.ts";
import { userSearchIndex } from "./http/search-index.ts";
import { offlineLookup, webRoutes, type WebDeps } from "./web/routes.ts";
import { nextcloudWebhook, type WebhookOutcome } from "./http/webhooks.ts";
import type { Database, PoolStats } from "./store/index.ts";
import type { Kysely } from "kysely";

/** Everything the HTTP app needs, built by main.ts (or a test). */
export interface AppDeps {
  config: Config;
  log: Logger;
  readiness: ReadinessProbes;
  /** Verifies MCP access tokens (signature, iss, aud, exp), with its cache. */
  verifier: TokenVerifier;
  /** The tools, assembled once at start. */
  registry: ToolRegistry;
  /** Nextcloud and the token broker that reaches it; absent without NEXTCLOUD_URL. */
  nextcloud?: NextcloudAccess | undefined;
  /** The rate limits and their counts; made from the configuration when absent. */
  limits?: RateLimits | undefined;
  /** The browser routes (/connect, /login, /oauth/callback, /account, back-channel logout). */
  web?: WebDeps | undefined;
  /** POST /webhooks/nextcloud (mounted when WEBHOOK_SECRET is set): store, index trigger, counts. */
  webhooks?: AppWebhooks | undefined;
  /** The database pool's counters, for /metrics; absent on the embedded database. */
  pool?: (() => PoolStats) | undefined;
}

/** What the webhook endpoint gets from the composition root. */
export interface AppWebhooks {
  db: Kysely<Database>;
  /** Asks for a prompt index run for these users; absent when this process runs no jobs. */
  trigger?: ((userIds: readonly string[]) => void) | undefined;
  /** Outcomes of deliveries, shared with /metrics. */
  counts: Record<WebhookOutcome, number>;
  /** Prompted index runs asked for and started in this process, for /metrics. */
  prompted?: { readonly requests: number; readonly runs: number } | undefined;
}

/** Largest JSON-RPC body accepted on /mcp. */
const MAX_MCP_BODY_BYTES = 4 * 1024 * 1024;
const BASE_SCOPES = ["mcp:tools"] as const;

/**
 * Every tool group the gateway offers, in the order tools/list and the docs show them: the
 * gateway's own, then one per Nextcloud app. Adding an app adds its group here.
 */
export const appGroups: readonly ToolGroup[] = [
  gatewayGroup,
  notesGroup,
  filesGroup,
  calendarGroup,
  contactsGroup,
  searchGroup,
  tablesGroup,
  talkGroup,
  sharingGroup,
  deckGroup,
];

/** Every tool of every group, in the same order. */
export const allTools = appGroups.flatMap((g) => g.tools);

/**
 * The tool registry from the app groups, less what the operator did not allow.
 * @throws Error naming unknown tool or app names in TOOLS_ALLOW, TOOLS_DENY or MCP_DEFAULT_APPS.
 */
export function buildRegistry(config: Config, groups: readonly ToolGroup[] = appGroups): ToolRegistry {
  const kept = applyToolPolicy(groups, config.tools);
  const { defaultApps } = config.tools;
  if (defaultApps !== "all") {
    const selection = parseToolset(defaultApps.join(","), groups);
    if ("error" in selection) throw new Error(`MCP_DEFAULT_APPS: ${selection.error}`);
  }
  return new ToolRegistry(kept);
}

/** The counters /metrics shows, read when scraped. */
function collectMetrics(
  deps: Pick<AppDeps, "verifier" | "nextcloud" | "webhooks" | "pool">,
  limits: RateLimits,
): Metric[] {
  const verify = deps.verifier.stats;
  const metrics: Metric[] = [
    {
      name: "gateway_token_verify_cache_hits_total",
      help: "MCP tokens served from the verified-token cache.",
      type: "counter",
      value: verify.hits,
    },
    {
      name: "gateway_token_verify_cache_misses_total",
      help: "MCP tokens verified against the IdP's keys.",
      type: "counter",
      value: verify.misses,
    },
    ...Object.entries(limits.counts).map(([scope, value]) => ({
      name: "gateway_rate_limited_total",
      help: "Requests refused with 429 by this replica's rate limits, by limit.",
      type: "counter" as const,
      value,
      labels: { scope },
    })),
  ];
  const exchange = deps.nextcloud?.broker.stats;
  if (exchange !== undefined) {
    metrics.push(
      {
        name: "gateway_token_exchanges_total",
        help: "RFC 8693 exchanges sent to the IdP.",
        type: "counter",
        value: exchange.exchanges,
      },
      {
        name: "gateway_token_exchange_cache_hits_total",
        help: "Nextcloud tokens served from the exchange cache.",
        type: "counter",
        value: exchange.cacheHits,
      },
      {
        name: "gateway_token_exchange_failures_total",
        help: "Token exchanges that failed.",
        type: "counter",
        value: exchange.failures,
      },
    );
  }
  const slots = deps.nextcloud?.broker.slots;
  if (slots !== undefined) {
    metrics.push(
      {
        name: "gateway_token_exchanges_in_flight",
        help: `Token exchanges in flight at the IdP now (at most ${String(slots.limit)} per replica).`,
        type: "gauge",
        value: slots.active,
      },
      {
        name: "gateway_token_exchanges_waiting",
        help: "Token exchanges waiting for their turn now.",
        type: "gauge",
        value: slots.waiting,
      },
      {
        name: "gateway_token_exchange_waits_total",
        help: "Token exchanges that waited for their turn because the most were in flight.",
        type: "counter",
        value: slots.waited,
      },
      {
        name: "gateway_token_exchange_wait_seconds_max",
        help: "Longest wait of a token exchange for its turn since the start.",
        type: "gauge",
        value: slots.longestWaitMs / 1000,
      },
      {
        name: "gateway_token_exchange_stalls_total",
        help: "Waiting token exchanges given up because the IdP answered none in flight for OUTBOUND_TIMEOUT_MS.",
        type: "counter",
        value: slots.stalled,
      },
    );
  }
  for (const [reason, value] of Object.entries(refusedRequests())) {
    metrics.push({
      name: "gateway_nextcloud_requests_refused_total",
      help: "Requests to Nextcloud refused before sending: off the configured origin, a bad path segment, outside the user's root, or into a user tree without a root.",
      type: "counter",
      value,
      labels: { reason },
    });
  }
  if (deps.webhooks !== undefined) {
    for (const [outcome, value] of Object.entries(deps.webhooks.counts)) {
      metrics.push({
        name: "gateway_webhook_deliveries_total",
        help: "Nextcloud webhook deliveries by outcome (scheduled, ignored, duplicate, or why refused).",
        type: "counter",
        value,
        labels: { outcome },
      });
    }
    const prompted = deps.webhooks.prompted;
    if (prompted !== undefined) {
      metrics.push(
        {
          name: "gateway_index_prompt_requests_total",
          help: "Webhook deliveries that asked this process for a prompt search-index run.",
          type: "counter",
          value: prompted.requests,
        },
        {
          name: "gateway_index_prompted_runs_total",
          help: "search-index runs started by webhook deliveries in this process (requests coalesce).",
          type: "counter",
          value: prompted.runs,
        },
      );
    }
  }
  const pool = deps.pool?.();
  if (pool !== undefined) metrics.push(...poolMetrics(pool));
  return metrics;
}

/** The database pool: waits for a free connection, and how full it is now. */
function poolMetrics(pool: PoolStats): Metric[] {
  return [
    {
      name: "gateway_db_pool_acquisitions_total",
      help: "Database connections taken from the pool (a query, or a transaction with its statements).",
      type: "counter",
      value: pool.acquisitions,
    },
    {
      name: "gateway_db_pool_waits_total",
      help: "Of those, how many waited because every pool connection was in use.",
      type: "counter",
      value: pool.waits,
    },
    {
      name: "gateway_db_pool_wait_seconds_total",
      help: "Seconds spent waiting for a pool connection, summed over the waits that ended.",
      type: "counter",
      value: pool.waitMsTotal / 1000,
    },
    {
      name: "gateway_db_pool_wait_seconds_max",
      help: "The longest wait for a pool connection since the start, in seconds.",
      type: "gauge",
      value: pool.waitMsMax / 1000,
    },
    {
      name: "gateway_db_pool_connections_in_use",
      help: "Pool connections in use now.",
      type: "gauge",
      value: pool.inUse,
    },
    {
      name: "gateway_db_pool_waiting",
      help: "Callers waiting for a pool connection now.",
      type: "gauge",
      value: pool.waiting,
    },
    {
      name: "gateway_db_pool_size",
      help: "Connections the pool holds at most (DATABASE_POOL_MAX).",
      type: "gauge",
      value: pool.size,
    },
  ];
}

/**
 * The app of the separate metrics listener (METRICS_PORT): `/metrics` and nothing else, so the
 * public port never shows it.
 */
export function createMetricsApp(
  deps: Pick<AppDeps, "config" | "log" | "verifier" | "nextcloud" | "limits" | "webhooks" | "pool">,
): Hono<AppEnv> {
  const limits = deps.limits ?? rateLimits(deps.config);
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: 128 }));
  app.use(requestLog(deps.log));
  app.get(
    "/metrics",
    metricsEndpoint(() => collectMetrics(deps, limits), { token: deps.config.metrics.token }),
  );
  app.notFound((c) =>
    c.json({ error: "not_found", error_description: "This listener serves /metrics only." }, 404),
  );
  return app;
}

/** The Hono app and its whole route table. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config } = deps;
  const metadataUrl = resourceMetadataUrl(config.resourceUrl);
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: 128 }));
  app.use(requestLog(deps.log));
  const limits = deps.limits ?? rateLimits(config);

  app.get("/healthz", healthz);
  app.get("/readyz", readyz(deps.readiness));
  // With METRICS_PORT set, /metrics lives only on its own listener (createMetricsApp).
  if (config.metrics.listen === undefined) {
    app.get(
      "/metrics",
      metricsEndpoint(() => collectMetrics(deps, limits), { token: config.metrics.token }),
    );
  }

  // RFC 9728 §3.1: the path form for /mcp, plus the root form clients fall back to.
  const prm = protectedResourceMetadata({
    resourceUrl: config.resourceUrl,
    issuer: config.oidc.issuer,
    toolsets: deps.registry
      .groups()
      .filter((g) => g.always !== true)
      .map((g) => ({ id: g.id, title: g.title, description: g.description })),
  });
  const mcpPath = new URL(config.resourceUrl).pathname;
  app.use("/.well-known/*", anonymousRateLimit(limits, jsonTooMany));
  app.get(`/.well-known/oauth-protected-resource${mcpPath}`, prm);
  app.get("/.well-known/oauth-protected-resource", prm);

  const originSettings = {
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedOrigins,
    listenHost: config.listen.host,
  };
  app.use("/mcp", originGuard(originSettings));
  app.use(
    "/mcp",
    corsHeaders({
      origin: (origin) => (originAllowed(origin, originSettings) ? origin : null),
      allowMethods: ["POST", "GET", "DELETE", "OPTIONS"],
      allowHeaders: [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        // 2026-07-28 sends the method (and tool name) in headers on every request.
        "mcp-method",
        "mcp-name",
        "mcp-session-id",
        "last-event-id",
      ],
      exposeHeaders: ["www-authenticate", "mcp-session-id"],
      maxAge: 600,
    }),
  );
  app.use(
    "/mcp",
    declaredBodyLimit({
      maxSize: MAX_MCP_BODY_BYTES,
      onError: (c) =>
        c.json(
          {
            jsonrpc: "2.0",
            id: null,
            error: { code: -32600, message: "Request body too large (4 MiB at most)." },
          },
          413,
        ),
    }),
  );
  app.use("/mcp", unauthenticatedRateLimit(limits, rpcTooMany));
  app.use(
    "/mcp",
    bearerAuth({
      verifier: deps.verifier,
      resourceUrl: config.resourceUrl,
      resourceMetadataUrl: metadataUrl,
      requiredScopes: BASE_SCOPES,
      signInScopes: config.signInScopes,
    }),
  );
  app.use("/mcp", userRateLimit(limits, rpcTooMany));
  app.post(
    "/mcp",
    mcpEndpoint({
      registry: deps.registry,
      resourceMetadataUrl: metadataUrl,
      baseScopes: BASE_SCOPES,
      toolsets: {
        defaultApps: config.tools.defaultApps === "all" ? "all" : new Set(config.tools.defaultApps),
        appsClaim: config.tools.appsClaim,
      },
      nextcloud: deps.nextcloud && nextcloudClients(deps.nextcloud),
      availableApps: deps.nextcloud && appAvailability(deps.registry.groups()),
      offline: deps.web && offlineLookup(deps.web),
      searchIndex:
        deps.web && config.searchIndex.enabled
          ? userSearchIndex(deps.web.store.db, config.searchIndex.language)
          : undefined,
    }),
  );
  app.on(["GET", "DELETE"], "/mcp", mcpMethodNotAllowed);

  const hooks = config.webhooks;
  if (hooks !== undefined && deps.webhooks !== undefined) {
    app.post(
      "/webhooks/nextcloud",
      nextcloudWebhook({
        db: deps.webhooks.db,
        secrets: hooks.secrets,
        maxBodyBytes: hooks.maxBodyBytes,
        maxAgeSeconds: hooks.maxAgeSeconds,
        limiter:
          hooks.perMinute === undefined
            ? undefined
            : new RateLimiter(hooks.perMinute, config.rateLimits?.maxKeys ?? 10_000),
        clientKey: limits.clientKey,
        trigger: deps.webhooks.trigger,
        counts: deps.webhooks.counts,
      }).handler,
    );
  }

  if (deps.web) {
    app.use("/account/*", bodyLimit({ maxSize: 16 * 1024 }));
    app.post("/connect", bodyLimit({ maxSize: 16 * 1024 }));
    app.use("/oauth/backchannel-logout", anonymousRateLimit(limits, jsonTooMany));
    app.use("/oauth/backchannel-logout", bodyLimit({ maxSize: 64 * 1024 }));
    for (const path of ["/login", "/connect", "/oauth/callback"]) {
      app.use(path, anonymousRateLimit(limits, pageTooMany));
    }
    app.route("/", webRoutes(deps.web));
  }

  app.notFound((c) =>
    c.json({ error: "not_found", error_description: `No route for ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => {
    c.get("log").error({ err: describeError(err) }, "unhandled error");
    return c.json(
      { error: "server_error", error_description: "Internal error; see the gateway log for the request id." },
      500,
    );
  });
  return app;
}

/**
 * The limits of `config` (each absent when off), keyed by the client's address; one set per
 * process, shared by the public app and the metrics listener that counts its refusals.
 */
export function rateLimits(config: Config): RateLimits {
  const r = config.rateLimits;
  const limiter = (perMinute: number | undefined) =>
    r && perMinute !== undefined && perMinute > 0 ? new RateLimiter(perMinute, r.maxKeys) : undefined;
  const trusted = config.trustedProxies.length > 0 ? addressList(config.trustedProxies) : undefined;
  return {
    anonymousIp: limiter(r?.anonymousPerIp),
    anonymousGlobal: limiter(r?.anonymousGlobal),
    mcpUser: limiter(r?.mcpPerUser),
    counts: { anonymous_ip: 0, anonymous_global: 0, mcp_user: 0 },
    clientKey: (c) => addressKey(clientAddress(c, trusted)),
  };
}

const waitText = (seconds: number) =>
  `Too many requests; try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;

/** 429 for OAuth and metadata endpoints: an OAuth-style JSON error. */
const jsonTooMany: TooManyRequests = (c, seconds) =>
  c.json({ error: "too_many_requests", error_description: waitText(seconds) }, 429, {
    "cache-control": "no-store",
  });

/** 429 on /mcp: a JSON-RPC error, as MCP clients read the body of a failed POST. */
const rpcTooMany: TooManyRequests = (c, seconds) =>
  c.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: waitText(seconds) } }, 429);

/** 429 for browser pages: the problem page. */
const pageTooMany: TooManyRequests = (c, seconds) => {
  const nonce = randomBytes(16).toString("base64url");
  const body = problemPage(
    "Too many requests",
    `This gateway received too many sign-in requests from your network. Wait ${seconds} second${seconds === 1 ? "" : "s"} and try again.`,
    { href: "/account", label: "Back to your account" },
  );
  return c.body(page("Too many requests", body, nonce), 429, pageHeaders(nonce));
};
