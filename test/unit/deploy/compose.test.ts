// compose.yaml wires PostgreSQL, Keycloak, Nextcloud and the gateway together. Each test reads it with
// the values of .env.example, as `docker compose up` would, and checks one connection that, when
// wrong, leaves a user with a stack that starts but cannot sign anyone in.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.ts";
import { parseSealingKeys } from "../../../src/store/index.ts";
import { KEYCLOAK_VERSION } from "../../harness/keycloak.ts";
import {
  interpolate,
  loadCompose,
  parseEnvFile,
  readRepoFile,
  requiredVariables,
  root,
  service,
  type ComposeFile,
  type ComposeService,
} from "./compose-file.ts";

const composeText = readRepoFile("compose.yaml");
const env = parseEnvFile(readRepoFile(".env.example"));
const compose = loadCompose(env);
const realm = JSON.parse(readRepoFile("keycloak/realm-export.json")) as {
  realm: string;
  clients: { clientId: string }[];
};

/** The repository file compose.yaml mounts at `target` in the service's container. */
function mountedFile(file: ComposeFile, name: string, target: string): string | undefined {
  const source = service(file, name).configs?.find((c) => c.target === target)?.source;
  return source === undefined ? undefined : file.configs[source]?.file;
}

function option(svc: ComposeService, name: string): string | undefined {
  return svc.command?.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const keycloak = service(compose, "keycloak");
const gateway = service(compose, "gateway");
const nextcloud = service(compose, "nextcloud");
const IMPORT_DIR = "/opt/keycloak/data/import";

describe("compose.yaml: Keycloak", () => {
  it("imports keycloak/realm-export.json, under the file name Keycloak's directory import expects", () => {
    expect(mountedFile(compose, "keycloak", `${IMPORT_DIR}/${realm.realm}-realm.json`)).toBe(
      "./keycloak/realm-export.json",
    );
    expect(keycloak.command).toContain("--import-realm");
  });

  it("imports the demo users by default, and deploy/keycloak/no-users.json imports none", () => {
    expect(mountedFile(compose, "keycloak", `${IMPORT_DIR}/${realm.realm}-users-0.json`)).toBe(
      "./keycloak/dev-users.json",
    );
    const none = loadCompose({ ...env, KEYCLOAK_USERS_FILE: "./deploy/keycloak/no-users.json" });
    expect(mountedFile(none, "keycloak", `${IMPORT_DIR}/${realm.realm}-users-0.json`)).toBe(
      "./deploy/keycloak/no-users.json",
    );
    const noUsers = JSON.parse(readRepoFile("deploy/keycloak/no-users.json")) as {
      realm: string;
      users: unknown[];
    };
    // Keycloak refuses to start when a <realm>-users file names another realm.
    expect(noUsers).toEqual({ realm: realm.realm, users: [] });
  });

  it("runs the Keycloak release the integration tests prove the realm against", () => {
    expect(keycloak.image).toBe(`quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`);
  });

  it("gives Keycloak a value for every placeholder of the realm file", () => {
    const placeholders = [
      ...readRepoFile("keycloak/realm-export.json").matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g),
    ].map((m) => m[1] ?? "");
    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of new Set(placeholders)) expect(keycloak.environment?.[name], name).toBeTruthy();
  });
});

