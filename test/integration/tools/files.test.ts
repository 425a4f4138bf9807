// The files tools end to end: MCP token -> gateway -> real Keycloak exchange -> Nextcloud stand-in's
// WebDAV, as alice and bob, asserting what the user sees and what ends up on disk.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NextcloudStandin } from "../../standin/index.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { audiences, claims } from "../support/oauth.ts";

let scene: NextcloudScene;
let standin: NextcloudStandin;
let alice: string;
let bob: string;
let aliceUid: string;
let bobUid: string;

const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
]);
const BIG = "x".repeat(300 * 1024);

beforeAll(async () => {
  scene = await startNextcloudScene();
  standin = scene.standin;
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  aliceUid = claims(alice).sub ?? "";
  bobUid = claims(bob).sub ?? "";
  expect(bobUid).not.toBe(aliceUid);
  await standin.seed(aliceUid, {
    "Documents/a.md": "# Alpha\n\nfirst file\n",
    "Documents/b.txt": "bravo",
    "Documents/Sub/c.md": "charlie",
    "Photos/pic.png": PNG,
    "data.bin": new Uint8Array([0x41, 0x42, 0, 0x43]),
    "big.txt": BIG,
    "Reports/Quarterly-Report.md": "q1",
    "Reports/Annual report.md": "2025",
    "Reports/old/report-2019.md": "old",
    "Private/alice-secret.md": "only alice may read this",
  });
  await standin.seed(bobUid, { "bob-notes.md": "bob's own file" });
});
afterAll(async () => {
  await scene.stop();
});

const call = (token: string, name: string, args: Record<string, unknown> = {}) =>
  scene.call(token, name, args);
const asAlice = (name: string, args: Record<string, unknown> = {}) => call(alice, name, args);

function ok(r: ToolResult): Record<string, unknown> {
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent ?? {};
}
function failed(r: ToolResult): string {
  expect(r.isError).toBe(true);
  return r.content[0]?.text ?? "";
}
const onDisk = (uid: string, path: string) => readFile(join(standin.filesRoot(uid), path), "utf8");
const exists = (uid: string, path: string) =>
  readFile(join(standin.filesRoot(uid), path)).then(
    () => true,
    () => false,
  );
interface Entry {
  name: string;
  path: string;
  type: string;
  size: number;
  etag: string | null;
}
const items = (o: Record<string, unknown>) => o.items as Entry[];

