import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDir } from "./cache.ts";
import { freePort, waitFor } from "./wait.ts";

/** The Keycloak release the tests and the sandbox run. */
export const KEYCLOAK_VERSION = "26.7.3";
export const REALM = "nextcloud-mcp";

const REPO = new URL("../../", import.meta.url);
export const REALM_FILE = new URL("keycloak/realm-export.json", REPO);
export const DEV_USERS_FILE = new URL("keycloak/dev-users.json", REPO);

/** Values the realm file's ${...} placeholders take in a test run. */
export interface RealmEnv {
  MCP_GATEWAY_URL: string;
  /**
   * Where Keycloak POSTs logout tokens (`backchannel.logout.url`), server to server. In the tests
   * the same as MCP_GATEWAY_URL: the test gateway listens on that localhost port.
   */
  MCP_GATEWAY_BACKCHANNEL_URL: string;
  MCP_GATEWAY_CLIENT_SECRET: string;
  NEXTCLOUD_URL: string;
  NEXTCLOUD_CLIENT_SECRET: string;
}

export interface TestKeycloak {
  /** Base URL, e.g. http://localhost:18080 */
  url: string;
  issuer: string;
  realmEnv: RealmEnv;
  adminUser: string;
  adminPassword: string;
  source: "KEYCLOAK_URL" | "distribution" | "testcontainers";
  logFile: string | undefined;
  stop(): Promise<void>;
}

/** Fresh secrets and URLs for the realm placeholders. */
export function testRealmEnv(gatewayUrl: string, nextcloudUrl: string): RealmEnv {
  return {
    MCP_GATEWAY_URL: gatewayUrl,
    MCP_GATEWAY_BACKCHANNEL_URL: gatewayUrl,
    MCP_GATEWAY_CLIENT_SECRET: randomBytes(24).toString("base64url"),
    NEXTCLOUD_URL: nextcloudUrl,
    NEXTCLOUD_CLIENT_SECRET: randomBytes(24).toString("base64url"),
  };
}

function requireTool(cmd: string, install: string): void {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`Keycloak for the tests needs \`${cmd}\`: ${install}`);
}

/**
 * Returns the unpacked keycloak-quarkus-dist, fetching it from Maven Central with
 * `mvn dependency:copy` into the cache on first use.
 */
