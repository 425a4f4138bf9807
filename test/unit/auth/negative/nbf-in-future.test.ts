import { describe, it } from "vitest";
import { CLOCK_TOLERANCE_SECONDS, verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token not yet valid", () => {
  it("is rejected when nbf is beyond the leeway", async () => {
    const nbf = NOW + CLOCK_TOLERANCE_SECONDS + 1;
    const token = await idp.sign(claims({ nbf, exp: nbf + 300 }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      new RegExp(`^not yet valid \\(nbf ${nbf}, now ${NOW}, leeway 60 s\\)$`),
    );
  });
});
