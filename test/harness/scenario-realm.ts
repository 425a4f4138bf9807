// A realm of its own for a reliability scenario, in the shared test Keycloak: a copy of the shipped
// realm (keycloak/realm-export.json) imported through the admin REST API under another name, so that
// a scenario may rotate its signing keys, cut its issuer behind a proxy or add a thousand users
// without disturbing the test files that use the shared realm at the same time. Deleted afterwards.
//
// Differences from the shipped realm, each for the test's sake and said where used:
// - `frontendUrl` (optional): the realm's URLs (issuer, token endpoint, JWKS) name a proxy in front of
//   Keycloak, so that everything the gateway sends to this realm passes the proxy.
// - `mcp-client` allows the password grant (directAccessGrantsEnabled), so a scenario can obtain real
//   tokens for many users without driving a browser through the login page for each one. The tokens
//   carry the same claims (aud, scope, azp mcp-client) as the ones of a browser sign-in.
// - `hashIterations(1)` as the password policy: hashing 1,000 passwords at Keycloak's default cost
//   would take minutes of the shared machine's CPU; password hashing is not under test.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminToken, REALM_FILE } from "./keycloak.ts";

export interface ScenarioRealmOptions {
  /** Keycloak's base URL and admin credentials (vitest `inject("keycloak")`). */
  keycloak: { url: string; adminUser: string; adminPassword: string };
  /** The realm's name; unique per scenario. */
  name: string;
  /** The gateway's public URL: the audience of MCP tokens is `${gatewayUrl}/mcp`. */
  gatewayUrl: string;
  nextcloudUrl: string;
  /** The base URL the realm names in its URLs (a proxy in front of Keycloak); Keycloak's own otherwise. */
  frontendUrl?: string;
  /** Access token lifetime in seconds (the shipped realm: 300). */
  accessTokenLifespan?: number;
}

export interface ScenarioUser {
  readonly username: string;
  readonly password: string;
}

export interface ScenarioRealm {
  readonly name: string;
  /** The issuer as the realm names it (through `frontendUrl` when given). */
  readonly issuer: string;
  readonly gatewayClientSecret: string;
  /** Adds `count` users `<prefix>-<n>` (one admin request per user, `parallel` at a time). */
  addUsers(prefix: string, count: number, parallel?: number): Promise<ScenarioUser[]>;
  /** A real access token for `user` from mcp-client (password grant), with the MCP scopes. */
  token(user: ScenarioUser, scope?: string): Promise<string>;
  /** The ids and kids of the realm's RSA signing-key providers. */
  rsaKeys(): Promise<{ providerId: string; kid: string; priority: number }[]>;
  /** Adds a generated RSA key with a higher priority than any other: new tokens are signed with it. */
  addActiveRsaKey(): Promise<{ providerId: string; kid: string }>;
  /** Removes a key provider (its key leaves the JWKS). */
  removeKey(providerId: string): Promise<void>;
  delete(): Promise<void>;
}

