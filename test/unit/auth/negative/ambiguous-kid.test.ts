import { createLocalJWKSet, exportJWK } from "jose";
import { describe, it } from "vitest";
import { verifyAccessToken } from "../../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, expectInvalidToken, KID, NOW_MS } from "../fixtures.ts";

const first = await createIdp("RS256", KID);
const second = await createIdp("RS256", KID);
// A key set that publishes two keys under one kid (a botched rotation): jose will not guess.
const both = createLocalJWKSet({
  keys: await Promise.all(
    [first, second].map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: KID, alg: "RS256" })),
  ),
});

describe("negative: a kid that names several published keys", () => {
  it("is rejected, even when one of them signed it", async () => {
    const token = await second.sign(claims());
    await expectInvalidToken(
      verifyAccessToken(token, EXPECTATIONS, both, NOW_MS),
      token,
      /^ambiguous kid \(several keys match\)$/,
    );
  });
});
