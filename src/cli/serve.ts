import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as serveHttp, type ServerType } from "@hono/node-server";
import { buildRegistry, createApp, createMetricsApp, rateLimits } from "../app.ts";
import { createTokenVerifier } from "../auth/index.ts";
import { indexTrigger, PROMPT_RUN_DEBOUNCE_MS, startScheduler, type JobContext } from "../jobs/index.ts";
import { webhookCounts } from "../http/webhooks.ts";
import { configuredJobs, REPLICA } from "./jobs.ts";
import type { Config } from "../config/index.ts";
import { describeError } from "../errors.ts";
import { ClientAuthCheck, IdpClient, idpSettingsOf, probeClientCredentials } from "../idp/index.ts";
import type { Logger } from "../log.ts";
import type { ToolGroup } from "../mcp/index.ts";
import type { RouteProbe } from "../nextcloud/index.ts";
import { TokenBroker } from "../tokens/index.ts";
import { checkTextSearchConfig, migrate, openStore, pendingMigrations, SearchIndex } from "../store/index.ts";
import { VERSION } from "../version.ts";
import { GrantStore, Sealer } from "../store/index.ts";
import { LoginCookieSealer } from "../web/login-cookie.ts";
import { SessionSigner } from "../web/session.ts";

/** A started gateway: where it listens and how to stop it. */
export interface RunningGateway {
  url: string;
  /** Stops accepting connections, drains requests in flight (bounded), then closes the pool. */
  shutdown(signal: string): Promise<void>;
}

type Fetch = Parameters<typeof serveHttp>[0]["fetch"];

/**
 * Lets a draining server end its keep-alive connections as their answers finish: every answer not
 * yet sent says `Connection: close` once {@link ConnectionDrain.start} was called (Node would keep
 * the connection open for its keep-alive timeout, and a client reusing it at the moment it closes
 * loses a request it cannot safely retry).
 */
interface ConnectionDrain {
  start(): void;
}

function drainConnections(server: ServerType): ConnectionDrain {
  const open = new Set<ServerResponse>();
  let draining = false;
  server.on("request", (_req: unknown, res: ServerResponse) => {
    if (draining) {
      res.setHeader("connection", "close");
      return;
    }
    open.add(res);
    res.once("close", () => open.delete(res));
  });
  return {
    start() {
      draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader("connection", "close");
      open.clear();
    },
  };
}

/** How often Node checks open connections against the headers and request timeouts. */
const CONNECTIONS_CHECK_MS = 1000;

function listen(
  fetch: Fetch,
  at: { host: string; port: number },
  limits: Config["http"],
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const s = serveHttp(
      {
        fetch,
        hostname: at.host,
        port: at.port,
        // A client gets HTTP_HEADERS_TIMEOUT_MS for its headers and HTTP_REQUEST_TIMEOUT_MS for the
        // whole request, else 408 and the connection closes (slow-loris); Node checks every second
        // (its default, 30 s, would let a slow client hold a connection that much longer).
        serverOptions: {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
          connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MS, limits.headersTimeoutMs),
        },
      },
      () => {
        resolve(s);
      },
    );
    s.once("error", reject);
  });
}