describe("compose.yaml: one issuer for browsers and containers", () => {
  const hostname = option(keycloak, "hostname") ?? "";
  const issuer = new URL(gateway.environment?.OIDC_ISSUER ?? "");

  it("gives the gateway the issuer Keycloak writes into tokens (its fixed --hostname and the realm)", () => {
    expect(hostname).not.toBe("");
    expect(issuer.href).toBe(`${hostname}/realms/${realm.realm}`);
  });

  it("makes the issuer's host reach Keycloak inside the network, on the port Keycloak listens on", () => {
    expect(keycloak.networks?.default?.aliases).toContain(issuer.hostname);
    expect(option(keycloak, "http-port")).toBe(issuer.port);
    expect(keycloak.ports).toContain(`127.0.0.1:${issuer.port}:${issuer.port}`);
  });

  it("lets Nextcloud fetch the realm's discovery document by the service name", () => {
    const uri = new URL(nextcloud.environment?.OIDC_DISCOVERY_URI ?? "");
    expect(uri.hostname).toBe("keycloak");
    expect(uri.port).toBe(issuer.port);
    expect(uri.pathname).toBe(`/realms/${realm.realm}/.well-known/openid-configuration`);
    expect(keycloak.command).toContain("--hostname-backchannel-dynamic=true");
  });
});

describe("compose.yaml: the gateway", () => {
  it("gets a configuration the gateway accepts, listening on all interfaces of its container", () => {
    const config = loadConfig(gateway.environment ?? {});
    expect(config.listen.host).toBe("0.0.0.0");
    expect(config.database.backend).toBe("postgres");
  });

  it("is the URL the realm's audience and redirect URIs were imported with", () => {
    expect(keycloak.environment?.MCP_GATEWAY_URL).toBe(gateway.environment?.GATEWAY_PUBLIC_URL);
    expect(keycloak.environment?.MCP_GATEWAY_CLIENT_SECRET).toBe(gateway.environment?.OIDC_CLIENT_SECRET);
    expect(gateway.ports).toContain(`127.0.0.1:8080:${gateway.environment?.PORT}`);
  });

  it("keeps /metrics off the published port: its own listener, whose port no ports entry publishes", () => {
    const config = loadConfig(gateway.environment ?? {});
    expect(config.metrics.listen).toEqual({ host: "0.0.0.0", port: 9464 });
    const published = gateway.ports ?? [];
    expect(published.filter((p) => p.split(":").includes("9464"))).toEqual([]);
    expect(published).toEqual([`127.0.0.1:8080:${gateway.environment?.PORT}`]);
  });

  it("is reached by Keycloak's back-channel logout at its service name and port, not the public URL", () => {
    const realmText = readRepoFile("keycloak/realm-export.json");
    expect(realmText).toContain(
      '"backchannel.logout.url": "${MCP_GATEWAY_BACKCHANNEL_URL}/oauth/backchannel-logout"',
    );
    const url = new URL(keycloak.environment?.MCP_GATEWAY_BACKCHANNEL_URL ?? "");
    expect(url.origin).toBe(`http://gateway:${gateway.environment?.PORT}`);
    expect(url.pathname).toBe("/");
    // The same default when .env does not set it (an .env written before the variable existed).
    const { MCP_GATEWAY_BACKCHANNEL_URL: _, ...older } = env;
    expect(service(loadCompose(older), "keycloak").environment?.MCP_GATEWAY_BACKCHANNEL_URL).toBe(
      keycloak.environment?.MCP_GATEWAY_BACKCHANNEL_URL,
    );
  });

  it("migrates at start under the advisory lock (ADR 0014), once PostgreSQL is healthy", () => {
    expect(gateway.command).toEqual(["serve"]);
    expect(Object.keys(compose.services)).not.toContain("migrate");
    expect(gateway.depends_on?.postgres?.condition).toBe("service_healthy");
  });

  it("has Kubernetes probes on /healthz (liveness) and /readyz (readiness) after kompose convert", () => {
    expect(gateway.labels?.["kompose.service.healthcheck.liveness.http_get_path"]).toBe("/healthz");
    expect(gateway.labels?.["kompose.service.healthcheck.readiness.http_get_path"]).toBe("/readyz");
    // Without a test of its own, Compose keeps the image's HEALTHCHECK and kompose uses the labels.
    expect(gateway.healthcheck?.test).toBeUndefined();
  });
});

