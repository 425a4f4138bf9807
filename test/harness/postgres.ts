import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort, waitFor } from "./wait.ts";

/** A PostgreSQL server for tests: an admin URL that may create databases, and how to stop it. */
export interface TestPostgres {
  adminUrl: string;
  source: "TEST_DATABASE_URL" | "local binaries" | "testcontainers";
  stop(): Promise<void>;
}

function findPgBin(): string | undefined {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  const path = which.stdout.trim();
  return path ? join(path, "..") : undefined;
}

function dockerAvailable(): boolean {
  return existsSync("/var/run/docker.sock") || Boolean(process.env.DOCKER_HOST);
}

/**
 * Provides PostgreSQL in this order: TEST_DATABASE_URL when given; a throwaway
 * cluster from the machine's PostgreSQL binaries; testcontainers where Docker runs. Fails with what
 * to install when none is possible.
 */
export async function startPostgres(): Promise<TestPostgres> {
  // Only TEST_DATABASE_URL: a DATABASE_URL exported for the gateway itself must never receive test databases.
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    const sql = postgres(given, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
    try {
      await sql`select 1`;
    } catch (err) {
      throw new Error(`TEST_DATABASE_URL is set but PostgreSQL does not answer: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      await sql.end();
    }
    return { adminUrl: given, source: "TEST_DATABASE_URL", stop: () => Promise.resolve() };
  }
  const bin = findPgBin();
  if (bin) return startLocalCluster(bin);
  if (dockerAvailable()) return startContainer();
  throw new Error(
    "No PostgreSQL for the tests: install the server (Debian: apt-get install postgresql), " +
      "or set TEST_DATABASE_URL to a server where the user may create databases, or run Docker for testcontainers.",
  );
}

/** A throwaway cluster of the machine's binaries whose server can be stopped and started again (same port). */
export interface RestartablePostgres extends TestPostgres {
  /** Stops the server (fast shutdown: sessions are ended) and waits until it is down. */
  stopServer(): void;
  /** Starts the stopped server again on the same port and waits until it accepts connections. */
  startServer(): void;
}

/**
 * A cluster of its own for scenarios that stop PostgreSQL (the reliability suite): needs the
 * machine's PostgreSQL server binaries (Debian: apt-get install postgresql), never TEST_DATABASE_URL.
 */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const bin = findPgBin();
  if (bin === undefined) {
    throw new Error(
      "This scenario stops and starts a PostgreSQL server of its own: install the server binaries (Debian: apt-get install postgresql) or set PG_BIN to their folder.",
    );
  }
  return startLocalCluster(bin);
}

async function startLocalCluster(bin: string): Promise<RestartablePostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "ncmcp-pg-"));
  // initdb refuses to run as root: the cluster then belongs to the postgres system user.
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ["-u", "postgres", "--", join(bin, cmd), ...args] : args;
    const r = spawnSync(asRoot ? "runuser" : join(bin, cmd), full, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  run("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--no-sync",
    "--no-instructions",
  ]);
  const port = await freePort();
  let running = false;
  const startServer = () => {
    running = true;
    run("pg_ctl", [
      "-D",
      data,
      "-l",
      join(dir, "server.log"),
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
      "start",
    ]);
  };
  startServer();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor("local PostgreSQL", async () => {
    const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
    try {
      await sql`select 1`;
      return true;
    } finally {
      await sql.end();
    }
  });
  return {
    adminUrl,
    source: "local binaries",
    startServer,
    stopServer() {
      run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      running = false;
    },
    stop() {
      try {
        if (running) run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return Promise.resolve();
    },
  };
}

async function startContainer(): Promise<TestPostgres> {
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer("postgres:17-alpine").start();
  return {
    adminUrl: container.getConnectionUri(),
    source: "testcontainers",
    async stop() {
      await container.stop();
    },
  };
}

/** Creates a fresh, empty database for one test file and returns its URL; drop it with the returned function. */
export async function createTestDatabase(
  adminUrl: string,
  prefix = "t",
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const a = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      try {
        await dropDatabase(a, name);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * Drops a test database even while other sessions are on it. `WITH (FORCE)` terminates them, but a
 * role that is not superuser (CI's CREATEDB test role) may not terminate an autovacuum worker (it runs
 * as no role: "must be a member of the role whose process is being terminated"). Then: end the test
 * role's own sessions, and let a plain DROP DATABASE cancel autovacuum, which it does by itself;
 * "is being accessed by other users" means a session was still ending: try again, a bounded number of times.
 */
async function dropDatabase(admin: postgres.Sql, name: string): Promise<void> {
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== "42501") throw err;
  }
  for (let attempt = 1; ; attempt++) {
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = ${name} AND usename = current_user AND pid <> pg_backend_pid()`;
    try {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}"`);
      return;
    } catch (err) {
      // 55006 object_in_use: "database is being accessed by other users"
      if ((err as { code?: string }).code !== "55006" || attempt >= 20) throw err;
    }
  }
}