function urlOf(server: ServerType): string {
  const address = server.address() as AddressInfo;
  return `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
}

/** Starts the HTTP server; applies pending migrations first unless told not to. */
export async function startGateway(
  config: Config,
  log: Logger,
  options: {
    migrate: boolean;
    /** The route probe of the Nextcloud clients (tests inject one with their clock); the shared one otherwise. */
    routeProbe?: RouteProbe;
    /** The tool groups instead of the app groups (tests add a fixture tool); the app groups otherwise. */
    groups?: readonly ToolGroup[];
  },
): Promise<RunningGateway> {
  // Before anything opens: an unknown tool or app name is a configuration error.
  const registry = buildRegistry(config, options.groups);
  const store = await openStore(config.database);
  if (store.backend === "pglite") {
    log.info(
      { dataDir: store.location },
      "using the embedded database (PGlite): one process only; set DATABASE_URL for production",
    );
  }
  if (options.migrate) {
    try {
      const result = await migrate(store);
      log.info({ applied: result.applied, version: result.version }, "database schema up to date");
    } catch (err) {
      await store.close();
      throw new Error(`database migration failed: ${describeError(err)}`, { cause: err });
    }
  }
  if (config.searchIndex.enabled) {
    try {
      await checkTextSearchConfig(store.db, config.searchIndex.language);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  const idp = new IdpClient(idpSettingsOf(config), log);
  idp.startBackgroundLoad();
  // Readiness includes the client's own authentication at the IdP, proven at most every 5 minutes
  // (every 30 s while it fails), not on every probe.
  const clientAuth = new ClientAuthCheck(async () =>
    probeClientCredentials(await idp.load(), config.oidc.clientId),
  );
  const jobContext: JobContext = { store, log, now: () => new Date(), replica: REPLICA };
  const jobs = configuredJobs(config, { idp: () => idp.load() });
  const scheduler = config.jobs.enabled ? startScheduler(jobs, jobContext) : undefined;
  // Webhook deliveries ask for prompt runs of the index job for the users they name.
  const indexJob = jobs.find((j) => j.job.name === "search-index")?.job;
  const trigger =
    config.webhooks !== undefined && config.jobs.enabled && indexJob !== undefined
      ? indexTrigger(indexJob, jobContext, { debounceMs: PROMPT_RUN_DEBOUNCE_MS })
      : undefined;
  const webhooks = config.webhooks && {
    db: store.db,
    trigger:
      trigger &&
      ((ids: readonly string[]) => {
        trigger.request(ids);
      }),
    counts: webhookCounts(),
    prompted: trigger?.stats,
  };

  const verifier = createTokenVerifier({
    issuer: config.oidc.issuer,
    audience: config.resourceUrl,
    // Tokens of the gateway's own client (client credentials: `check` obtains one) are no user's.
    ownClientId: config.oidc.clientId,
    // Keys come from the IdP's JWKS once discovery has loaded; until then verification answers 503.
    // While the IdP is unreachable the keys last fetched keep verifying (idp/keys.ts, ADR 0020).
    getKey: async (header, token) => (idp.current ?? (await idp.load())).keys(header, token),
  });

  const appNextcloud = config.nextcloud && {
    baseUrl: config.nextcloud.url,
    timeoutMs: config.nextcloud.timeoutMs,
    broker: new TokenBroker({
      idp: () => idp.load(),
      audience: config.nextcloud.audience,
      // A waiting exchange gives up when the IdP answered nothing for as long as one call may take.
      stallMs: config.outboundTimeoutMs,
      ...(config.nextcloud.tokenScope === "" ? {} : { scope: config.nextcloud.tokenScope }),
    }),
    ...(options.routeProbe === undefined ? {} : { routes: options.routeProbe }),
  };
  let shuttingDown = false;
  let schemaCurrent = false;
  const limits = rateLimits(config);
  const app = createApp({
    config,
    log,
    verifier,
    limits,
    registry,
    web: {
      config,
      store,
      idp: () => idp.load(),
      offline: config.sealingKeys && {
        grants: new GrantStore(store.db, new Sealer(config.sealingKeys)),
        sessions: new SessionSigner(config.sealingKeys),
        logins: new LoginCookieSealer(config.sealingKeys),
      },
      keepalive: {
        idleShare: config.jobs.keepaliveIdleShare,
        idleTimeoutSeconds: config.offlineIdleTimeoutSeconds,
      },
      searchIndex: config.searchIndex.enabled
        ? new SearchIndex(store.db, config.searchIndex.language)
        : undefined,
    },
    nextcloud: appNextcloud,
    webhooks,
    pool: store.pool,
    readiness: {
      shuttingDown: () => shuttingDown,
      idp: () => idp.status,
      idpClient: () => clientAuth.result(),
      idpReachability: () => idp.reachability(),
      async database() {
        if (!(await store.ping())) {
          return {
            ok: false,
            error:
              store.backend === "postgres"
                ? "PostgreSQL does not answer"
                : "the embedded database does not answer",
          };
        }
        if (!schemaCurrent) {
          try {
            const pending = await pendingMigrations(store);
            if (pending.length > 0) {
              return {
                ok: false,
                error: `schema is behind (${pending.length} pending migrations); run \`nextcloud-mcp-gateway migrate\``,
              };
            }
            schemaCurrent = true;
          } catch (err) {
            return { ok: false, error: describeError(err) };
          }
        }
        return { ok: true };
      },
    },
  });

  const server = await listen(app.fetch, config.listen, config.http);
  const drain = drainConnections(server);
  const url = urlOf(server);
  log.info(
    { version: VERSION, listen: url, publicUrl: config.publicUrl, issuer: config.oidc.issuer },
    "gateway listening",
  );
  const metricsServer =
    config.metrics.listen &&
    (await listen(
      createMetricsApp({ config, log, verifier, nextcloud: appNextcloud, limits, webhooks, pool: store.pool })
        .fetch,
      config.metrics.listen,
      config.http,
    ));
  if (metricsServer) log.info({ listen: urlOf(metricsServer) }, "metrics listening (/metrics only)");

  return {
    url,
    async shutdown(signal: string) {
      if (shuttingDown) return;
      shuttingDown = true;
      const deadline = Date.now() + config.shutdownTimeoutMs;
      log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, "shutting down: draining requests");
      // Jobs stop taking new work now, while the requests drain: what they have in flight finishes
      // (and their runs are recorded) within the same grace period.
      const jobsStopped = Promise.all([scheduler?.stop(), trigger?.stop()]);
      idp.stop();
      drain.start();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn("shutdown timeout reached; closing remaining connections");
          if ("closeAllConnections" in server) server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      });
      if (metricsServer) {
        await new Promise<void>((resolve) => {
          metricsServer.close(() => {
            resolve();
          });
        });
      }
      // Jobs in flight finish before the pool closes, but not past the grace period: work a job still
      // holds then stays leased to this replica and is taken over by another once the lease ends.
      if (!(await settlesWithin(jobsStopped, deadline - Date.now()))) {
        log.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          "shutdown timeout reached with jobs still running; their leases end by themselves and another replica takes the work over",
        );
      }
      await store.close();
      log.info("shutdown complete");
    },
  };
}

/** Whether `work` settles (either way) within `ms`. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(
      () => {
        resolve(false);
      },
      Math.max(0, ms),
    );
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
