// What the user or operator gets for each answer of the IdP to a token exchange, a refresh, a
// revocation and the `check` probe: the real gateway code and openid-client, the endpoints
// answering in-process (token-endpoint.ts). The busy and transport cases: oauth-error.test.ts.
import { SignJWT } from "jose";
import * as oidc from "openid-client";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import {
  ACCESS_TOKEN_TYPE,
  exchangeToken,
  refreshAtIdp,
  revokeRefreshToken,
} from "../../../src/idp/index.ts";
import { tokenEndpointOf, type Idp } from "../../../src/idp/discovery.ts";
import { FALLBACK_LIFETIME_SECONDS } from "../../../src/idp/exchange.ts";
import { ownClientToken, probeClientCredentials } from "../../../src/idp/probe.ts";
import {
  CLIENT_ID,
  idpAnswering,
  ISSUER,
  json,
  REVOCATION_ENDPOINT,
  TOKEN_ENDPOINT,
  tokens,
  type Answer,
} from "./token-endpoint.ts";

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

function gatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  throw new Error(`expected a GatewayError, got ${String(err)}`, { cause: err });
}

const oauthError =
  (error: string, description?: string, status = 400): Answer =>
  () =>
    json(status, { error, ...(description === undefined ? {} : { error_description: description }) });

