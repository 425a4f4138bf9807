// Paths given to the Nextcloud client stay inside the user's root: ".." is refused before any request.
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { encodePath, normalizePath } from "../../../src/nextcloud/paths.ts";

describe("normalizePath", () => {
  it("normalises slashes and '.' segments", () => {
    expect(normalizePath("")).toBe("/");
    expect(normalizePath("a//b/./c/")).toBe("/a/b/c");
    expect(normalizePath("/Notes/Work/Plans.md")).toBe("/Notes/Work/Plans.md");
  });

  it.each(["..", "../etc/passwd", "/a/../../b", "a/..", "a\\b", "a\0b"])("refuses %j", (p) => {
    expect(() => normalizePath(p)).toThrow(NextcloudError);
    try {
      normalizePath(p);
    } catch (err) {
      expect((err as NextcloudError).kind).toBe("invalid_path");
      expect((err as NextcloudError).status).toBe(400);
    }
  });

  it("keeps names that merely contain dots", () => {
    expect(normalizePath("/a..b/.hidden/...")).toBe("/a..b/.hidden/...");
  });
});

describe("encodePath", () => {
  it("percent-encodes each segment", () => {
    expect(encodePath("/Shared view/a#b?.md")).toBe("/Shared%20view/a%23b%3F.md");
  });
});
