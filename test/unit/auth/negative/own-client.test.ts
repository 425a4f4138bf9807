import { describe, expect, it } from "vitest";
import { createTokenVerifier, verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, NOW_MS } from "../fixtures.ts";

const idp = await createIdp();
const OWN = { ...EXPECTATIONS, ownClientId: "mcp-gateway" };

// The gateway's client may get tokens of its own (client credentials: `check` proves the realm's
// audience with one). Such a token names the resource, but it is no user's sign-in.
describe("negative: a token the gateway's own client obtained for itself", () => {
  it("is rejected when azp names the gateway client", async () => {
    const token = await idp.sign(claims({ azp: "mcp-gateway", sub: "service-account-id" }));
    await expectInvalidToken(
      verifyAccessToken(token, OWN, idp.getKey, NOW_MS),
      token,
      /^azp "mcp-gateway" is the gateway's own client: a token it obtained for itself, not a user's sign-in$/,
    );
  });

  it("is rejected when only client_id names it, and through the caching verifier", async () => {
    const token = await idp.sign(claims({ azp: undefined, client_id: "mcp-gateway" }));
    const verifier = createTokenVerifier({ ...OWN, getKey: idp.getKey, now: () => NOW_MS });
    await expectInvalidToken(verifier.verify(token), token, /^azp "mcp-gateway" is the gateway's own client/);
  });

  it("leaves tokens of MCP clients alone, and any client when no own client is named", async () => {
    const user = await idp.sign(claims({ azp: "mcp-client" }));
    expect((await verifyAccessToken(user, OWN, idp.getKey, NOW_MS)).clientId).toBe("mcp-client");
    const own = await idp.sign(claims({ azp: "mcp-gateway" }));
    expect((await verifyAccessToken(own, EXPECTATIONS, idp.getKey, NOW_MS)).clientId).toBe("mcp-gateway");
  });
});
