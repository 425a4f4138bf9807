import { describe, it } from "vitest";
import { CLOCK_TOLERANCE_SECONDS, verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

// The accepted side of the leeway is in ../verify.test.ts.
describe("negative: an expired token", () => {
  it("is rejected one second past the leeway", async () => {
    const exp = NOW - CLOCK_TOLERANCE_SECONDS - 1;
    const token = await idp.sign(claims({ iat: exp - 300, exp }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      new RegExp(`^expired \\(exp ${exp}, now ${NOW}, leeway 60 s\\)$`),
    );
  });

  it("is rejected exactly at the end of the leeway", async () => {
    const token = await idp.sign(claims({ exp: NOW - CLOCK_TOLERANCE_SECONDS }));
    await expectInvalidToken(verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS), token, /^expired /);
  });

  it("is rejected long after it expired", async () => {
    const token = await idp.sign(claims({ iat: NOW - 86_400, exp: NOW - 86_000 }));
    await expectInvalidToken(verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS), token, /^expired /);
  });
});