describe("token exchange", () => {
  // A null scope: the request names none.
  const exchange = (respond: Answer, scope: string | null = "nextcloud-audience") =>
    exchangeToken(idpAnswering(respond).idp, "subject-token", {
      audience: "nextcloud",
      ...(scope === null ? {} : { scope }),
    });
  const refused = async (respond: Answer, scope?: string | null) =>
    gatewayError(await failure(exchange(respond, scope)));

  it("asks for an access token for the audience, with the scope only when given", async () => {
    const { idp, requests } = idpAnswering(() => tokens("nc-token"));
    await exchangeToken(idp, "subject-token", { audience: "nextcloud", scope: "nextcloud-audience" });
    await exchangeToken(idp, "subject-token", { audience: "nextcloud" });
    await exchangeToken(idp, "subject-token", { audience: "nextcloud", scope: "" });
    const [first, second, third] = requests.map((r) => Object.fromEntries(r));
    expect(first).toEqual({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: "subject-token",
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: "nextcloud",
      scope: "nextcloud-audience",
      client_id: CLIENT_ID,
      client_secret: "gateway-secret",
    });
    expect(second).not.toHaveProperty("scope");
    expect(third).not.toHaveProperty("scope");
  });

  it("takes the lifetime from expires_in, else from the JWT's exp, else 60 seconds", async () => {
    const now = () => 1_000_000_500;
    const at = (response: () => Response) =>
      exchangeToken(idpAnswering(response).idp, "s", { audience: "nextcloud" }, { now });
    expect((await at(() => tokens("opaque", undefined, 299.9))).expiresAt).toBe(1_000_000 + 299);
    const noExpiresIn = (accessToken: string) => () =>
      json(200, {
        access_token: accessToken,
        token_type: "Bearer",
        issued_token_type: ACCESS_TOKEN_TYPE,
        scope: "a b",
      });
    const jwt = await new SignJWT({ exp: 1_000_900.7 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new Uint8Array(32));
    const fromJwt = await at(noExpiresIn(jwt));
    expect(fromJwt).toEqual({
      accessToken: jwt,
      expiresAt: 1_000_900,
      issuedTokenType: ACCESS_TOKEN_TYPE,
      scope: "a b",
    });
    expect((await at(noExpiresIn("opaque-token"))).expiresAt).toBe(1_000_000 + FALLBACK_LIFETIME_SECONDS);
    const noExp = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new Uint8Array(32));
    expect((await at(noExpiresIn(noExp))).expiresAt).toBe(1_000_000 + FALLBACK_LIFETIME_SECONDS);
    expect(await at(() => tokens("t"))).not.toHaveProperty("scope");
    // An exp that is not a number of seconds is no lifetime.
    const stringExp = await new SignJWT({ exp: "1000900" } as unknown as { exp: number })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new Uint8Array(32));
    expect((await at(noExpiresIn(stringExp))).expiresAt).toBe(1_000_000 + FALLBACK_LIFETIME_SECONDS);
  });

  it("refuses an answer that is not a bearer access token", async () => {
    for (const body of [
      {
        access_token: "t",
        token_type: "Bearer",
        issued_token_type: "urn:ietf:params:oauth:token-type:refresh_token",
      },
      { access_token: "t", token_type: "Bearer" },
      { access_token: "t", token_type: "N_A", issued_token_type: ACCESS_TOKEN_TYPE },
    ]) {
      const err = await refused(() => json(200, body));
      expect(err.code).toBe("server_error");
      expect(err.description).toBe(
        "The identity provider answered the token exchange with something other than a bearer access token; it must issue access tokens to the gateway client.",
      );
      expect(err.detail).toBe(
        `token exchange at ${TOKEN_ENDPOINT}: issued_token_type ${body.issued_token_type ?? "(none)"}, token_type ${body.token_type.toLowerCase()}`,
      );
    }
  });

  it("tells the operator which IdP setting is wrong, for each refusal", async () => {
    const credentials = (answer: string) =>
      `The identity provider refused the gateway's client credentials (${answer}); the operator must check OIDC_CLIENT_ID (${CLIENT_ID}) and OIDC_CLIENT_SECRET.`;
    const unknownAudience = `The identity provider knows no enabled client "nextcloud" to issue Nextcloud tokens for; the audience must be the client id that Nextcloud's user_oidc uses.`;
    const notEnabled = `Token exchange is not enabled for the gateway client ${CLIENT_ID} at the identity provider; in Keycloak, turn on "Standard token exchange" for ${CLIENT_ID} (client attribute standard.token.exchange.enabled).`;
    const notAvailable = (scope: string) =>
      `The identity provider cannot issue the gateway client ${CLIENT_ID} a token for the audience "nextcloud"; in Keycloak, ${CLIENT_ID} needs the ${scope} client scope, with an audience mapper that adds nextcloud.`;
    const generic =
      "The identity provider refused the token exchange for Nextcloud; the gateway log has the details.";
    const cases: [Answer, string, string][] = [
      [
        oauthError("access_denied", "Client not allowed to exchange"),
        "access_denied",
        `The identity provider refused to exchange the sign-in token for a Nextcloud token: the sign-in token must name the gateway client (${CLIENT_ID}) in its audience. In Keycloak, the mcp:tools client scope needs an audience mapper for the ${CLIENT_ID} client; with other IdPs, allow ${CLIENT_ID} to exchange these tokens in the access policy.`,
      ],
      [oauthError("invalid_client", "Audience not found"), "server_error", unknownAudience],
      [oauthError("unauthorized_client", "Client disabled"), "server_error", unknownAudience],
      [
        oauthError("unauthorized_client", "Public client not allowed"),
        "server_error",
        `The identity provider does not let the gateway client ${CLIENT_ID} exchange tokens because it is a public client; OIDC_CLIENT_ID must name a confidential client, with its secret in OIDC_CLIENT_SECRET.`,
      ],
      [
        oauthError("invalid_client", "Invalid client credentials", 401),
        "server_error",
        credentials('invalid_client "Invalid client credentials"'),
      ],
      [
        oauthError("unauthorized_client", "Invalid client or Invalid client credentials", 401),
        "server_error",
        credentials('unauthorized_client "Invalid client or Invalid client credentials"'),
      ],
      [oauthError("unauthorized_client"), "server_error", credentials("unauthorized_client")],
      [oauthError("unsupported_grant_type"), "server_error", notEnabled],
      [
        oauthError("invalid_scope", "Consent required"),
        "server_error",
        `The identity provider wants consent before the gateway client ${CLIENT_ID} may exchange tokens; in Keycloak, turn off "Consent required" for ${CLIENT_ID}.`,
      ],
      [oauthError("invalid_scope", "Invalid scopes"), "server_error", notAvailable("nextcloud-audience")],
      [oauthError("invalid_target"), "server_error", unknownAudience],
      [
        oauthError("invalid_request", "Standard token exchange is not enabled for the requested client"),
        "server_error",
        notEnabled,
      ],
      [
        oauthError("invalid_request", "Requested audience not available: nextcloud"),
        "server_error",
        notAvailable("nextcloud-audience"),
      ],
      [
        oauthError("invalid_request", "Invalid token"),
        "invalid_token",
        "Your sign-in is no longer valid; sign in again.",
      ],
      [
        oauthError("invalid_request", "Token expired"),
        "invalid_token",
        "Your sign-in is no longer valid; sign in again.",
      ],
      [
        oauthError("invalid_request", "Session not found"),
        "invalid_token",
        "Your sign-in is no longer valid; sign in again.",
      ],
      [
        oauthError("invalid_request", "User session not active"),
        "invalid_token",
        "Your sign-in is no longer valid; sign in again.",
      ],
      [
        oauthError("invalid_request", "Token is INACTIVE"),
        "invalid_token",
        "Your sign-in is no longer valid; sign in again.",
      ],
      [oauthError("invalid_request", "Missing parameter"), "server_error", generic],
      [oauthError("invalid_request"), "server_error", generic],
      [oauthError("invalid_dpop_proof"), "server_error", generic],
    ];
    for (const [respond, code, description] of cases) {
      const err = await refused(respond);
      expect([err.code, err.description], description).toEqual([code, description]);
      expect(err.detail).toMatch(new RegExp(`^token exchange at ${TOKEN_ENDPOINT}: (400|401) `));
      expect(err.cause).toBeInstanceOf(oidc.ResponseBodyError);
    }
    // Without a scope, the advice names the default client scope.
    expect((await refused(oauthError("invalid_scope"), null)).description).toBe(
      notAvailable("nextcloud-audience"),
    );
    const custom = await failure(
      exchangeToken(idpAnswering(oauthError("invalid_scope")).idp, "s", {
        audience: "nextcloud",
        scope: "nc-aud",
      }),
    );
    expect(gatewayError(custom).description).toBe(notAvailable("nc-aud"));
  });

  it("says what the IdP answered in the log detail, cut at 300 characters", async () => {
    const long = "x".repeat(400);
    const err = await refused(oauthError("invalid_request", long));
    expect(err.detail).toBe(`token exchange at ${TOKEN_ENDPOINT}: 400 invalid_request "${"x".repeat(300)}"`);
    expect((await refused(oauthError("invalid_target"))).detail).toBe(
      `token exchange at ${TOKEN_ENDPOINT}: 400 invalid_target`,
    );
  });

  it("names an unusable answer as server_error, and stops waiting when the caller aborts", async () => {
    const err = await refused(
      () => new Response("not json", { status: 200, headers: { "content-type": "text/plain" } }),
    );
    expect(err.code).toBe("server_error");
    expect(err.description).toBe(
      "The identity provider answered the token exchange with something the gateway cannot use; the gateway log has the details.",
    );
    const aborted = AbortSignal.abort(new Error("caller gave up"));
    const { idp, requests } = idpAnswering(() => tokens("t"));
    expect(await failure(exchangeToken(idp, "s", { audience: "n" }, { signal: aborted }))).toBe(
      aborted.reason,
    );
    expect(requests).toHaveLength(0);
    const controller = new AbortController();
    const reason = new Error("client went away");
    const slow = idpAnswering(() => {
      controller.abort(reason);
      return new Promise<Response>(() => undefined);
    });
    expect(
      await failure(exchangeToken(slow.idp, "s", { audience: "n" }, { signal: controller.signal })),
    ).toBe(reason);
  });
});

