import { AsyncLocalStorage } from "node:async_hooks";
import { Readable } from "node:stream";
import {
  createMcpHandler,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type McpServer,
} from "@modelcontextprotocol/server";
import type { Context, Handler } from "hono";
import { missingScopes, wwwAuthenticate } from "../auth/index.ts";
import { describeError } from "../errors.ts";
import { subjectHash } from "../log.ts";
import {
  appsFromClaim,
  createMcpServer,
  intersectApps,
  LEGACY_REVISIONS,
  parseToolset,
  plainlyLegacyRequest,
  refuseMessage,
  requiredScopesForCall,
  type SearchIndexContext,
  type ToolRegistry,
} from "../mcp/index.ts";
import type { NextcloudClient } from "../nextcloud/index.ts";
import type { OfflineAccessState } from "../store/account.ts";
import { ClientCapabilityMemory, initializeCapabilities } from "./client-capabilities.ts";
import type { AppAvailability } from "./nextcloud-access.ts";
import type { AppEnv } from "./env.ts";
import type { Logger } from "../log.ts";

/** Settings of {@link mcpEndpoint}. */
export interface McpEndpointSettings {
  registry: ToolRegistry;
  resourceMetadataUrl: string;
  /** Scopes every call needs besides a tool's own. */
  baseScopes: readonly string[];
  /**
   * The toolset when the URL asks for none (`/mcp?apps=…` asks), and the access-token claim that
   * limits a user's apps, if the operator set one.
   */
  toolsets?: {
    defaultApps: ReadonlySet<string> | "all";
    appsClaim?: { name: string; prefix: string } | undefined;
  };
  /** The apps usable for a user (per-user cache); required with `nextcloud`. */
  availableApps?: AppAvailability | undefined;
  /** Makes the request's Nextcloud client; absent when no Nextcloud is configured. */
  nextcloud?:
    | ((subjectToken: string, subject: string, signal: AbortSignal, digest?: string) => NextcloudClient)
    | undefined;
  /** Offline access as tools see it; absent in tests without a database. */
  offline?:
    | {
        enabled: boolean;
        connectUrl: string;
        accountUrl: string;
        lookup(issuer: string, subject: string): Promise<OfflineAccessState>;
      }
    | undefined;
  /** The content index of a token's user; absent when SEARCH_INDEX_ENABLED is off. */
  searchIndex?: ((issuer: string, subject: string) => SearchIndexContext) | undefined;
}

function isListOrCall(body: unknown): boolean {
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  return messages.some((m) => {
    const method = (m as { method?: unknown } | null)?.method;
    return method === "tools/list" || method === "tools/call";
  });
}

const utf8 = new TextDecoder();

/**
 * The request body as JSON. Served by @hono/node-server with a declared length (which bodyLimit has
 * held to the maximum, and which node's parser reads exactly), the body is read from the node
 * request itself: the web Request's body stream costs a twentieth of a tools/call's CPU. Otherwise
 * (a chunked body, which bodyLimit counts as it streams; tests; a body already read), hono reads it.
 */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (
    incoming instanceof Readable &&
    // Nothing has read it or attached itself to it (a web stream over it would compete).
    !incoming.readableDidRead &&
    incoming.readableFlowing === null &&
    c.req.header("content-length") !== undefined &&
    c.req.header("transfer-encoding") === undefined
  ) {
    const bytes = await readAll(incoming);
    // TextDecoder drops a leading byte-order mark, as Request.json() does.
    return JSON.parse(utf8.decode(bytes));
  }
  return c.req.json();
}

/** Every byte of a readable, by its events (an async iterator costs more than the small body). */
function readAll(incoming: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const done = (err?: Error) => {
      incoming.off("data", onData).off("end", done).off("error", done).off("close", onClose);
      if (err === undefined) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      else reject(err);
    };
    // Closed before the end: the client went away mid-body.
    const onClose = () => {
      done(new Error("the request body ended early"));
    };
    incoming.on("data", onData).once("end", done).once("error", done).once("close", onClose);
  });
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: "2.0" as const, id: null, error: { code, message } };
}

/**
 * POST /mcp: Streamable HTTP, stateless. Each request gets a fresh MCP server and transport built
 * from the prebuilt registry (a shared server would leak responses across clients). A `tools/call`
 * for a tool whose scopes the token lacks is answered 403 `insufficient_scope` naming every scope
 * needed, so that clients step up.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling
 */
