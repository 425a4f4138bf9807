import { mkdir, readFile, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

/** A held lock on a data directory; release it when the database is closed. */
export interface DataDirLock {
  readonly file: string;
  release(): Promise<void>;
}

/** What the lock file records about its holder. */
interface Holder {
  pid: number;
  host: string;
  /** Start time of the process in clock ticks since boot (Linux), to tell a reused pid apart. */
  start: string | null;
  since: string;
}

/** The holder refreshes the file's mtime this often, so that other hosts can tell it is alive. */
const HEARTBEAT_MS = 15_000;
/** A lock from another host whose mtime is older than this is taken over. */
const STALE_MS = 60_000;

/** Lock files this process holds, to refuse a second open from the same process. */
const held = new Set<string>();

async function processStart(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime) counted after the ")" that closes the command name, which may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the process named in an existing lock file may still be using the directory. */
async function alive(file: string, holder: Holder | undefined, mtimeMs: number): Promise<boolean> {
  if (holder?.host !== hostname()) {
    // Another host (or an unreadable file): only the heartbeat can tell.
    return Date.now() - mtimeMs < STALE_MS;
  }
  if (holder.pid === process.pid) return held.has(file);
  if (!running(holder.pid)) return false;
  const start = await processStart(holder.pid);
  // A process with that pid runs; it is the holder unless its start time says it is a newer one.
  return start === null || holder.start === null || start === holder.start;
}

function inUse(dir: string, file: string, holder: Holder | undefined): Error {
  const who = holder
    ? `pid ${holder.pid} on host ${holder.host}, since ${holder.since}`
    : "a process that is still writing its lock file";
  return new Error(
    `the embedded database in ${dir} is in use by another gateway process (${who}); ` +
      "PGlite allows one process per data directory: stop the other process, give this one its own DATA_DIR, " +
      `or set DATABASE_URL to share a PostgreSQL server. If that process is gone, delete ${file}`,
  );
}

/**
 * Takes the lock file `<dir>/<name>` for this process, creating the directory. A lock left by a
 * process that died (same host: its pid is gone or was reused; another host: no heartbeat for a
 * minute) is taken over.
 * @throws naming the holder when another live process (or this one) holds the directory.
 */
export async function lockDataDir(dir: string, name: string): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    start: await processStart(process.pid),
    since: new Date().toISOString(),
  };
  // Two rounds: the second only after removing a stale lock. Two processes that take over the same
  // stale lock at the same instant can both succeed; that needs a crash followed by a double start.
  for (let round = 0; round < 2; round++) {
    try {
      await writeFile(file, `${JSON.stringify(me)}\n`, { flag: "wx", mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const [text, info] = await Promise.all([readFile(file, "utf8").catch(() => ""), stat(file)]);
      let holder: Holder | undefined;
      try {
        holder = JSON.parse(text) as Holder;
      } catch {
        holder = undefined;
      }
      if (round === 1 || (await alive(file, holder, info.mtimeMs))) throw inUse(dir, file, holder);
      await unlink(file).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      });
      continue;
    }
    held.add(file);
    const heartbeat = setInterval(() => {
      const now = new Date();
      utimes(file, now, now).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let released = false;
    return {
      file,
      async release() {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        held.delete(file);
        await unlink(file).catch(() => undefined);
      },
    };
  }
  // Unreachable: the second round either returns or throws.
  throw inUse(dir, file, undefined);
}
