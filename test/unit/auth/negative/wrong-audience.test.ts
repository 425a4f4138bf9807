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

  // Mutations that survived before: `expected.startsWith(aud)`, a case-insensitive compare, and
  // stripping every trailing slash. Exactly one trailing slash is optional; nothing else differs.
  for (const [name, aud] of [
    ["the empty string", ""],
    ["only a slash", "/"],
    ["the bare origin", "https://mcp.example.com"],
    ["the bare origin with a slash", "https://mcp.example.com/"],
    ["a prefix of the resource URL", "https://mcp.example.com/m"],
    ["the resource with an upper-case path", "https://mcp.example.com/MCP"],
    ["the resource in upper case", "HTTPS://MCP.EXAMPLE.COM/MCP"],
    ["the resource with two trailing slashes", "https://mcp.example.com/mcp//"],
    ["the resource with a query", "https://mcp.example.com/mcp?x=1"],
    ["the resource with a trailing space", "https://mcp.example.com/mcp "],
  ] as const) {
    it(`is rejected when aud is ${name}`, async () => {
      const token = await idp.sign(claims({ aud: [aud, "account"] }));
      await expectInvalidToken(
        verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
        token,
        /^aud .* does not contain https:\/\/mcp\.example\.com\/mcp$/,
      );
    });
  }

  it("is rejected when aud holds no string", async () => {
    for (const aud of [[], [42, null], 42, { aud: "https://mcp.example.com/mcp" }]) {
      const token = await idp.sign(claims({ aud }));
      await expectInvalidToken(verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS), token, /^aud /);
    }
  });
});
