// A closed-loop HTTP load generator: N workers, each sending its next request as soon as the last
// one is answered, over keep-alive connections (fetch, i.e. undici, by default; node:http's client
// costs less CPU per request, which matters when generator and server share few cores). A warm-up, then a measured window; the
// first wrong response stops the run (a bench over failing requests measures nothing).
// Bounded: loopback (127.0.0.1) only, at most MAX_CONCURRENCY workers and MAX_SECONDS of load.
import http from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { summarize, type Summary } from "./stats.ts";

export const MAX_CONCURRENCY = 256;
export const MAX_SECONDS = 120;
/** Requests still unanswered this long after the window closes are aborted (and count as failures). */
const DRAIN_TIMEOUT_MS = 15_000;

export type LoadClient = "fetch" | "http" | "raw";
export const LOAD_CLIENTS: readonly LoadClient[] = ["fetch", "http", "raw"];

export interface LoadOptions {
  readonly client: LoadClient;
  /** For messages, e.g. "tools/list". */
  readonly name: string;
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Checks the body of a 200 response; returns what is wrong with it, or undefined. */
  readonly check: (body: string) => string | undefined;
  /** Called as the measured window opens and closes (e.g. to sample the server's counters). */
  readonly onWindowStart?: () => void;
  readonly onWindowEnd?: () => void;
}

export interface LoadResult {
  /** Good responses completed inside the window. */
  readonly requests: number;
  readonly windowSeconds: number;
  readonly rps: number;
  /** Latency of the good responses completed inside the window, in ms. */
  readonly latencyMs: Summary;
  /** Responses of any kind, warm-up included. */
  readonly responses: number;
  readonly non2xx: number;
  /** 2xx other than 200, 200 with a wrong body, network errors and timeouts. */
  readonly otherFailures: number;
  /** The first few failures, described. */
  readonly problems: readonly string[];
  /** CPU time of this process (the load generator) over the window, in % of one core. */
  readonly clientCpuPercent: number;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return `${err.name}: ${err.message}${cause}`;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

type Send = (signal: AbortSignal) => Promise<{ status: number; text: string }>;

function fetchSender(o: LoadOptions): Send {
  return async (signal) => {
    const res = await fetch(o.url, {
      method: o.method,
      headers: o.headers,
      ...(o.body === undefined ? {} : { body: o.body }),
      signal,
    });
    return { status: res.status, text: await res.text() };
  };
}

function httpSender(o: LoadOptions, agent: http.Agent): Send {
  return (signal) =>
    new Promise((resolve, reject) => {
      const req = http.request(o.url, { method: o.method, headers: o.headers, agent, signal }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(o.body);
    });
}

/**
 * The lightest generator: HTTP/1.1 over one kept-alive node:net connection per worker, the request
 * bytes built once, the answer read by its Content-Length (or chunked encoding) with no parser
 * objects: what wrk-like tools do, so that on a small machine the generator takes as little as
 * possible of the cores the measured servers need. Each answer's status and body are still checked.
 */
class RawConnection {
  readonly #request: Buffer;
  readonly #port: number;
  #socket: net.Socket | undefined;
  #buffered: Buffer = Buffer.alloc(0);
  #waiting:
    { resolve: (r: { status: number; text: string }) => void; reject: (e: Error) => void } | undefined;

  constructor(o: LoadOptions, target: URL) {
    this.#port = Number(target.port);
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    const lines = [`${o.method} ${target.pathname}${target.search} HTTP/1.1`];
    // The caller's Host wins (a bench may present the gateway's public host), as with fetch.
    if (!Object.keys(o.headers).some((k) => k.toLowerCase() === "host")) lines.push(`Host: ${target.host}`);
    for (const [k, v] of Object.entries(o.headers)) lines.push(`${k}: ${v}`);
    if (body !== undefined) lines.push(`Content-Length: ${String(body.length)}`);
    const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    this.#request = body === undefined ? head : Buffer.concat([head, body]);
  }

  send(signal: AbortSignal): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        return;
      }
      const socket = this.#connected();
      const onAbort = () => {
        socket.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting = {
        resolve: (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      socket.write(this.#request);
    });
  }

  close(): void {
    this.#socket?.destroy();
  }

  #connected(): net.Socket {
    if (this.#socket !== undefined && !this.#socket.destroyed) return this.#socket;
    this.#buffered = Buffer.alloc(0);
    const socket = net.connect(this.#port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#tryAnswer();
    });
    const gone = (err?: Error) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(err ?? new Error("the server closed the connection"));
    };
    socket.on("error", gone);
    socket.on("close", () => {
      gone();
    });
    this.#socket = socket;
    return socket;
  }

