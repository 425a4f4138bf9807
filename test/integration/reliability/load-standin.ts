// The Nextcloud stand-in as a process of its own, for the load scenario: in the test process it
// shared one event loop with 1,000 clients, which lagged it by seconds; it then closed keep-alive
// connections with a request already in them (Node runs timers before reading sockets), and the
// gateway saw "other side closed" (UND_ERR_SOCKET) from a Nextcloud no real one would be.
// `startStandinProcess` spawns this file; run directly, it starts the stand-in and prints its URL.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startNextcloudStandin } from "../../standin/index.ts";
import { waitFor } from "../../harness/wait.ts";

/** The stand-in in a child process, for `issuer`'s tokens with audience `nextcloud`. */
export async function startStandinProcess(
  issuer: string,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { PATH: process.env.PATH ?? "", LOAD_STANDIN_ISSUER: issuer },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", () => {
      resolve();
    });
  });
  const url = await waitFor("the stand-in process to listen", () => /^(http:\/\/\S+)\n/m.exec(out)?.[1], {
    timeoutMs: 60_000,
    intervalMs: 100,
    abort: () => (proc.exitCode === null ? undefined : "it exited"),
  });
  if (proc.pid === undefined) throw new Error("the stand-in process has no pid");
  return {
    url,
    pid: proc.pid,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const issuer = process.env.LOAD_STANDIN_ISSUER;
  if (!issuer) throw new Error("LOAD_STANDIN_ISSUER is not set");
  const standin = await startNextcloudStandin({ issuer, audience: "nextcloud" });
  process.stdout.write(`${standin.url}\n`);
  process.once("SIGTERM", () => {
    void standin.stop().then(() => process.exit(0));
  });
}
