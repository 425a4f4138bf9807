// An IdP whose token endpoint answers in-process: openid-client's real request and response
// handling (and the gateway's classification after it) run unchanged; only the network is replaced,
// through openid-client's customFetch. Unit tests only: the integration suite uses the real Keycloak.
import { createRemoteJWKSet } from "jose";
import * as oidc from "openid-client";
import type { Idp } from "../../../src/idp/index.ts";

export const ISSUER = "https://idp.example.test/realms/company";
export const TOKEN_ENDPOINT = `${ISSUER}/protocol/openid-connect/token`;
export const CLIENT_ID = "mcp-gateway";
export const REVOCATION_ENDPOINT = `${ISSUER}/protocol/openid-connect/revoke`;

/** One request the token endpoint received: its form parameters. */
export type TokenRequest = URLSearchParams;

/** How the token endpoint answers a request; throw to fail like the network. */
export type Answer = (request: TokenRequest) => Response | Promise<Response>;

/** A JSON response. */
export function json(status: number, body: object, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A successful token response. */
export function tokens(accessToken: string, refreshToken?: string, expiresIn = 300): Response {
  return json(200, {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: expiresIn,
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
  });
}

/**
 * An Idp whose token endpoint calls `answer` for each request, and the requests it received. With
 * `revoke`, discovery names a revocation endpoint (RFC 7009) that calls it; its requests go to
 * `requests` too.
 */
export function idpAnswering(answer: Answer, revoke?: Answer): { idp: Idp; requests: TokenRequest[] } {
  const requests: TokenRequest[] = [];
  const configuration = new oidc.Configuration(
    {
      issuer: ISSUER,
      token_endpoint: TOKEN_ENDPOINT,
      jwks_uri: `${ISSUER}/certs`,
      ...(revoke === undefined ? {} : { revocation_endpoint: REVOCATION_ENDPOINT }),
    },
    CLIENT_ID,
    undefined,
    oidc.ClientSecretPost("gateway-secret"),
  );
  configuration[oidc.customFetch] = async (url, options) => {
    const respond = url === TOKEN_ENDPOINT ? answer : url === REVOCATION_ENDPOINT ? revoke : undefined;
    if (respond === undefined) throw new Error(`unexpected request to ${url}`);
    const { body } = options;
    const form = new URLSearchParams(
      body instanceof URLSearchParams ? body : typeof body === "string" ? body : "",
    );
    requests.push(form);
    return respond(form);
  };
  return {
    idp: {
      configuration,
      metadata: configuration.serverMetadata(),
      jwks: createRemoteJWKSet(new URL(`${ISSUER}/certs`)),
      keys: createRemoteJWKSet(new URL(`${ISSUER}/certs`)),
    },
    requests,
  };
}
