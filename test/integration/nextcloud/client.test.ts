// The typed Nextcloud client against the Nextcloud stand-in with real Keycloak tokens: every
// operation, conflicts that change nothing, paths confined to the user's root, and mapped errors.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createNextcloudClient, NextcloudError, type NextcloudClient } from "../../../src/nextcloud/index.ts";
import { NotesClient } from "../../../src/apps/notes/client.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens, type UserTokens } from "../standin/support.ts";

let browser: Browser;
let alice: UserTokens;
let bob: UserTokens;
let nc: NextcloudStandin;
let client: NextcloudClient;
let uid: string;

beforeAll(async () => {
  browser = await launchBrowser();
  alice = await nextcloudTokens(browser, DEMO_USERS.alice);
  bob = await nextcloudTokens(browser, DEMO_USERS.bob);
  await browser.close();
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  client = createNextcloudClient({ baseUrl: nc.url, token: () => alice.nextcloud, timeoutMs: 10_000 });
  uid = claims(alice.nextcloud).sub ?? "";
});
afterAll(async () => {
  await nc.stop();
});

async function failure(p: Promise<unknown>): Promise<NextcloudError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NextcloudError);
  return err as NextcloudError;
}

/** The Notes app's API client over a Nextcloud client's transport. */
const notesOf = (c: { options: ConstructorParameters<typeof NotesClient>[0] }) => new NotesClient(c.options);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("OCS, capabilities and the current user", () => {
  it("reads capabilities (notes path, dav) and the real uid", async () => {
    const caps = await client.capabilities();
    expect(caps.version.major).toBeGreaterThanOrEqual(31);
    expect(caps.notes?.notes_path).toBe("Notes");
    expect(caps.dav?.chunking).toBeDefined();
    const me = await client.user();
    expect(me.id).toBe(uid);
  });

  it("keeps per-user capabilities per user: bob never gets alice's notes folder from the cache", async () => {
    nc.setNotesPath(claims(bob.nextcloud).sub ?? "", "Bobs Notes");
    const asBob = createNextcloudClient({ baseUrl: nc.url, token: () => bob.nextcloud, timeoutMs: 10_000 });
    expect((await client.capabilities()).notes?.notes_path).toBe("Notes");
    expect((await asBob.capabilities()).notes?.notes_path).toBe("Bobs Notes");
    expect((await client.capabilities()).notes?.notes_path).toBe("Notes");
  });

  it("learns a hashed uid from cloud/user and uses it for files", async () => {
    const hashed = await startNextcloudStandin({
      issuer: inject("keycloak").issuer,
      audience: "nextcloud",
      uniqueUid: { providerId: 3 },
    });
    try {
      const c = createNextcloudClient({
        baseUrl: hashed.url,
        token: () => alice.nextcloud,
        timeoutMs: 10_000,
      });
      const expected = createHash("sha256").update(`3_0_${uid}`).digest("hex");
      expect((await c.user()).id).toBe(expected);
      await c.files.write("/hello.txt", "hi");
      expect(await readFile(join(hashed.filesRoot(expected), "hello.txt"), "utf8")).toBe("hi");
    } finally {
      await hashed.stop();
    }
  });

  it("maps an OCS 997 (a token without aud nextcloud) to unauthorized", async () => {
    const wrong = createNextcloudClient({ baseUrl: nc.url, token: () => alice.mcp, timeoutMs: 10_000 });
    const err = await failure(wrong.user());
    expect(err.kind).toBe("unauthorized");
    expect(err.status).toBe(401);
    expect(err.description).not.toContain(alice.mcp);
  });

  it("calls any OCS route and maps 998 to not_found", async () => {
    const err = await failure(client.ocs("GET", "apps/nothing/api/v1/here"));
    expect(err.kind).toBe("not_found");
  });
});

