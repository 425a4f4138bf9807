// The Nextcloud stand-in in a process of its own, so that a bench's load generator does not share an
// event loop with it (issue 11 §3). Run as a child of the bench (`startStandinChild`): the options come
// in BENCH_STANDIN_OPTIONS (JSON of StandinOptions), commands as JSON lines on stdin, answers as JSON
// lines on stdout; it stops when stdin closes or on SIGTERM.
//
//   → {"type":"ready","url":"http://127.0.0.1:…"}
//   ← {"id":1,"cmd":"seed","uid":"…","files":{"Notes/A.md":"…"}}     → {"type":"reply","id":1}
//   ← {"id":2,"cmd":"tokenUses"}                                      → {"type":"reply","id":2,"uses":[["<token>",n],…]}
//   ← {"id":3,"cmd":"retained"}                                       → {"type":"reply","id":3,"retained":{…}}
//   ← {"id":4,"cmd":"stats"}                                          → {"type":"reply","id":4,"stats":{…}}
import { spawn, type ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { StandinOptions, StandinRetained } from "../test/standin/index.ts";
import { timeRequests } from "./request-timer.ts";

const SELF = fileURLToPath(import.meta.url);
const STDERR_KEEP = 4000;

/** The child's CPU time and what its public server answered (server side: from a request's arrival to
 * its response's last byte; its WebDAV back end, another server in that process, is not counted). */
export interface StandinStats {
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  /** Requests received by the stand-in's public server since the start. */
  readonly requests: number;
  /** Sum of the requests' server-side durations, ms. */
  readonly serverMs: number;
}

/** The stand-in in its own process, as the bench sees it. */
export interface StandinChild {
  readonly url: string;
  readonly pid: number;
  seed(uid: string, files: Record<string, string>): Promise<void>;
  /** Requests per distinct bearer token (the stand-in's `tokenUses()`). */
  tokenUses(): Promise<Map<string, number>>;
  retained(): Promise<StandinRetained>;
  stats(): Promise<StandinStats>;
  stop(): Promise<void>;
  /** SIGKILL, for signal and exit handlers. */
  kill(): void;
}

interface Reply {
  type: string;
  id?: number;
  error?: string;
  url?: string;
  uses?: [string, number][];
  retained?: StandinRetained;
  stats?: StandinStats;
}

/** Spawns this file with the stand-in's options; resolves when it listens. */
export async function startStandinChild(options: StandinOptions, timeoutMs = 30_000): Promise<StandinChild> {
  const child: ChildProcess = spawn(process.execPath, [SELF], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, BENCH_STANDIN_OPTIONS: JSON.stringify(options) },
  });
  const { stdin, stdout, stderr: errStream } = child;
  if (stdin === null || stdout === null || errStream === null)
    throw new Error("the stand-in child has no pipes");
  let stderr = "";
  errStream.setEncoding("utf8");
  errStream.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  let gone: string | undefined;
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let onReady: ((r: Reply) => void) | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      gone = `the stand-in child exited (code ${String(code)}, signal ${String(signal)}); stderr:\n${stderr}`;
      for (const p of pending.values()) p.reject(new Error(gone));
      pending.clear();
      resolve();
    });
  });
  createInterface({ input: stdout }).on("line", (line) => {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      return;
    }
    if (reply.type === "ready") onReady?.(reply);
    else if (reply.id !== undefined) {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error !== undefined) p?.reject(new Error(`stand-in child: ${reply.error}`));
      else p?.resolve(reply);
    }
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const grace = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(grace);
  };
  const ready = await new Promise<Reply>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`the stand-in child was not ready within ${String(timeoutMs)} ms; stderr:\n${stderr}`),
      );
    }, timeoutMs);
    onReady = (r) => {
      clearTimeout(timer);
      resolve(r);
    };
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(gone));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  let nextId = 0;
  const ask = (command: Record<string, unknown>): Promise<Reply> => {
    if (gone !== undefined) return Promise.reject(new Error(gone));
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  };
  return {
    url: String(ready.url),
    pid: child.pid ?? -1,
    async seed(uid, files) {
      await ask({ cmd: "seed", uid, files });
    },
    async tokenUses() {
      return new Map((await ask({ cmd: "tokenUses" })).uses ?? []);
    },
    async retained() {
      const r = (await ask({ cmd: "retained" })).retained;
      if (r === undefined) throw new Error("the stand-in child answered no retained figures");
      return r;
    },
    async stats() {
      const r = (await ask({ cmd: "stats" })).stats;
      if (r === undefined) throw new Error("the stand-in child answered no stats");
      return r;
    },
    stop,
    kill: () => {
      child.kill("SIGKILL");
    },
  };
}

/** The child's side. */
async function serve(): Promise<void> {
  const { startNextcloudStandin } = await import("../test/standin/index.ts");
  const options = JSON.parse(process.env.BENCH_STANDIN_OPTIONS ?? "{}") as StandinOptions;
  let port = -1;
  const timer = timeRequests((server) => (server.address() as AddressInfo | null)?.port === port);
  const standin = await startNextcloudStandin(options);
  port = Number(new URL(standin.url).port);
  const send = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void standin.stop().finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  createInterface({ input: process.stdin })
    .on("line", (line) => {
      void (async () => {
        const command = JSON.parse(line) as {
          id: number;
          cmd: string;
          uid?: string;
          files?: Record<string, string>;
        };
        try {
          if (command.cmd === "seed") {
            await standin.seed(String(command.uid), command.files ?? {});
            send({ type: "reply", id: command.id });
          } else if (command.cmd === "tokenUses") {
            send({ type: "reply", id: command.id, uses: [...standin.tokenUses()] });
          } else if (command.cmd === "retained") {
            send({ type: "reply", id: command.id, retained: standin.retained() });
          } else if (command.cmd === "stats") {
            const cpu = process.cpuUsage();
            const stats: StandinStats = {
              cpuUserUs: cpu.user,
              cpuSystemUs: cpu.system,
              requests: timer.requests,
              serverMs: timer.serverMs,
            };
            send({ type: "reply", id: command.id, stats });
          } else send({ type: "reply", id: command.id, error: `unknown command ${command.cmd}` });
        } catch (err) {
          send({ type: "reply", id: command.id, error: err instanceof Error ? err.message : String(err) });
        }
      })();
    })
    .on("close", stop);
  send({ type: "ready", url: standin.url });
}

if (process.env.BENCH_STANDIN_OPTIONS !== undefined && process.argv[1] === SELF) {
  serve().catch((err: unknown) => {
    process.stderr.write(
      `stand-in child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
