// Secrets as files (`<NAME>_FILE`): how compose `secrets:` and Kubernetes Secrets reach the gateway
// (kompose mounts them under /run/secrets), so no secret sits in a Deployment's plain env.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";

const dir = mkdtempSync(join(tmpdir(), "ncmcp-secrets-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const base = {
  GATEWAY_PUBLIC_URL: "https://mcp.example.com",
  OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("secrets from files", () => {
  it("reads every secret variable from <NAME>_FILE, dropping one trailing newline", () => {
    const key = `k1:${Buffer.alloc(32, 1).toString("base64")}`;
    const c = loadConfig({
      ...base,
      OIDC_CLIENT_SECRET_FILE: file("client", "from-a-file\n"),
      DATABASE_URL_FILE: file("db", "postgres://gw:pw@db.example.com:5432/gw\r\n"),
      SEALING_KEYS_FILE: file("keys", `${key}\n`),
      METRICS_TOKEN_FILE: file("metrics", "m".repeat(40)),
    });
    expect(c.oidc.clientSecret).toBe("from-a-file");
    expect(c.database).toMatchObject({ backend: "postgres", url: "postgres://gw:pw@db.example.com:5432/gw" });
    expect(c.sealingKeys?.map((k) => k.kid)).toEqual(["k1"]);
  });

  it("names a missing file and a variable set twice, without the secret", () => {
    const found = problems({
      ...base,
      OIDC_CLIENT_SECRET: "direct-secret-value",
      OIDC_CLIENT_SECRET_FILE: file("client2", "other"),
      DATABASE_URL_FILE: join(dir, "absent"),
    });
    expect(found).toContain("OIDC_CLIENT_SECRET_FILE: OIDC_CLIENT_SECRET is set too; set one of them");
    expect(found).toContain(
      `DATABASE_URL_FILE: cannot read ${join(dir, "absent")} (ENOENT); mount the secret there or fix the path`,
    );
    expect(found.join("\n")).not.toContain("direct-secret-value");
  });

  it("validates a secret read from a file like one from the environment", () => {
    expect(problems({ ...base, OIDC_CLIENT_SECRET_FILE: file("empty", "\n") })).toContain(
      "OIDC_CLIENT_SECRET: missing; set it to the gateway client's secret at the IdP",
    );
  });
});
