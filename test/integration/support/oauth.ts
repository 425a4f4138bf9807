// OAuth helpers for tests: sign in at the real Keycloak through its login page in Chromium.
import { decodeJwt, type JWTPayload } from "jose";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { inject } from "vitest";
import { signInInBrowser } from "../../harness/browser.ts";

export const DEMO_USERS = {
  alice: { username: "alice", password: "alice-demo-password" },
  bob: { username: "bob", password: "bob-demo-password" },
} as const;

/** openid-client configuration for a client of the test realm (http is fine on loopback). */
export async function clientConfig(clientId: string, secret?: string): Promise<oidc.Configuration> {
  const { issuer } = inject("keycloak");
  return oidc.discovery(
    new URL(issuer),
    clientId,
    undefined,
    secret === undefined ? oidc.None() : oidc.ClientSecretPost(secret),
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the test Keycloak is plain http on loopback
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** The gateway client of the test realm, authenticated with its secret. */
export async function gatewayClient(): Promise<oidc.Configuration> {
  return clientConfig("mcp-gateway", inject("realmEnv").MCP_GATEWAY_CLIENT_SECRET);
}

export interface SignInOptions {
  config: oidc.Configuration;
  redirectUri: string;
  scope: string;
  user: { username: string; password: string };
  consent?: boolean;
}

/**
 * Authorization code + PKCE S256 (+ nonce) through Keycloak's real login page, then the code
 * redeemed at the token endpoint. The redirect never needs a listening server: the browser's
 * request to it is observed and answered in the browser.
 */
export async function signIn(
  browser: Browser,
  o: SignInOptions,
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(o.config, {
    redirect_uri: o.redirectUri,
    scope: o.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const callback = await signInInBrowser(browser, url, {
    username: o.user.username,
    password: o.user.password,
    redirectPrefix: o.redirectUri,
    ...(o.consent === undefined ? {} : { consent: o.consent }),
  });
  return oidc.authorizationCodeGrant(o.config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: o.scope.split(" ").includes("openid"),
  });
}

/** The claims of a JWT access token (already verified by whoever issued it to us). */
export function claims(token: string): JWTPayload & { scope?: string; azp?: string } {
  return decodeJwt(token);
}

/** `aud` as an array. */
export function audiences(token: string): string[] {
  const aud = claims(token).aud;
  return aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
}

/** The space-separated `scope` claim as an array. */
export function scopes(token: string): string[] {
  return (claims(token).scope ?? "").split(" ").filter(Boolean);
}
