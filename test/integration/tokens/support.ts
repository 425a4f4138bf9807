// The gateway's Idp for the token tests, loaded from the real Keycloak as serve does, and variants
// whose token endpoint is somewhere else (a closed port, a proxy, a server that never answers).
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import * as oidc from "openid-client";
import { inject } from "vitest";
import { IdpClient, type Idp } from "../../../src/idp/index.ts";
import { createLogger } from "../../../src/log.ts";

/** The gateway client's Idp, as `serve` builds it (client mcp-gateway unless told otherwise). */
export function loadIdp(
  clientId = "mcp-gateway",
  clientSecret = inject("realmEnv").MCP_GATEWAY_CLIENT_SECRET,
) {
  return new IdpClient(
    { issuer: inject("keycloak").issuer, clientId, clientSecret, allowInsecureHttp: true, timeoutMs: 5000 },
    createLogger("silent"),
  ).load();
}

/** `idp` with its token endpoint moved to `tokenEndpoint`, and openid-client's timeout in seconds. */
export function idpWithTokenEndpoint(idp: Idp, tokenEndpoint: string, timeoutSeconds = 5): Idp {
  const configuration = new oidc.Configuration(
    { issuer: idp.metadata.issuer, token_endpoint: tokenEndpoint },
    "mcp-gateway",
    undefined,
    oidc.ClientSecretPost(inject("realmEnv").MCP_GATEWAY_CLIENT_SECRET),
  );
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- loopback http in tests
  oidc.allowInsecureRequests(configuration);
  configuration.timeout = timeoutSeconds;
  return { configuration, metadata: configuration.serverMetadata(), jwks: idp.jwks, keys: idp.keys };
}

function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
}

/** An answer the token proxy gives instead of forwarding: what a busy or misconfigured IdP would say. */
export interface TokenFault {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** An OAuth error answer as JSON (RFC 6749 §5.2), with extra headers such as Retry-After. */
export function oauthFault(status: number, error: string, headers: Record<string, string> = {}): TokenFault {
  return {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify({ error, error_description: `injected ${error}` }),
  };
}

/**
 * A reverse proxy in front of Keycloak's token endpoint that forwards every request unchanged until
 * told to fail: `upstreamDown()` makes it answer 502 Bad Gateway with an HTML page, as nginx does
 * when its upstream is gone; `fail(answer)` makes it answer `answer` (a 429, a 5xx JSON body, a 401
 * with a challenge…) without forwarding; `heal()` forwards again. `forwarded` counts the requests
 * that reached Keycloak, `refused` the ones the proxy answered itself.
 */
export async function startTokenProxy(upstream: string) {
  let fault: TokenFault | undefined;
  const counts = { forwarded: 0, refused: 0 };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (fault) {
        counts.refused++;
        res.writeHead(fault.status, fault.headers ?? {});
        res.end(fault.body ?? "");
        return;
      }
      counts.forwarded++;
      const headers = new Headers();
      for (const name of ["content-type", "accept", "authorization"]) {
        const value = req.headers[name];
        if (typeof value === "string") headers.set(name, value);
      }
      fetch(upstream, { method: req.method ?? "POST", headers, body: Buffer.concat(chunks) })
        .then(async (answer) => {
          res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "" });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502).end();
        });
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/token`,
    counts,
    upstreamDown() {
      fault = {
        status: 502,
        headers: { "content-type": "text/html" },
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
      };
    },
    fail(answer: TokenFault) {
      fault = answer;
    },
    heal() {
      fault = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A TCP server that accepts connections and never answers; `connected` resolves on the first one. */
export async function startSilentServer() {
  const sockets = new Set<Socket>();
  const connected = Promise.withResolvers<true>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    connected.resolve(true);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/token`,
    connected: connected.promise,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