  #tryAnswer(): void {
    const buf = this.#buffered;
    const end = buf.indexOf("\r\n\r\n");
    if (end === -1) return;
    const head = buf.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let body: Buffer;
    let rest: Buffer;
    if (length !== null) {
      const total = end + 4 + Number(length[1]);
      if (buf.length < total) return;
      body = buf.subarray(end + 4, total);
      rest = buf.subarray(total);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let at = end + 4;
      for (;;) {
        const line = buf.indexOf("\r\n", at);
        if (line === -1) return;
        const size = parseInt(buf.toString("latin1", at, line), 16);
        if (buf.length < line + 2 + size + 2) return;
        if (size === 0) {
          rest = buf.subarray(line + 4);
          break;
        }
        parts.push(buf.subarray(line + 2, line + 2 + size));
        at = line + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      this.#socket?.destroy(
        new Error(
          `an answer with neither Content-Length nor chunked encoding: ${head.split("\r\n")[0] ?? ""}`,
        ),
      );
      return;
    }
    this.#buffered = rest;
    if (/\r\nconnection:\s*close/i.test(head)) this.#socket?.destroy();
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.resolve({ status, text: body.toString("utf8") });
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const target = new URL(o.url);
  if (target.protocol !== "http:" || target.hostname !== "127.0.0.1") {
    throw new Error(`load goes to http://127.0.0.1 only, not ${target.origin}`);
  }
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > MAX_CONCURRENCY) {
    throw new RangeError(`concurrency must be 1 to ${MAX_CONCURRENCY}, got ${o.concurrency}`);
  }
  if (!(o.warmupMs >= 0 && o.durationMs > 0 && o.warmupMs + o.durationMs <= MAX_SECONDS * 1000)) {
    throw new RangeError(`warm-up plus duration must be positive and at most ${MAX_SECONDS} s`);
  }

  let phase: "warmup" | "window" | "done" = "warmup";
  let windowStart = 0;
  let windowEnd = 0;
  let cpuStart = process.cpuUsage();
  let cpuWindow: NodeJS.CpuUsage = { user: 0, system: 0 };
  let windowTimer: NodeJS.Timeout | undefined;
  const latencies: number[] = [];
  const problems: string[] = [];
  let good = 0;
  let responses = 0;
  let non2xx = 0;
  let otherFailures = 0;

  const closeWindow = () => {
    if (phase === "window") {
      windowEnd = performance.now();
      cpuWindow = process.cpuUsage(cpuStart);
      o.onWindowEnd?.();
    }
    phase = "done";
  };
  const openWindow = () => {
    if (phase !== "warmup") return;
    phase = "window";
    windowStart = performance.now();
    cpuStart = process.cpuUsage();
    o.onWindowStart?.();
    windowTimer = setTimeout(closeWindow, o.durationMs);
  };
  const fail = (problem: string) => {
    const line = `${o.name}: ${problem}`;
    if (problems.length < 5 && !problems.includes(line)) problems.push(line);
    closeWindow();
  };

  const agent =
    o.client === "http" ? new http.Agent({ keepAlive: true, maxSockets: o.concurrency }) : undefined;
  const raw: RawConnection[] = [];
  const send: (signal: AbortSignal, worker: number) => Promise<{ status: number; text: string }> =
    o.client === "raw"
      ? (signal, worker) => {
          raw[worker] ??= new RawConnection(o, target);
          return raw[worker].send(signal);
        }
      : agent === undefined
        ? fetchSender(o)
        : httpSender(o, agent);
  const hardStop = new AbortController();
  const warmupTimer = setTimeout(openWindow, o.warmupMs);
  const deadline = setTimeout(
    () => {
      hardStop.abort(new Error(`no answer within ${DRAIN_TIMEOUT_MS} ms after the window closed`));
    },
    o.warmupMs + o.durationMs + DRAIN_TIMEOUT_MS,
  );

  const worker = async (_: unknown, index: number) => {
    while (phase !== "done") {
      const started = performance.now();
      let status: number;
      let text: string;
      try {
        ({ status, text } = await send(hardStop.signal, index));
      } catch (err) {
        otherFailures++;
        fail(`request failed: ${describe(err)}`);
        continue;
      }
      const finished = performance.now();
      responses++;
      if (status < 200 || status >= 300) {
        non2xx++;
        fail(`HTTP ${status}: ${snippet(text)}`);
        continue;
      }
      const problem = status === 200 ? o.check(text) : `HTTP ${status} where 200 was expected`;
      if (problem !== undefined) {
        otherFailures++;
        fail(problem);
        continue;
      }
      if (phase === "window") {
        good++;
        latencies.push(finished - started);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    clearTimeout(warmupTimer);
    clearTimeout(windowTimer);
    clearTimeout(deadline);
    agent?.destroy();
    for (const c of raw) c.close();
  }

  const windowMs = windowEnd - windowStart;
  return {
    requests: good,
    windowSeconds: windowMs / 1000,
    rps: windowMs > 0 ? good / (windowMs / 1000) : 0,
    latencyMs: summarize(latencies),
    responses,
    non2xx,
    otherFailures,
    problems,
    clientCpuPercent: windowMs > 0 ? ((cpuWindow.user + cpuWindow.system) / 1000 / windowMs) * 100 : 0,
  };
}
