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
  return { configuration, metadata: configuration.serverMetadata(), jwks: idp.jwks };
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

/**
 * A reverse proxy in front of Keycloak's token endpoint that, once `upstreamDown()` is called,
 * answers 502 Bad Gateway with an HTML page, as nginx does when its upstream is gone.
 */
export async function startTokenProxy(upstream: string) {
  let down = false;
  const server = createHttpServer((req, res) => {
    if (down) {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
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
    upstreamDown() {
      down = true;
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
