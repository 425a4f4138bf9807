// Test keys and tokens for the auth suites: an IdP made of a freshly generated key pair and a local JWKS.
import {
  CompactSign,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { expect } from "vitest";
import { describeError, GatewayError } from "../../../src/errors.ts";
import {
  createTokenVerifier,
  INVALID_TOKEN_DESCRIPTION,
  type TokenExpectations,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "../../../src/auth/index.ts";
import { rejectionOf } from "../../harness/rejection.ts";

export const ISSUER = "https://sso.example.com/realms/nextcloud-mcp";
export const RESOURCE = "https://mcp.example.com/mcp";
export const EXPECTATIONS: TokenExpectations = { issuer: ISSUER, audience: RESOURCE };
/** The pinned clock, in milliseconds. */
export const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
/** The pinned clock, in seconds. */
export const NOW = NOW_MS / 1000;
export const KID = "key-1";

/** A Keycloak-shaped access token payload; an `undefined` override removes the claim. */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: "0b6f3c1e-user",
    aud: [RESOURCE, "account"],
    azp: "mcp-client",
    scope: "openid mcp:tools mcp:write",
    iat: NOW - 10,
    exp: NOW + 300,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) Reflect.deleteProperty(base, name);
    else base[name] = value;
  }
  return base;
}

/** Header parameters of a test token: `kid` and `typ` given as undefined are left out. */
export interface TestHeader {
  kid?: string | undefined;
  alg?: string;
  /** Default "JWT", as Keycloak writes. */
  typ?: string | undefined;
  [parameter: string]: unknown;
}

/** A signing key and the JWKS that publishes its public half. */
export interface TestIdp {
  readonly alg: string;
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
  readonly getKey: JWTVerifyGetKey;
  sign(payload?: JWTPayload, header?: TestHeader): Promise<string>;
  /** Signs `payloadJson` byte for byte: for values JSON.stringify cannot write, such as `1e999`. */
  signRaw(payloadJson: string, header?: TestHeader): Promise<string>;
}

function protectedHeader(alg: string, kid: string, header: TestHeader): Record<string, unknown> {
  const { kid: _kid, typ: _typ, alg: _alg, ...rest } = header;
  return {
    ...rest,
    alg: header.alg ?? alg,
    ...("typ" in header ? (header.typ === undefined ? {} : { typ: header.typ }) : { typ: "JWT" }),
    ...("kid" in header ? (header.kid === undefined ? {} : { kid: header.kid }) : { kid }),
  };
}

/** Generates a key pair for `alg` and publishes its public key under `kid`. */
export async function createIdp(alg = "RS256", kid = KID): Promise<TestIdp> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return {
    alg,
    publicKey,
    privateKey,
    getKey: createLocalJWKSet({ keys: [jwk] }),
    sign: (payload = claims(), header = {}) =>
      new SignJWT(payload)
        .setProtectedHeader(protectedHeader(alg, kid, header) as { alg: string })
        .sign(privateKey),
    signRaw: (payloadJson, header = {}) =>
      new CompactSign(new TextEncoder().encode(payloadJson))
        .setProtectedHeader(protectedHeader(alg, kid, header) as { alg: string })
        .sign(privateKey),
  };
}

/** A getKey wrapper that counts how often jose asked for a key. */
export function counting(getKey: JWTVerifyGetKey): { getKey: JWTVerifyGetKey; readonly calls: number } {
  let calls = 0;
  return {
    getKey: (header, token) => {
      calls++;
      return getKey(header, token);
    },
    get calls() {
      return calls;
    },
  };
}

/** Base64url of a JSON value, for hand-crafted tokens. */
export function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** The GatewayError a promise rejects with (fails on any other outcome). */
export function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  return rejectionOf(GatewayError, promise);
}

/**
 * Asserts a 401 invalid_token with the generic description, a detail naming the failed check, and
 * no trace of the token (nor of any long segment of it) in message, detail or log line.
 */
export async function expectInvalidToken(
  promise: Promise<unknown>,
  token: string,
  detail: RegExp,
): Promise<GatewayError> {
  const err = await rejection(promise);
  expect(err.code).toBe("invalid_token");
  expect(err.status).toBe(401);
  expect(err.description).toBe(INVALID_TOKEN_DESCRIPTION);
  expect(err.message).toBe(INVALID_TOKEN_DESCRIPTION);
  expect(err.detail).toMatch(detail);
  const logged = [err.message, err.detail ?? "", describeError(err)];
  const secrets = [token, ...token.split(".").filter((part) => part.length >= 16)].filter((s) => s !== "");
  for (const text of logged) for (const secret of secrets) expect(text).not.toContain(secret);
  return err;
}

/**
 * A verifier for ISSUER and RESOURCE over `idp`'s keys at NOW (or `over`'s clock and cache),
 * counting key lookups: one per full verification, none for a cache hit.
 */
export function countingVerifier(
  idp: TestIdp,
  over: Pick<TokenVerifierOptions, "now" | "cache"> = {},
): { keys: { readonly calls: number }; verifier: TokenVerifier } {
  const keys = counting(idp.getKey);
  const verifier = createTokenVerifier({
    issuer: ISSUER,
    audience: RESOURCE,
    getKey: keys.getKey,
    now: () => NOW_MS,
    ...over,
  });
  return { keys, verifier };
}
