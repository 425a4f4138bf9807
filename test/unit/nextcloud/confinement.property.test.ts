// The confinement invariant, as a property: for any string a model may send as a path (built from an
// alphabet of separators, dots, percent-escapes, the `webdav` library's placeholders and Unicode
// look-alikes), the encoder and the guard either refuse it, or the URL that would be sent is under
// the user's root and every decoded segment is a plain name.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { davRoot, guardRequest } from "../../../src/nextcloud/guard.ts";
import { encodeSegments, pathSegments } from "../../../src/nextcloud/paths.ts";

const NASTY = [
  "/",
  "\\",
  ".",
  "..",
  "%",
  "%2e",
  "%2E",
  "%2f",
  "%2F",
  "%5c",
  "%25",
  "%252e",
  "%00",
  "\u0000",
  "\u001f",
  "__PATH_SEPARATOR_POSIX__",
  "__PATH_SEPARATOR_WINDOWS__",
  "．",
  "／",
  "＼",
  "\u2215",
  "\u2044",
  "\u2024",
  "\uFE52",
  "\uFE68",
  "?",
  "#",
  "a",
  "b",
  " ",
  "é",
  "@",
  ":",
];

const nastyPath = fc.oneof(
  fc.array(fc.constantFrom(...NASTY), { maxLength: 24 }).map((parts) => parts.join("")),
  fc.string({ unit: "binary", maxLength: 64 }),
  fc
    .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 6 })), { maxLength: 12 })
    .map((p) => p.join("/")),
);

const BASES = ["https://cloud.example.com", "https://h.example/nextcloud/"];
const ROOT = davRoot("files", "alice");

/** Whether a name is one Nextcloud can only read as a name: no dot segment, no separator of any kind. */
function plainName(decoded: string): boolean {
  const compat = decoded.normalize("NFKC");
  return (
    decoded !== "" &&
    compat !== "." &&
    compat !== ".." &&
    !/[/\\]/.test(compat) &&
    // eslint-disable-next-line no-control-regex -- control characters are what the check is about
    !/[\u0000-\u001f\u007f]/.test(decoded) &&
    !/%(25)*(2e|2f|5c)/i.test(decoded)
  );
}

describe("confinement property", () => {
  it("a random path is refused, or sent under the user's root as plain names", () => {
    fc.assert(
      fc.property(nastyPath, nastyPath, fc.constantFrom(...BASES), (path, dest, base) => {
        let url: URL;
        const basePath = new URL(base).pathname.replace(/\/+$/, "");
        try {
          const segs = pathSegments(path);
          const target = `${ROOT}${encodeSegments(segs)}`;
          const destination = `${base.replace(/\/+$/, "")}${ROOT}${encodeSegments(pathSegments(dest))}`;
          url = guardRequest(base, {
            path: target,
            root: ROOT,
            what: "x",
            headers: { Destination: destination },
          });
          const d = new URL(destination);
          expect(d.pathname === `${basePath}${ROOT}` || d.pathname.startsWith(`${basePath}${ROOT}/`)).toBe(
            true,
          );
          for (const s of d.pathname
            .slice(basePath.length + ROOT.length)
            .split("/")
            .slice(1)) {
            expect(plainName(decodeURIComponent(s))).toBe(true);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(NextcloudError);
          expect((err as NextcloudError).kind).toBe("invalid_path");
          return;
        }
        expect(url.origin).toBe(new URL(base).origin);
        const inside = url.pathname.slice(basePath.length);
        expect(inside === ROOT || inside.startsWith(`${ROOT}/`)).toBe(true);
        for (const s of inside.slice(ROOT.length).split("/").slice(1)) {
          expect(plainName(decodeURIComponent(s))).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("a raw path given straight to the guard is refused, or stays under the root as plain names", () => {
    const rawSegment = fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(rawSegment, { maxLength: 10 }), (parts) => {
        const path = `${ROOT}/${parts.join("/")}`;
        let url: URL;
        try {
          url = guardRequest(BASES[0] ?? "", { path, root: ROOT, what: "x" });
        } catch (err) {
          expect((err as NextcloudError).kind).toBe("invalid_path");
          return;
        }
        expect(url.pathname === ROOT || url.pathname.startsWith(`${ROOT}/`)).toBe(true);
        const segs = url.pathname.slice(ROOT.length).split("/").slice(1);
        segs.forEach((s, i) => {
          if (s === "" && i === segs.length - 1) return;
          expect(plainName(decodeURIComponent(s))).toBe(true);
        });
      }),
      { numRuns: 3000 },
    );
  });
});
