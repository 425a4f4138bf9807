// What an operator and a model read when the guard refuses, and the edges of its rules that a
// looser check would let through: a Nextcloud under a base path, the root itself, a lower-case
// `destination` header, relative and absolute targets, and the refusal counter by reason.
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { davRoot, guardRequest, pathRefused, refusedRequests } from "../../../src/nextcloud/guard.ts";

const SUB = "https://cloud.example.com/nextcloud";
const ROOT = davRoot("files", "alice");
const tail = 'Nothing was sent to Nextcloud; use a path inside your own files, e.g. "/Documents/a.md".';

function refused(base: string, req: Parameters<typeof guardRequest>[1]): NextcloudError {
  try {
    guardRequest(base, req);
  } catch (err) {
    expect(err).toBeInstanceOf(NextcloudError);
    return err as NextcloudError;
  }
  throw new Error(`not refused: ${JSON.stringify(req)}`);
}
const message = (why: string) => `The gateway refused to send the request for x: ${why}. ${tail}`;

describe("the guard under a base path (NEXTCLOUD_URL with a path)", () => {
  it("sends below the base path, the root itself included, and keeps the base path in the URL", () => {
    expect(guardRequest(`${SUB}/`, { path: `${ROOT}/a.md`, root: ROOT, what: "x" }).href).toBe(
      `${SUB}${ROOT}/a.md`,
    );
    expect(guardRequest(SUB, { path: ROOT, root: ROOT, what: "x" }).pathname).toBe(`/nextcloud${ROOT}`);
    expect(guardRequest(`${SUB}//`, { path: "/ocs/v2.php/cloud/user", what: "x" }).pathname).toBe(
      "/nextcloud/ocs/v2.php/cloud/user",
    );
  });

  it("finds a user tree below the base path and asks for its root", () => {
    expect(refused(SUB, { path: `${ROOT}/a.md`, what: "x" }).description).toBe(
      message("the request goes into a user's DAV tree without saying whose root it must stay under"),
    );
  });

  it("names each refusal for what it is", () => {
    expect(refused(SUB, { path: "a.md", what: "x" }).description).toBe(
      message('the request path does not start with "/"'),
    );
    expect(refused(SUB, { path: `${ROOT}/a.md`, root: "/remote.php/dav/files", what: "x" }).description).toBe(
      message('"/remote.php/dav/files" is not a user\'s DAV root'),
    );
    expect(refused(SUB, { path: `${davRoot("files", "bob")}/a.md`, root: ROOT, what: "x" }).description).toBe(
      message("the path leaves your own Nextcloud folder"),
    );
    expect(
      refused(SUB, { path: "/ocs/v2.php/x", headers: { Destination: `${SUB}${ROOT}/b` }, what: "x" })
        .description,
    ).toBe(message("a Destination is only allowed inside a user's DAV tree"));
    expect(
      refused(SUB, {
        path: `${ROOT}/a.md`,
        root: ROOT,
        headers: { Destination: `${SUB}${davRoot("files", "bob")}/a.md` },
        what: "x",
      }).description,
    ).toBe(message("the destination leaves your own Nextcloud folder"));
    expect(
      refused(SUB, {
        path: `${ROOT}/a.md`,
        root: ROOT,
        headers: { Destination: "https://evil.example/x" },
        what: "x",
      }).description,
    ).toBe(message("the destination leaves the configured Nextcloud"));
    expect(refused(SUB, { path: `${ROOT}/./a.md`, root: ROOT, what: "x" }).description).toBe(
      message("the request is not in canonical form (dot segments or backslashes)"),
    );
  });
});

