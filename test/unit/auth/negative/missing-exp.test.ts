import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import {
  claims,
  countingVerifier,
  createIdp,
  EXPECTATIONS,
  expectInvalidToken,
  NOW_MS,
} from "../fixtures.ts";

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

  // JSON.parse turns 1e999 into Infinity: a token that would never expire, and stay cached forever.
  // JSON.stringify cannot write it, so the payload is signed byte for byte.
  const infinite = () => {
    const json = JSON.stringify(claims({ exp: 0 })).replace('"exp":0', '"exp":1e999');
    expect(json).toContain('"exp":1e999');
    return idp.signRaw(json);
  };

  it("is rejected when exp is 1e999 (Infinity once parsed)", async () => {
    const token = await infinite();
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^exp is not a finite number$/,
    );
  });

  it("is rejected every time when exp is 1e999: never cached", async () => {
    const { keys, verifier } = countingVerifier(idp);
    const token = await infinite();
    for (let i = 0; i < 3; i++)
      await expectInvalidToken(verifier.verify(token), token, /^exp is not a finite/);
    expect(keys.calls).toBe(3);
  });
});
