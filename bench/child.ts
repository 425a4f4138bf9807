// Starting and stopping the gateway child (bench/server.ts) from the bench process. Every child is
// killed when the bench ends, however it ends: normal return, error, Ctrl-C / SIGTERM, or exit.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { JWK } from "jose";

const SERVER_ENTRY = fileURLToPath(new URL("./server.ts", import.meta.url));
const STDERR_KEEP = 4000;

/** A snapshot of the child's counters (see bench/server.ts). */
export interface ServerStats {
  /** The child's own performance.now(), to turn CPU time into a share of wall time. */
  readonly atMs: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly hits: number;
  readonly misses: number;
  readonly rssMiB: number;
}

export interface GatewayChild {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the only place the benches send traffic. */
  readonly origin: string;
  /** The audience tokens must carry (`http://localhost:<port>/mcp`). */
  readonly resourceUrl: string;
  stats(): Promise<ServerStats>;
  /** Whatever the child wrote on stderr, last few KB. */
  stderrTail(): string;
  /** Stops the child (SIGTERM, then SIGKILL after a grace period); idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill("SIGKILL");
      process.stderr.write(`\nbench: ${signal} received; gateway child stopped, no results written\n`);
      process.exit(130);
    });
  }
}

interface Waiter {
  readonly type: string;
  resolve(message: Record<string, unknown>): void;
  reject(err: Error): void;
}

/** Spawns bench/server.ts with the IdP's public key and waits until it listens. */
export async function startGatewayChild(options: {
  publicJwk: JWK;
  startTimeoutMs?: number;
}): Promise<GatewayChild> {
  installCleanup();
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, BENCH_PUBLIC_JWK: JSON.stringify(options.publicJwk) },
  });
  live.add(child);

  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });

  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      live.delete(child);
      resolve();
    });
  });
  let exitError: Error | undefined;
  const waiters: Waiter[] = [];
  const inbox: Record<string, unknown>[] = [];
  child.once("exit", (code, signal) => {
    exitError = new Error(
      `gateway child exited (code ${code ?? "none"}, signal ${signal ?? "none"})${stderr === "" ? "" : `; stderr:\n${stderr}`}`,
    );
    for (const w of waiters.splice(0)) w.reject(exitError);
  });
  child.once("error", (err) => {
    exitError = new Error(`cannot start the gateway child: ${err.message}`);
    for (const w of waiters.splice(0)) w.reject(exitError);
  });

  createInterface({ input: child.stdout }).on("line", (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not ours (a stray console line); ignore
    }
    const i = waiters.findIndex((w) => w.type === message.type);
    const waiter = i === -1 ? undefined : waiters.splice(i, 1)[0];
    if (waiter === undefined) inbox.push(message);
    else waiter.resolve(message);
  });

  const next = (type: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const i = inbox.findIndex((m) => m.type === type);
    const queued = i === -1 ? undefined : inbox.splice(i, 1)[0];
    if (queued !== undefined) return Promise.resolve(queued);
    if (exitError !== undefined) return Promise.reject(exitError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = waiters.indexOf(waiter);
        if (at !== -1) waiters.splice(at, 1);
        reject(new Error(`gateway child sent no "${type}" within ${timeoutMs} ms; stderr:\n${stderr}`));
      }, timeoutMs);
      const waiter: Waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      waiters.push(waiter);
    });
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      child.kill("SIGTERM");
      const grace = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(grace);
    }
    live.delete(child);
  };

  try {
    const listening = await next("listening", options.startTimeoutMs ?? 15_000);
    const { port, resourceUrl } = listening;
    if (typeof port !== "number" || typeof resourceUrl !== "string") {
      throw new Error(`gateway child sent a bad "listening" message: ${JSON.stringify(listening)}`);
    }
    return {
      pid: child.pid ?? -1,
      port,
      origin: `http://127.0.0.1:${port}`,
      resourceUrl,
      async stats() {
        child.stdin.write("stats\n");
        return (await next("stats", 5000)) as unknown as ServerStats;
      },
      stderrTail: () => stderr,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
