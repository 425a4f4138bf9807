// Anonymous dynamic client registration (RFC 7591), as MCP clients do it: loopback redirects are
// welcome, foreign hosts and scopes outside the allowed set are not.
import { describe, expect, inject, it } from "vitest";

const kc = inject("keycloak");
const endpoint = `${kc.issuer}/clients-registrations/openid-connect`;

async function register(body: Record<string, unknown>) {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      ...body,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("anonymous dynamic client registration", () => {
  it("registers a public client with a loopback redirect and the MCP scope", async () => {
    const r = await register({
      client_name: "Test MCP client",
      redirect_uris: ["http://127.0.0.1:33418/callback"],
      scope: "mcp:tools",
    });
    expect(r.status).toBe(201);
    expect(r.body.client_id).toEqual(expect.any(String));
    expect(r.body.client_secret).toBeUndefined();
    expect(r.body.redirect_uris).toEqual(["http://127.0.0.1:33418/callback"]);
  });

  it("accepts localhost redirects, as mcp-remote and Claude Code use them", async () => {
    const r = await register({
      client_name: "mcp-remote",
      redirect_uris: ["http://localhost:7777/oauth/callback"],
    });
    expect(r.status).toBe(201);
  });

  it("refuses a client that redirects to a foreign host", async () => {
    const r = await register({ client_name: "Evil", redirect_uris: ["https://attacker.example/callback"] });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe("insufficient_scope");
    expect(String(r.body.error_description)).toMatch(/Trusted Hosts/);
  });

  it("refuses a client that asks for the Nextcloud audience scope", async () => {
    const r = await register({
      client_name: "Greedy",
      redirect_uris: ["http://127.0.0.1:33419/callback"],
      scope: "nextcloud-audience",
    });
    expect(r.status).toBe(403);
    expect(String(r.body.error_description)).toMatch(/Allowed Client Scopes/);
  });
});
