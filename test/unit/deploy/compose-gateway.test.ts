// compose.gateway.yaml (+ compose.postgres.yaml) is what a team with its own Keycloak and Nextcloud
// converts with kompose: every test reads it with deploy/gateway.env.example and the files
// deploy/generate-secrets.sh writes, and checks something that team would otherwise hand-edit.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.ts";
import { parseSealingKeys } from "../../../src/store/index.ts";
import { loadCompose, parseEnvFile, readRepoFile, requiredVariables, root, service } from "./compose-file.ts";

const env = parseEnvFile(readRepoFile("deploy/gateway.env.example"));
const secretsDir = mkdtempSync(join(tmpdir(), "gensecrets-"));
afterAll(() => {
  rmSync(secretsDir, { recursive: true, force: true });
});

function generateSecrets(extra: Record<string, string> = {}, dir = secretsDir) {
  return spawnSync("sh", [fileURLToPath(new URL("deploy/generate-secrets.sh", root)), dir], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra },
  });
}

const run = generateSecrets({ OIDC_CLIENT_SECRET: "the-client-secret" });
const files = { ...env, GATEWAY_SECRETS_DIR: secretsDir };
const gatewayFile = loadCompose(files, "compose.gateway.yaml");
const postgresFile = loadCompose(files, "compose.postgres.yaml");
const gateway = service(gatewayFile, "gateway");
const postgres = service(postgresFile, "postgres");

/** The gateway's environment as the pod sees it: each *_FILE pointing into the secrets directory. */
function podEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(gateway.environment ?? {})) {
    out[name] = value.startsWith("/run/secrets/")
      ? join(secretsDir, value.slice("/run/secrets/".length))
      : value;
  }
  return out;
}

describe("compose.gateway.yaml: the gateway for an existing Keycloak and Nextcloud", () => {
  it("has only the gateway; PostgreSQL comes from compose.postgres.yaml, nothing else is bundled", () => {
    expect(Object.keys(gatewayFile.services)).toEqual(["gateway"]);
    expect(Object.keys(postgresFile.services)).toEqual(["postgres"]);
  });

  it("gives the gateway its secrets as files of compose secrets, none as plain env", () => {
    expect(run.status, run.stderr).toBe(0);
    const environment = gateway.environment ?? {};
    for (const name of ["OIDC_CLIENT_SECRET", "DATABASE_URL", "SEALING_KEYS", "METRICS_TOKEN"]) {
      expect(environment, name).not.toHaveProperty(name);
    }
    for (const [variable, secret] of [
      ["OIDC_CLIENT_SECRET_FILE", "oidc-client-secret"],
      ["DATABASE_URL_FILE", "database-url"],
      ["SEALING_KEYS_FILE", "sealing-keys"],
    ] as const) {
      expect(environment[variable]).toBe(`/run/secrets/${secret}`);
      expect(gateway.secrets).toContain(secret);
      expect(gatewayFile.secrets?.[secret]?.file).toBe(`${secretsDir}/${secret}`);
    }
  });

  it("is a configuration the gateway accepts: https everywhere, no insecure-HTTP flag, secrets read", () => {
    const config = loadConfig(podEnv());
    expect(config.allowInsecureHttp).toBe(false);
    expect(gateway.environment).not.toHaveProperty("ALLOW_INSECURE_HTTP");
    expect(config.oidc.clientSecret).toBe("the-client-secret");
    expect(config.nextcloud?.url).toBe(env.NEXTCLOUD_URL);
    expect(config.publicUrl).toMatch(/^https:\/\//);
    expect(config.oidc.issuer).toMatch(/^https:\/\//);
    expect(config.database).toMatchObject({ backend: "postgres" });
    expect(config.sealingKeys?.map((k) => k.kid)).toEqual(["k1"]);
  });

  it("takes NEXTCLOUD_URL, the issuer and the public URL each from one variable, all required", () => {
    const required = requiredVariables(readRepoFile("compose.gateway.yaml"));
    for (const name of [
      "GATEWAY_IMAGE",
      "GATEWAY_PUBLIC_URL",
      "OIDC_ISSUER",
      "NEXTCLOUD_URL",
      "GATEWAY_INGRESS_HOST",
    ]) {
      expect(required, name).toContain(name);
      expect(env[name], name).toBeTruthy();
    }
    expect(gateway.environment?.NEXTCLOUD_URL).toBe(env.NEXTCLOUD_URL);
    expect(gateway.labels?.["kompose.service.expose"]).toBe(new URL(env.GATEWAY_PUBLIC_URL ?? "").host);
  });

  it("runs two replicas that migrate at start (ADR 0014), with probes and a memory request above idle use", () => {
    expect(gateway.command).toEqual(["serve"]);
    expect(gateway.deploy?.replicas).toBeGreaterThanOrEqual(2);
    const request = gateway.deploy?.resources?.reservations?.memory ?? "";
    // The compiled gateway uses about 133 MiB idle.
    expect(Number(/^(\d+)M$/.exec(request)?.[1])).toBeGreaterThanOrEqual(160);
    expect(gateway.labels?.["kompose.service.healthcheck.liveness.http_get_path"]).toBe("/healthz");
    expect(gateway.labels?.["kompose.service.healthcheck.readiness.http_get_path"]).toBe("/readyz");
    const pdb = readRepoFile("deploy/kubernetes/gateway-pdb.yaml");
    expect(pdb).toMatch(/^kind: PodDisruptionBudget$/m);
    expect(pdb).toMatch(/matchLabels:\n\s+io\.kompose\.service: gateway/);
  });
});

describe("compose.postgres.yaml and deploy/generate-secrets.sh", () => {
  it("gives PostgreSQL its password as a secret file, the same one the database URL carries", () => {
    expect(postgres.environment).not.toHaveProperty("POSTGRES_PASSWORD");
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/postgres-password");
    expect(postgres.secrets).toEqual(["postgres-password"]);
    const password = readFileSync(join(secretsDir, "postgres-password"), "utf8");
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(readFileSync(join(secretsDir, "database-url"), "utf8")).toBe(
      `postgres://gateway:${password}@postgres:5432/gateway`,
    );
    expect(parseSealingKeys(readFileSync(join(secretsDir, "sealing-keys"), "utf8")).problems).toEqual([]);
  });

  it("keeps existing files, takes DATABASE_URL for an external database, and asks for the client secret", () => {
    const again = generateSecrets();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("sealing-keys exists; kept");
    const other = mkdtempSync(join(tmpdir(), "gensecrets-"));
    try {
      const missing = generateSecrets({}, other);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain("set OIDC_CLIENT_SECRET to the secret of the mcp-gateway client");
      const external = generateSecrets(
        { OIDC_CLIENT_SECRET: "s", DATABASE_URL: "postgres://gw:pw@db.example.com:5432/gw?sslmode=require" },
        other,
      );
      expect(external.status, external.stderr).toBe(0);
      expect(readFileSync(join(other, "database-url"), "utf8")).toBe(
        "postgres://gw:pw@db.example.com:5432/gw?sslmode=require",
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
