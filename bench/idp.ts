// A stand-in IdP for the benches: an RS256 key pair made in-process (2048-bit, as Keycloak's default
// realm key) and Keycloak-shaped access tokens signed with it. Nothing leaves the process but the
// public JWK, which the gateway child gets to build its local JWKS.
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

/** The issuer the benches' tokens carry; never contacted (the key set is local). */
export const BENCH_ISSUER = "https://sso.bench.invalid/realms/nextcloud-mcp";
/** The gateway's client id at the IdP, which Keycloak puts in `aud` via the `mcp:tools` scope. */
export const GATEWAY_CLIENT_ID = "mcp-gateway";
const KID = "bench-rs256-key";

export interface BenchIdp {
  /** The public key as a JWK with `kid`, `alg` and `use`, ready for a JWKS. */
  readonly publicJwk: JWK;
  sign(payload: JWTPayload): Promise<string>;
}

export async function createBenchIdp(): Promise<BenchIdp> {
  const { publicKey, privateKey }: { publicKey: CryptoKey; privateKey: CryptoKey } = await generateKeyPair(
    "RS256",
    { extractable: true },
  );
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: KID, alg: "RS256", use: "sig" };
  return {
    publicJwk,
    sign: (payload) =>
      new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: KID }).sign(privateKey),
  };
}

/**
 * The claims of a Keycloak access token for an MCP client: the resource and the gateway in `aud`,
 * the client in `azp`, the usual profile claims (they make the token as long as real ones), valid
 * for an hour from `nowSeconds`.
 */
export function keycloakClaims(resource: string, nowSeconds: number): JWTPayload {
  return {
    exp: nowSeconds + 3600,
    iat: nowSeconds - 5,
    auth_time: nowSeconds - 60,
    jti: `onrtac:${randomUUID()}`,
    iss: BENCH_ISSUER,
    aud: [resource, GATEWAY_CLIENT_ID],
    sub: "5f0c6a5e-9d3b-4a53-9c3e-2f4f3b8d7a21",
    typ: "Bearer",
    azp: "3c9a2f6e-mcp-client",
    sid: randomUUID(),
    acr: "1",
    "allowed-origins": ["http://localhost:6274"],
    realm_access: { roles: ["default-roles-nextcloud-mcp", "offline_access", "uma_authorization"] },
    scope: "openid mcp:tools mcp:write",
    email_verified: true,
    name: "Alice Example",
    preferred_username: "alice",
    given_name: "Alice",
    family_name: "Example",
    email: "alice@example.com",
  };
}
