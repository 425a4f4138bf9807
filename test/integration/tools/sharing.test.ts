// The sharing tools end to end: real sign-in, the real Keycloak token exchange, the stand-in's
// files_sharing app. What users notice: alice shares a folder with bob and bob sees it in his files,
// reads it, may write only what the share allows, and loses it when the share goes; public links
// carry a password that is never shown again; the administrator's policy is explained.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SharingApp } from "../../standin/apps/sharing.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

const TOOLS = ["sharing_create", "sharing_delete", "sharing_find_sharees", "sharing_list", "sharing_update"];

interface Share {
  id: string;
  type: string;
  path: string | null;
  itemType: string;
  owner: string;
  ownerName: string;
  sharedWith: string | null;
  sharedWithName: string | null;
  permissions: string[];
  expires: string | null;
  note: string;
  url: string | null;
  passwordProtected: boolean;
}
interface Listed {
  shares: Share[];
  total: number;
}
interface Entry {
  name: string;
  path: string;
  type: string;
  permissions: string | null;
}

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

function helpers(scene: () => NextcloudScene) {
  return {
    ok: async <T>(as: string, name: string, args: Record<string, unknown> = {}): Promise<T> => {
      const r = await scene().call(as, name, args);
      expect(r.isError, r.content[0]?.text).toBeFalsy();
      return r.structuredContent as T;
    },
    fails: async (as: string, name: string, args: Record<string, unknown>): Promise<string> => {
      const r: ToolResult = await scene().call(as, name, args);
      expect(r.isError, JSON.stringify(r.structuredContent)).toBe(true);
      return r.content[0]?.text ?? "";
    },
  };
}