describe("compose.yaml: Nextcloud", () => {
  const target = nextcloud.configs?.find((c) => c.source === "nextcloud-hook");

  it("runs the user_oidc hook from the image's hook folder, mounted executable", () => {
    expect(target?.target).toMatch(/^\/docker-entrypoint-hooks\.d\/before-starting\/[\w-]+\.sh$/);
    expect(target?.mode).toBe(0o555);
    expect(compose.configs["nextcloud-hook"]?.file).toBe("./deploy/nextcloud/configure-oidc.sh");
    expect(statSync(new URL("deploy/nextcloud/configure-oidc.sh", root)).mode & 0o111).not.toBe(0);
  });

  it("registers the realm's nextcloud client with bearer-token checking", () => {
    const hook = readRepoFile("deploy/nextcloud/configure-oidc.sh");
    expect(realm.clients.map((c) => c.clientId)).toContain("nextcloud");
    expect(hook).toMatch(/--clientid="\$\{OIDC_CLIENT_ID:-nextcloud\}"/);
    expect(hook).toContain("--check-bearer=1");
    expect(hook).toContain("--clientsecret-env=NEXTCLOUD_CLIENT_SECRET");
    expect(nextcloud.environment?.NEXTCLOUD_CLIENT_SECRET).toBe(
      keycloak.environment?.NEXTCLOUD_CLIENT_SECRET,
    );
    expect(nextcloud.environment?.NEXTCLOUD_URL).toBe(keycloak.environment?.NEXTCLOUD_URL);
  });
});

describe("compose.yaml and .env.example: secrets", () => {
  it("requires every secret from the env file instead of carrying a default", () => {
    const required = requiredVariables(composeText);
    for (const name of ["POSTGRES_PASSWORD", "MCP_GATEWAY_CLIENT_SECRET", "NEXTCLOUD_CLIENT_SECRET"]) {
      expect(required).toContain(name);
    }
    expect(() => loadCompose({})).toThrow(/required variable \w+ is not set/);
  });

  it("has .env.example define every required variable, each secret marked as a demo value", () => {
    for (const name of requiredVariables(composeText)) {
      expect(env[name], name).toBeTruthy();
      if (/PASSWORD|SECRET/.test(name)) expect(env[name], name).toMatch(/^DEMO-/);
    }
  });

  it("has a valid demo key ring, which generate-env.sh replaces with a random key", () => {
    expect(parseSealingKeys(env.SEALING_KEYS ?? "").problems).toEqual([]);
    expect(requiredVariables(composeText)).toContain("SEALING_KEYS");
    const dir = mkdtempSync(join(tmpdir(), "genenv-"));
    try {
      const target = join(dir, ".env");
      const run = spawnSync("sh", [fileURLToPath(new URL("deploy/generate-env.sh", root)), target], {
        encoding: "utf8",
      });
      expect(run.status, run.stderr).toBe(0);
      const generated = /^SEALING_KEYS=(.*)$/m.exec(readFileSync(target, "utf8"))?.[1] ?? "";
      const parsed = parseSealingKeys(generated);
      expect(parsed.problems).toEqual([]);
      expect(parsed.keys.map((k) => k.kid)).toEqual(["k1"]);
      expect(generated).not.toBe(env.SEALING_KEYS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("points every config file at a file of the repository", () => {
    for (const [name, config] of Object.entries(compose.configs)) {
      expect(existsSync(new URL(config.file, root)), `${name}: ${config.file}`).toBe(true);
    }
  });

  it("interpolates like Compose: defaults for unset or empty, errors for missing required values", () => {
    expect(interpolate("${A:-x}", {})).toBe("x");
    expect(interpolate("${A:-x}", { A: "" })).toBe("x");
    expect(interpolate("${A-x}", { A: "" })).toBe("");
    expect(interpolate("a$${B}", {})).toBe("a${B}");
    expect(() => interpolate("${A:?set it}", { A: "" })).toThrow("required variable A is not set: set it");
  });
});
