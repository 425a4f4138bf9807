// A realm of a reliability scenario's own in the test Keycloak, for offline tokens by the thousand:
// the shipped realm (keycloak/realm-export.json) lets the gateway client sign users in only through
// the browser, which takes seconds per token. This realm has the gateway client with the password
// grant on, one user whose password is hashed with one iteration, and the refresh token settings
// (rotation, reuse allowance) and offline idle timeout of the shipped realm, read from its file, so
// what Keycloak does with rotated tokens is what the shipped realm does. Each password grant with
// `offline_access` starts an offline session of its own: one token per grant, as a browser sign-in
// gives. Nothing of the shipped realm changes; other test files never see this one.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { inject } from "vitest";
import { adminToken, REALM_FILE } from "../../harness/keycloak.ts";

export interface OwnRealm {
  issuer: string;
  clientSecret: string;
  /** The shipped realm's refreshTokenMaxReuse, as this realm has it unless changed. */
  shippedReuse: number;
  /** `count` offline refresh tokens of the gateway client, each its own offline session. */
  offlineTokens(count: number, parallel?: number): Promise<{ rt: string; sub: string }[]>;
  /** Sets the realm's refresh token reuse allowance (Keycloak applies it to the next refresh). */
  setReuse(max: number): Promise<void>;
  remove(): Promise<void>;
}

interface ShippedRealm {
  revokeRefreshToken: boolean;
  refreshTokenMaxReuse: number;
  offlineSessionIdleTimeout: number;
}

export async function createOwnRealm(prefix: string): Promise<OwnRealm> {
  const kc = inject("keycloak");
  const shipped = JSON.parse(readFileSync(REALM_FILE, "utf8")) as ShippedRealm;
  const realm = `${prefix}-${randomBytes(4).toString("hex")}`;
  const clientSecret = randomBytes(24).toString("base64url");
  const password = randomBytes(12).toString("base64url");
  const admin = async (path: string, method = "GET", body?: unknown): Promise<unknown> => {
    const res = await fetch(`${kc.url}/admin/realms${path}`, {
      method,
      headers: { authorization: `Bearer ${await adminToken(kc)}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`Keycloak admin ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 || res.status === 201 ? undefined : await res.json();
  };
  await admin("", "POST", {
    realm,
    enabled: true,
    revokeRefreshToken: shipped.revokeRefreshToken,
    refreshTokenMaxReuse: shipped.refreshTokenMaxReuse,
    offlineSessionIdleTimeout: shipped.offlineSessionIdleTimeout,
    bruteForceProtected: false,
    passwordPolicy: "hashAlgorithm(pbkdf2-sha256) and hashIterations(1)",
    clients: [
      {
        clientId: "mcp-gateway",
        enabled: true,
        publicClient: false,
        clientAuthenticatorType: "client-secret",
        secret: clientSecret,
        standardFlowEnabled: false,
        directAccessGrantsEnabled: true,
        // As the shipped realm: a gateway replica (`serve`) is ready only once its client may exchange.
        attributes: { "standard.token.exchange.enabled": "true" },
      },
    ],
    users: [
      {
        username: "worker",
        enabled: true,
        email: "worker@example.test",
        emailVerified: true,
        firstName: "Kill",
        lastName: "Nine",
        credentials: [{ type: "password", value: password, temporary: false }],
        // A user imported with the realm gets only the roles listed; offline tokens need this one.
        realmRoles: ["offline_access"],
      },
    ],
  });
  const issuer = `${kc.url}/realms/${realm}`;
  const one = async (): Promise<{ rt: string; sub: string }> => {
    const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: "mcp-gateway",
        client_secret: clientSecret,
        username: "worker",
        password,
        scope: "openid offline_access",
      }),
    });
    if (!res.ok) throw new Error(`password grant: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { refresh_token: string; access_token: string };
    const payload = JSON.parse(
      Buffer.from(body.access_token.split(".")[1] ?? "", "base64url").toString(),
    ) as {
      sub: string;
    };
    return { rt: body.refresh_token, sub: payload.sub };
  };
  return {
    issuer,
    clientSecret,
    shippedReuse: shipped.refreshTokenMaxReuse,
    async offlineTokens(count, parallel = 8) {
      const out: { rt: string; sub: string }[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(parallel, count) }, async () => {
          while (next < count) {
            next++;
            out.push(await one());
          }
        }),
      );
      return out;
    },
    async setReuse(max) {
      await admin(`/${realm}`, "PUT", { refreshTokenMaxReuse: max });
    },
    async remove() {
      await admin(`/${realm}`, "DELETE");
    },
  };
}