describe("sharing between alice and bob", () => {
  let scene: NextcloudScene;
  let alice: string;
  let bob: string;
  let aliceUid: string;
  let bobUid: string;
  const { ok, fails } = helpers(() => scene);
  const bobsTop = async () =>
    (await ok<{ items: Entry[] }>(bob, "files_list", { path: "/" })).items.map((e) => e.name);

  beforeAll(async () => {
    scene = await startNextcloudScene();
    alice = await scene.signIn("alice");
    bob = await scene.signIn("bob");
    aliceUid = claims(alice).sub ?? "";
    bobUid = claims(bob).sub ?? "";
    await scene.standin.seed(aliceUid, {
      "Project/plan.md": "# The plan\n",
      "Project/budget.txt": "42",
      "Documents/report.md": "report",
      "Private/diary.md": "secret",
    });
    await scene.standin.seed(bobUid, { "bob.md": "bob's own" });
    // user_oidc provisions bob on his first request: only then can alice find and share with him.
    expect(await bobsTop()).toEqual(["bob.md"]);
  });
  afterAll(async () => {
    await scene.stop();
  });

  it("lists the sharing tools", async () => {
    expect((await scene.listTools(alice)).filter((t) => t.startsWith("sharing_")).sort()).toEqual(TOOLS);
  });

  it("finds bob by his display name, a group by its name, and never alice herself", async () => {
    const { sharees } = await ok<{ sharees: { type: string; shareWith: string; label: string }[] }>(
      alice,
      "sharing_find_sharees",
      { search: "Bob", itemType: "folder" },
    );
    expect(sharees).toContainEqual(
      expect.objectContaining({ type: "user", shareWith: bobUid, label: "Bob Demo" }),
    );
    const demo = await ok<{ sharees: { shareWith: string }[] }>(alice, "sharing_find_sharees", {
      search: "Demo",
    });
    expect(demo.sharees.map((s) => s.shareWith)).toEqual([bobUid]);
    const staff = await ok<{ sharees: { type: string; shareWith: string }[] }>(
      alice,
      "sharing_find_sharees",
      {
        search: "staff",
      },
    );
    expect(staff.sharees).toContainEqual(expect.objectContaining({ type: "group", shareWith: "staff" }));
    const mail = await ok<{ sharees: { type: string; shareWith: string }[] }>(alice, "sharing_find_sharees", {
      search: "carol@example.org",
    });
    expect(mail.sharees).toEqual([
      expect.objectContaining({ type: "email", shareWith: "carol@example.org" }),
    ]);
  });

  let shareId = "";

  it("shares a folder read-only with bob: he lists and reads it, his writes are refused like Nextcloud's 403", async () => {
    const { share } = await ok<{ share: Share }>(alice, "sharing_create", {
      path: "/Project",
      type: "user",
      shareWith: bobUid,
      permissions: ["read"],
      note: "have a look",
    });
    shareId = share.id;
    expect(share).toMatchObject({
      type: "user",
      path: "/Project",
      itemType: "folder",
      sharedWith: bobUid,
      sharedWithName: "Bob Demo",
      permissions: ["read"],
      note: "have a look",
      url: null,
    });

    expect((await bobsTop()).sort()).toEqual(["Project", "bob.md"]);
    const inside = await ok<{ items: Entry[] }>(bob, "files_list", { path: "/Project" });
    expect(inside.items.map((e) => e.name).sort()).toEqual(["budget.txt", "plan.md"]);
    expect(inside.items.find((e) => e.name === "plan.md")?.permissions).toBe("SMG");
    const read = await ok<{ content: string }>(bob, "files_read", { path: "/Project/plan.md" });
    expect(read.content).toBe("# The plan\n");

    expect(await fails(bob, "files_write", { path: "/Project/new.md", content: "x" })).toMatch(/permission/i);
    expect(await fails(bob, "files_write", { path: "/Project/plan.md", content: "x" })).toMatch(
      /permission/i,
    );
    expect(await fails(bob, "files_delete", { path: "/Project/budget.txt" })).toMatch(/permission/i);
    expect(await readdir(join(scene.standin.filesRoot(aliceUid), "Project"))).toEqual([
      "budget.txt",
      "plan.md",
    ]);
    expect(await readFile(join(scene.standin.filesRoot(aliceUid), "Project/plan.md"), "utf8")).toBe(
      "# The plan\n",
    );

    // Nothing else of alice's is visible to bob.
    expect(await fails(bob, "files_read", { path: "/Private/diary.md" })).toMatch(/not found|no file/i);
    const received = await ok<Listed>(bob, "sharing_list", { sharedWithMe: true });
    expect(received.shares).toEqual([
      expect.objectContaining({ id: shareId, path: "/Project", owner: aliceUid, ownerName: "Alice Demo" }),
    ]);
  });

  it("lists alice's shares, of a path and of a folder's items, and one by id", async () => {
    const mine = await ok<Listed>(alice, "sharing_list");
    expect(mine.shares.map((s) => s.id)).toEqual([shareId]);
    expect((await ok<Listed>(alice, "sharing_list", { path: "/Project" })).shares.map((s) => s.id)).toEqual([
      shareId,
    ]);
    expect((await ok<Listed>(alice, "sharing_list", { path: "/Documents" })).shares).toEqual([]);
    expect(
      (await ok<Listed>(alice, "sharing_list", { path: "/", subfiles: true })).shares.map((s) => s.path),
    ).toEqual(["/Project"]);
    expect((await ok<Listed>(alice, "sharing_list", { id: shareId })).shares[0]?.note).toBe("have a look");
    expect(await fails(alice, "sharing_list", { path: "/Nope" })).toMatch(/No file or folder at \/Nope/);
    expect(await fails(alice, "sharing_list", { id: "99999" })).toMatch(/No share with id 99999/);
  });

  it("widens the permissions: bob's write then lands in alice's folder; narrowing them refuses it again", async () => {
    const { share } = await ok<{ share: Share }>(alice, "sharing_update", {
      id: shareId,
      permissions: ["read", "update", "create"],
    });
    expect(share.permissions).toEqual(["read", "update", "create"]);
    await ok(bob, "files_write", { path: "/Project/from-bob.md", content: "hello alice" });
    expect(await readFile(join(scene.standin.filesRoot(aliceUid), "Project/from-bob.md"), "utf8")).toBe(
      "hello alice",
    );
    // Delete is still not granted.
    expect(await fails(bob, "files_delete", { path: "/Project/from-bob.md" })).toMatch(/permission/i);

    await ok(alice, "sharing_update", { id: shareId, permissions: ["read"] });
    expect(await fails(bob, "files_write", { path: "/Project/from-bob.md", content: "again" })).toMatch(
      /permission/i,
    );
    expect(await readFile(join(scene.standin.filesRoot(aliceUid), "Project/from-bob.md"), "utf8")).toBe(
      "hello alice",
    );
  });

  it("changes the note and expiry; refuses a past or malformed date before any request", async () => {
    const later = inDays(20);
    const { share } = await ok<{ share: Share }>(alice, "sharing_update", {
      id: shareId,
      expireDate: later,
      note: "v2",
    });
    expect(share).toMatchObject({ expires: later, note: "v2" });
    scene.standin.resetRequests();
    expect(await fails(alice, "sharing_update", { id: shareId, expireDate: "2020-01-01" })).toMatch(
      /in the past/,
    );
    expect(await fails(alice, "sharing_update", { id: shareId, expireDate: "2031-02-30" })).toMatch(
      /YYYY-MM-DD/,
    );
    expect(scene.standin.requests().filter((r) => r.method === "PUT")).toEqual([]);
    const cleared = await ok<{ share: Share }>(alice, "sharing_update", { id: shareId, expireDate: null });
    expect(cleared.share.expires).toBeNull();
  });

  it("does not let bob change alice's share, nor share with an unknown account", async () => {
    expect(await fails(bob, "sharing_update", { id: shareId, note: "mine now" })).toMatch(/only its owner/);
    expect(
      await fails(alice, "sharing_create", { path: "/Documents", type: "user", shareWith: "Bob" }),
    ).toMatch(/No account "Bob".*sharing_find_sharees/);
    expect(await fails(alice, "sharing_create", { path: "/Nope", type: "user", shareWith: bobUid })).toMatch(
      /No file or folder at \/Nope/,
    );
    expect(
      await fails(alice, "sharing_create", { path: "/Project", type: "user", shareWith: bobUid }),
    ).toMatch(/already shared/);
  });

  it("deletes the share: the folder is gone from bob's files, alice's stays", async () => {
    await ok(alice, "sharing_delete", { id: shareId });
    expect(await bobsTop()).toEqual(["bob.md"]);
    expect(await fails(bob, "files_read", { path: "/Project/plan.md" })).toMatch(/not found|no file/i);
    expect((await ok<Listed>(bob, "sharing_list", { sharedWithMe: true })).shares).toEqual([]);
    expect((await readdir(join(scene.standin.filesRoot(aliceUid), "Project"))).sort()).toEqual([
      "budget.txt",
      "from-bob.md",
      "plan.md",
    ]);
  });

  it("shares with a group: bob, a member, sees it; leaving it removes it only for him", async () => {
    const { share } = await ok<{ share: Share }>(alice, "sharing_create", {
      path: "/Documents",
      type: "group",
      shareWith: "staff",
    });
    expect(share).toMatchObject({ type: "group", sharedWith: "staff", sharedWithName: "Staff" });
    expect(share.permissions).toEqual(["read", "update", "create", "delete", "share"]);
    expect(await bobsTop()).toContain("Documents");
    await ok(bob, "sharing_delete", { id: share.id });
    expect(await bobsTop()).not.toContain("Documents");
    expect((await ok<Listed>(alice, "sharing_list", { path: "/Documents" })).shares.map((s) => s.id)).toEqual(
      [share.id],
    );
    await ok(alice, "sharing_delete", { id: share.id });
  });

  it("makes a public link with password and expiry: the url comes back, the password never does", async () => {
    const password = "Correct-Horse-42";
    const expires = inDays(10);
    const r = await scene.call(alice, "sharing_create", {
      path: "/Documents/report.md",
      type: "link",
      password,
      expireDate: expires,
      label: "for the board",
    });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const { share } = r.structuredContent as unknown as { share: Share };
    expect(share).toMatchObject({
      type: "link",
      sharedWith: null,
      passwordProtected: true,
      expires,
      itemType: "file",
    });
    expect(share.url).toMatch(new RegExp(`^${scene.standin.url}/index\\.php/s/[A-Za-z0-9]{15}$`));
    const stored = scene.standin.app<SharingApp>("files_sharing").store.shares.get(Number(share.id));
    expect(stored?.passwordHash).toMatch(/^3\|\$argon2id\$/);
    const listed = await scene.call(alice, "sharing_list", { path: "/Documents/report.md" });
    for (const answer of [r, listed]) {
      const all = JSON.stringify(answer);
      expect(all).not.toContain(password);
      expect(all).not.toContain("argon2");
    }
    expect(
      await fails(alice, "sharing_create", { path: "/Documents", type: "user", shareWith: bobUid, password }),
    ).toMatch(/Only links and email shares take a password/);

    const { share: open } = await ok<{ share: Share }>(alice, "sharing_update", {
      id: share.id,
      password: null,
    });
    expect(open.passwordProtected).toBe(false);
    const { share: again } = await ok<{ share: Share }>(alice, "sharing_update", {
      id: share.id,
      password: "N3w-pass-word",
    });
    expect(again.passwordProtected).toBe(true);
    await ok(alice, "sharing_delete", { id: share.id });
  });

  it("shares by email", async () => {
    const { share } = await ok<{ share: Share }>(alice, "sharing_create", {
      path: "/Documents/report.md",
      type: "email",
      shareWith: "carol@example.org",
    });
    expect(share).toMatchObject({ type: "email", sharedWith: "carol@example.org", permissions: ["read"] });
    await ok(alice, "sharing_delete", { id: share.id });
  });

  it("refuses a path that could leave the user's root before any request", async () => {
    scene.standin.resetRequests();
    expect(await fails(alice, "sharing_list", { path: "/Documents/../../x" })).toMatch(/nothing was done/);
    expect(await fails(alice, "sharing_create", { path: "%2e%2e/x", type: "link" })).toMatch(
      /nothing was done/,
    );
    expect(scene.standin.requests().filter((q) => q.rawPath.includes("files_sharing"))).toEqual([]);
  });

  it("works in strict CORS mode too: the Share API is OCS, never refused by the CORS rule", async () => {
    scene.standin.setCorsMode("strict");
    try {
      expect((await ok<Listed>(alice, "sharing_list")).total).toBe(0);
    } finally {
      scene.standin.setCorsMode("honour-header");
    }
  });
});

