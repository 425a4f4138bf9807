// The two storage backends as test fixtures: each `fresh()` opens a store on an empty database
// (a new PostgreSQL database, or a copy of a freshly created PGlite directory).
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, inject } from "vitest";
import { migrate, openStore, type Store } from "../../../src/store/index.ts";
import { createTestDatabase } from "../../harness/postgres.ts";

type Cleanup = () => Promise<void> | void;

export interface BackendFixture {
  name: "PostgreSQL" | "PGlite";
  /** Opens a store on a new, empty database. */
  fresh(): Promise<Store>;
  /** Closes and removes what `fresh()` made (afterEach). */
  clean(): Promise<void>;
  /** Removes what the fixture keeps for the whole file (afterAll). */
  dispose(): Promise<void>;
}

/** A new temporary directory; `cleanup` removes it. */
export function tempDir(prefix: string, cleanup: Cleanup[]): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function run(cleanup: Cleanup[]): Promise<void> {
  // Last made, first removed: stores close before their databases and directories go.
  for (const c of cleanup.splice(0).reverse()) await c();
}

function postgresFixture(): BackendFixture {
  const cleanup: Cleanup[] = [];
  return {
    name: "PostgreSQL",
    async fresh() {
      const db = await createTestDatabase(inject("pgAdminUrl"), "store");
      cleanup.push(() => db.drop());
      const store = await openStore({ backend: "postgres", url: db.url, poolMax: 4 });
      cleanup.push(() => store.close());
      return store;
    },
    clean: () => run(cleanup),
    dispose: () => Promise.resolve(),
  };
}

function pgliteFixture(): BackendFixture {
  const cleanup: Cleanup[] = [];
  const forFile: Cleanup[] = [];
  // Creating a PGlite database (initdb) takes seconds; copying a fresh one takes milliseconds.
  let template: string | undefined;
  return {
    name: "PGlite",
    async fresh() {
      if (template === undefined) {
        const dir = tempDir("ncmcp-pglite-template-", forFile);
        const store = await openStore({ backend: "pglite", dataDir: dir });
        await store.close();
        template = dir;
      }
      const dataDir = tempDir("ncmcp-pglite-", cleanup);
      cpSync(template, dataDir, { recursive: true });
      const store = await openStore({ backend: "pglite", dataDir });
      cleanup.push(() => store.close());
      return store;
    },
    clean: () => run(cleanup),
    async dispose() {
      await run(forFile);
      template = undefined;
    },
  };
}

/** Both backends, for `describe.each`. */
export function backends(): BackendFixture[] {
  return [postgresFixture(), pgliteFixture()];
}

/**
 * Registers the hooks of a suite that works on a migrated store: before each test a fresh database
 * of `backend` with the schema applied, handed to `use`; after each test it is removed, and after
 * the file what the fixture kept.
 */
export function useMigratedStore(backend: BackendFixture, use: (store: Store) => void): void {
  beforeEach(async () => {
    const store = await backend.fresh();
    await migrate(store);
    use(store);
  });
  afterEach(() => backend.clean());
  afterAll(() => backend.dispose());
}
