// Anonymous dynamic client registration (RFC 7591), as MCP clients do it. Each real client's body
// is copied from its source (versions named in docs/auth-flows.md): they must register against
// the shipped realm, while a redirect to a foreign host, a URI Keycloak would call itself and a
// scope outside the allowed set are refused.
import { describe, expect, inject, it } from "vitest";

const kc = inject("keycloak");
const endpoint = `${kc.issuer}/clients-registrations/openid-connect`;

interface Registered {
  status: number;
  body: Record<string, unknown>;
}

async function post(body: Record<string, unknown>): Promise<Registered> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function register(body: Record<string, unknown>): Promise<Registered> {
  return post({
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    ...body,
  });
}

/**
 * Keycloak's answer when the realm's client policy refuses a URI: 403 with the policy's error code
 * in the description (the same for every field, so each test changes one thing only).
 */
function expectRefusedMetadata(r: Registered): void {
  expect(r.status).toBe(403);
  expect(r.body).toEqual({ error: "insufficient_scope", error_description: "invalid_client_metadata" });
}

/** What each client sends, from its source. */
const CLIENTS: Record<string, Record<string, unknown>> = {
  // mcp-remote 0.15.1 (dist/chunk-*.js, clientMetadata)
  "mcp-remote": {
    redirect_uris: ["http://localhost:17143/oauth/callback"],
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    client_name: "MCP CLI Client",
    client_uri: "https://github.com/modelcontextprotocol/mcp-cli",
    software_id: "2e6dc280-f3c3-4e01-99a7-8181dbd1d23d",
    software_version: "0.15.1",
    scope: "mcp:tools mcp:write offline_access",
    application_type: "native",
  },
  // @modelcontextprotocol/inspector 2.12.0 (clients/cli/build/index.js, clientMetadata)
  "MCP Inspector": {
    redirect_uris: ["http://127.0.0.1:6276/oauth/callback"],
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    client_name: "MCP Inspector",
    client_uri: "https://github.com/modelcontextprotocol/inspector",
    scope: "",
    application_type: "native",
  },
  // Claude Code 2.1.332 (clientMetadata in the bundled CLI)
  "Claude Code": {
    client_name: "Claude Code (nextcloud)",
    redirect_uris: ["http://localhost:51234/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    scope: "mcp:tools mcp:write",
  },
  // VS Code (src/vs/base/common/oauth.ts, fetchDynamicRegistration)
  "VS Code": {
    client_name: "Visual Studio Code",
    client_uri: "https://code.visualstudio.com",
    grant_types: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
    response_types: ["code"],
    redirect_uris: [
      "https://insiders.vscode.dev/redirect",
      "https://vscode.dev/redirect",
      "http://127.0.0.1/",
      "http://127.0.0.1:33418/",
    ],
    scope: "mcp:tools mcp:write",
    token_endpoint_auth_method: "none",
    application_type: "native",
  },
  // Cursor (closed source; the three redirect URIs as reported by servers that log its body)
  Cursor: {
    client_name: "Cursor",
    redirect_uris: [
      "cursor://anysphere.cursor-mcp/oauth/callback",
      "https://www.cursor.com/agents/mcp/oauth/callback",
      "http://localhost:8787/callback",
    ],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  },
};

describe("anonymous dynamic client registration", () => {
  it.each(Object.keys(CLIENTS))("registers %s with exactly what it sends", async (name) => {
    const body = CLIENTS[name] ?? {};
    const r = await post(body);
    expect(r.body.error_description ?? "").toBe("");
    expect(r.status).toBe(201);
    expect(r.body.client_id).toEqual(expect.any(String));
    expect(r.body.client_secret).toBeUndefined();
    expect([...(r.body.redirect_uris as string[])].sort()).toEqual(
      [...(body.redirect_uris as string[])].sort(),
    );
  });

  it("registers a public client with a loopback redirect and the MCP scope", async () => {
    const r = await register({
      client_name: "Test MCP client",
      redirect_uris: ["http://127.0.0.1:33418/callback", "http://[::1]:33418/callback"],
      scope: "mcp:tools",
    });
    expect(r.status).toBe(201);
    expect(r.body.redirect_uris).toEqual(["http://127.0.0.1:33418/callback", "http://[::1]:33418/callback"]);
  });

  it.each([
    ["a foreign host", "https://attacker.example/callback"],
    ["a foreign host behind a loopback-looking name", "http://localhost.attacker.example/callback"],
    ["user info that hides the host", "http://localhost@attacker.example/callback"],
    ["a foreign path on VS Code's relay", "https://vscode.dev/redirect/../attacker"],
    ["another private-use scheme", "attacker://callback"],
  ])("refuses a client that redirects to %s, even beside a loopback redirect", async (_what, uri) => {
    const r = await register({ client_name: "Evil", redirect_uris: ["http://127.0.0.1:1234/callback", uri] });
    expectRefusedMetadata(r);
  });

  it("refuses a client that names a URI Keycloak would fetch or call itself", async () => {
    const r = await register({
      client_name: "Fetch me",
      redirect_uris: ["http://127.0.0.1:1235/callback"],
      jwks_uri: "http://127.0.0.1:8080/internal/keys",
    });
    expectRefusedMetadata(r);
  });

  it("refuses a display link that is not https", async () => {
    const r = await register({
      client_name: "Scripted",
      redirect_uris: ["http://127.0.0.1:1236/callback"],
      client_uri: "javascript:alert(1)",
    });
    expectRefusedMetadata(r);
  });

  it("keeps the redirect rule when a registered client updates itself", async () => {
    const r = await register({
      client_name: "Later evil",
      redirect_uris: ["http://127.0.0.1:1237/callback"],
    });
    expect(r.status).toBe(201);
    const res = await fetch(String(r.body.registration_client_uri), {
      method: "PUT",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${String(r.body.registration_access_token)}`,
      },
      body: JSON.stringify({ ...r.body, redirect_uris: ["https://attacker.example/callback"] }),
    });
    expectRefusedMetadata({ status: res.status, body: (await res.json()) as Record<string, unknown> });
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
