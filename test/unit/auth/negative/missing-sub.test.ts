import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token without a subject", () => {
  it("is rejected when sub is missing", async () => {
    const token = await idp.sign(claims({ sub: undefined }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^sub missing$/,
    );
  });

  for (const sub of [42, "", null]) {
    it(`is rejected when sub is ${JSON.stringify(sub)}`, async () => {
      const token = await idp.sign(claims({ sub }));
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
        token,
        /^sub is not a non-empty string$/,
      );
    });
  }
});
