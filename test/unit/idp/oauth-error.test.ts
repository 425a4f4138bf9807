// How the gateway classifies what the IdP's token endpoint answers: each branch of
// src/idp/oauth-error.ts, on its own and through the real exchange and refresh code (openid-client
// parsing the answer, the token endpoint answering in-process). The same answers from a proxy in
// front of the real Keycloak: test/integration/tokens/idp-faults.test.ts.
import * as oidc from "openid-client";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { exchangeToken, refreshAtIdp } from "../../../src/idp/index.ts";
import {
  challengeOf,
  idpUnavailable,
  nonOAuthFailure,
  oauthErrorOf,
  transportFailure,
} from "../../../src/idp/oauth-error.ts";
import { CLIENT_ID, idpAnswering, json, tokens, type Answer } from "./token-endpoint.ts";

const answer = (status: number, error: string) => ({ status, error, description: undefined });

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

/** What openid-client throws for `response` at the token endpoint. */
async function thrownFor(response: Answer): Promise<unknown> {
  const { idp } = idpAnswering(response);
  return failure(oidc.refreshTokenGrant(idp.configuration, "rt"));
}

describe("idpUnavailable", () => {
  it.each([
    [503, "temporarily_unavailable", true],
    [500, "unknown_error", true],
    [429, "slow_down", true],
    [400, "temporarily_unavailable", true],
    [400, "server_error", true],
    [400, "invalid_grant", false],
    [401, "invalid_client", false],
    [499, "invalid_request", false],
  ])("status %i with %s: %s", (status, error, busy) => {
    expect(idpUnavailable(answer(status, error))).toBe(busy);
  });
});

describe("oauthErrorOf and challengeOf", () => {
  it("read openid-client's error for an OAuth error body", async () => {
    const err = await thrownFor(() =>
      json(400, { error: "invalid_grant", error_description: "Token is not active" }),
    );
    expect(oauthErrorOf(err)).toEqual({
      status: 400,
      error: "invalid_grant",
      description: "Token is not active",
    });
    expect(challengeOf(err)).toBeUndefined();
  });

  it("read a 401 challenge's error parameters, or call a bare 401 challenge invalid_client", async () => {
    const withError = await thrownFor(
      () =>
        new Response(null, {
          status: 401,
          headers: {
            "www-authenticate":
              'Basic realm="company", error="invalid_client", error_description="bad secret"',
          },
        }),
    );
    expect(oauthErrorOf(withError)).toBeUndefined();
    expect(challengeOf(withError)).toEqual({
      status: 401,
      error: "invalid_client",
      description: "bad secret",
    });
    const bare = await thrownFor(
      () => new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="company"' } }),
    );
    expect(challengeOf(bare)).toEqual({ status: 401, error: "invalid_client", description: undefined });
    // The error is read from whichever challenge carries one; a bare challenge on another status is a server error.
    const second = await thrownFor(
      () =>
        new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="company", Bearer error="invalid_token"' },
        }),
    );
    expect(challengeOf(second)?.error).toBe("invalid_token");
    const forbidden = await thrownFor(
      () => new Response(null, { status: 403, headers: { "www-authenticate": 'Basic realm="company"' } }),
    );
    expect(challengeOf(forbidden)).toEqual({ status: 403, error: "server_error", description: undefined });
  });

  it("ignore other errors", () => {
    expect(oauthErrorOf(new Error("x"))).toBeUndefined();
    expect(challengeOf(new TypeError("fetch failed"))).toBeUndefined();
  });
});

describe("transportFailure", () => {
  it.each([
    ["a 503 JSON body", true, () => json(503, { error: "temporarily_unavailable" })],
    ["a 429 text body", true, () => new Response("slow down", { status: 429 })],
    [
      "a 502 HTML page",
      true,
      () => new Response("<html>", { status: 502, headers: { "content-type": "text/html" } }),
    ],
    [
      "a 404 HTML page",
      false,
      () => new Response("<html>", { status: 404, headers: { "content-type": "text/html" } }),
    ],
    // An OAuth error body is not a transport failure; idpUnavailable classifies it.
    ["a 429 OAuth error body", false, () => json(429, { error: "slow_down" })],
    [
      "a network failure",
      true,
      () => {
        throw new TypeError("fetch failed");
      },
    ],
  ] as [string, boolean, Answer][])("%s: %s", async (_, transient, respond) => {
    expect(transportFailure(await thrownFor(respond))).toBe(transient);
  });

  it("counts timeouts and aborts, not argument errors or other failures", () => {
    expect(transportFailure(new DOMException("timed out", "TimeoutError"))).toBe(true);
    expect(transportFailure(new DOMException("aborted", "AbortError"))).toBe(true);
    expect(transportFailure(Object.assign(new TypeError("bad"), { code: "ERR_INVALID_ARG_TYPE" }))).toBe(
      false,
    );
    expect(transportFailure(new Error("boom"))).toBe(false);
    // openid-client's own timeout and abort, and its other client errors.
    // openid-client types the options as ErrorOptions, but its constructor reads `code` from them.
    const clientError = (code: string, cause?: unknown) =>
      new oidc.ClientError("x", { code, cause } as ErrorOptions);
    expect(transportFailure(clientError("OAUTH_TIMEOUT"))).toBe(true);
    expect(transportFailure(clientError("OAUTH_ABORT"))).toBe(true);
    expect(transportFailure(clientError("OAUTH_INVALID_RESPONSE"))).toBe(false);
    expect(transportFailure(clientError("OAUTH_RESPONSE_IS_NOT_JSON", new Error("no response")))).toBe(false);
    expect(
      transportFailure(clientError("OAUTH_RESPONSE_IS_NOT_JSON", new Response("", { status: 503 }))),
    ).toBe(true);
    expect(transportFailure(clientError("OAUTH_UNSUPPORTED", new Response("", { status: 503 })))).toBe(false);
    // A TypeError that is not an argument error is a network failure; other DOMExceptions are not.
    expect(transportFailure(Object.assign(new TypeError("fetch failed"), { code: "ECONNREFUSED" }))).toBe(
      true,
    );
    expect(transportFailure(new DOMException("bad", "DataError"))).toBe(false);
    expect(transportFailure(Object.assign(new Error("late"), { name: "TimeoutError" }))).toBe(false);
  });

  it("makes nonOAuthFailure temporarily_unavailable or server_error accordingly", () => {
    const busy = nonOAuthFailure(new TypeError("fetch failed"), "at", "unreachable", "unusable");
    expect([busy.code, busy.description, busy.detail]).toEqual([
      "temporarily_unavailable",
      "unreachable",
      "at: fetch failed",
    ]);
    const weird = new Error("weird");
    const broken = nonOAuthFailure(weird, "at", "unreachable", "unusable");
    expect([broken.code, broken.description, broken.detail, broken.cause]).toEqual([
      "server_error",
      "unusable",
      "at: weird",
      weird,
    ]);
    expect(busy.cause).toBeInstanceOf(TypeError);
  });
});