describe("WebDAV files", () => {
  it("writes, stats with oc: properties, reads, lists with paging", async () => {
    await client.files.mkdir("/Docs");
    const w = await client.files.write("/Docs/a.txt", "alpha");
    expect(w.created).toBe(true);
    expect(w.etag).toMatch(/\w+/);
    await client.files.write("/Docs/b.txt", "bravo");
    await client.files.write("/Docs/c.txt", "charlie");
    await client.files.mkdir("/Docs/Sub");

    const st = await client.files.stat("/Docs/a.txt");
    expect(st).toMatchObject({
      path: "/Docs/a.txt",
      name: "a.txt",
      type: "file",
      size: 5,
      permissions: "RGDNVW",
    });
    expect(st.fileId).toBeGreaterThan(0);
    expect(st.etag).toBe(w.etag);
    const dir = await client.files.stat("/Docs");
    expect(dir).toMatchObject({ type: "directory", size: 17, permissions: "RGDNVCK" });

    const read = await client.files.read("/Docs/a.txt");
    expect(text(read.content)).toBe("alpha");
    expect(read.etag).toBe(w.etag);

    const page1 = await client.files.list("/Docs", { limit: 2 });
    expect(page1.total).toBe(4);
    expect(page1.items.map((i) => i.name)).toEqual(["Sub", "a.txt"]);
    expect(page1.nextOffset).toBe(2);
    const page2 = await client.files.list("/Docs", { offset: 2, limit: 2 });
    expect(page2.items.map((i) => i.name)).toEqual(["b.txt", "c.txt"]);
    expect(page2.nextOffset).toBeUndefined();
  });

  it("refuses to read a file larger than the limit", async () => {
    await client.files.write("/big.bin", new Uint8Array(4096));
    const err = await failure(client.files.read("/big.bin", { maxBytes: 1024 }));
    expect(err.kind).toBe("too_large");
  });

  it("a write with a stale etag changes nothing and reports the conflict", async () => {
    const first = await client.files.write("/conflict.txt", "v1");
    const second = await client.files.write("/conflict.txt", "v2", { ifMatch: first.etag ?? "" });
    const err = await failure(
      client.files.write("/conflict.txt", "v3 from a stale read", { ifMatch: first.etag ?? "" }),
    );
    expect(err.kind).toBe("precondition_failed");
    expect(err.status).toBe(412);
    expect(err.description).toMatch(/changed .* since you read it/);
    const now = await client.files.read("/conflict.txt");
    expect(text(now.content)).toBe("v2");
    expect(now.etag).toBe(second.etag);
    const create = await failure(client.files.write("/conflict.txt", "x", { ifNoneMatch: "*" }));
    expect(create.kind).toBe("precondition_failed");
  });

  it("moves, copies (no silent overwrite) and deletes", async () => {
    await client.files.write("/m1.txt", "one");
    await client.files.move("/m1.txt", "/m2.txt");
    await expect(client.files.stat("/m1.txt")).rejects.toMatchObject({ kind: "not_found" });
    await client.files.copy("/m2.txt", "/m3.txt");
    expect(text((await client.files.read("/m3.txt")).content)).toBe("one");
    const clash = await failure(client.files.copy("/m2.txt", "/m3.txt"));
    expect(clash.kind).toBe("precondition_failed");
    await client.files.copy("/m2.txt", "/m3.txt", { overwrite: true });
    const stale = await client.files.stat("/m2.txt");
    await client.files.write("/m2.txt", "changed");
    const del = await failure(client.files.delete("/m2.txt", { ifMatch: stale.etag ?? "" }));
    expect(del.kind).toBe("precondition_failed");
    await client.files.delete("/m2.txt");
    await client.files.delete("/m3.txt");
    const gone = await failure(client.files.read("/m3.txt"));
    expect(gone.kind).toBe("not_found");
    expect(gone.status).toBe(404);
  });

  it("reports a missing parent folder as a conflict", async () => {
    const err = await failure(client.files.mkdir("/no/such/parent"));
    expect(err.kind).toBe("conflict");
  });

  it("searches file names with DAV SEARCH", async () => {
    await client.files.mkdir("/Reports");
    await client.files.write("/Reports/Quarterly-Report.md", "q");
    await client.files.write("/Reports/notes.txt", "n");
    const hits = await client.files.search("report");
    const paths = hits.map((h) => h.path);
    expect(paths).toContain("/Reports/Quarterly-Report.md");
    expect(paths).toContain("/Reports");
    expect(paths).not.toContain("/Reports/notes.txt");
    const file = hits.find((h) => h.path === "/Reports/Quarterly-Report.md");
    expect(file?.fileId).toBeGreaterThan(0);
    const scoped = await client.files.search("notes", { folder: "/Reports" });
    expect(scoped.map((h) => h.path)).toEqual(["/Reports/notes.txt"]);
  });

  it("refuses '..' before any request reaches Nextcloud", async () => {
    const before = nc.seenTokens.length;
    for (const p of ["../bob/secret.txt", "/Docs/../../x", "a/../../b"]) {
      const err = await failure(client.files.read(p));
      expect(err.kind).toBe("invalid_path");
      expect(err.description).toContain("..");
    }
    expect(nc.seenTokens.length).toBe(before);
  });

  it("maps a WebDAV lock to locked (423)", async () => {
    await client.files.write("/locked.txt", "mine");
    const lock = await fetch(`${nc.url}/remote.php/dav/files/${uid}/locked.txt`, {
      method: "LOCK",
      headers: {
        Authorization: `Bearer ${alice.nextcloud}`,
        "Content-Type": "application/xml",
        Timeout: "Second-600",
      },
      body: `<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner>desktop client</d:owner></d:lockinfo>`,
    });
    expect(lock.status).toBe(200);
    const err = await failure(client.files.write("/locked.txt", "overwrite"));
    expect(err.kind).toBe("locked");
    expect(err.httpStatus).toBe(423);
    expect(text((await client.files.read("/locked.txt")).content)).toBe("mine");
  });

  it("keeps users apart: bob's client does not see alice's files", async () => {
    const bobClient = createNextcloudClient({
      baseUrl: nc.url,
      token: () => bob.nextcloud,
      timeoutMs: 10_000,
    });
    const err = await failure(bobClient.files.read("/Docs/a.txt"));
    expect(err.kind).toBe("not_found");
  });
});