describe("Destination", () => {
  it("is read whatever the header's case, and may be a path below the base path", () => {
    const lower = refused(SUB, {
      path: `${ROOT}/a.md`,
      root: ROOT,
      headers: { "content-type": "text/plain", destination: `${SUB}${davRoot("files", "bob")}/a.md` },
      what: "x",
    });
    expect(lower.description).toBe(message("the destination leaves your own Nextcloud folder"));
    // Other headers are not a destination.
    expect(
      guardRequest(SUB, { path: `${ROOT}/a.md`, root: ROOT, headers: { "content-type": "a:b" }, what: "x" })
        .pathname,
    ).toBe(`/nextcloud${ROOT}/a.md`);
    // A Destination may be the root itself (a move into the top folder is to "<root>/name", never the
    // root, but the rule is the same as for the URL) or a path below the base path.
    expect(() =>
      guardRequest(SUB, {
        path: `${ROOT}/a.md`,
        root: ROOT,
        headers: { Destination: `${ROOT}/b.md` },
        what: "x",
      }),
    ).not.toThrow();
    expect(() =>
      guardRequest(SUB, {
        path: `${ROOT}/a.md`,
        root: ROOT,
        headers: { Destination: `${SUB}${ROOT}` },
        what: "x",
      }),
    ).not.toThrow();
  });

  it("takes a scheme only at the start of a Destination, and never for the request path", () => {
    expect(refused(SUB, { path: "https://evil.example/x", what: "x" }).description).toBe(
      message('the request path does not start with "/"'),
    );
    expect(
      refused(SUB, { path: `${ROOT}/a.md`, root: ROOT, headers: { Destination: "b/https://x" }, what: "x" })
        .description,
    ).toBe(message('the destination path does not start with "/"'));
  });
});

describe("the refusal counter", () => {
  it("counts each refusal under its reason", () => {
    const before = refusedRequests();
    pathRefused("path", "../x", 'contains ".."');
    refused(SUB, { path: "a.md", what: "x" });
    refused(SUB, { path: `${davRoot("files", "bob")}/a`, root: ROOT, what: "x" });
    const after = refusedRequests();
    expect(after.bad_path - before.bad_path).toBe(1);
    expect(after.bad_segment - before.bad_segment).toBe(1);
    expect(after.outside_root - before.outside_root).toBe(1);
    expect(after.off_origin - before.off_origin).toBe(0);
  });

  it("words a refused user path with the field and says nothing was done", () => {
    expect(pathRefused("to", "a/../b", 'contains ".."').description).toBe(
      'The to "a/../b" contains ".."; nothing was done.',
    );
  });
});

describe("the shapes of roots and user trees", () => {
  it("accepts only a root made by davRoot, anchored at both ends", () => {
    for (const root of [`${ROOT}/sub`, `/x${ROOT}`]) {
      expect(refused(SUB, { path: `${ROOT}/sub/a`, root, what: "x" }).description).toBe(
        message(`"${root}" is not a user's DAV root`),
      );
    }
  });

  it("counts as a user tree only what starts with it, the legacy /webdav without a slash too", () => {
    expect(guardRequest(SUB, { path: "/apps/x/remote.php/dav/files/a", what: "x" }).pathname).toBe(
      "/nextcloud/apps/x/remote.php/dav/files/a",
    );
    expect(refused(SUB, { path: "/remote.php/webdav", what: "x" }).description).toBe(
      message("the request goes into a user's DAV tree without saying whose root it must stay under"),
    );
  });

  it("names a malformed escape and an encoded separator in a name", () => {
    expect(refused(SUB, { path: `${ROOT}/%E0%A4%A`, root: ROOT, what: "x" }).description).toBe(
      message("the request has a malformed percent-escape"),
    );
    expect(refused(SUB, { path: `${ROOT}/a%2Fb`, root: ROOT, what: "x" }).description).toBe(
      message('a name in the request has a "/" inside a name'),
    );
  });

  it("treats the base URL itself as on the configured Nextcloud, but outside any user's root", () => {
    expect(
      refused(SUB, { path: `${ROOT}/a.md`, root: ROOT, headers: { Destination: SUB }, what: "x" })
        .description,
    ).toBe(message("the destination leaves your own Nextcloud folder"));
  });
});