export function mcpEndpoint(settings: McpEndpointSettings): Handler<AppEnv> {
  const clients = new ClientCapabilityMemory();
  return async function mcpHandler(c) {
    const log = c.get("log");
    const { verified, info, digest } = c.get("auth");
    let body: unknown;
    try {
      body = await readJson(c);
    } catch {
      return c.json(jsonRpcError(-32700, "Parse error: the body must be a JSON-RPC message in JSON"), 400);
    }
    const refusal = refuseMessage(body, c.req.header("mcp-protocol-version"));
    if (refusal !== undefined) {
      const { status, id, code, message } = refusal;
      return c.json({ jsonrpc: "2.0" as const, id, error: { code, message } }, status);
    }
    // The toolset: what the URL asks for (else the operator's default), within what the claim allows.
    const asked = c.req.query("apps");
    let apps = settings.toolsets?.defaultApps ?? "all";
    if (asked !== undefined) {
      const selection = parseToolset(asked, settings.registry.groups());
      if ("error" in selection) return c.json(jsonRpcError(-32602, selection.error), 400);
      apps = selection.apps;
    }
    const claim = settings.toolsets?.appsClaim;
    if (claim !== undefined)
      apps = intersectApps(apps, appsFromClaim(verified.claims[claim.name], claim.prefix));
    const needed = [...new Set([...settings.baseScopes, ...requiredScopesForCall(settings.registry, body)])];
    const missing = missingScopes(verified.scopes, needed);
    if (missing.length > 0) {
      const description = `This call needs the scopes ${needed.join(" ")}; sign in again granting ${missing.join(" ")}.`;
      log.info(
        { sub: subjectHash(verified.issuer, verified.subject), missing },
        "tool call needs more scope",
      );
      return c.json({ error: "insufficient_scope", error_description: description }, 403, {
        "www-authenticate": wwwAuthenticate({
          resourceMetadataUrl: settings.resourceMetadataUrl,
          scopes: needed,
          error: "insufficient_scope",
          description,
        }),
      });
    }
    const clientKey = `${verified.issuer}\n${verified.subject}\n${verified.clientId}`;
    const declared = initializeCapabilities(body);
    if (declared !== undefined) clients.remember(clientKey, declared);
    const offline = settings.offline;
    const signal = c.req.raw.signal;
    const nextcloud = settings.nextcloud?.(info.token, verified.subject, signal, digest);
    // Tools of apps the user cannot use are hidden. Without Nextcloud only the gateway's own tools
    // remain; an app whose presence cannot be read stays and its tools fail with their own message.
    let capabilities: ReadonlySet<string> | "all" = new Set<string>();
    if (nextcloud !== undefined && isListOrCall(body)) {
      capabilities = settings.availableApps
        ? await settings.availableApps(nextcloud, verified.subject, signal, log)
        : "all";
    }
    const server = createMcpServer(
      settings.registry,
      {
        auth: info,
        subject: verified.subject,
        scopes: verified.scopes,
        signal,
        requestId: c.get("requestId"),
        log,
        nextcloud,
        offline: offline && {
          enabled: offline.enabled,
          connectUrl: offline.connectUrl,
          accountUrl: offline.accountUrl,
          urlElicitation: clients.urlElicitation(clientKey),
          state: () => offline.lookup(verified.issuer, verified.subject),
        },
        searchIndex: settings.searchIndex?.(verified.issuer, verified.subject),
      },
      { capabilities, apps },
    );
    const legacy =
      plainlyLegacyRequest(body, c.req.header("mcp-protocol-version"), LEGACY_REVISIONS) ||
      (await isLegacyRequest(c.req.raw, body));
    const serve = legacy ? serveLegacy : serveModern;
    try {
      // No close() after an answer: with JSON responses the whole answer is in the Response, the
      // handlers have finished, and this stateless server sent no requests of its own, so nothing of
      // it is left pending (the 2026-07-28 transport closes itself). Closing would only tear down
      // empty maps, at the cost of an error object with a stack per request.
      const response = await serve(server, c.req.raw, body, info, log);
      // The SDK's Response is returned as it is (hono merges its prepared headers only into
      // responses it makes itself): the request id goes on it here, as on every other answer.
      response.headers.set("x-request-id", c.get("requestId"));
      return response;
    } catch (err) {
      // A handler may still run when serving failed half-way: closing aborts its signal.
      void server.close();
      log.error({ err: describeError(err) }, "MCP request failed");
      return c.json(
        jsonRpcError(
          -32603,
          `Internal error; the gateway log has details (request id ${c.get("requestId")}).`,
        ),
        500,
      );
    }
  };
}

/**
 * The 2025 revisions (and older): the `initialize` handshake, then requests without `_meta`
 * envelopes, each POST answered by a stateless transport with one JSON body.
 */
async function serveLegacy(
  server: McpServer,
  request: Request,
  body: unknown,
  authInfo: AuthInfo,
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  return transport.handleRequest(request, { parsedBody: body, authInfo });
}

/** The per-request server and log the shared 2026-07-28 handler serves with. */
interface ModernExchange {
  server: McpServer;
  log: Logger;
}

const exchange = new AsyncLocalStorage<ModernExchange>();

/**
 * The SDK's handler for 2026-07-28, built once: its factory and error report read the request's
 * own server and log from the async context `serveModern` runs it in.
 */
const modernHandler = createMcpHandler(
  () => {
    const current = exchange.getStore();
    if (current === undefined) throw new Error("the 2026-07-28 handler ran outside serveModern");
    return current.server;
  },
  {
    legacy: "reject",
    onerror: (err) => {
      exchange.getStore()?.log.info({ err: describeError(err) }, "MCP request refused or failed");
    },
  },
);

/**
 * The 2026-07-28 revision: every request carries its version and the client's capabilities in
 * `_meta`; the SDK's handler checks the envelope and the `Mcp-Method`/`Mcp-Name` headers, answers
 * `server/discover`, and adds `ttlMs`/`cacheScope` to list results. It serves the server already
 * built for this request (tools filtered by the token).
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports
 */
function serveModern(
  server: McpServer,
  request: Request,
  body: unknown,
  authInfo: AuthInfo,
  log: Logger,
): Promise<Response> {
  return exchange.run({ server, log }, () => modernHandler.fetch(request, { parsedBody: body, authInfo }));
}

/** GET and DELETE /mcp: no server-initiated stream and no sessions in stateless mode. */
export const mcpMethodNotAllowed: Handler<AppEnv> = (c) =>
  c.json(
    jsonRpcError(-32000, "Method not allowed: this server is stateless; send JSON-RPC with POST."),
    405,
    {
      allow: "POST, OPTIONS",
    },
  );
