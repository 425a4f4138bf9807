import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, ISSUER, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token from another issuer", () => {
  it("is rejected when iss names another realm", async () => {
    const token = await idp.sign(claims({ iss: "https://sso.example.com/realms/other" }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^iss mismatch \(got "https:\/\/sso\.example\.com\/realms\/other", expected ".*nextcloud-mcp"\)$/,
    );
  });

  it("is rejected when iss differs only by a trailing slash (compared exactly)", async () => {
    const token = await idp.sign(claims({ iss: `${ISSUER}/` }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^iss mismatch/,
    );
  });

  it("is rejected when iss is missing", async () => {
    const token = await idp.sign(claims({ iss: undefined }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^iss missing$/,
    );
  });
});
