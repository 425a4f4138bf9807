// The exact words the path rules give a model (they are its only guide to a better path), and the
// edges a looser rule would let through: the length bound, which rule answers first, and which
// characters a look-alike message names.
import { describe, expect, it } from "vitest";
import {
  encodeSegments,
  MAX_PATH_LENGTH,
  pathProblem,
  pathSegments,
  segmentProblem,
} from "../../../src/nextcloud/paths.ts";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";

const thrown = (fn: () => unknown): NextcloudError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NextcloudError);
    return err as NextcloudError;
  }
  throw new Error("did not throw");
};

describe("segmentProblem", () => {
  it("says what is wrong with a name", () => {
    expect(segmentProblem("")).toBe("has an empty name (two slashes in a row)");
    expect(segmentProblem("a/b")).toBe('has a "/" inside a name');
    expect(segmentProblem(".")).toMatch(/^contains "\.": paths start at the root of your Nextcloud files/);
  });

  it("names only the look-alike characters, not plain dots, each once", () => {
    expect(segmentProblem("．.")).toBe(
      'contains a character that looks like a dot or a slash (U+FF0E); use plain "/" between folders',
    );
    expect(segmentProblem("a／b＼c／")).toBe(
      'contains a character that looks like a dot or a slash (U+FF0F, U+FF3C); use plain "/" between folders',
    );
  });
});

describe("pathProblem", () => {
  it("allows a path of exactly the longest length and refuses one character more", () => {
    const longest = `/${"a/".repeat((MAX_PATH_LENGTH - 2) / 2)}a`.slice(0, MAX_PATH_LENGTH);
    expect(longest).toHaveLength(MAX_PATH_LENGTH);
    expect(pathProblem(longest)).toBeUndefined();
    expect(pathProblem(`${longest}b`)).toBe(`is longer than ${String(MAX_PATH_LENGTH)} characters`);
  });

  it("names a NUL or a backslash anywhere before any other problem", () => {
    expect(pathProblem("../x\\y")).toBe(segmentProblem("\\"));
    expect(pathProblem("../x\0y")).toBe(segmentProblem("\0"));
  });
});

describe("the refusal names the argument", () => {
  it("a path, or a single name", () => {
    expect(thrown(() => pathSegments("a/../b")).description).toMatch(
      /^The path "a\/\.\.\/b" contains "\.\."/,
    );
    expect(thrown(() => encodeSegments(["ok", "a/b"])).description).toBe(
      'The name "a/b" has a "/" inside a name; nothing was done.',
    );
  });
});
