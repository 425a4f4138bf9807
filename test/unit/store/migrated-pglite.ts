// A migrated embedded database (PGlite) of its own for a unit test file, copied from a template that
// is made once per set of migrations and PGlite version. PGlite's initdb costs seconds of CPU (18 s
// measured on the shared 2-core machine under load), a copy of the closed template and its start
// about 2.5 s; StrykerJS opens one store per mutant run. The database is the same real PGlite with
// the same migrations (migrate() runs on the copy too, and refuses a template that does not match).
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, openStore, PGLITE_SUBDIR, type Store } from "../../../src/store/index.ts";

const root = new URL("../../../", import.meta.url);

/** Names the template by what it is made of: the migration files and the PGlite version. */
function templateDir(): string {
  const hash = createHash("sha256");
  const sqlDir = new URL("sql/", root);
  for (const file of readdirSync(sqlDir).sort()) {
    hash.update(file).update(readFileSync(new URL(file, sqlDir)));
  }
  hash.update(readFileSync(new URL("node_modules/@electric-sql/pglite/package.json", root)));
  return join(tmpdir(), `ncmcp-pglite-template-${hash.digest("hex").slice(0, 16)}`);
}

async function ensureTemplate(template: string): Promise<void> {
  if (existsSync(template)) return;
  const work = mkdtempSync(join(tmpdir(), "ncmcp-pglite-template-work-"));
  try {
    const store = await openStore({ backend: "pglite", dataDir: work });
    await migrate(store);
    await store.close();
    try {
      // Atomic: a concurrent maker (another test worker) that got there first wins; ours is dropped.
      renameSync(join(work, PGLITE_SUBDIR), template);
    } catch (err) {
      if (!existsSync(template)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A fresh migrated PGlite store in a new temporary directory; `dispose` closes it and deletes the directory. */
export async function openMigratedPglite(
  prefix: string,
): Promise<{ store: Store; dispose: () => Promise<void> }> {
  const template = templateDir();
  await ensureTemplate(template);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}${randomBytes(2).toString("hex")}-`));
  cpSync(template, join(dir, PGLITE_SUBDIR), { recursive: true });
  const store = await openStore({ backend: "pglite", dataDir: dir });
  await migrate(store);
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