describe("refresh", () => {
  const refused = async (respond: Answer) =>
    gatewayError(await failure(refreshAtIdp(idpAnswering(respond).idp, "refresh-token-value")));
  const credentials = `The identity provider refused the gateway's client credentials; the operator must check OIDC_CLIENT_ID (${CLIENT_ID}) and OIDC_CLIENT_SECRET.`;
  const noRefresh = `The identity provider does not let the gateway client ${CLIENT_ID} use refresh tokens; in Keycloak, ${CLIENT_ID} must be a confidential client with "Use refresh tokens" on (client attribute use.refresh.tokens).`;

  it("returns the rotated refresh token, the access token and its lifetime", async () => {
    const { idp, requests } = idpAnswering(() => tokens("at", "rt-2", 120));
    expect(await refreshAtIdp(idp, "rt-1")).toEqual({
      refreshToken: "rt-2",
      accessToken: "at",
      expiresIn: 120,
    });
    expect(requests[0]?.get("grant_type")).toBe("refresh_token");
    expect(requests[0]?.get("refresh_token")).toBe("rt-1");
    expect(await refreshAtIdp(idpAnswering(() => tokens("at")).idp, "rt-1")).toMatchObject({
      refreshToken: undefined,
    });
  });

  it("tells the operator which IdP setting is wrong, for each refusal", async () => {
    const cases: [Answer, string][] = [
      [oauthError("invalid_client"), credentials],
      [oauthError("unauthorized_client", "Invalid client or Invalid client credentials"), credentials],
      [oauthError("unauthorized_client", "nope", 401), credentials],
      [oauthError("unauthorized_client", "Refresh tokens not allowed"), noRefresh],
      [oauthError("unauthorized_client"), noRefresh],
      [oauthError("unsupported_grant_type"), noRefresh],
      [
        oauthError("invalid_scope"),
        `The identity provider refused the scopes of a stored offline grant for ${CLIENT_ID}; check that ${CLIENT_ID} still has the offline_access and nextcloud-audience client scopes.`,
      ],
      [
        oauthError("invalid_request"),
        "The identity provider refused to refresh an offline grant; the gateway log has the details.",
      ],
    ];
    for (const [respond, description] of cases) {
      const err = await refused(respond);
      expect([err.code, err.description]).toEqual(["server_error", description]);
      expect(err.detail).toMatch(new RegExp(`^refresh at ${TOKEN_ENDPOINT}: 40[01] `));
      expect(err.detail).not.toContain("refresh-token-value");
    }
    const unusable = await refused(
      () => new Response("<html>", { status: 200, headers: { "content-type": "text/html" } }),
    );
    expect([unusable.code, unusable.description]).toEqual([
      "server_error",
      "The identity provider answered a refresh with something the gateway cannot use; the gateway log has the details.",
    ]);
  });
});

