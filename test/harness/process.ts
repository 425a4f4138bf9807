import { spawn, type ChildProcess } from "node:child_process";
import { waitFor } from "./wait.ts";

/** A child process whose output the test can read while it runs. */
export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/**
 * Runs the gateway CLI (`src/main.ts`, or another `entry` such as a built `dist/main.js`) with this
 * Node and exactly the given environment (plus PATH).
 */
export function gatewayCli(args: string[], env: Record<string, string>, entry: string = MAIN): Child {
  const proc = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  proc.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
    },
  };
}

/** Runs the CLI to completion. */
export async function runGatewayCli(
  args: string[],
  env: Record<string, string>,
  entry?: string,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const c = gatewayCli(args, env, entry);
  const code = await c.exited;
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/**
 * Waits until a gateway started with {@link gatewayCli} answers `/readyz` with 200 and returns the
 * body; fails at once, with its stderr, if the process exits first.
 */
export function waitForReady(gw: Child, port: number, timeoutMs = 30_000): Promise<unknown> {
  return waitFor(
    `gateway /readyz 200 on port ${port}`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.status === 200 ? await res.json() : undefined;
    },
    { timeoutMs, abort: () => (gw.proc.exitCode === null ? undefined : `gateway exited: ${gw.stderr()}`) },
  );
}