const busyAnswers: [string, Answer][] = [
  [
    "503 temporarily_unavailable",
    () => json(503, { error: "temporarily_unavailable" }, { "retry-after": "30" }),
  ],
  ["500 server_error", () => json(500, { error: "server_error", error_description: "internal" })],
  ["429 with Retry-After", () => json(429, { error: "too_many_requests" }, { "retry-after": "7" })],
  ["400 temporarily_unavailable", () => json(400, { error: "temporarily_unavailable" })],
  ["400 server_error", () => json(400, { error: "server_error" })],
  [
    "502 HTML",
    () => new Response("<html>Bad Gateway</html>", { status: 502, headers: { "content-type": "text/html" } }),
  ],
];

function gatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  throw new Error(`expected a GatewayError, got ${String(err)}`, { cause: err });
}

describe("the exchange's classification", () => {
  const exchange = (respond: Answer) => {
    const { idp } = idpAnswering(respond);
    return exchangeToken(idp, "subject-token", { audience: "nextcloud", scope: "nextcloud-audience" });
  };

  it.each(busyAnswers)("IdP busy (%s): temporarily_unavailable, try again", async (_, respond) => {
    const err = gatewayError(await failure(exchange(respond)));
    expect(err.code).toBe("temporarily_unavailable");
    expect(err.description).toBe("The identity provider is unreachable; try again in a moment.");
    expect(err.description).not.toContain("subject-token");
  });

  it("401 with a challenge: server_error naming the client settings", async () => {
    const err = gatewayError(
      await failure(
        exchange(
          () =>
            new Response(null, {
              status: 401,
              headers: { "www-authenticate": 'Basic realm="company", error="invalid_client"' },
            }),
        ),
      ),
    );
    expect(err.code).toBe("server_error");
    expect(err.description).toContain(`OIDC_CLIENT_ID (${CLIENT_ID}) and OIDC_CLIENT_SECRET`);
    expect(err.detail).toMatch(/^token exchange at https:\/\/idp\.example\.test\/.+: 401 invalid_client$/);
  });

  it("invalid_grant: the sign-in is no longer valid", async () => {
    const err = gatewayError(await failure(exchange(() => json(400, { error: "invalid_grant" }))));
    expect([err.code, err.description]).toEqual([
      "invalid_token",
      "Your sign-in is no longer valid; sign in again.",
    ]);
  });

  it("a bearer access token: the exchanged token", async () => {
    const { idp, requests } = idpAnswering(() => tokens("nc-token"));
    const got = await exchangeToken(
      idp,
      "subject-token",
      { audience: "nextcloud" },
      { now: () => 1_000_000 },
    );
    expect(got).toMatchObject({ accessToken: "nc-token", expiresAt: 1300 });
    expect(requests[0]?.get("audience")).toBe("nextcloud");
  });
});

describe("the refresh's classification", () => {
  const refresh = (respond: Answer) => refreshAtIdp(idpAnswering(respond).idp, "refresh-token-value");

  it.each(busyAnswers)("IdP busy (%s): temporarily_unavailable, retried later", async (name, respond) => {
    const err = gatewayError(await failure(refresh(respond)));
    expect(err.code).toBe("temporarily_unavailable");
    // The log detail names the status the IdP answered, also when openid-client could not parse it.
    expect(err.detail).toMatch(
      new RegExp(`^refresh at https://idp\\.example\\.test/\\S+: ${name.split(" ")[0] ?? ""} `),
    );
    expect(err.description).toBe("The identity provider is unreachable; the refresh is retried later.");
    expect(err.detail).not.toContain("refresh-token-value");
  });

  it("401 with a challenge: server_error naming the client settings", async () => {
    const err = gatewayError(
      await failure(
        refresh(
          () => new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="company"' } }),
        ),
      ),
    );
    expect(err.code).toBe("server_error");
    expect(err.description).toContain(`OIDC_CLIENT_ID (${CLIENT_ID}) and OIDC_CLIENT_SECRET`);
  });

  it("invalid_grant: openid-client's error unchanged, for the grant store to revoke", async () => {
    const err = await failure(refresh(() => json(400, { error: "invalid_grant" })));
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    expect(oauthErrorOf(err)?.error).toBe("invalid_grant");
  });
});