export function ensureKeycloakDist(version = KEYCLOAK_VERSION): string {
  const base = join(cacheDir(), "keycloak");
  const home = join(base, `keycloak-${version}`);
  if (existsSync(join(home, "bin", "kc.sh"))) return home;
  requireTool(
    "mvn",
    "install Maven (Debian: apt-get install maven), or set KEYCLOAK_URL to a running Keycloak with the realm imported",
  );
  mkdirSync(base, { recursive: true });
  const archive = join(base, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (!existsSync(archive)) {
    const r = spawnSync(
      "mvn",
      [
        "-q",
        "-B",
        "dependency:copy",
        `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
        `-DoutputDirectory=${base}`,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    if (r.status !== 0 || !existsSync(archive)) {
      throw new Error(
        `mvn could not fetch org.keycloak:keycloak-quarkus-dist:${version}: ${r.stdout}${r.stderr}`,
      );
    }
  }
  const tmp = mkdtempSync(join(base, ".unpack-"));
  const t = spawnSync("tar", ["-xzf", archive, "-C", tmp], { encoding: "utf8" });
  if (t.status !== 0) throw new Error(`could not unpack ${archive}: ${t.stderr}`);
  cpSync(join(tmp, `keycloak-${version}`), home, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  return home;
}

function javaCommand(): string {
  if (process.env.JAVA_HOME && existsSync(join(process.env.JAVA_HOME, "bin", "java")))
    return process.env.JAVA_HOME;
  requireTool("java", "install a JDK 17, 21 or 25 (Debian: apt-get install openjdk-17-jre-headless)");
  return "";
}

/**
 * Starts Keycloak for the tests: KEYCLOAK_URL when given (the realm must already be imported; its
 * placeholder values come from MCP_GATEWAY_URL, MCP_GATEWAY_BACKCHANNEL_URL (default: the gateway URL),
 * MCP_GATEWAY_CLIENT_SECRET, NEXTCLOUD_URL and NEXTCLOUD_CLIENT_SECRET in the environment), else the Maven Central distribution with
 * `kc.sh start-dev --import-realm` on free ports, else testcontainers. Resolves when the realm's
 * discovery document answers, which also proves the import finished.
 */
export async function startKeycloak(realmEnv: RealmEnv): Promise<TestKeycloak> {
  const given = process.env.KEYCLOAK_URL;
  if (given) {
    const url = given.replace(/\/+$/, "");
    const issuer = `${url}/realms/${REALM}`;
    await waitFor(`Keycloak at ${url}`, async () =>
      (await fetch(`${issuer}/.well-known/openid-configuration`)).ok ? true : undefined,
    );
    const gatewayUrl = process.env.MCP_GATEWAY_URL ?? realmEnv.MCP_GATEWAY_URL;
    return {
      url,
      issuer,
      realmEnv: {
        MCP_GATEWAY_URL: gatewayUrl,
        MCP_GATEWAY_BACKCHANNEL_URL:
          process.env.MCP_GATEWAY_BACKCHANNEL_URL ??
          (process.env.MCP_GATEWAY_URL ? gatewayUrl : realmEnv.MCP_GATEWAY_BACKCHANNEL_URL),
        MCP_GATEWAY_CLIENT_SECRET:
          process.env.MCP_GATEWAY_CLIENT_SECRET ?? realmEnv.MCP_GATEWAY_CLIENT_SECRET,
        NEXTCLOUD_URL: process.env.NEXTCLOUD_URL ?? realmEnv.NEXTCLOUD_URL,
        NEXTCLOUD_CLIENT_SECRET: process.env.NEXTCLOUD_CLIENT_SECRET ?? realmEnv.NEXTCLOUD_CLIENT_SECRET,
      },
      adminUser: process.env.KEYCLOAK_ADMIN_USER ?? "admin",
      adminPassword: process.env.KEYCLOAK_ADMIN_PASSWORD ?? "admin",
      source: "KEYCLOAK_URL",
      logFile: undefined,
      stop: () => Promise.resolve(),
    };
  }
  const hasJava = spawnSync("sh", ["-c", "command -v java"]).status === 0 || Boolean(process.env.JAVA_HOME);
  if (!hasJava && (existsSync("/var/run/docker.sock") || process.env.DOCKER_HOST))
    return startKeycloakContainer(realmEnv);
  return startKeycloakDist(realmEnv);
}

async function startKeycloakDist(realmEnv: RealmEnv): Promise<TestKeycloak> {
  const javaHome = javaCommand();
  const dist = ensureKeycloakDist();
  // A per-run home: its own data/ (import dir, H2 files, tmp) beside the cached, shared distribution.
  const home = mkdtempSync(join(tmpdir(), "ncmcp-kc-"));
  cpSync(join(dist, "bin"), join(home, "bin"), { recursive: true });
  for (const d of ["lib", "conf", "providers", "themes"]) symlinkSync(join(dist, d), join(home, d));
  mkdirSync(join(home, "data", "import"), { recursive: true });
  copyFileSync(REALM_FILE, join(home, "data", "import", `${REALM}-realm.json`));
  copyFileSync(DEV_USERS_FILE, join(home, "data", "import", `${REALM}-users-0.json`));

  const port = await freePort();
  const mgmt = await freePort();
  const url = `http://localhost:${port}`;
  const adminPassword = randomBytes(12).toString("base64url");
  const logFile = join(home, "keycloak.log");
  const out = openSync(logFile, "a");
  const child: ChildProcess = spawn(
    join(home, "bin", "kc.sh"),
    [
      "start-dev",
      "--import-realm",
      `--hostname=${url}`,
      "--http-host=127.0.0.1",
      `--http-port=${port}`,
      `--http-management-port=${mgmt}`,
      "--health-enabled=true",
      "--db=dev-mem",
      "--cache=local",
    ],
    {
      env: {
        ...process.env,
        ...realmEnv,
        ...(javaHome ? { JAVA_HOME: javaHome } : {}),
        KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        JAVA_OPTS_KC_HEAP: "-Xms128m -Xmx640m",
        JAVA_OPTS_APPEND: "-XX:TieredStopAtLevel=1",
      },
      stdio: ["ignore", out, out],
      detached: true,
    },
  );
  closeSync(out);
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `Keycloak exited (${signal ?? code}) before it was ready; log: ${logFile}\n${tail(logFile)}`;
  });
  const issuer = `${url}/realms/${REALM}`;
  await waitFor(
    `Keycloak ${KEYCLOAK_VERSION} on ${url} (log: ${logFile})`,
    async () => ((await fetch(`${issuer}/.well-known/openid-configuration`)).ok ? true : undefined),
    { timeoutMs: 240_000, intervalMs: 500, abort: () => exited },
  );
  return {
    url,
    issuer,
    realmEnv,
    adminUser: "admin",
    adminPassword,
    source: "distribution",
    logFile,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const gone = new Promise((r) => child.once("exit", r));
        process.kill(-child.pid, "SIGTERM");
        const timer = setTimeout(() => {
          if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
        }, 15_000);
        await gone;
        clearTimeout(timer);
      }
      if (!process.env.KEEP_KEYCLOAK_HOME) rmSync(home, { recursive: true, force: true });
    },
  };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function startKeycloakContainer(realmEnv: RealmEnv): Promise<TestKeycloak> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const adminPassword = randomBytes(12).toString("base64url");
  const container = await new GenericContainer(`quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`)
    .withEnvironment({
      ...realmEnv,
      KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
      KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    })
    .withCopyFilesToContainer([
      { source: REALM_FILE.pathname, target: `/opt/keycloak/data/import/${REALM}-realm.json` },
      { source: DEV_USERS_FILE.pathname, target: `/opt/keycloak/data/import/${REALM}-users-0.json` },
    ])
    .withCommand(["start-dev", "--import-realm", "--db=dev-mem", "--cache=local"])
    .withExposedPorts(8080)
    .withWaitStrategy(
      Wait.forHttp(`/realms/${REALM}/.well-known/openid-configuration`, 8080).withStartupTimeout(240_000),
    )
    .start();
  const url = `http://localhost:${container.getMappedPort(8080)}`;
  return {
    url,
    issuer: `${url}/realms/${REALM}`,
    realmEnv,
    adminUser: "admin",
    adminPassword,
    source: "testcontainers",
    logFile: undefined,
    async stop() {
      await container.stop();
    },
  };
}

/** An admin access token for the master realm (admin REST API in tests). */
export async function adminToken(
  kc: Pick<TestKeycloak, "url" | "adminUser" | "adminPassword">,
): Promise<string> {
  const res = await fetch(`${kc.url}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "password",
      client_id: "admin-cli",
      username: kc.adminUser,
      password: kc.adminPassword,
    }),
  });
  if (!res.ok) throw new Error(`admin login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
