import { errors } from "jose";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { KeysCoolingDown } from "../../../../src/idp/keys.ts";
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

  it("is rejected (401) before any key is looked up, so a foreign key id cannot turn it into a 503", async () => {
    const token = await idp.sign(claims({ iss: "https://sso.example.com/realms/other" }));
    let lookups = 0;
    const coolingDown = () => {
      lookups++;
      return Promise.reject(new KeysCoolingDown(new errors.JWKSNoMatchingKey()));
    };
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, coolingDown, NOW_MS),
      token,
      /^iss mismatch \(got "https:\/\/sso\.example\.com\/realms\/other"/,
    );
    expect(lookups).toBe(0);
  });
});