describe("files tools: reading", () => {
  it("are all listed for a user who granted mcp:tools and mcp:write", async () => {
    const names = await scene.listTools(alice);
    for (const t of [
      "files_list",
      "files_stat",
      "files_read",
      "files_search",
      "files_write",
      "files_mkdir",
      "files_move",
      "files_copy",
      "files_delete",
    ]) {
      expect(names).toContain(t);
    }
  });

  it("files_list shows a folder's entries, folders first, with their details, in pages", async () => {
    const all = ok(await asAlice("files_list", { path: "/Documents" }));
    expect(all.total).toBe(3);
    expect(all.nextOffset).toBeNull();
    expect(items(all).map((e) => [e.name, e.type])).toEqual([
      ["Sub", "folder"],
      ["a.md", "file"],
      ["b.txt", "file"],
    ]);
    expect(items(all)[1]).toMatchObject({
      path: "/Documents/a.md",
      size: Buffer.byteLength("# Alpha\n\nfirst file\n"),
      modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      etag: expect.any(String) as unknown,
      fileId: expect.any(Number) as unknown,
      permissions: expect.stringContaining("W") as unknown,
      contentType: "text/markdown",
    });

    const r = await asAlice("files_list", { path: "Documents", offset: 1, limit: 1 });
    const page = ok(r);
    expect(items(page).map((e) => e.name)).toEqual(["a.md"]);
    expect(page).toMatchObject({ total: 3, offset: 1, nextOffset: 2 });
    expect(r.content[0]?.text).toContain("call files_list again with offset 2");
  });

  it("files_list says what to do for a missing folder or a file", async () => {
    expect(failed(await asAlice("files_list", { path: "/Nope" }))).toBe(
      "No folder at /Nope; use files_list on / to see what is there.",
    );
    expect(failed(await asAlice("files_list", { path: "/Documents/a.md" }))).toMatch(
      /^\/Documents\/a\.md is a file, not a folder; use files_read/,
    );
  });

  it("files_stat gives one item's details and names the parent folder when it is missing", async () => {
    const st = ok(await asAlice("files_stat", { path: "Documents/./a.md" }));
    expect(st).toMatchObject({ path: "/Documents/a.md", name: "a.md", type: "file", size: 20 });
    const dir = ok(await asAlice("files_stat", { path: "/Documents/" }));
    expect(dir).toMatchObject({ path: "/Documents", type: "folder", contentType: null });
    expect(failed(await asAlice("files_stat", { path: "/Documents/zzz.md" }))).toBe(
      "No file or folder at /Documents/zzz.md; use files_list on /Documents to see what is there.",
    );
  });

  it("files_read returns a text file's content and the etag to write it back with", async () => {
    const r = await asAlice("files_read", { path: "/Documents/a.md" });
    const read = ok(r);
    const st = ok(await asAlice("files_stat", { path: "/Documents/a.md" }));
    expect(read).toMatchObject({
      path: "/Documents/a.md",
      binary: false,
      content: "# Alpha\n\nfirst file\n",
      etag: st.etag,
      uri: "nextcloud://files/Documents/a.md",
    });
    expect(r.content).toHaveLength(1);
    expect(r.content[0]?.text).toContain("first file");
  });

  it("files_read returns a binary file as a resource link, by MIME type or by a NUL byte", async () => {
    const png = await asAlice("files_read", { path: "/Photos/pic.png" });
    expect(ok(png)).toMatchObject({ binary: true, content: null, contentType: "image/png" });
    expect(png.content[1]).toEqual({
      type: "resource_link",
      uri: "nextcloud://files/Photos/pic.png",
      name: "pic.png",
      mimeType: "image/png",
      size: PNG.byteLength,
    });
    expect(png.content[0]?.text).toMatch(/binary file.*not shown/);

    const bin = await asAlice("files_read", { path: "/data.bin" });
    expect(ok(bin)).toMatchObject({ binary: true, content: null, size: 4 });
    expect(bin.content[1]).toMatchObject({ type: "resource_link", uri: "nextcloud://files/data.bin" });
  });

  it("files_read refuses a text file larger than maxBytes, saying how to read it", async () => {
    const text = failed(await asAlice("files_read", { path: "/big.txt" }));
    expect(text).toBe(
      `/big.txt is 300 KiB, more than maxBytes (256 KiB); nothing was returned. To read it, call files_read again with maxBytes ${String(BIG.length)}.`,
    );
    const read = ok(await asAlice("files_read", { path: "/big.txt", maxBytes: BIG.length }));
    expect(read.content).toBe(BIG);
    expect(failed(await asAlice("files_read", { path: "/big.txt", maxBytes: 3 * 1024 * 1024 }))).toMatch(
      /maxBytes/,
    );
    expect(failed(await asAlice("files_read", { path: "/Documents" }))).toBe(
      "/Documents is a folder; use files_list to see what is in it.",
    );
  });

  it("files_search finds names containing the text, in a folder and below, with a limit", async () => {
    const all = ok(await asAlice("files_search", { query: "REPORT" }));
    // DAV SEARCH promises no order.
    expect(
      items(all)
        .map((e) => e.path)
        .sort(),
    ).toEqual([
      "/Reports",
      "/Reports/Annual report.md",
      "/Reports/Quarterly-Report.md",
      "/Reports/old/report-2019.md",
    ]);
    expect(all.more).toBe(false);
    const scoped = ok(await asAlice("files_search", { query: "report", folder: "Reports/old" }));
    expect(items(scoped).map((e) => e.path)).toEqual(["/Reports/old/report-2019.md"]);
    const limited = ok(await asAlice("files_search", { query: "report", limit: 2 }));
    expect(items(limited)).toHaveLength(2);
    expect(limited.more).toBe(true);
    const none = await asAlice("files_search", { query: "no-such-name" });
    expect(ok(none).items).toEqual([]);
    expect(none.content[0]?.text).toBe('No file or folder name contains "no-such-name".');
  });
});