describe("revocation", () => {
  it("posts the refresh token with its type hint to the revocation endpoint", async () => {
    const { idp, requests } = idpAnswering(
      () => tokens("unused"),
      () => new Response(null, { status: 200 }),
    );
    await revokeRefreshToken(idp, "rt-old");
    expect(requests.map((r) => [r.get("token"), r.get("token_type_hint")])).toEqual([
      ["rt-old", "refresh_token"],
    ]);
  });

  it("says nothing was deleted when the IdP has no revocation endpoint, refuses credentials or fails", async () => {
    const none = gatewayError(await failure(revokeRefreshToken(idpAnswering(() => tokens("t")).idp, "rt")));
    expect(none.code).toBe("server_error");
    expect(none.description).toBe(
      "The identity provider has no token revocation endpoint (RFC 7009) in its discovery document, so the gateway cannot revoke your offline access there; nothing was deleted.",
    );
    expect(none.detail).toBe(`issuer ${ISSUER}: no revocation_endpoint`);
    const revoke = (respond: Answer) =>
      failure(revokeRefreshToken(idpAnswering(() => tokens("t"), respond).idp, "rt-secret")).then(
        gatewayError,
      );
    for (const error of ["invalid_client", "unauthorized_client"]) {
      const err = await revoke(oauthError(error, "bad secret", 401));
      expect(err.code).toBe("server_error");
      expect(err.description).toBe(
        "The identity provider refused the gateway's client credentials when revoking; the operator must check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET. Nothing was deleted.",
      );
      expect(err.detail).toBe(`revocation at ${REVOCATION_ENDPOINT}: 401 ${error}`);
    }
    const busy = await revoke(oauthError("invalid_request", "x", 400));
    expect(busy.code).toBe("temporarily_unavailable");
    expect(busy.description).toBe(
      "The identity provider could not revoke your offline access just now; nothing was deleted. Try again in a moment.",
    );
    expect(busy.detail).toBe(`revocation at ${REVOCATION_ENDPOINT}: 400 invalid_request`);
    const down = await revoke(() => {
      throw new TypeError("fetch failed");
    });
    expect(down.code).toBe("temporarily_unavailable");
    expect(down.detail).toMatch(new RegExp(`^revocation at ${REVOCATION_ENDPOINT}: .*fetch failed`));
    expect(down.detail).not.toContain("rt-secret");
  });
});

