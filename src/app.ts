import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { TokenVerifier } from "./auth/index.ts";
import type { Config } from "./config/index.ts";
import { describeError } from "./errors.ts";
import type { AppEnv } from "./http/env.ts";
import { healthz, readyz, type ReadinessProbes } from "./http/health.ts";
import { mcpEndpoint, mcpMethodNotAllowed } from "./http/mcp.ts";
import { metricsEndpoint, type Metric } from "./http/metrics.ts";
import { bearerAuth } from "./http/middleware/bearer-auth.ts";
import { originAllowed, originGuard } from "./http/middleware/origin.ts";
import { requestLog } from "./http/middleware/request-log.ts";
import { protectedResourceMetadata, resourceMetadataUrl } from "./http/protected-resource.ts";
import type { Logger } from "./log.ts";
import type { ToolRegistry } from "./mcp/index.ts";
import { nextcloudClients, type NextcloudAccess } from "./http/nextcloud-access.ts";
import { offlineLookup, webRoutes, type WebDeps } from "./web/routes.ts";

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
  /** The browser routes (/connect, /login, /oauth/callback, /account, back-channel logout). */
  web?: WebDeps | undefined;
}

/** Largest JSON-RPC body accepted on /mcp. */
const MAX_MCP_BODY_BYTES = 4 * 1024 * 1024;
const BASE_SCOPES = ["mcp:tools"] as const;

/** The counters /metrics shows, read when scraped. */
function collectMetrics(deps: Pick<AppDeps, "verifier" | "nextcloud">): Metric[] {
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
  return metrics;
}

/**
 * The app of the separate metrics listener (METRICS_PORT): `/metrics` and nothing else, so the
 * public port never shows it.
 */
export function createMetricsApp(
  deps: Pick<AppDeps, "config" | "log" | "verifier" | "nextcloud">,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: 128 }));
  app.use(requestLog(deps.log));
  app.get(
    "/metrics",
    metricsEndpoint(() => collectMetrics(deps), { token: deps.config.metrics.token }),
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

  app.get("/healthz", healthz);
  app.get("/readyz", readyz(deps.readiness));
  // With METRICS_PORT set, /metrics lives only on its own listener (createMetricsApp).
  if (config.metrics.listen === undefined) {
    app.get(
      "/metrics",
      metricsEndpoint(() => collectMetrics(deps), { token: config.metrics.token }),
    );
  }

  // RFC 9728 §3.1: the path form for /mcp, plus the root form clients fall back to.
  const prm = protectedResourceMetadata({ resourceUrl: config.resourceUrl, issuer: config.oidc.issuer });
  const mcpPath = new URL(config.resourceUrl).pathname;
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
    cors({
      origin: (origin) => (originAllowed(origin, originSettings) ? origin : null),
      allowMethods: ["POST", "GET", "DELETE", "OPTIONS"],
      allowHeaders: [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "last-event-id",
      ],
      exposeHeaders: ["www-authenticate", "mcp-session-id"],
      maxAge: 600,
    }),
  );
  app.use(
    "/mcp",
    bodyLimit({
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
  app.post(
    "/mcp",
    mcpEndpoint({
      registry: deps.registry,
      resourceMetadataUrl: metadataUrl,
      baseScopes: BASE_SCOPES,
      nextcloud: deps.nextcloud && nextcloudClients(deps.nextcloud),
      offline: deps.web && offlineLookup(deps.web),
    }),
  );
  app.on(["GET", "DELETE"], "/mcp", mcpMethodNotAllowed);

  if (deps.web) {
    app.use("/account/*", bodyLimit({ maxSize: 16 * 1024 }));
    app.use("/oauth/backchannel-logout", bodyLimit({ maxSize: 64 * 1024 }));
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
