import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token without a usable exp", () => {
  it("is rejected when exp is missing", async () => {
    const token = await idp.sign(claims({ exp: undefined }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^exp missing$/,
    );
  });

  it("is rejected when exp is not a number", async () => {
    const token = await idp.sign(claims({ exp: "tomorrow" }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^exp invalid /,
    );
  });
});
