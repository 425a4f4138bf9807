// The process entry starts loading PGlite's module and file-system bundle before the gateway's other
// modules (src/main.ts): a store opened with them holds the same database as one PGlite loads itself.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, openStore } from "../../../src/store/index.ts";
import { preloadPglite, takePreloadedPglite } from "../../../src/store/pglite-preload.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("PGlite preloaded by the process entry", () => {
  it(
    "opens, migrates and reopens the same database with and without the preload",
    { timeout: 120_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "ncmcp-preload-"));
      dirs.push(dataDir);
      preloadPglite();
      const first = await openStore({ backend: "pglite", dataDir });
      // The preload went to that store; the next one loads its own.
      await expect(takePreloadedPglite()).resolves.toBeUndefined();
      try {
        await migrate(first);
        await first.db
          .insertInto("users")
          .values({ issuer: "https://idp.example", subject: "alice", subject_hash: "h" })
          .execute();
      } finally {
        await first.close();
      }
      const again = await openStore({ backend: "pglite", dataDir });
      try {
        expect((await migrate(again)).applied).toEqual([]);
        const rows = await again.db.selectFrom("users").select("subject").execute();
        expect(rows.map((r) => r.subject)).toEqual(["alice"]);
      } finally {
        await again.close();
      }
    },
  );
});
