// The lock that keeps a second process out of an embedded database directory: refused while the
// holder lives, taken over once it is gone, so a crash never locks the operator out for good.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir } from "../../../src/store/data-dir-lock.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ncmcp-lock-"));
  dirs.push(dir);
  return join(dir, "nested", "data");
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid;
}

function writeLock(dir: string, holder: object | string, ageMs = 0): string {
  const file = join(dir, "db.lock");
  writeFileSync(file, typeof holder === "string" ? holder : JSON.stringify(holder));
  const t = new Date(Date.now() - ageMs);
  utimesSync(file, t, t);
  return file;
}

describe("lockDataDir", () => {
  it("creates the directory and a lock file naming this process, and removes it on release", async () => {
    const dir = dataDir();
    const lock = await lockDataDir(dir, "db.lock");
    expect(lock.file).toBe(join(dir, "db.lock"));
    expect(JSON.parse(readFileSync(lock.file, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    expect(existsSync(lock.file)).toBe(false);
    // Released means free: the next open succeeds.
    await (await lockDataDir(dir, "db.lock")).release();
  });

  it("refuses a second holder in the same process, naming the holder and the ways out", async () => {
    const dir = dataDir();
    const lock = await lockDataDir(dir, "db.lock");
    try {
      const second = lockDataDir(dir, "db.lock");
      await expect(second).rejects.toThrow(
        new RegExp(`in use by another gateway process \\(pid ${process.pid} on host `),
      );
      await expect(second).rejects.toThrow(/own DATA_DIR, or set DATABASE_URL/);
    } finally {
      await lock.release();
    }
  });

  it("refuses a lock whose process on this host is still running", async () => {
    const dir = dataDir();
    await lockDataDir(dir, "probe.lock").then((l) => l.release()); // creates the directory
    // The parent of this test process is alive for the whole test.
    writeLock(dir, { pid: process.ppid, host: hostname(), start: null, since: "2026-01-01T00:00:00Z" });
    await expect(lockDataDir(dir, "db.lock")).rejects.toThrow(
      new RegExp(`pid ${process.ppid} on host .*since 2026-01-01T00:00:00Z`),
    );
  });

  it("takes over a lock left by a process that died", async () => {
    const dir = dataDir();
    await lockDataDir(dir, "probe.lock").then((l) => l.release());
    writeLock(dir, { pid: deadPid(), host: hostname(), start: null, since: "2026-01-01T00:00:00Z" });
    const lock = await lockDataDir(dir, "db.lock");
    expect(JSON.parse(readFileSync(lock.file, "utf8"))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it("takes over a lock with this pid from an earlier life (a restarted container) that this process does not hold", async () => {
    const dir = dataDir();
    await lockDataDir(dir, "probe.lock").then((l) => l.release());
    writeLock(dir, { pid: process.pid, host: hostname(), start: "1", since: "2026-01-01T00:00:00Z" });
    await (await lockDataDir(dir, "db.lock")).release();
  });

  it("trusts a lock from another host while its heartbeat is fresh, and takes it over after a minute", async () => {
    const dir = dataDir();
    await lockDataDir(dir, "probe.lock").then((l) => l.release());
    const other = { pid: 4242, host: "some-other-host", start: null, since: "2026-01-01T00:00:00Z" };
    const file = writeLock(dir, other, 5_000);
    await expect(lockDataDir(dir, "db.lock")).rejects.toThrow(
      new RegExp(`pid 4242 on host some-other-host.*If that process is gone, delete ${file}`),
    );
    writeLock(dir, other, 61_000);
    await (await lockDataDir(dir, "db.lock")).release();
  });

  it("treats an unreadable lock file as held until it is a minute old", async () => {
    const dir = dataDir();
    await lockDataDir(dir, "probe.lock").then((l) => l.release());
    writeLock(dir, "", 1_000);
    await expect(lockDataDir(dir, "db.lock")).rejects.toThrow(
      /a process that is still writing its lock file/,
    );
    writeLock(dir, "", 61_000);
    await (await lockDataDir(dir, "db.lock")).release();
  });
});
