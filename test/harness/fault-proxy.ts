// A fault-injecting HTTP proxy for the reliability scenarios: it sits on 127.0.0.1 in front of a
// loopback server (the Nextcloud stand-in) and, per matching request, answers a status of its own
// (429/503 with Retry-After), forwards and then replaces the answer (the request was applied but the
// answer lost), or holds the answer back (a slow Nextcloud). Every request is logged with the time
// it arrived, so scenarios can count retries and measure the waits between them.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/** What the proxy does with a matching request. */
export type Fault =
  /** Answers `status` itself (after `delayMs`, if given); the target never sees the request. */
  | {
      kind: "answer";
      status: number;
      retryAfter?: string;
      headers?: Record<string, string>;
      delayMs?: number;
    }
  /** Forwards the request (the target applies it), then answers `status` instead of the target's answer. */
  | { kind: "lose-answer"; status: number; retryAfter?: string }
  /** Forwards the request and holds the answer back for `ms` milliseconds. */
  | { kind: "delay"; ms: number };

export interface FaultRule {
  readonly method?: string;
  readonly path: RegExp;
  readonly fault: Fault;
  /** How many matching requests get the fault; every one when undefined. */
  times?: number;
}

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** performance.now() when the request arrived. */
  readonly atMs: number;
  /** The fault applied, if any. */
  readonly fault: Fault["kind"] | undefined;
}

export interface FaultProxy {
  readonly url: string;
  /** Replaces the rules (first match wins). */
  setRules(rules: FaultRule[]): void;
  /** Requests received since the start or the last reset. */
  log(): readonly ProxiedRequest[];
  reset(): void;
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

function answer(
  res: ServerResponse,
  status: number,
  retryAfter?: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    "content-type": "text/plain",
    ...(retryAfter === undefined ? {} : { "retry-after": retryAfter }),
    ...headers,
  });
  res.end(`fault proxy: ${String(status)}`);
}

/** Starts the proxy in front of `target` (e.g. the stand-in's URL). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let rules: FaultRule[] = [];
  let entries: ProxiedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const rule = rules.find(
      (r) => (r.method === undefined || r.method === method) && r.path.test(path) && (r.times ?? 1) > 0,
    );
    if (rule !== undefined && rule.times !== undefined) rule.times -= 1;
    const fault = rule?.fault;
    entries.push({ method, path, atMs: performance.now(), fault: fault?.kind });
    if (fault?.kind === "answer") {
      req.resume();
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) answer(res, fault.status, fault.retryAfter, fault.headers);
      }, fault.delayMs ?? 0);
      timers.add(t);
      return;
    }
    void readBody(req).then((body) => {
      const headers = { ...req.headers, host: upstream.host };
      const out = httpRequest(
        { hostname: upstream.hostname, port: upstream.port, method, path, headers },
        (up) => {
          void readBody(up).then((upBody) => {
            const reply = () => {
              if (res.destroyed) return;
              if (fault?.kind === "lose-answer") {
                answer(res, fault.status, fault.retryAfter);
                return;
              }
              res.writeHead(up.statusCode ?? 502, up.headers);
              res.end(upBody);
            };
            if (fault?.kind === "delay") {
              const t = setTimeout(() => {
                timers.delete(t);
                reply();
              }, fault.ms);
              timers.add(t);
            } else reply();
          });
        },
      );
      out.on("error", (err) => {
        if (!res.headersSent) answer(res, 502, undefined, { "x-proxy-error": err.message });
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    setRules(next) {
      rules = next;
    },
    log: () => entries,
    reset() {
      entries = [];
    },
    stop() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      return new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
