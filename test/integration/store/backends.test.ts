// One behaviour suite for the store, run against PostgreSQL and the embedded PGlite: the same
// migrations with the same checks, and the typed query builder returning the same JS types and
// enforcing the same constraints, so the stores built on `db` work on either backend.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { sql } from "kysely";
import postgres from "postgres";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import {
  migrate,
  MIGRATIONS_DIR,
  openStore,
  pendingMigrations,
  readMigrations,
  type GrantStatus,
  type Store,
} from "../../../src/store/index.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { backends } from "./backends.ts";

const tempDirs: string[] = [];
afterEach(() => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function copyOfMigrations(): URL {
  const dir = mkdtempSync(join(tmpdir(), "ncmcp-sql-"));
  tempDirs.push(dir);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return pathToFileURL(`${dir}/`);
}

async function tables(store: Store): Promise<string[]> {
  const { rows } = await sql<{
    tablename: string;
  }>`select tablename from pg_tables where schemaname = 'public' order by 1`.execute(store.db);
  return rows.map((r) => r.tablename);
}

/**
 * A new database and a URL for a role without CREATE on it: a throwaway role when the test admin may
 * create roles (a superuser, whose own privileges nothing can take away); otherwise the admin itself
 * (CI's CREATEDB role), whose owner's CREATE on the new database `revoke` takes away.
 */
async function databaseWithoutCreate() {
  const adminUrl = inject("pgAdminUrl");
  const db = await createTestDatabase(adminUrl, "nocreate");
  const name = new URL(db.url).pathname.slice(1);
  const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
  const [me] = await admin<{ rolsuper: boolean; rolcreaterole: boolean }[]>`
    select rolsuper, rolcreaterole from pg_roles where rolname = current_user`;
  let url = db.url;
  let role: string | undefined;
  if (me?.rolsuper === true || me?.rolcreaterole === true) {
    role = `${name}_app`;
    const password = randomBytes(12).toString("hex");
    await admin.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
    await admin.unsafe(`GRANT CONNECT ON DATABASE "${name}" TO "${role}"`);
    await admin.unsafe(`GRANT CREATE, USAGE ON SCHEMA public TO "${role}"`);
    const u = new URL(db.url);
    u.username = role;
    u.password = password;
    url = u.href;
  }
  return {
    url,
    revoke: async () => {
      if (role === undefined) await admin.unsafe(`REVOKE CREATE ON DATABASE "${name}" FROM CURRENT_USER`);
    },
    asOwner: async (statement: string) => {
      if (role === undefined) await admin.unsafe(`GRANT CREATE ON DATABASE "${name}" TO CURRENT_USER`);
      await admin.unsafe(statement);
    },
    drop: async () => {
      await admin.end();
      await db.drop();
      if (role !== undefined) {
        const a = postgres(adminUrl, { max: 1, onnotice: () => undefined });
        try {
          await a.unsafe(`DROP ROLE IF EXISTS "${role}"`);
        } finally {
          await a.end();
        }
      }
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(backends())("store on $name", (backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.fresh();
  });
  afterEach(() => backend.clean());
  afterAll(() => backend.dispose());

  it("says which backend it is and answers pings", async () => {
    expect(store.backend).toBe(backend.name === "PostgreSQL" ? "postgres" : "pglite");
    expect(await store.ping()).toBe(true);
  });

  describe("migrate", () => {
    it("creates the first schema once, records it, and finds nothing to do the second time", async () => {
      const files = (await readMigrations()).map((m) => m.file);
      expect((await pendingMigrations(store)).map((m) => m.file)).toEqual(files);
      const first = await migrate(store);
      expect(first.applied).toEqual(files);
      expect(await tables(store)).toEqual([
        "audit_events",
        "job_runs",
        "logout_token_uses",
        "offline_grants",
        "schema_migrations",
        "search_index_users",
        "search_items",
        "search_sync",
        "users",
        "webhook_deliveries",
      ]);
      const { rows: extensions } = await sql<{
        extname: string;
      }>`select extname from pg_extension order by 1`.execute(store.db);
      expect(extensions.map((r) => r.extname)).toEqual(["pg_trgm", "plpgsql"]);
      const second = await migrate(store);
      expect(second.applied).toEqual([]);
      expect(second.version).toBe(first.version);
      expect(await pendingMigrations(store)).toEqual([]);
      const recorded = await store.db.selectFrom("schema_migrations").selectAll().execute();
      expect(recorded.map((r) => r.version)).toEqual((await readMigrations()).map((m) => m.version));
      expect(recorded[0]?.applied_at).toBeInstanceOf(Date);
    });

    it("rolls back a failing migration entirely and says which file failed", async () => {
      const dir = copyOfMigrations();
      writeFileSync(
        new URL("0999_broken.sql", dir),
        "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n",
      );
      await expect(migrate(store, dir)).rejects.toThrow(
        /sql\/0999_broken\.sql failed and was rolled back: .*no_such_table/,
      );
      expect(await tables(store)).not.toContain("half_done");
      const rows = await store.db
        .selectFrom("schema_migrations")
        .select("version")
        .where("version", "=", 999)
        .execute();
      expect(rows).toHaveLength(0);
      // The good migrations before it stay applied, and the store stays usable.
      expect(await tables(store)).toContain("offline_grants");
      expect(await store.ping()).toBe(true);
    });

    it("refuses to run when an applied file was edited afterwards", async () => {
      await migrate(store);
      const dir = copyOfMigrations();
      writeFileSync(new URL("0001_initial.sql", dir), "-- edited\n");
      await expect(migrate(store, dir)).rejects.toThrow(
        /sql\/0001_initial\.sql changed after it was applied/,
      );
    });

    it("refuses a database migrated by a newer gateway", async () => {
      await migrate(store);
      await store.db
        .insertInto("schema_migrations")
        .values({ version: 9000, name: "from_the_future", checksum: "x" })
        .execute();
      await expect(migrate(store)).rejects.toThrow(
        /migration 9000 \(from_the_future\) that this gateway does not know/,
      );
    });

    it.runIf(backend.name === "PostgreSQL")(
      "stops at pg_trgm with what to do when the role may not create extensions, and goes on once it exists",
      async () => {
        const { url, revoke, asOwner, drop } = await databaseWithoutCreate();
        try {
          await revoke();
          const limited = await openStore({ backend: "postgres", url, poolMax: 1 });
          try {
            await expect(migrate(limited)).rejects.toThrow(
              /0005_name_similarity\.sql failed and was rolled back: the database role .* may not create the extension pg_trgm .*run CREATE EXTENSION pg_trgm; in database/,
            );
            expect((await pendingMigrations(limited)).map((m) => m.file)).toContain(
              "0005_name_similarity.sql",
            );
            // What the message tells the operator to do, done by the database's owner:
            await asOwner("CREATE EXTENSION pg_trgm");
            expect((await migrate(limited)).applied).toContain("0005_name_similarity.sql");
          } finally {
            await limited.close();
          }
        } finally {
          await drop();
        }
      },
    );

    it("refuses misnamed migration files", async () => {
      const dir = copyOfMigrations();
      writeFileSync(new URL("2_AddThing.sql", dir), "select 1;");
      await expect(migrate(store, dir)).rejects.toThrow(/must be named NNNN_lower_snake_name\.sql/);
    });
  });

  describe("kysely on the real tables", () => {
    beforeEach(async () => {
      await migrate(store);
    });

    async function newUser(subject = "sub-1") {
      return store.db
        .insertInto("users")
        .values({ issuer: "https://idp.example.com/realms/r", subject, subject_hash: `h-${subject}` })
        .returningAll()
        .executeTakeFirstOrThrow();
    }

    it("reads uuids as strings, timestamps as Date, bytea as Uint8Array, and nulls as null", async () => {
      const user = await newUser();
      expect(user.id).toMatch(UUID);
      expect(user.created_at).toBeInstanceOf(Date);
      expect(user.email).toBeNull();

      const sealed = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
      const refreshed = new Date("2026-01-02T03:04:05.678Z");
      const inserted = await store.db
        .insertInto("offline_grants")
        .values({
          user_id: user.id,
          refresh_token_sealed: sealed,
          key_id: "k1",
          scope: "openid offline_access",
          last_refreshed_at: refreshed,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const grant = await store.db
        .selectFrom("offline_grants")
        .selectAll()
        .where("id", "=", inserted.id)
        .executeTakeFirstOrThrow();
      expect(grant.status).toBe("active");
      expect(grant.refresh_token_sealed).toBeInstanceOf(Uint8Array);
      expect([...(grant.refresh_token_sealed ?? [])]).toEqual([...sealed]);
      expect(grant.last_refreshed_at).toEqual(refreshed);
      expect(grant.created_at).toBeInstanceOf(Date);
      expect(grant.revoked_at).toBeNull();

      const revokedAt = new Date("2026-02-03T04:05:06.789Z");
      const updated = await store.db
        .updateTable("offline_grants")
        .set({ status: "revoked", revoked_at: revokedAt, revoked_reason: "invalid_grant" })
        .where("user_id", "=", user.id)
        .where("status", "=", "active")
        .executeTakeFirst();
      expect(updated.numUpdatedRows).toBe(1n);
      const after = await store.db
        .selectFrom("offline_grants")
        .select(["status", "revoked_at"])
        .where("id", "=", inserted.id)
        .executeTakeFirstOrThrow();
      expect(after).toEqual({ status: "revoked", revoked_at: revokedAt });
    });

    it("writes jsonb from objects or JSON text, reads it as objects, and bigint identities as strings", async () => {
      const run = await store.db
        .insertInto("job_runs")
        .values({ job: "refresh", replica: "r1", counts: JSON.stringify({ refreshed: 3, failed: 0 }) })
        .returningAll()
        .executeTakeFirstOrThrow();
      expect(run.counts).toEqual({ refreshed: 3, failed: 0 });
      expect(typeof run.id).toBe("string");
      expect(run.id).toMatch(/^\d+$/);
      const event = await store.db
        .insertInto("audit_events")
        .values({
          action: "grant.revoked",
          detail: { reason: "invalid_grant", n: [1, 2], nested: { ok: true } },
        })
        .returning(["id", "detail", "at"])
        .executeTakeFirstOrThrow();
      expect(event.detail).toEqual({ reason: "invalid_grant", n: [1, 2], nested: { ok: true } });
      const { rows: kinds } = await sql<{
        kind: string;
      }>`select jsonb_typeof(counts) as kind from job_runs union all select jsonb_typeof(detail) from audit_events`.execute(
        store.db,
      );
      // Objects in the database, not JSON strings holding text.
      expect(kinds).toEqual([{ kind: "object" }, { kind: "object" }]);
      expect(event.at).toBeInstanceOf(Date);
      const { rows } = await sql<{
        big: string;
        huge: string;
      }>`select 9007199254740993::bigint as huge, count(*) as big from job_runs`.execute(store.db);
      expect(rows[0]).toEqual({ huge: "9007199254740993", big: "1" });
    });

    it("enforces one active grant per user and the status checks, with the same error on both", async () => {
      const user = await newUser();
      const grant = (status: GrantStatus, revokedAt: Date | null = null) =>
        store.db
          .insertInto("offline_grants")
          .values({
            user_id: user.id,
            status,
            refresh_token_sealed: new Uint8Array([0]),
            key_id: "k1",
            scope: "offline_access",
            revoked_at: revokedAt,
          })
          .execute();
      await grant("active");
      const second = await grant("active").catch((e: unknown) => e);
      expect(second).toBeInstanceOf(Error);
      expect((second as Error).message).toMatch(/offline_grants_one_active/);
      // Revoked rows need revoked_at, and several of them may stay beside the active one.
      const missingRevokedAt = await grant("revoked").catch((e: unknown) => e);
      expect((missingRevokedAt as Error).message).toMatch(/offline_grants_revoked_check/);
      await expect(grant("lost" as GrantStatus)).rejects.toThrow(/offline_grants_status_check/);
      await grant("revoked", new Date());
      await grant("revoked", new Date());
      const count = await store.db
        .selectFrom("offline_grants")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow();
      expect(count.n).toBe("3");
    });

    it("deletes a user's grants with the user and keeps the audit trail", async () => {
      const user = await newUser();
      await store.db
        .insertInto("offline_grants")
        .values({ user_id: user.id, refresh_token_sealed: new Uint8Array([1]), key_id: "k", scope: "s" })
        .execute();
      await store.db
        .insertInto("audit_events")
        .values({ user_id: user.id, subject_hash: user.subject_hash, action: "grant.created" })
        .execute();
      await store.db.deleteFrom("users").where("id", "=", user.id).execute();
      expect(await store.db.selectFrom("offline_grants").selectAll().execute()).toEqual([]);
      const events = await store.db.selectFrom("audit_events").select(["user_id", "subject_hash"]).execute();
      expect(events).toEqual([{ user_id: null, subject_hash: "h-sub-1" }]);
    });

    it("rolls a transaction back when its callback throws, and commits it otherwise", async () => {
      await expect(
        store.db.transaction().execute(async (trx) => {
          await trx
            .insertInto("users")
            .values({ issuer: "https://idp", subject: "rolled-back", subject_hash: "x" })
            .execute();
          throw new Error("changed my mind");
        }),
      ).rejects.toThrow("changed my mind");
      const committed = await store.db.transaction().execute(async (trx) => {
        const u = await trx
          .insertInto("users")
          .values({ issuer: "https://idp", subject: "kept", subject_hash: "y" })
          .returning("id")
          .executeTakeFirstOrThrow();
        // The row lock a refresh takes works on both (on PGlite there is nobody to wait for).
        return trx
          .selectFrom("users")
          .select("subject")
          .where("id", "=", u.id)
          .forUpdate()
          .skipLocked()
          .executeTakeFirstOrThrow();
      });
      expect(committed.subject).toBe("kept");
      const subjects = await store.db.selectFrom("users").select("subject").execute();
      expect(subjects).toEqual([{ subject: "kept" }]);
    });
  });
});
