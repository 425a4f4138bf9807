// Defence in depth beside the audience check: a token of the same realm that is not an access token
// (an ID token whose aud was mapped to the gateway, a refresh token, a logout token, a DPoP-bound
// token presented as bearer) is refused by its `typ` claim or `typ` header.
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import {
  claims,
  countingVerifier,
  createIdp,
  EXPECTATIONS,
  expectInvalidToken,
  NOW_MS,
  RESOURCE,
} from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token that is not an access token", () => {
  it("is rejected: an ID token of the same realm carrying the gateway audience", async () => {
    // Keycloak's ID token: typ "ID", azp the client, aud mapped to the resource by a careless mapper.
    const token = await idp.sign(claims({ typ: "ID", aud: [RESOURCE, "mcp-client"], nonce: "n-1" }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^typ claim "ID" is not Bearer$/,
    );
  });

  for (const typ of ["Refresh", "Offline", "Logout", "DPoP", "bearer ", "", 1, null, ["Bearer"]]) {
    it(`is rejected: typ claim ${JSON.stringify(typ)}`, async () => {
      const token = await idp.sign(claims({ typ }));
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
        token,
        /^typ claim .* is not Bearer$/,
      );
    });
  }

  it("is rejected: a logout token (typ header logout+jwt), even with access-token claims", async () => {
    const token = await idp.sign(
      claims({ events: { "http://schemas.openid.net/event/backchannel-logout": {} } }),
      {
        typ: "logout+jwt",
      },
    );
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^typ header "logout\+jwt" is not an access token type$/,
    );
  });

  for (const typ of [
    "application/logout+jwt",
    "secevent+jwt",
    "JOSE",
    "dpop+jwt",
    "at+jwt2",
    "jwtapplication/",
    "xat+jwt",
    "text/jwt",
  ]) {
    it(`is rejected: typ header ${typ}`, async () => {
      const token = await idp.sign(claims(), { typ });
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
        token,
        /^typ header .* is not an access token type$/,
      );
    });
  }

  it("is rejected: a typ header that is not a string", async () => {
    const token = await idp.sign(claims(), { typ: 7 as unknown as string });
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^typ header 7 is not an access token type$/,
    );
  });

  it("is rejected every time: a wrong-typ token is never cached", async () => {
    const { keys, verifier } = countingVerifier(idp);
    const token = await idp.sign(claims({ typ: "Refresh" }));
    for (let i = 0; i < 2; i++) await expectInvalidToken(verifier.verify(token), token, /^typ claim /);
    expect(keys.calls).toBe(2);
  });
});
