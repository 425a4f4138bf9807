// A gate in front of the real Keycloak for gateway child processes, so that tests of concurrent
// replicas do not depend on scheduling: an HTTP proxy (the children get HTTP_PROXY and
// NODE_USE_ENV_PROXY=1, so their fetch goes through it; PostgreSQL is not HTTP and goes direct)
// that forwards every request unchanged, but holds POSTs to the token endpoint until `parties` of
// them wait at once, then lets them all through and holds nothing more. A replica only asks the
// token endpoint after it has claimed a grant, so once the gate opens every party has claimed one.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running gate; `env` goes into the children's environment. */
export interface TokenGate {
  env: Record<string, string>;
  /** Resolves when `parties` token requests waited at once and were let through. */
  opened: Promise<true>;
  /** How many token requests were held. */
  readonly held: number;
  /** Lets everything through from now on (e.g. when a child exits while the gate is closed). */
  open(): void;
  close(): Promise<void>;
}

/** Starts a gate that opens once `parties` token requests wait at once. */
export async function startTokenGate(parties: number): Promise<TokenGate> {
  const waiting: (() => void)[] = [];
  const opened = Promise.withResolvers<true>();
  let isOpen = false;
  let held = 0;
  const open = () => {
    if (isOpen) return;
    isOpen = true;
    for (const go of waiting.splice(0)) go();
    opened.resolve(true);
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const [host = "", port = "80"] = (req.headers.host ?? "").split(":");
    const upstream = request(
      { host, port: Number(port), path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };

  // Requests arrive through CONNECT tunnels (undici's proxy agent tunnels plain http too); this
  // server parses what flows through them.
  const inner = createServer((req, res) => {
    const isToken = req.method === "POST" && (req.url ?? "").endsWith("/protocol/openid-connect/token");
    if (!isToken || isOpen) {
      forward(req, res);
      return;
    }
    held++;
    waiting.push(() => {
      forward(req, res);
    });
    if (waiting.length >= parties) open();
  });
  const outer = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  outer.on("connect", (req, socket, head) => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    inner.emit("connection", socket);
  });
  await new Promise<void>((resolve) => outer.listen(0, "127.0.0.1", resolve));
  const { port } = outer.address() as AddressInfo;
  return {
    env: { NODE_USE_ENV_PROXY: "1", HTTP_PROXY: `http://127.0.0.1:${String(port)}`, NO_PROXY: "" },
    opened: opened.promise,
    get held() {
      return held;
    },
    open,
    async close() {
      open();
      outer.closeAllConnections();
      inner.closeAllConnections();
      await new Promise<void>((resolve) =>
        outer.close(() => {
          resolve();
        }),
      );
    },
  };
}
