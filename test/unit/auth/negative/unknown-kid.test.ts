import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token signed with a key the JWKS does not publish", () => {
  it("is rejected when the kid is unknown", async () => {
    const token = await idp.sign(claims(), { kid: "rotated-away" });
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^unknown kid "rotated-away"$/,
    );
  });

  it("is rejected when the kid is known but the key type does not fit alg", async () => {
    const ec = await createIdp("ES256");
    const token = await ec.sign(claims());
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^unknown kid "key-1"$/,
    );
  });

  it("is rejected when there is no kid and no published key fits alg", async () => {
    const ec = await createIdp("ES256");
    const token = await ec.sign(claims(), { kid: undefined });
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^unknown kid \(none given, no key matches\)$/,
    );
  });

  it("is rejected when the kid is not a string (shown as none, never echoed raw)", async () => {
    const token = await idp.sign(claims(), { kid: 42 as unknown as string });
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^unknown kid \(none given, no key matches\)$/,
    );
  });
});
