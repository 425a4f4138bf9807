import { errors } from "jose";
import { describe, expect, it } from "vitest";
import {
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  KEYS_UNAVAILABLE_DESCRIPTION,
  toAuthInfo,
  verifyAccessToken,
} from "../../../src/auth/index.ts";
import { claims, createIdp, EXPECTATIONS, ISSUER, NOW, NOW_MS, rejection, RESOURCE } from "./fixtures.ts";

const idp = await createIdp();

describe("verifyAccessToken", () => {
  it("returns subject, client, scopes, audience and times of a good token", async () => {
    const token = await idp.sign(claims({ jti: "abc" }));
    const verified = await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS);
    expect(verified).toEqual({
      subject: "0b6f3c1e-user",
      issuer: ISSUER,
      clientId: "mcp-client",
      scopes: ["openid", "mcp:tools", "mcp:write"],
      audience: [RESOURCE, "account"],
      expiresAt: NOW + 300,
      issuedAt: NOW - 10,
      claims: expect.objectContaining({ jti: "abc", azp: "mcp-client" }) as unknown,
    });
    expect(Object.isFrozen(verified)).toBe(true);
    expect(Object.isFrozen(verified.scopes)).toBe(true);
  });

  it("accepts aud as a single string", async () => {
    const token = await idp.sign(claims({ aud: RESOURCE }));
    expect((await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS)).audience).toEqual([RESOURCE]);
  });

  for (const [aud, resource] of [
    [`${RESOURCE}/`, RESOURCE],
    [RESOURCE, `${RESOURCE}/`],
    [`${RESOURCE}#section`, RESOURCE],
    [RESOURCE, `${RESOURCE}/#section`],
  ] as const) {
    it(`matches aud ${aud} against resource ${resource} (one trailing slash and the fragment aside)`, async () => {
      const token = await idp.sign(claims({ aud }));
      const verified = await verifyAccessToken(
        token,
        { issuer: ISSUER, audience: resource },
        idp.getKey,
        NOW_MS,
      );
      expect(verified.audience).toEqual([aud]);
    });
  }

  for (const typ of [undefined, "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "Application/JWT"]) {
    it(`accepts the typ header ${String(typ)} (RFC 9068 at+jwt, Keycloak's JWT, or none)`, async () => {
      const token = await idp.sign(claims({ typ: "Bearer" }), { typ });
      expect((await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS)).subject).toBe(
        "0b6f3c1e-user",
      );
    });
  }

  it("accepts an access token with or without Keycloak's typ claim Bearer", async () => {
    for (const typ of ["Bearer", undefined]) {
      const token = await idp.sign(claims({ typ }));
      expect((await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS)).subject).toBe(
        "0b6f3c1e-user",
      );
    }
  });

  it("ignores entries of aud that are not strings", async () => {
    const token = await idp.sign(claims({ aud: [42, null, RESOURCE] }));
    expect((await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS)).audience).toEqual([RESOURCE]);
  });

  it("shows at most five audiences and 120 characters of a claim in the log detail", async () => {
    const many = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"];
    const err = await rejection(
      verifyAccessToken(await idp.sign(claims({ aud: many })), EXPECTATIONS, idp.getKey, NOW_MS),
    );
    expect(err.detail).toBe(`aud ["a1","a2","a3","a4","a5"] does not contain ${RESOURCE}`);
    const long = "x".repeat(300);
    const cut = await rejection(
      verifyAccessToken(await idp.sign(claims({ aud: long })), EXPECTATIONS, idp.getKey, NOW_MS),
    );
    expect(cut.detail).toBe(`aud ["${"x".repeat(115)}... does not contain ${RESOURCE}`);
    // Exactly 120 characters are shown whole: ["…"] is 4 characters around 116.
    const edge = "y".repeat(116);
    const whole = await rejection(
      verifyAccessToken(await idp.sign(claims({ aud: edge })), EXPECTATIONS, idp.getKey, NOW_MS),
    );
    expect(whole.detail).toBe(`aud ["${edge}"] does not contain ${RESOURCE}`);
  });

  it("accepts a token expired within the leeway", async () => {
    const token = await idp.sign(claims({ iat: NOW - 600, exp: NOW - CLOCK_TOLERANCE_SECONDS + 1 }));
    const verified = await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS);
    expect(verified.expiresAt).toBe(NOW - 59);
  });

  it("accepts a token whose nbf is within the leeway", async () => {
    const token = await idp.sign(claims({ nbf: NOW + CLOCK_TOLERANCE_SECONDS }));
    await expect(verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS)).resolves.toMatchObject({
      subject: "0b6f3c1e-user",
    });
  });

  it("takes the client from azp, else client_id, else empty", async () => {
    const viaClientId = await idp.sign(claims({ azp: undefined, client_id: "cli" }));
    const none = await idp.sign(claims({ azp: undefined }));
    const emptyAzp = await idp.sign(claims({ azp: "", client_id: "cli" }));
    expect((await verifyAccessToken(viaClientId, EXPECTATIONS, idp.getKey, NOW_MS)).clientId).toBe("cli");
    expect((await verifyAccessToken(emptyAzp, EXPECTATIONS, idp.getKey, NOW_MS)).clientId).toBe("cli");
    expect((await verifyAccessToken(none, EXPECTATIONS, idp.getKey, NOW_MS)).clientId).toBe("");
  });

  it("grants no scopes when the scope claim is absent, and tolerates an array", async () => {
    const absent = await idp.sign(claims({ scope: undefined }));
    const array = await idp.sign(claims({ scope: ["mcp:tools", "mcp:write"] }));
    expect((await verifyAccessToken(absent, EXPECTATIONS, idp.getKey, NOW_MS)).scopes).toEqual([]);
    expect((await verifyAccessToken(array, EXPECTATIONS, idp.getKey, NOW_MS)).scopes).toEqual([
      "mcp:tools",
      "mcp:write",
    ]);
  });

  it("leaves issuedAt out when the token has no iat", async () => {
    const token = await idp.sign(claims({ iat: undefined }));
    expect(await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS)).not.toHaveProperty("issuedAt");
  });

  for (const alg of ["PS256", "ES256", "ES384", "EdDSA"] as const) {
    it(`accepts ${alg}, which is on the allow-list`, async () => {
      const other = await createIdp(alg);
      const token = await other.sign(claims());
      expect((await verifyAccessToken(token, EXPECTATIONS, other.getKey, NOW_MS)).subject).toBe(
        "0b6f3c1e-user",
      );
    });
  }

  it("allows asymmetric algorithms only", () => {
    expect(ALLOWED_ALGORITHMS).not.toContain("none");
    expect(ALLOWED_ALGORITHMS.filter((alg) => alg.startsWith("HS"))).toEqual([]);
  });

  it("does not keep the claims of a rejected token in the error (a logger would print them)", async () => {
    for (const overrides of [{ exp: NOW - 3600 }, { iss: "https://evil.example.com" }, { sub: undefined }]) {
      const token = await idp.sign(claims({ ...overrides, email: "alice@example.com" }));
      const err = await rejection(verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS));
      expect(err.cause).toBeUndefined();
      expect(JSON.stringify(err)).not.toContain("alice");
    }
  });

  it("answers 503, not 401, when the key set cannot be loaded", async () => {
    const token = await idp.sign(claims());
    for (const failure of [new errors.JWKSTimeout(), new TypeError("fetch failed")]) {
      const err = await rejection(
        verifyAccessToken(token, EXPECTATIONS, () => Promise.reject(failure), NOW_MS),
      );
      expect(err.code).toBe("temporarily_unavailable");
      expect(err.status).toBe(503);
      expect(err.description).toBe(KEYS_UNAVAILABLE_DESCRIPTION);
      expect(err.detail).toMatch(/^signing keys unavailable \(/);
      expect(err.detail).not.toContain(token);
    }
  });
});

describe("toAuthInfo", () => {
  it("gives the MCP SDK's AuthInfo bound to the resource URL", async () => {
    const token = await idp.sign(claims());
    const verified = await verifyAccessToken(token, EXPECTATIONS, idp.getKey, NOW_MS);
    const info = toAuthInfo(verified, token, RESOURCE);
    expect(info).toEqual({
      token,
      clientId: "mcp-client",
      scopes: ["openid", "mcp:tools", "mcp:write"],
      expiresAt: NOW + 300,
      resource: new URL(RESOURCE),
      extra: { subject: "0b6f3c1e-user", issuer: ISSUER },
    });
    expect(info.scopes).not.toBe(verified.scopes);
  });
});
