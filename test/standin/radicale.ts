// One Radicale process (Debian's `radicale`, CalDAV and CardDAV) for the stand-in: a generated
// config (user from X-Remote-User, owner_only rights, a throwaway storage folder, no web UI), a free
// loopback port, and an exit when the stand-in stops or the test process dies.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { waitFor } from "../harness/wait.ts";

/** A running Radicale on 127.0.0.1. */
export interface Radicale {
  port: number;
  /** Its storage folder (`collection-root/<user>/<collection>/`). */
  storage: string;
  stop(): Promise<void>;
}

/** `RADICALE_BIN`, else `radicale` on PATH, else Debian's /usr/bin/radicale. */
function radicaleBin(): string {
  const candidates = [
    process.env.RADICALE_BIN,
    ...(process.env.PATH ?? "").split(delimiter).map((d) => join(d, "radicale")),
    "/usr/bin/radicale",
  ];
  for (const c of candidates) {
    if (c === undefined || c === "" || c === "radicale") continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  throw new Error(
    "Radicale was not found: install the Debian package `radicale` (npm run setup does) or set RADICALE_BIN",
  );
}

/**
 * The Python that runs `bin` (from its shebang): Radicale is run through it so that a thread can
 * end the process when its stdin closes, i.e. when the Node process that started it is gone.
 */
function interpreterOf(bin: string): string[] {
  const first = readFileSync(bin, "utf8").split("\n", 1)[0] ?? "";
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!shebang?.[1]) throw new Error(`${bin} is not a Python script with a shebang`);
  return shebang[1].endsWith("/env") && shebang[2] ? [shebang[2]] : [shebang[1]];
}

const WRAPPER = [
  "import os, shutil, sys, threading",
  "config, folder = sys.argv[1], sys.argv[2]",
  "def watch():",
  "    sys.stdin.read()",
  "    shutil.rmtree(folder, ignore_errors=True)",
  "    os._exit(0)",
  "threading.Thread(target=watch, daemon=True).start()",
  "from radicale.__main__ import run",
  "sys.argv = ['radicale', '--config', config]",
  "run()",
].join("\n");

/** Starts Radicale on a free loopback port with its own storage; resolves once it listens. */
export async function startRadicale(): Promise<Radicale> {
  const bin = radicaleBin();
  const dir = await mkdtemp(join(tmpdir(), "nc-standin-radicale-"));
  const storage = join(dir, "collections");
  const config = join(dir, "config");
  await writeFile(
    config,
    [
      "[server]",
      "hosts = 127.0.0.1:0",
      "max_connections = 16",
      "[auth]",
      // Only the stand-in talks to this port, and it sets the header from a validated token.
      "type = http_x_remote_user",
      "delay = 0",
      "[rights]",
      "type = owner_only",
      "[storage]",
      `filesystem_folder = ${storage}`,
      "[web]",
      "type = none",
      "[logging]",
      // info logs the listening address; every request line is drained and dropped below.
      "level = info",
      "",
    ].join("\n"),
  );
  const [python = "python3"] = interpreterOf(bin);
  const proc: ChildProcess = spawn(python, ["-c", WRAPPER, config, dir], {
    stdio: ["pipe", "ignore", "pipe"],
    env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8" },
  });
  let log = "";
  let port: number | undefined;
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
    if (port !== undefined) return;
    log += d;
    const m = /Listening on '\[127\.0\.0\.1\]:(\d+)'/.exec(log);
    if (m?.[1]) port = Number(m[1]);
  });
  const exited = new Promise<void>((resolve) =>
    proc.once("exit", () => {
      resolve();
    }),
  );
  try {
    const listening = await waitFor("Radicale to listen", () => port, {
      timeoutMs: 30_000,
      intervalMs: 50,
      abort: () => (proc.exitCode === null ? undefined : `Radicale exited: ${log.slice(-2000)}`),
    });
    return {
      port: listening,
      storage,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill("SIGTERM");
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    proc.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