/** Direct to Keycloak, never through `frontendUrl`: the admin API and the token grants of the test itself. */
export async function createScenarioRealm(o: ScenarioRealmOptions): Promise<ScenarioRealm> {
  const kc = o.keycloak;
  const gatewayClientSecret = randomBytes(24).toString("base64url");
  const values: Record<string, string> = {
    MCP_GATEWAY_URL: o.gatewayUrl,
    MCP_GATEWAY_BACKCHANNEL_URL: o.gatewayUrl,
    MCP_GATEWAY_CLIENT_SECRET: gatewayClientSecret,
    NEXTCLOUD_URL: o.nextcloudUrl,
    NEXTCLOUD_CLIENT_SECRET: randomBytes(24).toString("base64url"),
  };
  const text = readFileSync(REALM_FILE, "utf8").replace(
    /\$\{(MCP_GATEWAY_URL|MCP_GATEWAY_BACKCHANNEL_URL|MCP_GATEWAY_CLIENT_SECRET|NEXTCLOUD_URL|NEXTCLOUD_CLIENT_SECRET)\}/g,
    (_, key: string) => values[key] ?? "",
  );
  const realm = JSON.parse(text) as Record<string, unknown> & {
    clients: { clientId: string; directAccessGrantsEnabled?: boolean }[];
    attributes?: Record<string, string>;
  };
  realm.realm = o.name;
  realm.displayName = `reliability scenario ${o.name}`;
  realm.passwordPolicy = "hashIterations(1)";
  realm.bruteForceProtected = false;
  if (o.accessTokenLifespan !== undefined) realm.accessTokenLifespan = o.accessTokenLifespan;
  if (o.frontendUrl !== undefined)
    realm.attributes = { ...(realm.attributes ?? {}), frontendUrl: o.frontendUrl };
  for (const c of realm.clients) if (c.clientId === "mcp-client") c.directAccessGrantsEnabled = true;

  let admin = { token: await adminToken(kc), at: Date.now() };
  const adminFetch = async (path: string, init: RequestInit = {}): Promise<Response> => {
    // The master realm's admin tokens live 60 s; renew well before.
    if (Date.now() - admin.at > 30_000) admin = { token: await adminToken(kc), at: Date.now() };
    return fetch(`${kc.url}/admin/realms${path}`, {
      ...init,
      // Callers pass no headers of their own.
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
    });
  };
  const must = async (res: Response, what: string): Promise<Response> => {
    if (!res.ok) throw new Error(`${what}: HTTP ${String(res.status)} ${await res.text()}`);
    return res;
  };
  await adminFetch(`/${o.name}`, { method: "DELETE" }); // a leftover of an interrupted run
  await must(await adminFetch("", { method: "POST", body: JSON.stringify(realm) }), `import realm ${o.name}`);
  const realmId = (
    (await (await must(await adminFetch(`/${o.name}`), "read realm")).json()) as { id: string }
  ).id;
  const issuer = `${(o.frontendUrl ?? kc.url).replace(/\/+$/, "")}/realms/${o.name}`;

  const rsaKeys: ScenarioRealm["rsaKeys"] = async () => {
    const res = await must(await adminFetch(`/${o.name}/keys`), "list keys");
    const body = (await res.json()) as {
      keys: { kid: string; providerId: string; providerPriority: number; type: string; use?: string }[];
    };
    return body.keys
      .filter((k) => k.type === "RSA" && k.use === "SIG")
      .map((k) => ({ providerId: k.providerId, kid: k.kid, priority: k.providerPriority }));
  };

  return {
    name: o.name,
    issuer,
    gatewayClientSecret,
    async addUsers(prefix, count, parallel = 8) {
      const users = Array.from({ length: count }, (_, i) => ({
        username: `${prefix}-${String(i)}`,
        password: `${prefix}-${String(i)}-password`,
      }));
      let next = 0;
      const worker = async () => {
        while (next < users.length) {
          const u = users[next++];
          if (u === undefined) break;
          await must(
            await adminFetch(`/${o.name}/users`, {
              method: "POST",
              body: JSON.stringify({
                username: u.username,
                enabled: true,
                email: `${u.username}@example.test`,
                emailVerified: true,
                firstName: u.username,
                lastName: "Load",
                credentials: [{ type: "password", value: u.password, temporary: false }],
              }),
            }),
            `create user ${u.username}`,
          );
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      return users;
    },
    async token(user, scope = "openid mcp:tools mcp:write") {
      const res = await must(
        await fetch(`${kc.url}/realms/${o.name}/protocol/openid-connect/token`, {
          method: "POST",
          body: new URLSearchParams({
            grant_type: "password",
            client_id: "mcp-client",
            username: user.username,
            password: user.password,
            scope,
          }),
        }),
        `password grant for ${user.username}`,
      );
      return ((await res.json()) as { access_token: string }).access_token;
    },
    rsaKeys,
    async addActiveRsaKey() {
      const before = new Set((await rsaKeys()).map((k) => k.kid));
      const top = Math.max(0, ...(await rsaKeys()).map((k) => k.priority));
      await must(
        await adminFetch(`/${o.name}/components`, {
          method: "POST",
          body: JSON.stringify({
            name: `rotated-${String(Date.now())}`,
            providerId: "rsa-generated",
            providerType: "org.keycloak.keys.KeyProvider",
            parentId: realmId,
            config: {
              priority: [String(top + 100)],
              enabled: ["true"],
              active: ["true"],
              keySize: ["2048"],
              algorithm: ["RS256"],
            },
          }),
        }),
        "add an RSA key",
      );
      const added = (await rsaKeys()).find((k) => !before.has(k.kid));
      if (added === undefined) throw new Error("the new RSA key is not among the realm's keys");
      return { providerId: added.providerId, kid: added.kid };
    },
    async removeKey(providerId) {
      await must(await adminFetch(`/${o.name}/components/${providerId}`, { method: "DELETE" }), "remove key");
    },
    async delete() {
      await adminFetch(`/${o.name}`, { method: "DELETE" });
    },
  };
}
