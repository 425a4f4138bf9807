import { describe, expect, it } from "vitest";
import {
  extractBearerToken,
  MALFORMED_AUTHORIZATION_DESCRIPTION,
  ONE_METHOD_DESCRIPTION,
  type OtherTokenMethod,
} from "../../../src/auth/index.ts";
import { GatewayError } from "../../../src/errors.ts";

function thrown(header: string | undefined, others: readonly OtherTokenMethod[] = []): GatewayError {
  try {
    extractBearerToken(header, others);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(header)} to be rejected`);
}

describe("extractBearerToken", () => {
  it("returns undefined when there is no header", () => {
    expect(extractBearerToken(undefined)).toBeUndefined();
    expect(extractBearerToken(null)).toBeUndefined();
  });

  it("returns the token of the RFC 6750 §2.1 example", () => {
    expect(extractBearerToken("Bearer mF_9.B5f-4.1JqM")).toBe("mF_9.B5f-4.1JqM");
  });

  it("ignores whitespace around the header value", () => {
    expect(extractBearerToken("  Bearer abc\t ")).toBe("abc");
  });

  it("reads the scheme case-insensitively and allows several spaces (1*SP)", () => {
    expect(extractBearerToken("bearer abc")).toBe("abc");
    expect(extractBearerToken("BEARER abc")).toBe("abc");
    expect(extractBearerToken("Bearer   abc")).toBe("abc");
  });

  it("accepts every b64token character and trailing '='", () => {
    expect(extractBearerToken("Bearer aZ09-._~+/==")).toBe("aZ09-._~+/==");
  });

  for (const [header, detail] of [
    ["Basic dXNlcjpwYXNzd29yZA==", /^authorization scheme Basic is not Bearer$/],
    ["DPoP eyJhbGciOiJFUzI1NiJ9.e30.sig", /^authorization scheme DPoP is not Bearer$/],
    ["Digest username=x", /^authorization scheme Digest is not Bearer$/],
    ["Negotiate YII=", /^authorization scheme Negotiate is not Bearer$/],
    ["NTLM TlRMTVNT", /^authorization scheme NTLM is not Bearer$/],
    ["Token abc", /^authorization scheme Token is not Bearer$/],
    ["MAC id=x", /^authorization scheme MAC is not Bearer$/],
    ["HOBA result=x", /^authorization scheme HOBA is not Bearer$/],
    ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", /^authorization scheme is not Bearer$/],
    ["Bearer", /^Bearer scheme without a token$/],
    ["Bearer    ", /^Bearer scheme without a token$/],
    ["", /^empty Authorization header$/],
    ["Bearer abc def", /b64token/],
    ["Bearer abc,def", /b64token/],
    ["Bearer =abc", /b64token/],
    ["Bearer ab=c", /b64token/],
    ["Bearer\tabc", /^authorization scheme is not Bearer$/],
  ] as const) {
    it(`rejects ${JSON.stringify(header)} with 401 invalid_token`, () => {
      const err = thrown(header);
      expect(err.code).toBe("invalid_token");
      expect(err.status).toBe(401);
      expect(err.description).toBe(MALFORMED_AUTHORIZATION_DESCRIPTION);
      expect(err.detail).toMatch(detail);
      const credentials = header.split(" ").slice(1).join(" ").trim() || header;
      if (credentials.length > 8) {
        expect(err.detail).not.toContain(credentials);
        expect(err.message).not.toContain(credentials);
      }
    });
  }
});

describe("extractBearerToken with another token method (RFC 6750 §2: one method only)", () => {
  it("refuses a header plus a query or form-body access_token: 400 invalid_request naming both", () => {
    for (const [others, detail] of [
      [["query"], "access_token in the query besides the Authorization header"],
      [["form body"], "access_token in the form body besides the Authorization header"],
      [
        ["query", "form body"],
        "access_token in the query and the form body besides the Authorization header",
      ],
    ] as const) {
      const err = thrown("Bearer abc", others);
      expect(err.code).toBe("invalid_request");
      expect(err.status).toBe(400);
      expect(err.description).toBe(ONE_METHOD_DESCRIPTION);
      expect(err.detail).toBe(detail);
    }
  });

  it("refuses a token in the query alone: only the header is supported", () => {
    const err = thrown(undefined, ["query"]);
    expect(err.code).toBe("invalid_request");
    expect(err.detail).toBe("access_token in the query, not in the header");
  });

  it("checks the method before the header, so a malformed header with a query token is still 400", () => {
    expect(thrown("Basic abc", ["query"]).code).toBe("invalid_request");
  });

  it("reads the header as before when no other method is used", () => {
    expect(extractBearerToken("Bearer abc", [])).toBe("abc");
    expect(extractBearerToken(undefined, [])).toBeUndefined();
  });
});
