// The stand-in's files_sharing app against files_sharing.openapi.json, with real Keycloak tokens:
// every Share API answer in the spec's shape, Nextcloud's refusals, and a share mounted into the
// recipient's WebDAV root with its permissions enforced at the DAV front.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { contractValidators, nextcloudTokens, type UserTokens } from "./support.ts";

const API = "/ocs/v2.php/apps/files_sharing/api/v1";
const { validate, component } = contractValidators();
let alice: UserTokens;
let bob: UserTokens;
let nc: NextcloudStandin;
const uid = (t: UserTokens) => claims(t.nextcloud).sub ?? "";

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  try {
    alice = await nextcloudTokens(browser, DEMO_USERS.alice);
    bob = await nextcloudTokens(browser, DEMO_USERS.bob);
  } finally {
    await browser.close();
  }
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  await nc.seed(uid(alice), { "Shared/a.md": "a" });
  // Provisions bob (user_oidc does on the first bearer request).
  await call(bob, "PROPFIND", `/remote.php/dav/files/${uid(bob)}/`);
});
afterAll(async () => {
  await nc.stop();
});

async function call(
  who: UserTokens,
  method: string,
  path: string,
  body?: Record<string, unknown>,
): Promise<{ status: number; body: { ocs: { meta: { message: string }; data: unknown } } }> {
  const res = await fetch(`${nc.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${who.nextcloud}`,
      "OCS-APIRequest": "true",
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith("{") ? JSON.parse(text) : {}) as never };
}

describe("the OCS Share API of the stand-in", () => {
  it("advertises files_sharing in the spec's Capabilities shape", async () => {
    const r = await call(alice, "GET", "/ocs/v2.php/cloud/capabilities");
    const caps = (r.body.ocs.data as { capabilities: Record<string, unknown> }).capabilities;
    expect(component("files_sharing", "Capabilities", { files_sharing: caps.files_sharing })).toEqual([]);
  });

  it("answers create, list, get, update, delete and the sharee search in the spec's shapes", async () => {
    const created = await call(alice, "POST", `${API}/shares`, {
      path: "/Shared",
      shareType: 0,
      shareWith: uid(bob),
      permissions: 1,
    });
    expect(created.status).toBe(200);
    expect(validate("files_sharing", `${API}/shares`, "post", 200, created.body)).toEqual([]);
    const id = (created.body.ocs.data as { id: string }).id;
    const list = await call(alice, "GET", `${API}/shares?path=%2FShared`);
    expect(validate("files_sharing", `${API}/shares`, "get", 200, list.body)).toEqual([]);
    const got = await call(bob, "GET", `${API}/shares/${id}`);
    expect(validate("files_sharing", `${API}/shares/{id}`, "get", 200, got.body)).toEqual([]);
    expect(got.body.ocs.data).toEqual([expect.objectContaining({ path: "/Shared", "mount-type": "shared" })]);
    const updated = await call(alice, "PUT", `${API}/shares/${id}`, { note: "n", expireDate: "2099-01-01" });
    expect(validate("files_sharing", `${API}/shares/{id}`, "put", 200, updated.body)).toEqual([]);
    expect(updated.body.ocs.data).toMatchObject({ note: "n", expiration: "2099-01-01 00:00:00" });
    const link = await call(alice, "POST", `${API}/shares`, {
      path: "/Shared/a.md",
      shareType: 3,
      password: "pw",
    });
    expect(validate("files_sharing", `${API}/shares`, "post", 200, link.body)).toEqual([]);
    expect(JSON.stringify(link.body)).not.toContain('"pw"');
    const sharees = await call(alice, "GET", `${API}/sharees?search=bob&itemType=folder`);
    expect(validate("files_sharing", `${API}/sharees`, "get", 200, sharees.body)).toEqual([]);
    const deleted = await call(alice, "DELETE", `${API}/shares/${id}`);
    expect(validate("files_sharing", `${API}/shares/{id}`, "delete", 200, deleted.body)).toEqual([]);
  });

  it("refuses like ShareAPIController: wrong path, unknown account, sharing with yourself, another's share", async () => {
    const refuse = async (who: UserTokens, method: string, path: string, body?: Record<string, unknown>) => {
      const r = await call(who, method, path, body);
      return [r.status, r.body.ocs.meta.message];
    };
    expect(
      await refuse(alice, "POST", `${API}/shares`, { path: "/Nope", shareType: 0, shareWith: uid(bob) }),
    ).toEqual([404, "Wrong path, file/folder does not exist"]);
    expect(
      await refuse(alice, "POST", `${API}/shares`, { path: "/Shared", shareType: 0, shareWith: "nobody" }),
    ).toEqual([404, "Please specify a valid account to share with"]);
    expect(
      await refuse(alice, "POST", `${API}/shares`, { path: "/Shared", shareType: 0, shareWith: uid(alice) }),
    ).toEqual([403, "Cannot share with yourself"]);
    expect(await refuse(alice, "POST", `${API}/shares`, { path: "/Shared", shareType: 2 })).toEqual([
      400,
      "Unknown share type",
    ]);
    expect(await refuse(alice, "GET", `${API}/sharees?search=bob`)).toEqual([400, "Missing itemType"]);
    const made = await call(alice, "POST", `${API}/shares`, {
      path: "/Shared",
      shareType: 0,
      shareWith: uid(bob),
    });
    const id = (made.body.ocs.data as { id: string }).id;
    expect(await refuse(bob, "PUT", `${API}/shares/${id}`, { note: "x" })).toEqual([
      403,
      "You are not allowed to edit incoming shares",
    ]);
    expect(await refuse(alice, "GET", `${API}/shares/424242`)).toEqual([
      404,
      "Wrong share ID, share does not exist",
    ]);
    await call(alice, "DELETE", `${API}/shares/${id}`);
  });

  it("mounts a share in bob's files with Nextcloud's permission letters; DELETE on the mount point leaves it", async () => {
    const made = await call(alice, "POST", `${API}/shares`, {
      path: "/Shared",
      shareType: 0,
      shareWith: uid(bob),
      permissions: 1,
    });
    const id = (made.body.ocs.data as { id: string }).id;
    const root = `/remote.php/dav/files/${uid(bob)}`;
    const dav = (method: string, path: string, body?: string) =>
      fetch(`${nc.url}${root}${path}`, {
        method,
        headers: { Authorization: `Bearer ${bob.nextcloud}`, Depth: "0" },
        ...(body === undefined ? {} : { body }),
      });
    const props = await (await dav("PROPFIND", "/Shared")).text();
    expect(props).toMatch(/permissions[^>]*>SMGD</);
    expect((await dav("PUT", "/Shared/b.md", "b")).status).toBe(403);
    expect((await dav("GET", "/Shared/a.md")).status).toBe(200);
    expect((await dav("DELETE", "/Shared")).status).toBe(204);
    expect((await dav("GET", "/Shared/a.md")).status).toBe(404);
    expect((await call(alice, "GET", `${API}/shares/${id}`)).status).toBe(404);
    expect(
      (
        await fetch(`${nc.url}/remote.php/dav/files/${uid(alice)}/Shared/a.md`, {
          headers: { Authorization: `Bearer ${alice.nextcloud}` },
        })
      ).status,
    ).toBe(200);
  });
});
