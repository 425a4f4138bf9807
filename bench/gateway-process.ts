// The gateway itself (`node <entry> serve`, the built dist/ or the source) in a child process of the
// bench, with only the configuration the bench gives it: no DATABASE_URL or other settings inherited
// from the shell. Not bench/child.ts, which runs bench/server.ts (the gateway's app with a bench IdP
// key in a harness of its own); this is the process operators run.
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../", import.meta.url));
/** The built gateway (`npm run build`). */
export const DIST_ENTRY = path.join(REPO, "dist", "main.js");
/** The gateway from source (Node's type stripping). */
export const SOURCE_ENTRY = path.join(REPO, "src", "main.ts");
const STDERR_KEEP = 4000;

/** A started gateway child. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** spawn → first 200 from /readyz, ms. */
  readonly readyMs: number;
  /** Whatever the child wrote on stderr, last few KB. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited; idempotent. */
  stop(): Promise<void>;
}

export interface GatewayProcessOptions {
  /** DIST_ENTRY or SOURCE_ENTRY. */
  readonly entry: string;
  readonly port: number;
  /** The gateway's whole configuration (HOST and PORT are set from `port`). */
  readonly env: Record<string, string>;
  /** How often /readyz is asked, ms. */
  readonly pollMs: number;
  readonly timeoutMs?: number;
}

/** `text` on one line, at most 300 characters: for messages. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

/** An error's message with its cause's, for messages. */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return `${err.message}${cause}`;
}

/** Spawns `node <entry> serve` on 127.0.0.1:`port` with only `env`; resolves at the first 200 from
 * /readyz, or stops the child and throws with its stderr when it exits or is not ready in time. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const { entry, port, env, pollMs, timeoutMs = 60_000 } = options;
  const started = performance.now();
  const child = spawn(process.execPath, [entry, "serve"], {
    cwd: REPO,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? tmpdir(),
      ...env,
      HOST: "127.0.0.1",
      PORT: String(port),
    },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = `the gateway exited (code ${code ?? "none"}, signal ${signal ?? "none"})`;
      resolve();
    });
  });
  child.once("error", (err) => {
    exited = `cannot start the gateway: ${err.message}`;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const grace = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(grace);
  };
  const origin = `http://127.0.0.1:${String(port)}`;
  let last = "";
  for (;;) {
    if (exited !== undefined) throw new Error(`${exited}; stderr:\n${stderr}`);
    try {
      const res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = `/readyz answered ${String(res.status)}: ${snippet(await res.text())}`;
      if (res.ok) break;
    } catch (err) {
      last = describe(err);
    }
    if (performance.now() - started > timeoutMs) {
      await stop();
      throw new Error(
        `the gateway was not ready within ${String(timeoutMs / 1000)} s (${last}); stderr:\n${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const readyMs = performance.now() - started;
  return { child, pid: child.pid ?? -1, origin, readyMs, stderrTail: () => stderr, stop };
}
