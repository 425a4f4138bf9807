import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, variables } from "../../../src/config/index.ts";

const valid = {
  GATEWAY_PUBLIC_URL: "https://mcp.example.com/",
  OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
  OIDC_CLIENT_SECRET: "s3cr3t-value",
  DATABASE_URL: "postgres://gw:pw@db.example.com:5432/gw",
};

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies defaults and derives the resource URL from the public URL", () => {
    const c = loadConfig(valid);
    expect(c.publicUrl).toBe("https://mcp.example.com");
    expect(c.resourceUrl).toBe("https://mcp.example.com/mcp");
    expect(c.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.oidc.clientId).toBe("mcp-gateway");
    expect(c.logLevel).toBe("info");
  });

  it("reports every problem at once, each naming the variable and the fix", () => {
    const p = problems({
      OIDC_ISSUER: "not a url",
      PORT: "99999",
      LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://x/y",
    });
    expect(p).toEqual([
      expect.stringMatching(/^GATEWAY_PUBLIC_URL: missing; set it to .* e\.g\. https:\/\//),
      expect.stringMatching(/^PORT: too large; give a whole number from 1 to 65535$/),
      expect.stringMatching(/^OIDC_ISSUER: not a URL; set it to the issuer URL/),
      expect.stringMatching(/^OIDC_CLIENT_SECRET: missing/),
      expect.stringMatching(/^DATABASE_URL: not a PostgreSQL URL/),
      expect.stringMatching(/^LOG_LEVEL: unknown level; use one of/),
    ]);
  });

  it("refuses plain http to a remote host unless ALLOW_INSECURE_HTTP is set, and accepts it on loopback", () => {
    const env = {
      ...valid,
      OIDC_ISSUER: "http://sso.example.com/realms/r",
      GATEWAY_PUBLIC_URL: "http://localhost:8080",
    };
    expect(problems(env)).toEqual([
      expect.stringMatching(/^OIDC_ISSUER: uses http:\/\/ on a host other than localhost/),
    ]);
    expect(loadConfig({ ...env, ALLOW_INSECURE_HTTP: "true" }).oidc.issuer).toBe(
      "http://sso.example.com/realms/r",
    );
  });

  it("refuses a public URL that already ends in /mcp, with a query string, or with credentials", () => {
    expect(problems({ ...valid, GATEWAY_PUBLIC_URL: "https://mcp.example.com/mcp" })).toEqual([
      expect.stringMatching(/ends in \/mcp; give the base URL/),
    ]);
    expect(problems({ ...valid, GATEWAY_PUBLIC_URL: "https://mcp.example.com/?a=1" })[0]).toMatch(
      /query string/,
    );
    expect(problems({ ...valid, OIDC_ISSUER: "https://u:p@sso.example.com/r" })[0]).toMatch(
      /user name or password/,
    );
  });

  it("takes the sign-in scopes as a list and allows only the MCP scopes", () => {
    expect(loadConfig(valid).signInScopes).toEqual(["mcp:tools", "mcp:write"]);
    expect(loadConfig({ ...valid, MCP_SIGN_IN_SCOPES: "mcp:tools" }).signInScopes).toEqual(["mcp:tools"]);
    expect(problems({ ...valid, MCP_SIGN_IN_SCOPES: "mcp:write openid" })).toEqual([
      'MCP_SIGN_IN_SCOPES: must be "mcp:tools" or "mcp:tools mcp:write"',
    ]);
  });

  it("treats empty values as unset and rejects non-boolean flags", () => {
    expect(loadConfig({ ...valid, PORT: "", LOG_LEVEL: "" }).listen.port).toBe(8080);
    expect(problems({ ...valid, ALLOW_INSECURE_HTTP: "yes please" })).toEqual([
      'ALLOW_INSECURE_HTTP: not a boolean; use "true" or "false"',
    ]);
  });

  it("never echoes a secret in its messages", () => {
    const secret = "do-not-print-this-secret";
    const env = {
      ...valid,
      GATEWAY_PUBLIC_URL: "nope",
      DATABASE_URL: `postgres://u:${secret}@`,
      OIDC_CLIENT_SECRET: secret,
    };
    try {
      loadConfig({ ...env, PORT: "x" });
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
      return;
    }
    throw new Error("expected a ConfigError");
  });
});

describe("configuration reference", () => {
  it("documents every variable with a description and an example", () => {
    for (const [name, v] of Object.entries(variables)) {
      expect(v.doc.description.length, name).toBeGreaterThan(20);
      expect(v.doc.example.length, name).toBeGreaterThan(0);
    }
  });
});
