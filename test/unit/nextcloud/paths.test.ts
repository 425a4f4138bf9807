// Paths given to the Nextcloud client stay inside the user's root: ".." is refused before any request.
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import {
  encodePath,
  encodeSegments,
  normalizePath,
  pathProblem,
  segmentProblem,
} from "../../../src/nextcloud/paths.ts";

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

describe("segment rules", () => {
  it.each([
    ["%2e%2e", /percent-encoded/],
    ["%252E", /percent-encoded/],
    ["a%2Fb", /percent-encoded/],
    ["a%5cb", /percent-encoded/],
    ["．．", /looks like a dot or a slash \(U\+FF0E\)/],
    ["a／b", /looks like a dot or a slash \(U\+FF0F\)/],
    ["a＼b", /looks like a dot or a slash \(U\+FF3C\)/],
    ["\u2024\u2024", /looks like a dot or a slash \(U\+2024\)/],
    ["a\u0007b", /control character/],
    ["x".repeat(256), /longer than 255 characters/],
  ])("refuses the name %j", (name, why) => {
    expect(segmentProblem(name)).toMatch(why);
    expect(() => normalizePath(`/Documents/${name}`)).toThrow(why);
  });

  it("accepts odd names that are still names: placeholders, other slashes, percent signs", () => {
    for (const name of [
      "__PATH_SEPARATOR_POSIX__",
      "__PATH_SEPARATOR_WINDOWS__",
      "a\u2215b",
      "a\u2044b",
      "100%",
      "%41",
      "..a",
      "x".repeat(255),
    ]) {
      expect(segmentProblem(name)).toBeUndefined();
    }
    expect(encodeSegments(["x__PATH_SEPARATOR_POSIX__..__PATH_SEPARATOR_POSIX__y"])).toBe(
      "/x__PATH_SEPARATOR_POSIX__..__PATH_SEPARATOR_POSIX__y",
    );
    expect(encodeSegments(["a\u2215b", "100%"])).toBe("/a%E2%88%95b/100%25");
  });

  it("refuses over-long paths, and in encodeSegments empty, '.' and '..' names", () => {
    expect(pathProblem("/a".repeat(2049))).toMatch(/longer than 4096 characters/);
    for (const seg of ["", ".", "..", "a/b"])
      expect(() => encodeSegments(["ok", seg])).toThrow(NextcloudError);
  });
});
