// A gateway replica as its own process (`src/main.ts serve`) for the reliability scenarios: the
// way it runs in production, so that SIGTERM, its sockets and its memory are its own.
import { gatewayCli, waitForReady, type Child } from "../../harness/process.ts";
import { freePort } from "../../harness/wait.ts";

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly child: Child;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code once the process ended. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `serve` with exactly `env` (plus PORT and HOST) and waits for `/readyz` 200. */
export async function startGatewayProcess(
  env: Record<string, string>,
  options: { port?: number; readyTimeoutMs?: number } = {},
): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  const child = gatewayCli(["serve"], { LOG_LEVEL: "warn", ...env, HOST: "127.0.0.1", PORT: String(port) });
  try {
    await waitForReady(child, port, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    child,
    async stop(signal = "SIGTERM") {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.kill(signal);
      return child.exited;
    },
  };
}
