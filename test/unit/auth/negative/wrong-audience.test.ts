import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

describe("negative: a token issued for another audience", () => {
  it("is rejected when aud names another resource", async () => {
    const token = await idp.sign(claims({ aud: ["https://other.example.com/mcp", "account"] }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^aud \["https:\/\/other\.example\.com\/mcp","account"\] does not contain https:\/\/mcp\.example\.com\/mcp$/,
    );
  });

  it("is rejected when aud only extends the resource path", async () => {
    const token = await idp.sign(claims({ aud: "https://mcp.example.com/mcp/admin" }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^aud .* does not contain /,
    );
  });

  it("is rejected when aud names the resource on another origin", async () => {
    const token = await idp.sign(claims({ aud: "http://mcp.example.com/mcp" }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^aud .* does not contain /,
    );
  });

  it("is rejected when aud is missing", async () => {
    const token = await idp.sign(claims({ aud: undefined }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^aud missing$/,
    );
  });
});
