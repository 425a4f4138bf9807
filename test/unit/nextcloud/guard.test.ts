// The guard in front of every Nextcloud request, from the attacker's side: whatever path or
// Destination reaches send(), nothing leaves the configured origin or the user's DAV root, and a
// refused request sends no byte (the injected fetch is never called).
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { davRoot, guardRequest, refusedRequests } from "../../../src/nextcloud/guard.ts";
import { send } from "../../../src/nextcloud/http.ts";

const BASE = "https://cloud.example.com";
const ROOT = davRoot("files", "alice");

function refusal(base: string, req: Parameters<typeof guardRequest>[1]): NextcloudError {
  try {
    guardRequest(base, req);
  } catch (err) {
    expect(err).toBeInstanceOf(NextcloudError);
    return err as NextcloudError;
  }
  throw new Error(`not refused: ${JSON.stringify(req)}`);
}

describe("davRoot", () => {
  it("names each user's tree as Nextcloud lays it out, the uid encoded", () => {
    expect(davRoot("files", "alice")).toBe("/remote.php/dav/files/alice");
    expect(davRoot("calendars", "a b")).toBe("/remote.php/dav/calendars/a%20b");
    expect(davRoot("addressbooks", "alice")).toBe("/remote.php/dav/addressbooks/users/alice");
    expect(davRoot("trashbin", "alice")).toBe("/remote.php/dav/trashbin/alice");
  });

  it("refuses a uid that is not a plain name", () => {
    for (const uid of ["", ".", "..", "a/b", "%2e%2e"])
      expect(() => davRoot("files", uid)).toThrow(NextcloudError);
  });
});

