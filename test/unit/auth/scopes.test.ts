import { describe, expect, it } from "vitest";
import { missingScopes, parseScopes } from "../../../src/auth/index.ts";

describe("parseScopes", () => {
  it("splits a space-delimited scope string (RFC 9068 §2.2.3)", () => {
    expect(parseScopes("openid mcp:tools mcp:write")).toEqual(["openid", "mcp:tools", "mcp:write"]);
  });

  it("drops empty entries and duplicates", () => {
    expect(parseScopes("  a  b a ")).toEqual(["a", "b"]);
    expect(parseScopes("")).toEqual([]);
  });

  it("tolerates an array of strings and ignores other members", () => {
    expect(parseScopes(["a", 1, "b c", null])).toEqual(["a", "b", "c"]);
  });

  it("grants nothing for anything else", () => {
    for (const claim of [undefined, null, 42, { scope: "a" }]) expect(parseScopes(claim)).toEqual([]);
  });
});

describe("missingScopes", () => {
  it("lists the required scopes not granted, in required order", () => {
    expect(missingScopes(["openid", "mcp:tools"], ["mcp:write", "mcp:tools", "mcp:admin"])).toEqual([
      "mcp:write",
      "mcp:admin",
    ]);
  });

  it("is empty when everything is granted or nothing is required", () => {
    expect(missingScopes(["a", "b"], ["b", "a"])).toEqual([]);
    expect(missingScopes([], [])).toEqual([]);
  });

  it("compares scopes exactly", () => {
    expect(missingScopes(["MCP:TOOLS", "mcp:tools:read"], ["mcp:tools"])).toEqual(["mcp:tools"]);
  });
});