describe("the administrator's sharing policy", () => {
  let scene: NextcloudScene;
  let alice: string;
  let bob: string;
  const { ok, fails } = helpers(() => scene);

  beforeAll(async () => {
    scene = await startNextcloudScene();
    // Set before the gateway first reads the capabilities, which it caches per user for a minute.
    scene.standin.app<SharingApp>("files_sharing").setPolicy({
      linkPasswordEnforced: true,
      linkExpiry: { enabled: true, enforced: true, days: 30 },
      groupSharing: false,
    });
    alice = await scene.signIn("alice");
    bob = await scene.signIn("bob");
    scene.standin.setAppEnabled(claims(bob).sub ?? "", "files_sharing", false);
    await scene.standin.seed(claims(alice).sub ?? "", { "Documents/report.md": "report" });
  });
  afterAll(async () => {
    await scene.stop();
  });

  it("refuses a link without a password, naming the setting, before any request", async () => {
    scene.standin.resetRequests();
    expect(await fails(alice, "sharing_create", { path: "/Documents", type: "link" })).toMatch(
      /requires a password on public links/,
    );
    expect(scene.standin.requests().filter((q) => q.method === "POST")).toEqual([]);
  });

  it("refuses an expiry beyond the enforced maximum; gives a link without one the default", async () => {
    expect(
      await fails(alice, "sharing_create", {
        path: "/Documents",
        type: "link",
        password: "pw-123456",
        expireDate: inDays(60),
      }),
    ).toMatch(/at most 30 days/);
    const { share } = await ok<{ share: Share }>(alice, "sharing_create", {
      path: "/Documents",
      type: "link",
      password: "pw-123456",
    });
    expect(share.expires).toBe(inDays(30));
    expect(await fails(alice, "sharing_update", { id: share.id, password: null })).toMatch(
      /cannot be removed/,
    );
  });

  it("refuses group shares when group sharing is off", async () => {
    expect(
      await fails(alice, "sharing_create", { path: "/Documents", type: "group", shareWith: "staff" }),
    ).toMatch(/Sharing with groups is turned off/);
  });

  it("passes Nextcloud's own refusal on when the policy changed after the gateway read it", async () => {
    scene.standin.app<SharingApp>("files_sharing").setPolicy({ linksEnabled: false });
    expect(
      await fails(alice, "sharing_create", {
        path: "/Documents/report.md",
        type: "link",
        password: "pw-123456",
      }),
    ).toMatch(/Public link sharing is disabled by the administrator/);
  });

  it("hides the sharing tools from a user who does not have the app", async () => {
    const names = await scene.listTools(bob);
    expect(names.filter((n) => n.startsWith("sharing_"))).toEqual([]);
    expect(names).toContain("files_list");
  });
});
