import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, KID, NOW_MS, segment } from "../fixtures.ts";

const idp = await createIdp();
const attacker = await createIdp("RS256", KID);

describe("negative: a forged signature", () => {
  it("is rejected when another key signed under the real kid", async () => {
    const token = await attacker.sign(claims());
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^signature invalid$/,
    );
  });

  it("is rejected when the payload of a genuine token was altered", async () => {
    const [header, , signature] = (await idp.sign(claims())).split(".");
    const token = `${header ?? ""}.${segment(claims({ scope: "openid mcp:tools mcp:write admin" }))}.${signature ?? ""}`;
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^signature invalid$/,
    );
  });

  it("is rejected when the signature was stripped", async () => {
    const [header, payload] = (await idp.sign(claims())).split(".");
    const token = `${header ?? ""}.${payload ?? ""}.`;
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^signature invalid$/,
    );
  });
});
