// A round-robin HTTP load balancer on 127.0.0.1 for the rolling-restart scenario, as simple as the
// ones in front of most deployments. Each request goes to the next replica on a new connection
// (no keep-alive to the replicas), so that a replica that stopped listening shows up as a refused
// connection, and only then the request is sent to the next replica: a refused connection proves
// the replica never saw the request, so retrying it is safe even for a write. Anything else (a
// reset or timeout after the request was sent) is passed to the client as 502, never retried,
// because the replica may have acted on it.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RoundRobinProxy {
  readonly url: string;
  readonly port: number;
  /** Requests answered by each replica (by its base URL). */
  answered(): Record<string, number>;
  /** Requests in flight at each replica now. */
  inFlight(): Record<string, number>;
  /** Connections refused by a replica and sent to the next one. */
  retried(): number;
  /** Requests answered 502 by the proxy (no replica answered). */
  failed(): number;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

export async function startRoundRobinProxy(replicas: readonly string[]): Promise<RoundRobinProxy> {
  let next = 0;
  let retried = 0;
  let failed = 0;
  const answered: Record<string, number> = Object.fromEntries(replicas.map((r) => [r, 0]));
  const inFlight: Record<string, number> = Object.fromEntries(replicas.map((r) => [r, 0]));

  /** Sends to `order[0]`; on a refused connection, to the next one in `order`. */
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, order: readonly string[]) => {
    const [target = "", ...rest] = order;
    const to = new URL(target);
    inFlight[target] = (inFlight[target] ?? 0) + 1;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight[target] = (inFlight[target] ?? 1) - 1;
    };
    const out = httpRequest(
      {
        hostname: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, connection: "close" },
        agent: false,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.once("end", () => {
          answered[target] = (answered[target] ?? 0) + 1;
          finish();
        });
        up.once("error", () => {
          finish();
          res.destroy();
        });
      },
    );
    out.once("error", (err: NodeJS.ErrnoException) => {
      finish();
      if (err.code === "ECONNREFUSED" && rest.length > 0) {
        retried++;
        forward(req, res, body, rest);
        return;
      }
      failed++;
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain", "x-proxy-error": err.code ?? err.message });
        res.end(`round-robin proxy: ${err.code ?? err.message} from ${target}`);
      } else res.destroy();
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const first = next++ % replicas.length;
      forward(req, res, body, [...replicas.slice(first), ...replicas.slice(0, first)]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    answered: () => ({ ...answered }),
    inFlight: () => ({ ...inFlight }),
    retried: () => retried,
    failed: () => failed,
    stop() {
      server.closeAllConnections();
      return new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
