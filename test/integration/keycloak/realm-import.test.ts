// The realm file that platform teams import: it imports into the real Keycloak, discovery works,
// and the properties of DESIGN §5 hold as Keycloak itself reports them.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { adminToken, DEV_USERS_FILE, REALM, REALM_FILE } from "../../harness/keycloak.ts";

interface ClientRep {
  id: string;
  clientId: string;
  publicClient: boolean;
  standardFlowEnabled: boolean;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: boolean;
  redirectUris: string[];
  attributes: Record<string, string>;
  defaultClientScopes: string[];
  optionalClientScopes: string[];
}
interface ScopeRep {
  name: string;
  protocolMappers?: { protocolMapper: string; config: Record<string, string> }[];
}

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
let token: string;

async function admin<T>(path: string): Promise<T> {
  const res = await fetch(`${kc.url}/admin/realms/${REALM}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function client(clientId: string): Promise<ClientRep> {
  const [c] = await admin<ClientRep[]>(`/clients?clientId=${encodeURIComponent(clientId)}`);
  if (!c) throw new Error(`client ${clientId} missing from the imported realm`);
  return c;
}

beforeAll(async () => {
  token = await adminToken(kc);
});

describe("realm import", () => {
  it("serves OpenID discovery with PKCE S256, token exchange and dynamic registration", async () => {
    const res = await fetch(`${kc.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as Record<string, unknown>;
    expect(d.issuer).toBe(kc.issuer);
    expect(d.code_challenge_methods_supported).toContain("S256");
    expect(d.grant_types_supported).toContain("urn:ietf:params:oauth:grant-type:token-exchange");
    expect(d.registration_endpoint).toBe(`${kc.issuer}/clients-registrations/openid-connect`);
    expect(d.scopes_supported).toEqual(expect.arrayContaining(["mcp:tools", "mcp:write", "offline_access"]));
  });

  it("rotates refresh tokens, allowing one reuse (a refresh whose answer was lost, ADR 0018)", async () => {
    const realm = await admin<{ revokeRefreshToken: boolean; refreshTokenMaxReuse: number }>("");
    expect(realm.revokeRefreshToken).toBe(true);
    expect(realm.refreshTokenMaxReuse).toBe(1);
  });

  it("has the gateway client: confidential, PKCE S256, standard token exchange, exact callback", async () => {
    const c = await client("mcp-gateway");
    expect(c.publicClient).toBe(false);
    expect(c.standardFlowEnabled).toBe(true);
    expect(c.directAccessGrantsEnabled).toBe(false);
    expect(c.attributes["pkce.code.challenge.method"]).toBe("S256");
    expect(c.attributes["standard.token.exchange.enabled"]).toBe("true");
    expect(c.redirectUris).toEqual([`${realmEnv.MCP_GATEWAY_URL}/oauth/callback`]);
    // Keycloak POSTs logout tokens there itself: its own placeholder, not the public URL.
    expect(c.attributes["backchannel.logout.url"]).toBe(
      `${realmEnv.MCP_GATEWAY_BACKCHANNEL_URL}/oauth/backchannel-logout`,
    );
    expect(c.attributes["backchannel.logout.session.required"]).toBe("true");
    expect(c.attributes["backchannel.logout.revoke.offline.tokens"]).toBe("false");
    expect(c.defaultClientScopes).toContain("basic");
    expect(c.optionalClientScopes).toEqual(expect.arrayContaining(["offline_access", "nextcloud-audience"]));
    // `check` proves the mcp:tools audience with a token of the gateway's own (refused at /mcp).
    expect(c.serviceAccountsEnabled).toBe(true);
    expect(c.optionalClientScopes).toContain("mcp:tools");
  });

  it("has the nextcloud client (confidential, for user_oidc) and the public pre-registered MCP client", async () => {
    const nc = await client("nextcloud");
    expect(nc.publicClient).toBe(false);
    expect(nc.redirectUris).toContain(`${realmEnv.NEXTCLOUD_URL}/apps/user_oidc/code`);
    const pub = await client("mcp-client");
    expect(pub.publicClient).toBe(true);
    expect(pub.attributes["pkce.code.challenge.method"]).toBe("S256");
    expect(pub.redirectUris.every((u) => /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)\//.test(u))).toBe(true);
    expect(pub.optionalClientScopes).toEqual(expect.arrayContaining(["mcp:tools", "mcp:write"]));
  });

  it("declares the built-in scopes and the MCP scopes with their audience mappers", async () => {
    const scopes = await admin<ScopeRep[]>("/client-scopes");
    const byName = new Map(scopes.map((s) => [s.name, s]));
    for (const name of ["basic", "profile", "email", "roles", "web-origins", "acr", "offline_access"]) {
      expect(byName.has(name), name).toBe(true);
    }
    const aud = (name: string) =>
      (byName.get(name)?.protocolMappers ?? [])
        .filter((m) => m.protocolMapper === "oidc-audience-mapper")
        .map((m) => m.config["included.custom.audience"] ?? m.config["included.client.audience"])
        .sort();
    expect(aud("mcp:tools")).toEqual([`${realmEnv.MCP_GATEWAY_URL}/mcp`, "mcp-gateway"].sort());
    expect(aud("nextcloud-audience")).toEqual(["nextcloud"]);
  });

  it("keeps test users out of the file production imports", () => {
    const realm = JSON.parse(readFileSync(REALM_FILE, "utf8")) as Record<string, unknown>;
    expect(realm.users).toBeUndefined();
    const users = JSON.parse(readFileSync(DEV_USERS_FILE, "utf8")) as { users: unknown[] };
    expect(users.users.length).toBeGreaterThan(0);
  });
});
