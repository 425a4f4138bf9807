// What only the embedded database has: its data lives in a directory across restarts, one process
// at a time may use it (a second gets a clear error, a crashed one does not lock it forever), and
// its single connection never lets a query slip into another caller's transaction.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { migrate, openStore, PGLITE_LOCK_FILE, PGLITE_SUBDIR, type Store } from "../../../src/store/index.ts";
import { waitFor } from "../../harness/wait.ts";
import { backends, type BackendFixture } from "./backends.ts";

const pglite: BackendFixture = backends().find((b) => b.name === "PGlite") ?? fail("no PGlite fixture");

function fail(message: string): never {
  throw new Error(message);
}
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await pglite.clean();
});
afterAll(() => pglite.dispose());

const STORE_MODULE = new URL("../../../src/store/index.ts", import.meta.url).href;

/** A separate Node process that opens the store on `dataDir`, prints "open" and waits to be killed. */
function holderProcess(dataDir: string) {
  const script = `
    const { openStore } = await import(${JSON.stringify(STORE_MODULE)});
    const store = await openStore({ backend: "pglite", dataDir: ${JSON.stringify(dataDir)} });
    await store.db.insertInto("users").values({ issuer: "i", subject: "from-child", subject_hash: "h" }).execute();
    process.stdout.write("open\\n");
    setInterval(() => {}, 1000);
  `;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  proc.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", () => {
      resolve();
    });
  });
  cleanup.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await exited;
  });
  return {
    opened: () =>
      waitFor("child opened the store", () => (out.includes("open") ? true : undefined), {
        timeoutMs: 60_000,
        abort: () => (proc.exitCode === null ? undefined : `child exited: ${err}`),
      }),
    kill: async () => {
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

async function migrated(): Promise<{ store: Store; dataDir: string }> {
  const store = await pglite.fresh();
  await migrate(store);
  // location is <DATA_DIR>/pglite
  return { store, dataDir: join(store.location, "..") };
}

describe("the embedded database (PGlite)", () => {
  it("keeps its data in DATA_DIR across close and reopen", async () => {
    const { store, dataDir } = await migrated();
    expect(store.location).toBe(join(dataDir, PGLITE_SUBDIR));
    await store.db
      .insertInto("users")
      .values({ issuer: "https://idp", subject: "persisted", subject_hash: "h" })
      .execute();
    await store.close();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(false);

    const again = await openStore({ backend: "pglite", dataDir });
    cleanup.push(() => again.close());
    expect(await again.db.selectFrom("users").select("subject").execute()).toEqual([
      { subject: "persisted" },
    ]);
    expect((await migrate(again)).applied).toEqual([]);
  });

  it("refuses a second open of the same directory in this process with a clear message", async () => {
    const { dataDir } = await migrated();
    await expect(openStore({ backend: "pglite", dataDir })).rejects.toThrow(
      /the embedded database in .* is in use by another gateway process \(pid \d+ on host .*\); PGlite allows one process per data directory/,
    );
  });

  it("refuses a second process, and lets the next one in after that process crashed", async () => {
    const { store, dataDir } = await migrated();
    await store.close();
    const child = holderProcess(dataDir);
    await child.opened();
    await expect(openStore({ backend: "pglite", dataDir })).rejects.toThrow(
      /is in use by another gateway process \(pid \d+ on host/,
    );
    // A crash leaves the lock file behind; the next start takes it over and recovers the data.
    await child.kill();
    expect(existsSync(join(dataDir, PGLITE_LOCK_FILE))).toBe(true);
    const after = await openStore({ backend: "pglite", dataDir });
    cleanup.push(() => after.close());
    expect(await after.db.selectFrom("users").select("subject").execute()).toEqual([
      { subject: "from-child" },
    ]);
  });

  it("keeps other queries out of a session's transaction until the session ends", async () => {
    const { store } = await migrated();
    let queued: Promise<{ subject: string }[]> | undefined;
    await store.withSession(async (s) => {
      await s.exec("BEGIN");
      await s.query("insert into users (issuer, subject, subject_hash) values ($1, $2, $3)", [
        "https://idp",
        "uncommitted",
        "h",
      ]);
      // On one shared connection this query would run inside the open transaction and see the row.
      queued = store.db.selectFrom("users").select("subject").execute();
      await s.exec("ROLLBACK");
    });
    expect(await queued).toEqual([]);
  });
});