describe("files tools: changing", () => {
  it("files_write creates and overwrites text files", async () => {
    const first = ok(await asAlice("files_write", { path: "/Documents/new.md", content: "héllo" }));
    expect(first).toMatchObject({ path: "/Documents/new.md", created: true, size: 6 });
    expect(first.etag).toEqual(expect.any(String));
    expect(await onDisk(aliceUid, "Documents/new.md")).toBe("héllo");
    const second = ok(await asAlice("files_write", { path: "Documents/new.md", content: "hello again" }));
    expect(second.created).toBe(false);
    expect(second.etag).not.toBe(first.etag);
    expect(await onDisk(aliceUid, "Documents/new.md")).toBe("hello again");
  });

  it("files_write with the current etag updates; with a stale etag changes nothing and gives the current one", async () => {
    await standin.seed(aliceUid, { "Documents/etag.md": "v1" });
    const v1 = ok(await asAlice("files_read", { path: "/Documents/etag.md" }));
    const v2 = ok(await asAlice("files_write", { path: "/Documents/etag.md", content: "v2", etag: v1.etag }));
    expect(await onDisk(aliceUid, "Documents/etag.md")).toBe("v2");

    const text = failed(
      await asAlice("files_write", {
        path: "/Documents/etag.md",
        content: "v3 from a stale read",
        etag: v1.etag,
      }),
    );
    expect(await onDisk(aliceUid, "Documents/etag.md")).toBe("v2");
    const now = ok(await asAlice("files_stat", { path: "/Documents/etag.md" }));
    expect(now.etag).toBe(v2.etag);
    expect(text).toBe(
      `The file changed since you read it (current etag ${String(now.etag)}); nothing was written. Read it again with files_read and retry with the new etag.`,
    );
  });

  it("files_write with createOnly never overwrites", async () => {
    const text = failed(
      await asAlice("files_write", { path: "/Documents/b.txt", content: "replaced", createOnly: true }),
    );
    expect(text).toMatch(
      /^A file already exists at \/Documents\/b\.txt \(current etag \w+\); nothing was written\./,
    );
    expect(await onDisk(aliceUid, "Documents/b.txt")).toBe("bravo");
    const fresh = ok(
      await asAlice("files_write", { path: "/Documents/fresh.md", content: "new", createOnly: true }),
    );
    expect(fresh.created).toBe(true);
    expect(
      failed(await asAlice("files_write", { path: "/x.md", content: "", etag: "abc", createOnly: true })),
    ).toMatch(/either etag .* or createOnly/);
  });

  it("files_write into a missing folder says to create it first", async () => {
    expect(failed(await asAlice("files_write", { path: "/Nowhere/deep/a.md", content: "x" }))).toBe(
      "The parent folder /Nowhere/deep does not exist; create it with files_mkdir first.",
    );
    expect(await exists(aliceUid, "Nowhere")).toBe(false);
  });

  it("files_mkdir creates a folder, is a no-op when it exists, and needs the parent", async () => {
    const made = ok(await asAlice("files_mkdir", { path: "/Projects" }));
    expect(made).toMatchObject({ created: true, item: { path: "/Projects", type: "folder" } });
    expect(ok(await asAlice("files_mkdir", { path: "Projects/" })).created).toBe(false);
    expect(failed(await asAlice("files_mkdir", { path: "/Missing/Child" }))).toBe(
      "The parent folder /Missing does not exist; create it with files_mkdir first.",
    );
    expect(failed(await asAlice("files_mkdir", { path: "/Documents/b.txt" }))).toMatch(
      /^A file already exists at \/Documents\/b\.txt/,
    );
  });

  it("files_move renames, refuses an existing target unless overwrite is true", async () => {
    await standin.seed(aliceUid, { "Move/one.md": "one", "Move/two.md": "two" });
    const moved = ok(await asAlice("files_move", { from: "/Move/one.md", to: "/Move/uno.md" }));
    expect(moved).toMatchObject({ from: "/Move/one.md", item: { path: "/Move/uno.md", type: "file" } });
    expect(await exists(aliceUid, "Move/one.md")).toBe(false);
    expect(await onDisk(aliceUid, "Move/uno.md")).toBe("one");

    expect(failed(await asAlice("files_move", { from: "/Move/uno.md", to: "/Move/two.md" }))).toBe(
      "A file already exists at /Move/two.md; nothing was moved. Pass overwrite: true to replace it (what is there now is lost), or choose another name.",
    );
    expect(await onDisk(aliceUid, "Move/two.md")).toBe("two");
    expect(await onDisk(aliceUid, "Move/uno.md")).toBe("one");
    ok(await asAlice("files_move", { from: "/Move/uno.md", to: "/Move/two.md", overwrite: true }));
    expect(await onDisk(aliceUid, "Move/two.md")).toBe("one");

    expect(failed(await asAlice("files_move", { from: "/Move/gone.md", to: "/Move/x.md" }))).toBe(
      "No file or folder at /Move/gone.md; use files_list on /Move to see what is there.",
    );
    expect(failed(await asAlice("files_move", { from: "/Move", to: "/Move/inside" }))).toMatch(/into itself/);
  });

  it("files_copy copies, refuses an existing target unless overwrite is true, and needs the target folder", async () => {
    await standin.seed(aliceUid, { "Copy/src.md": "source", "Copy/dst.md": "target" });
    const copied = ok(await asAlice("files_copy", { from: "/Copy/src.md", to: "/Copy/new.md" }));
    expect(copied).toMatchObject({ from: "/Copy/src.md", item: { path: "/Copy/new.md" } });
    expect(await onDisk(aliceUid, "Copy/new.md")).toBe("source");
    expect(await onDisk(aliceUid, "Copy/src.md")).toBe("source");

    expect(failed(await asAlice("files_copy", { from: "/Copy/src.md", to: "/Copy/dst.md" }))).toMatch(
      /^A file already exists at \/Copy\/dst\.md; nothing was copied\. Pass overwrite: true/,
    );
    expect(await onDisk(aliceUid, "Copy/dst.md")).toBe("target");
    ok(await asAlice("files_copy", { from: "/Copy/src.md", to: "/Copy/dst.md", overwrite: true }));
    expect(await onDisk(aliceUid, "Copy/dst.md")).toBe("source");

    expect(failed(await asAlice("files_copy", { from: "/Copy/src.md", to: "/NoFolder/x.md" }))).toBe(
      "The folder /NoFolder does not exist; create it with files_mkdir first.",
    );
  });

  it("files_delete deletes, but not with a stale etag, and says when nothing is there", async () => {
    await standin.seed(aliceUid, { "Trash/a.md": "a", "Trash/Folder/b.md": "b" });
    const stale = ok(await asAlice("files_stat", { path: "/Trash/a.md" }));
    await standin.seed(aliceUid, { "Trash/a.md": "changed meanwhile" });
    expect(failed(await asAlice("files_delete", { path: "/Trash/a.md", etag: stale.etag }))).toMatch(
      /^\/Trash\/a\.md changed since you looked at it \(current etag \w+\); nothing was deleted\./,
    );
    expect(await onDisk(aliceUid, "Trash/a.md")).toBe("changed meanwhile");

    expect(ok(await asAlice("files_delete", { path: "/Trash/a.md" }))).toEqual({
      path: "/Trash/a.md",
      deleted: true,
    });
    expect(ok(await asAlice("files_delete", { path: "Trash/Folder" })).deleted).toBe(true);
    expect(await exists(aliceUid, "Trash/a.md")).toBe(false);
    expect(await exists(aliceUid, "Trash/Folder/b.md")).toBe(false);
    expect(failed(await asAlice("files_delete", { path: "/Trash/a.md" }))).toBe(
      "No file or folder at /Trash/a.md; use files_list on /Trash to see what is there.",
    );
    expect(failed(await asAlice("files_delete", { path: "/" }))).toMatch(/root folder cannot be deleted/);
  });
});

