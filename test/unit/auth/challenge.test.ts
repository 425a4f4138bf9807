import { describe, expect, it } from "vitest";
import { wwwAuthenticate } from "../../../src/auth/index.ts";

const PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

describe("wwwAuthenticate", () => {
  it("has no error attribute when the request carried no credentials (RFC 6750 §3.1)", () => {
    expect(wwwAuthenticate({ resourceMetadataUrl: PRM, scopes: ["mcp:tools"] })).toBe(
      `Bearer resource_metadata="${PRM}", scope="mcp:tools"`,
    );
  });

  it("names the error and describes it for a rejected token", () => {
    expect(
      wwwAuthenticate({
        resourceMetadataUrl: new URL(PRM),
        scopes: ["mcp:tools"],
        error: "invalid_token",
        description: "The access token is invalid or expired.",
      }),
    ).toBe(
      `Bearer resource_metadata="${PRM}", scope="mcp:tools", error="invalid_token", error_description="The access token is invalid or expired."`,
    );
  });

  it("carries every needed scope in one challenge for insufficient_scope (RFC 9728 §5.1)", () => {
    expect(
      wwwAuthenticate({
        resourceMetadataUrl: PRM,
        scopes: ["mcp:tools", "mcp:write", "mcp:tools"],
        error: "insufficient_scope",
        description: "This tool needs mcp:write.",
      }),
    ).toBe(
      `Bearer resource_metadata="${PRM}", scope="mcp:tools mcp:write", error="insufficient_scope", error_description="This tool needs mcp:write."`,
    );
  });

  it("leaves out an empty scope list and offline_access", () => {
    expect(wwwAuthenticate({ resourceMetadataUrl: PRM, scopes: [] })).toBe(
      `Bearer resource_metadata="${PRM}"`,
    );
    expect(wwwAuthenticate({ resourceMetadataUrl: PRM, scopes: ["offline_access", "mcp:tools"] })).toBe(
      `Bearer resource_metadata="${PRM}", scope="mcp:tools"`,
    );
  });

  it("sends a description only with an error", () => {
    expect(wwwAuthenticate({ resourceMetadataUrl: PRM, scopes: [], description: "ignored" })).toBe(
      `Bearer resource_metadata="${PRM}"`,
    );
  });

  it("backslash-escapes quotes and backslashes in quoted values and drops control characters", () => {
    expect(wwwAuthenticate({ resourceMetadataUrl: 'https://x/"a\\b"\r\n', scopes: ['s"1'] })).toBe(
      'Bearer resource_metadata="https://x/\\"a\\\\b\\"", scope="s\\"1"',
    );
  });

  it("keeps only RFC 6749 characters in error_description", () => {
    expect(
      wwwAuthenticate({
        resourceMetadataUrl: PRM,
        scopes: [],
        error: "invalid_request",
        description: 'Bad "header"\\ – café\r\nX-Injected: 1',
      }),
    ).toBe(
      `Bearer resource_metadata="${PRM}", error="invalid_request", error_description="Bad header  cafX-Injected: 1"`,
    );
  });

  it("drops a description that has no allowed character left", () => {
    expect(
      wwwAuthenticate({
        resourceMetadataUrl: PRM,
        scopes: [],
        error: "invalid_token",
        description: "\u00e9\n",
      }),
    ).toBe(`Bearer resource_metadata="${PRM}", error="invalid_token"`);
  });

  it("drops empty scope names, and the attribute when none is left", () => {
    const base = { resourceMetadataUrl: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp" };
    expect(wwwAuthenticate({ ...base, scopes: ["", "mcp:tools", ""] })).toBe(
      `Bearer resource_metadata="${base.resourceMetadataUrl}", scope="mcp:tools"`,
    );
    expect(wwwAuthenticate({ ...base, scopes: [""] })).toBe(
      `Bearer resource_metadata="${base.resourceMetadataUrl}"`,
    );
  });

  it("sends an error without error_description when there is no description", () => {
    expect(
      wwwAuthenticate({ resourceMetadataUrl: "https://m.example/prm", scopes: [], error: "invalid_token" }),
    ).toBe('Bearer resource_metadata="https://m.example/prm", error="invalid_token"');
  });
});
