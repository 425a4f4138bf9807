import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();

// A token minted for Nextcloud (e.g. by token exchange) must never be accepted at /mcp (no passthrough).
describe("negative: a Nextcloud-audience token sent to /mcp", () => {
  it("is rejected when aud is only 'nextcloud'", async () => {
    const token = await idp.sign(claims({ aud: "nextcloud", azp: "nextcloud" }));
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS),
      token,
      /^aud \["nextcloud"\] does not contain https:\/\/mcp\.example\.com\/mcp$/,
    );
  });
});