describe("files tools: confinement", () => {
  it("refuses '..', backslashes and NUL before any request reaches Nextcloud", async () => {
    await asAlice("files_stat", { path: "/" }); // capabilities and user id are cached from here on
    const before = standin.seenTokens.length;
    const refusals = [
      await asAlice("files_read", { path: `../${bobUid}/files/bob-notes.md` }),
      await asAlice("files_list", { path: "/Documents/../../" }),
      await asAlice("files_write", { path: "/Documents/../../x.md", content: "escape" }),
      await asAlice("files_move", { from: "/Documents/a.md", to: "../escaped.md" }),
      await asAlice("files_copy", { from: "..", to: "/copy" }),
      await asAlice("files_delete", { path: "Documents/.." }),
      await asAlice("files_search", { query: "a", folder: "/.." }),
    ].map(failed);
    for (const text of refusals) {
      expect(text).toMatch(
        /contains "\.\.": paths start at the root of your Nextcloud files and cannot go up/,
      );
    }
    expect(refusals[0]).toBe(
      `The path "../${bobUid}/files/bob-notes.md" contains "..": paths start at the root of your Nextcloud files and cannot go up; give the full path instead, e.g. "/Documents/a.md" (files_list on "/" shows the top-level folders); nothing was done.`,
    );
    expect(refusals[3]).toMatch(/^The to "\.\.\/escaped\.md"/);
    expect(failed(await asAlice("files_stat", { path: "Documents\\a.md" }))).toMatch(
      /contains a backslash; Nextcloud paths use forward slashes/,
    );
    expect(failed(await asAlice("files_stat", { path: "/a\u0000b" }))).toMatch(/contains a NUL character/);
    expect(standin.seenTokens.length).toBe(before);
  });

  it("bob never sees alice's files: not in his listing, not readable, not in his searches", async () => {
    const root = ok(await call(bob, "files_list", { path: "/" }));
    expect(items(root).map((e) => e.path)).toEqual(["/bob-notes.md"]);
    expect(failed(await call(bob, "files_read", { path: "/Private/alice-secret.md" }))).toBe(
      "No file or folder at /Private/alice-secret.md; use files_list on /Private to see what is there.",
    );
    expect(ok(await call(bob, "files_search", { query: "secret" })).items).toEqual([]);
    expect(ok(await call(bob, "files_search", { query: "md" })).items).toEqual([
      expect.objectContaining({ path: "/bob-notes.md" }),
    ]);
    expect(ok(await asAlice("files_search", { query: "secret" })).items).toEqual([
      expect.objectContaining({ path: "/Private/alice-secret.md" }),
    ]);
  });

  it("work when Nextcloud's app routes refuse bearer tokens: files use WebDAV only", async () => {
    standin.setAppRoutesRefuseBearer(true);
    try {
      expect(items(ok(await asAlice("files_list", { path: "/Documents" }))).length).toBeGreaterThan(0);
      expect(ok(await asAlice("files_read", { path: "/Documents/b.txt" })).content).toBe("bravo");
      ok(await asAlice("files_write", { path: "/Documents/while-refused.md", content: "ok" }));
      expect(await onDisk(aliceUid, "Documents/while-refused.md")).toBe("ok");
    } finally {
      standin.setAppRoutesRefuseBearer(false);
    }
  });

  it("send Nextcloud only exchanged tokens, never an MCP token", () => {
    expect(standin.seenTokens.length).toBeGreaterThan(0);
    expect(standin.seenTokens).not.toContain(alice);
    expect(standin.seenTokens).not.toContain(bob);
    for (const t of standin.seenTokens) {
      expect(audiences(t)).toEqual(["nextcloud"]);
      expect([aliceUid, bobUid]).toContain(claims(t).sub);
    }
  });
});