describe("guardRequest", () => {
  it("passes canonical requests on the configured origin and base path", () => {
    expect(guardRequest(BASE, { path: "/ocs/v2.php/cloud/user?format=json", what: "x" }).href).toBe(
      "https://cloud.example.com/ocs/v2.php/cloud/user?format=json",
    );
    expect(
      guardRequest("https://h.example/nextcloud/", {
        path: `${ROOT}/Documents/a%20b.md`,
        root: ROOT,
        what: "x",
      }).href,
    ).toBe("https://h.example/nextcloud/remote.php/dav/files/alice/Documents/a%20b.md");
    expect(guardRequest(BASE, { path: `${ROOT}/`, root: ROOT, what: "x" }).pathname).toBe(`${ROOT}/`);
    expect(guardRequest(BASE, { path: "/remote.php/dav/", what: "search" }).pathname).toBe(
      "/remote.php/dav/",
    );
  });

  it.each([
    [`${ROOT}/../bob/secret.md`, "bad_segment"],
    [`${ROOT}/%2e%2e/bob`, "bad_segment"],
    [`${ROOT}/%2E%2e/%2e%2e/ocs/v2.php/cloud/users/bob`, "bad_segment"],
    [`${ROOT}/%252e%252e/x`, "bad_segment"],
    [`${ROOT}/a%2fb`, "bad_segment"],
    [`${ROOT}/a%5cb`, "bad_segment"],
    [`${ROOT}/a\\..\\..\\x`, "bad_segment"],
    [`${ROOT}/a//b`, "bad_segment"],
    [`${ROOT}/./a`, "bad_segment"],
    [`${ROOT}/%ef%bc%8e%ef%bc%8e/x`, "bad_segment"],
    [`${ROOT}/%ef%bc%8f`, "bad_segment"],
    [`${ROOT}/a%00b`, "bad_segment"],
    [`${ROOT}/%zz`, "bad_segment"],
    [`${ROOT}/a#frag`, "bad_segment"],
    ["/remote.php/dav/files/bob/secret.md", "outside_root"],
    ["/remote.php/dav/files/alice2/x", "outside_root"],
    ["/remote.php/dav/calendars/alice/", "outside_root"],
    ["/ocs/v2.php/cloud/users/bob", "outside_root"],
    ["//evil.example/x", "bad_segment"],
    ["@evil.example/x", "bad_segment"],
  ])("refuses %j under the user's root (%s)", (path, reason) => {
    const before = refusedRequests()[reason as "bad_segment"];
    const err = refusal(BASE, { path, root: ROOT, what: `file "${path}"` });
    expect(err.kind).toBe("invalid_path");
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^The gateway refused to send the request for file ".*": .*Nothing was sent/);
    expect(err.detail).toBe(`guard: ${reason}`);
    expect(refusedRequests()[reason as "bad_segment"]).toBe(before + 1);
  });

  it("refuses a request into any user's DAV tree that names no root", () => {
    for (const path of [
      "/remote.php/dav/files/alice/x",
      "/remote.php/dav/files",
      "/remote.php/dav/calendars/alice/",
      "/remote.php/dav/addressbooks/users/alice/",
      "/remote.php/dav/trashbin/alice/trash",
      "/remote.php/dav/uploads/alice/1",
      "/remote.php/webdav/x",
      "/remote.php/WEBDAV/x",
    ]) {
      expect(refusal(BASE, { path, what: "x" }).detail).toBe("guard: no_root");
    }
    expect(
      refusal(BASE, { path: "/remote.php/dav/files/alice", root: "/remote.php/dav", what: "x" }).detail,
    ).toBe("guard: no_root");
  });

  it("refuses a path off the base path, or one that resolves to another origin", () => {
    const base = "https://h.example/nextcloud";
    expect(refusal(base, { path: "/../ocs/v2.php/cloud/user", what: "x" }).detail).toBe("guard: off_origin");
    expect(refusal(base, { path: "/%2e%2e/ocs/v2.php/cloud/user", what: "x" }).detail).toBe(
      "guard: off_origin",
    );
    expect(refusal(BASE, { path: "ocs/v2.php", what: "x" }).detail).toBe("guard: bad_segment");
  });

  it("checks the Destination header like the URL, and only allows it inside a user's root", () => {
    const req = (destination: string) => ({
      path: `${ROOT}/a.md`,
      root: ROOT,
      what: "move",
      headers: { Destination: destination },
    });
    expect(() => guardRequest(BASE, req(`${BASE}${ROOT}/b.md`))).not.toThrow();
    expect(refusal(BASE, req(`${BASE}/remote.php/dav/files/bob/b.md`)).detail).toBe("guard: outside_root");
    expect(refusal(BASE, req(`${BASE}${ROOT}/../bob/b.md`)).detail).toBe("guard: bad_segment");
    expect(refusal(BASE, req(`${BASE}${ROOT}/%2e%2e/bob/b.md`)).detail).toBe("guard: bad_segment");
    expect(refusal(BASE, req(`https://evil.example${ROOT}/b.md`)).detail).toBe("guard: off_origin");
    expect(refusal(BASE, req(`${ROOT}/../../../ocs`)).detail).toBe("guard: bad_segment");
    expect(
      refusal(BASE, { path: "/ocs/v2.php/x", what: "x", headers: { destination: `${BASE}${ROOT}/b` } })
        .detail,
    ).toBe("guard: no_root");
  });

  it("is applied by send(): a refused request never reaches fetch", async () => {
    let fetched = 0;
    const client = {
      baseUrl: BASE,
      token: () => "t",
      timeoutMs: 1000,
      fetch: (() => {
        fetched++;
        return Promise.resolve(new Response("ok"));
      }) as typeof fetch,
    };
    await expect(
      send(client, {
        method: "DELETE",
        path: "/remote.php/dav/files/alice/../../../ocs/v2.php/cloud/users/bob",
        what: "x",
      }),
    ).rejects.toMatchObject({ kind: "invalid_path" });
    await expect(
      send(client, {
        method: "MKCOL",
        path: `${ROOT}/x`,
        root: ROOT,
        what: "x",
        headers: { Destination: "/" },
      }),
    ).rejects.toMatchObject({ kind: "invalid_path" });
    expect(fetched).toBe(0);
    await send(client, { method: "GET", path: `${ROOT}/x`, root: ROOT, what: "x" });
    expect(fetched).toBe(1);
  });
});
