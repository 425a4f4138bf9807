import { CompactSign } from "jose";
import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, KID, NOW_MS, segment } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a value that is not a well-formed JWT", () => {
  for (const [name, token] of [
    ["not a JWT at all", "this-is-not-a-jwt"],
    ["an empty string", ""],
    ["two segments", `${segment({ alg: "RS256", kid: KID })}.${segment({ sub: "x" })}`],
    ["four segments", "a.b.c.d"],
    ["garbage base64 in every segment", "!!!.***.%%%"],
    ["a header that is not JSON", `${Buffer.from("not json").toString("base64url")}.e30.c2ln`],
    ["a header that is a JSON array", `${segment(["RS256"])}.e30.c2ln`],
    ["a header without alg", `${segment({ typ: "JWT", kid: KID })}.e30.c2ln`],
  ] as const) {
    it(`is rejected: ${name}`, async () => {
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
        token,
        /^malformed JWS \(/,
      );
    });
  }

  it("is rejected: a genuine signature over a payload that is not a JSON object", async () => {
    const token = await new CompactSign(new TextEncoder().encode('["not", "claims"]'))
      .setProtectedHeader({ alg: "RS256", kid: KID })
      .sign(idp.privateKey);
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^malformed JWT \(/,
    );
  });

  it("is rejected: a critical header extension the verifier does not know", async () => {
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: "RS256", kid: KID, crit: ["urn:example:bind"], "urn:example:bind": 1 })
      .sign(idp.privateKey, { crit: { "urn:example:bind": true } });
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^not supported \(Extension Header Parameter "urn:example:bind" is not recognized\)$/,
    );
  });
});
