import { exportJWK, exportSPKI, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, counting, createIdp, EXPECTATIONS, expectInvalidToken, KID, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();
const pem = await exportSPKI(idp.publicKey);
const jwk = await exportJWK(idp.publicKey);

// The classic key-confusion attack: the public key is public, so an HMAC verifier that took it as the
// secret would accept anything the attacker signs with it.
describe("negative: HS256 signed with the RSA public key", () => {
  for (const [name, secret] of [
    ["the PEM", new TextEncoder().encode(pem)],
    ["the JWK modulus", Buffer.from(jwk.n ?? "", "base64url")],
  ] as const) {
    it(`is rejected when the HMAC secret is ${name}`, async () => {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: KID })
        .sign(secret);
      const keys = counting(idp.getKey);
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, keys.getKey, NOW_MS),
        token,
        /^alg "HS256" not allowed$/,
      );
      expect(keys.calls).toBe(0);
    });
  }
});
