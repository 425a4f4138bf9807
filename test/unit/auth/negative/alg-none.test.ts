import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import {
  claims,
  counting,
  createIdp,
  EXPECTATIONS,
  expectInvalidToken,
  KID,
  NOW_MS,
  segment,
} from "../fixtures.ts";

const idp = await createIdp();

describe("negative: an unsigned token (alg none)", () => {
  it("is rejected before any key is looked up", async () => {
    const token = `${segment({ alg: "none", typ: "JWT", kid: KID })}.${segment(claims())}.`;
    const keys = counting(idp.getKey);
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, keys.getKey, NOW_MS),
      token,
      /^alg "none" not allowed$/,
    );
    expect(keys.calls).toBe(0);
  });

  it("is rejected with any spelling of none", async () => {
    const token = `${segment({ alg: "None", typ: "JWT" })}.${segment(claims())}.`;
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^alg "None" not allowed$/,
    );
  });
});