describe("Notes API", () => {
  it("creates, gets, lists in chunks, updates with If-Match, and deletes", async () => {
    const a = await notesOf(client).create({ title: "First", category: "Client", content: "one" });
    const b = await notesOf(client).create({ title: "Second", category: "Client", content: "two" });
    expect(await notesOf(client).get(a.id)).toMatchObject({
      title: "First",
      content: "one",
      category: "Client",
    });
    const page = await notesOf(client).list({ category: "Client", chunkSize: 1 });
    expect(page.notes).toHaveLength(1);
    expect(page.cursor).toBeDefined();
    expect(page.pending).toBe(1);
    const all = await notesOf(client).listAll({ category: "Client", chunkSize: 1 });
    expect(all.map((n) => n.id).sort()).toEqual([a.id, b.id].sort());
    const updated = await notesOf(client).update(a.id, { content: "one, edited" }, { ifMatch: a.etag });
    expect(updated.content).toBe("one, edited");
    await notesOf(client).delete(b.id);
    expect((await failure(notesOf(client).get(b.id))).kind).toBe("not_found");
  });

  it("a stale update changes nothing and carries the current note", async () => {
    const n = await notesOf(client).create({ title: "Race", content: "base" });
    const winner = await notesOf(client).update(n.id, { content: "first writer" }, { ifMatch: n.etag });
    const err = await failure(
      notesOf(client).update(n.id, { content: "second writer" }, { ifMatch: n.etag }),
    );
    expect(err.kind).toBe("precondition_failed");
    expect(err.current).toMatchObject({ id: n.id, content: "first writer", etag: winner.etag });
    expect((await notesOf(client).get(n.id)).content).toBe("first writer");
  });

  it("the note is the Markdown file the WebDAV client sees", async () => {
    const n = await notesOf(client).create({
      title: "Shared view",
      category: "Mixed",
      content: "# Shared view",
    });
    const file = await client.files.stat("/Notes/Mixed/Shared view.md");
    expect(file.fileId).toBe(n.id);
    expect(text((await client.files.read("/Notes/Mixed/Shared view.md")).content)).toBe("# Shared view");
  });

  it("reports the unpatched CORS logout as bearer_refused", async () => {
    nc.setAppRoutesRefuseBearer(true);
    try {
      const err = await failure(notesOf(client).list());
      expect(err.kind).toBe("bearer_refused");
      expect(err.description).toContain("Nextcloud refused your single-sign-on token for your notes");
      expect(err.description).toContain(
        "make sure no reverse proxy or load balancer strips the OCS-APIRequest header",
      );
      expect(err.description).toContain("apply user_oidc PR 1221 or server PR 55878");
    } finally {
      nc.setAppRoutesRefuseBearer(false);
    }
  });
});

describe("maintenance and retries", () => {
  it("reports maintenance with Retry-After when waiting longer than allowed", async () => {
    nc.setMaintenance(true, 120);
    try {
      const c = createNextcloudClient({ baseUrl: nc.url, token: () => alice.nextcloud, timeoutMs: 10_000 });
      const err = await failure(c.user());
      expect(err.kind).toBe("maintenance");
      expect(err.retryAfterMs).toBe(120_000);
      expect(err.description).toMatch(/maintenance mode\. Try again in 120 s/);
    } finally {
      nc.setMaintenance(false);
    }
  });

  it("retries an idempotent request after the Retry-After that Nextcloud asked for", async () => {
    nc.setMaintenance(true, 0);
    const seen: number[] = [];
    const c = createNextcloudClient({
      baseUrl: nc.url,
      token: () => alice.nextcloud,
      timeoutMs: 10_000,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        seen.push(res.status);
        if (res.status === 503) nc.setMaintenance(false);
        return res;
      },
    });
    expect((await c.user()).id).toBe(uid);
    expect(seen).toEqual([503, 200]);
  });

  it("never retries a non-idempotent request", async () => {
    nc.setMaintenance(true, 0);
    const seen: number[] = [];
    const c = createNextcloudClient({
      baseUrl: nc.url,
      token: () => alice.nextcloud,
      timeoutMs: 10_000,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        seen.push(res.status);
        return res;
      },
    });
    try {
      const err = await failure(notesOf(c).create({ title: "not twice" }));
      expect(err.kind).toBe("maintenance");
      expect(seen).toEqual([503]);
    } finally {
      nc.setMaintenance(false);
    }
  });
});
