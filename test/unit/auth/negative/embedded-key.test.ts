// Keys named or carried by the token itself (jwk, jku, x5u, x5c) are never trusted: only the IdP's
// JWKS given to the verifier decides. An attacker who signs with a key of their own and points at it
// from the header is refused.
import { exportJWK } from "jose";
import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, KID, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();
const attacker = await createIdp("RS256", KID);
const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: KID };

describe("negative: a token that brings its own key", () => {
  for (const [name, header] of [
    ["an embedded jwk", { jwk: attackerJwk }],
    ["a jku URL", { jku: "https://attacker.example/jwks.json" }],
    ["an x5u URL", { x5u: "https://attacker.example/cert.pem" }],
    ["an x5c chain", { x5c: ["MIIBattacker"] }],
  ] as const) {
    it(`is rejected with ${name} under the real kid`, async () => {
      const token = await attacker.sign(claims(), header);
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
        token,
        /^signature invalid$/,
      );
    });
  }

  it("is rejected with an embedded jwk and a kid the IdP never published", async () => {
    const token = await attacker.sign(claims(), {
      kid: "attacker",
      jwk: { ...attackerJwk, kid: "attacker" },
    });
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^unknown kid "attacker"$/,
    );
  });
});