describe("the check probe", () => {
  const probe = (respond: Answer) => probeClientCredentials(idpAnswering(respond).idp, CLIENT_ID);

  it("passes when the IdP authenticates the client and refuses only the token", async () => {
    const { idp, requests } = idpAnswering(oauthError("invalid_request", "Invalid token"));
    expect(await probeClientCredentials(idp, CLIENT_ID)).toEqual({
      ok: true,
      message: `client ${CLIENT_ID} authenticates and may exchange tokens`,
    });
    expect(Object.fromEntries(requests[0] ?? [])).toMatchObject({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: "check.probe.invalid",
      subject_token_type: ACCESS_TOKEN_TYPE,
    });
  });

  it("fails naming the setting: credentials, token exchange not enabled, unreachable, unsafe", async () => {
    expect(await probe(oauthError("invalid_client", "Invalid client credentials", 401))).toEqual({
      ok: false,
      message: `the IdP refused the client credentials (invalid_client "Invalid client credentials"); check OIDC_CLIENT_ID (${CLIENT_ID}) and OIDC_CLIENT_SECRET`,
    });
    expect(await probe(oauthError("unauthorized_client"))).toEqual({
      ok: false,
      message: `the IdP refused the client credentials (unauthorized_client); check OIDC_CLIENT_ID (${CLIENT_ID}) and OIDC_CLIENT_SECRET`,
    });
    const notEnabled = (text: string) =>
      `token exchange is not enabled for client ${CLIENT_ID} (${text}); in Keycloak turn on "Standard token exchange" for the client (attribute standard.token.exchange.enabled)`;
    expect(await probe(oauthError("unsupported_grant_type"))).toEqual({
      ok: false,
      message: notEnabled("unsupported_grant_type"),
    });
    expect(await probe(oauthError("invalid_request", "Exchange Not Enabled"))).toEqual({
      ok: false,
      message: notEnabled('invalid_request "Exchange Not Enabled"'),
    });
    const unreachable = await probe(() => {
      throw new TypeError("fetch failed");
    });
    expect(unreachable.ok).toBe(false);
    // Readiness ignores this one: an IdP that does not answer says nothing about the settings.
    expect(unreachable.transient).toBe(true);
    expect(unreachable.message).toMatch(/^token endpoint unreachable: .*fetch failed/);
    expect(await probe(() => tokens("t"))).toEqual({
      ok: false,
      message: "the IdP accepted an invalid subject token; its token exchange is unsafe",
    });
  });
});

describe("the check's own-client token (client credentials)", () => {
  const own = (respond: Answer) => ownClientToken(idpAnswering(respond).idp, CLIENT_ID, "mcp:tools");

  it("asks for the scope with the client's credentials and returns the access token", async () => {
    const { idp, requests } = idpAnswering(() => tokens("own-token"));
    expect(await ownClientToken(idp, CLIENT_ID, "mcp:tools")).toEqual({ ok: true, accessToken: "own-token" });
    expect(Object.fromEntries(requests[0] ?? [])).toEqual({
      grant_type: "client_credentials",
      scope: "mcp:tools",
      client_id: CLIENT_ID,
      client_secret: "gateway-secret",
    });
  });

  it("names the Keycloak setting for each refusal, and says when the IdP is unreachable", async () => {
    expect(await own(oauthError("invalid_scope", "Invalid scopes: mcp:tools"))).toEqual({
      ok: false,
      message: `the IdP does not give client ${CLIENT_ID} the scope mcp:tools (invalid_scope "Invalid scopes: mcp:tools"); in Keycloak add mcp:tools to the client's optional client scopes, as keycloak/realm-export.json does`,
    });
    expect(
      await own(oauthError("unauthorized_client", "Client not enabled to retrieve service account")),
    ).toEqual({
      ok: false,
      message: `cannot see the audience of mcp:tools tokens: client ${CLIENT_ID} may not get tokens of its own (unauthorized_client "Client not enabled to retrieve service account"); in Keycloak turn on "Service accounts roles" for ${CLIENT_ID}, as keycloak/realm-export.json does`,
    });
    expect(await own(oauthError("unauthorized_client", "Invalid client credentials", 401))).toEqual({
      ok: false,
      message: `the IdP refused a client credentials token for ${CLIENT_ID} (unauthorized_client "Invalid client credentials")`,
    });
    const down = await own(() => {
      throw new TypeError("fetch failed");
    });
    expect(down.ok).toBe(false);
    expect(down.ok ? "" : down.message).toMatch(/^token endpoint unreachable: .*fetch failed/);
  });
});

describe("tokenEndpointOf", () => {
  it("names the token endpoint, or the issuer when discovery named none", () => {
    const { idp } = idpAnswering(() => tokens("t"));
    expect(tokenEndpointOf(idp)).toBe(TOKEN_ENDPOINT);
    const bare = { ...idp, metadata: { issuer: ISSUER } } as Idp;
    expect(tokenEndpointOf(bare)).toBe(`${ISSUER} (no token_endpoint)`);
  });
});
