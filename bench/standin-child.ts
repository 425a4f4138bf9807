// The Nextcloud stand-in (test/standin) in a process of its own, for benches that must show its cost
// apart from the gateway's. Configured by the environment (BENCH_STANDIN_ISSUER, BENCH_STANDIN_DATA_DIR);
// talks to the bench over stdio in JSON lines: it says {"type":"listening","url":…} once up, and
// answers a "stats" line with its CPU time, the requests it received and the time it spent on them
// (server side: from a request's arrival to its response's last byte, outer server only).
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { startNextcloudStandin } from "../test/standin/index.ts";
import { timeRequests } from "./request-timer.ts";

/** What the child answers to "stats". */
export interface StandinStats {
  readonly type: "stats";
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  /** Requests received by the stand-in's own server since the start. */
  readonly requests: number;
  /** Sum of the requests' server-side durations, ms. */
  readonly serverMs: number;
}

function send(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const issuer = process.env.BENCH_STANDIN_ISSUER;
  const dataDir = process.env.BENCH_STANDIN_DATA_DIR;
  if (issuer === undefined || dataDir === undefined) {
    throw new Error("BENCH_STANDIN_ISSUER and BENCH_STANDIN_DATA_DIR must be set");
  }
  let port = -1;
  // Only the stand-in's public server: its WebDAV back end is another server in this process.
  const timer = timeRequests((server) => (server.address() as AddressInfo | null)?.port === port);
  const standin = await startNextcloudStandin({
    issuer,
    audience: "nextcloud",
    dataDir,
    calendar: false,
    contacts: false,
  });
  port = Number(new URL(standin.url).port);
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== "stats") return;
    const cpu = process.cpuUsage();
    const stats: StandinStats = {
      type: "stats",
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      requests: timer.requests,
      serverMs: timer.serverMs,
    };
    send({ ...stats });
  });
  process.stdin.on("end", () => {
    void standin.stop().then(() => process.exit(0));
  });
  send({ type: "listening", url: standin.url });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `stand-in child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
