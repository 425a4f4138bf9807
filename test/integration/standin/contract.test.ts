// Contract tests of the Nextcloud stand-in with real Keycloak tokens: it answers in the shapes of the
// Nextcloud OpenAPI specs, validates bearer tokens like user_oidc, confines users to their own files,
// and reproduces the unpatched CORS logout on app routes.
import { createHash } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { contractValidators, nextcloudTokens, type UserTokens } from "./support.ts";

const NOTES = "/index.php/apps/notes/api/v1/notes";
let browser: Browser;
let alice: UserTokens;
let bob: UserTokens;
let nc: NextcloudStandin;
const { validate, component } = contractValidators();

beforeAll(async () => {
  browser = await launchBrowser();
  alice = await nextcloudTokens(browser, DEMO_USERS.alice);
  bob = await nextcloudTokens(browser, DEMO_USERS.bob);
  await browser.close();
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
});
afterAll(async () => {
  await nc.stop();
});

function headers(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, "OCS-APIRequest": "true", Accept: "application/json", ...extra };
}

async function json(res: Response): Promise<unknown> {
  return res.json();
}

describe("OCS", () => {
  it("serves capabilities in the core spec's shape, with notes and dav", async () => {
    const res = await fetch(`${nc.url}/ocs/v2.php/cloud/capabilities`, { headers: headers(alice.nextcloud) });
    expect(res.status).toBe(200);
    const body = (await json(res)) as {
      ocs: { meta: { statuscode: number }; data: { capabilities: Record<string, unknown> } };
    };
    expect(validate("core", "/ocs/v2.php/cloud/capabilities", "get", 200, body)).toEqual([]);
    expect(body.ocs.meta.statuscode).toBe(200);
    expect(body.ocs.data.capabilities.notes).toMatchObject({
      api_version: expect.arrayContaining(["1.3"]) as unknown,
      notes_path: "Notes",
    });
    expect(body.ocs.data.capabilities.dav).toBeDefined();
  });

  it("serves each capability in its own schema: notes, dav and core (the response's anyOf checks only one)", async () => {
    const res = await fetch(`${nc.url}/ocs/v2.php/cloud/capabilities`, { headers: headers(alice.nextcloud) });
    const { capabilities } = (
      (await json(res)) as { ocs: { data: { capabilities: Record<string, unknown> } } }
    ).ocs.data;
    expect(component("notes", "Capabilities", { notes: capabilities.notes })).toEqual([]);
    expect(component("core", "DavCapabilities", { dav: capabilities.dav })).toEqual([]);
    expect(component("core", "CoreCapabilities", { core: capabilities.core })).toEqual([]);
    // Beyond the hand-written notes schema, what the Notes app sends (reference/nextcloud-api.md).
    expect(capabilities.notes).toEqual({
      api_version: ["0.2", "1.3", "1.4"],
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown,
      notes_path: "Notes",
    });
    // The checks can fail: a wrong shape is named.
    expect(component("notes", "Capabilities", { notes: { api_version: "1.3", version: 4 } })).toEqual([
      "/notes/api_version must be array",
      "/notes/version must be string",
    ]);
    expect(component("core", "DavCapabilities", { dav: {} })).toEqual([
      "/dav must have required property 'chunking'",
    ]);
  });

  it("answers OCS v1 with statuscode 100 and HTTP 200", async () => {
    const res = await fetch(`${nc.url}/ocs/v1.php/cloud/user?format=json`, {
      headers: { Authorization: `Bearer ${alice.nextcloud}`, "OCS-APIRequest": "true" },
    });
    expect(res.status).toBe(200);
    const body = (await json(res)) as { ocs: { meta: { statuscode: number; status: string } } };
    expect(body.ocs.meta).toMatchObject({ status: "ok", statuscode: 100 });
  });

  it("returns the current user in the provisioning_api spec's shape, uid = sub", async () => {
    const res = await fetch(`${nc.url}/ocs/v2.php/cloud/user`, { headers: headers(alice.nextcloud) });
    expect(res.status).toBe(200);
    const body = (await json(res)) as { ocs: { data: { id: string } } };
    expect(validate("provisioning_api", "/ocs/v2.php/cloud/user", "get", 200, body)).toEqual([]);
    expect(body.ocs.data.id).toBe(claims(alice.nextcloud).sub);
  });

  it("refuses a token without aud nextcloud (the MCP token) with 401 and OCS 997", async () => {
    const res = await fetch(`${nc.url}/ocs/v2.php/cloud/user`, { headers: headers(alice.mcp) });
    expect(res.status).toBe(401);
    const body = (await json(res)) as { ocs: { meta: { statuscode: number } } };
    expect(body.ocs.meta.statuscode).toBe(997);
  });

  it("refuses a tampered token", async () => {
    const [h, p, s = ""] = alice.nextcloud.split(".");
    const tampered = `${h ?? ""}.${p ?? ""}.${s.slice(0, -4)}AAAA`;
    const res = await fetch(`${nc.url}/ocs/v2.php/cloud/user`, { headers: headers(tampered) });
    expect(res.status).toBe(401);
  });

  it("refuses a missing token on WebDAV with Sabre's body and a Basic challenge", async () => {
    const res = await fetch(`${nc.url}/remote.php/dav/files/x/`, {
      method: "PROPFIND",
      headers: { Depth: "0" },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="Nextcloud", charset="UTF-8"');
    expect(await res.text()).toContain("Sabre\\DAV\\Exception\\NotAuthenticated");
  });
});

describe("Notes API v1", () => {
  it("creates, reads, lists, updates with If-Match and deletes notes in the notes spec's shape", async () => {
    const created = await fetch(`${nc.url}${NOTES}`, {
      method: "POST",
      headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
      body: JSON.stringify({ title: "Shopping", category: "Home", content: "# Shopping\nmilk" }),
    });
    expect(created.status).toBe(200);
    expect(created.headers.get("x-notes-api-versions")).toContain("1.3");
    const note = (await json(created)) as { id: number; etag: string };
    expect(validate("notes", "/index.php/apps/notes/api/v1/notes", "post", 200, note)).toEqual([]);

    const got = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, { headers: headers(alice.nextcloud) });
    expect(got.headers.get("etag")).toBe(`"${note.etag}"`);
    expect(validate("notes", "/index.php/apps/notes/api/v1/notes/{id}", "get", 200, await json(got))).toEqual(
      [],
    );

    const list = await fetch(`${nc.url}${NOTES}?category=Home`, { headers: headers(alice.nextcloud) });
    const notes = (await json(list)) as { id: number }[];
    expect(validate("notes", "/index.php/apps/notes/api/v1/notes", "get", 200, notes)).toEqual([]);
    expect(notes.map((n) => n.id)).toContain(note.id);

    const stale = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, {
      method: "PUT",
      headers: headers(alice.nextcloud, { "Content-Type": "application/json", "If-Match": '"0000"' }),
      body: JSON.stringify({ content: "# Shopping\neggs" }),
    });
    expect(stale.status).toBe(412);
    expect(((await json(stale)) as { content: string }).content).toBe("# Shopping\nmilk");

    const updated = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, {
      method: "PUT",
      headers: headers(alice.nextcloud, { "Content-Type": "application/json", "If-Match": `"${note.etag}"` }),
      body: JSON.stringify({ content: "# Shopping\nbread" }),
    });
    expect(updated.status).toBe(200);
    const after = (await json(updated)) as { content: string; etag: string };
    expect(validate("notes", "/index.php/apps/notes/api/v1/notes/{id}", "put", 200, after)).toEqual([]);
    expect(after.content).toBe("# Shopping\nbread");
    expect(after.etag).not.toBe(note.etag);

    const del = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, {
      method: "DELETE",
      headers: headers(alice.nextcloud),
    });
    expect(del.status).toBe(200);
    const deleted = await json(del);
    expect(validate("notes", "/index.php/apps/notes/api/v1/notes/{id}", "delete", 200, deleted)).toEqual([]);
    expect(deleted).toEqual([]);
    const gone = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, { headers: headers(alice.nextcloud) });
    expect(gone.status).toBe(404);
  });

  it("lists in chunks with a cursor, and the last chunk names every other note by id", async () => {
    const ids: number[] = [];
    for (const t of ["c1", "c2", "c3"]) {
      const res = await fetch(`${nc.url}${NOTES}`, {
        method: "POST",
        headers: headers(bob.nextcloud, { "Content-Type": "application/json" }),
        body: JSON.stringify({ title: t, category: "Chunks", content: t }),
      });
      ids.push(((await json(res)) as { id: number }).id);
    }
    const first = await fetch(`${nc.url}${NOTES}?category=Chunks&chunkSize=2`, {
      headers: headers(bob.nextcloud),
    });
    const cursor = first.headers.get("x-notes-chunk-cursor");
    expect(cursor).toMatch(/^\d+-\d+-\d+$/);
    expect(first.headers.get("x-notes-chunk-pending")).toBe("1");
    const firstIds = ((await json(first)) as { id: number }[]).map((n) => n.id);
    expect(firstIds).toHaveLength(2);
    const last = await fetch(`${nc.url}${NOTES}?category=Chunks&chunkSize=2&chunkCursor=${cursor ?? ""}`, {
      headers: headers(bob.nextcloud),
    });
    expect(last.headers.get("x-notes-chunk-cursor")).toBeNull();
    const lastNotes = (await json(last)) as { id: number; content?: string }[];
    expect(lastNotes.filter((n) => n.content !== undefined)).toHaveLength(1);
    expect(lastNotes.map((n) => n.id).sort()).toEqual([...ids].sort());
  });

  it("keeps each note as a Markdown file visible over WebDAV", async () => {
    const res = await fetch(`${nc.url}${NOTES}`, {
      method: "POST",
      headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
      body: JSON.stringify({ title: "Plans", category: "Work", content: "ship it" }),
    });
    expect(res.status).toBe(200);
    const uid = claims(alice.nextcloud).sub ?? "";
    const file = await fetch(`${nc.url}/remote.php/dav/files/${uid}/Notes/Work/Plans.md`, {
      headers: { Authorization: `Bearer ${alice.nextcloud}` },
    });
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("ship it");
  });

  it("reproduces unpatched Nextcloud: Notes refuse bearer tokens, OCS and DAV still work", async () => {
    nc.setAppRoutesRefuseBearer(true);
    try {
      const notes = await fetch(`${nc.url}${NOTES}`, { headers: headers(alice.nextcloud) });
      expect(notes.status).toBe(401);
      expect(await json(notes)).toEqual({ message: "CORS requires basic auth" });
      const ocs = await fetch(`${nc.url}/ocs/v2.php/cloud/user`, { headers: headers(alice.nextcloud) });
      expect(ocs.status).toBe(200);
      const uid = claims(alice.nextcloud).sub ?? "";
      const dav = await fetch(`${nc.url}/remote.php/dav/files/${uid}/`, {
        method: "PROPFIND",
        headers: { Authorization: `Bearer ${alice.nextcloud}`, Depth: "0" },
      });
      expect(dav.status).toBe(207);
    } finally {
      nc.setAppRoutesRefuseBearer(false);
    }
  });
});

describe("Notes API v1 errors and settings", () => {
  const SETTINGS = "/index.php/apps/notes/api/v1/settings";

  async function create(token: string, title: string): Promise<{ id: number; etag: string }> {
    const res = await fetch(`${nc.url}${NOTES}`, {
      method: "POST",
      headers: headers(token, { "Content-Type": "application/json" }),
      body: JSON.stringify({ title, category: "Errors", content: `# ${title}` }),
    });
    expect(res.status).toBe(200);
    return (await json(res)) as { id: number; etag: string };
  }

  it("answers a missing note with 404 {errorType: Exception} on GET, PUT and DELETE", async () => {
    const { id } = await create(alice.nextcloud, "Short-lived");
    await fetch(`${nc.url}${NOTES}/${String(id)}`, { method: "DELETE", headers: headers(alice.nextcloud) });
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await fetch(`${nc.url}${NOTES}/${String(id)}`, {
        method,
        headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
        ...(method === "PUT" ? { body: JSON.stringify({ content: "x" }) } : {}),
      });
      expect(res.status).toBe(404);
      expect(res.headers.get("x-notes-api-versions")).toBe("0.2, 1.3, 1.4");
      expect(await json(res)).toEqual({ errorType: "Exception" });
    }
  });

  it("answers a stale If-Match with 412 and the current note, in the Note schema, unchanged", async () => {
    const note = await create(alice.nextcloud, "Contested");
    const res = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, {
      method: "PUT",
      headers: headers(alice.nextcloud, {
        "Content-Type": "application/json",
        "If-Match": '"stale", "older"',
      }),
      body: JSON.stringify({ content: "lost update" }),
    });
    expect(res.status).toBe(412);
    expect(res.headers.get("etag")).toBe(`"${note.etag}"`);
    const body = await json(res);
    expect(component("notes", "Note", body)).toEqual([]);
    expect(body).toMatchObject({ id: note.id, etag: note.etag, content: "# Contested" });
  });

  it("ignores a body that is not JSON, as Nextcloud does, instead of failing", async () => {
    const note = await create(alice.nextcloud, "Garbled");
    const res = await fetch(`${nc.url}${NOTES}/${String(note.id)}`, {
      method: "PUT",
      headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
      body: "{not json",
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id: note.id, content: "# Garbled" });
  });

  it("reads and updates the user's settings in the notes spec's shape, as the Notes app keeps them", async () => {
    const read = await fetch(`${nc.url}${SETTINGS}`, { headers: headers(alice.nextcloud) });
    expect(read.status).toBe(200);
    const initial = await json(read);
    expect(validate("notes", "/index.php/apps/notes/api/v1/settings", "get", 200, initial)).toEqual([]);
    expect(initial).toEqual({ notesPath: "Notes", fileSuffix: ".md", noteMode: "edit" });
    try {
      const put = await fetch(`${nc.url}${SETTINGS}`, {
        method: "PUT",
        headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
        body: JSON.stringify({
          notesPath: "Docs/./x/../Jotted/",
          fileSuffix: "..ma rk!",
          noteMode: "fancy",
          theme: "dark",
        }),
      });
      expect(put.status).toBe(200);
      const updated = await json(put);
      expect(validate("notes", "/index.php/apps/notes/api/v1/settings", "put", 200, updated)).toEqual([]);
      expect(updated).toEqual({ notesPath: "Docs/Jotted", fileSuffix: ".mark", noteMode: "edit" });
      // Kept for alice only, and only the fields sent change.
      const again = await fetch(`${nc.url}${SETTINGS}`, {
        method: "PUT",
        headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
        body: JSON.stringify({ noteMode: "preview" }),
      });
      expect(await json(again)).toEqual({
        notesPath: "Docs/Jotted",
        fileSuffix: ".mark",
        noteMode: "preview",
      });
      const bobs = await fetch(`${nc.url}${SETTINGS}`, { headers: headers(bob.nextcloud) });
      expect(await json(bobs)).toEqual({ notesPath: "Notes", fileSuffix: ".md", noteMode: "edit" });
      // New notes go to the new folder.
      await create(alice.nextcloud, "Relocated");
      const uid = claims(alice.nextcloud).sub ?? "";
      const file = await fetch(`${nc.url}/remote.php/dav/files/${uid}/Docs/Jotted/Errors/Relocated.md`, {
        headers: { Authorization: `Bearer ${alice.nextcloud}` },
      });
      expect(file.status).toBe(200);
    } finally {
      await fetch(`${nc.url}${SETTINGS}`, {
        method: "PUT",
        headers: headers(alice.nextcloud, { "Content-Type": "application/json" }),
        body: JSON.stringify({ notesPath: "Notes", fileSuffix: ".md", noteMode: "edit" }),
      });
    }
  });
});

describe("isolation between users", () => {
  it("alice cannot read bob's files", async () => {
    const bobUid = claims(bob.nextcloud).sub ?? "";
    await nc.seed(bobUid, { "secret.txt": "bob's secret" });
    for (const method of ["GET", "PROPFIND"]) {
      const res = await fetch(`${nc.url}/remote.php/dav/files/${bobUid}/secret.txt`, {
        method,
        headers: { Authorization: `Bearer ${alice.nextcloud}` },
      });
      expect([403, 404]).toContain(res.status);
      expect(await res.text()).not.toContain("bob's secret");
    }
    const aliceUid = claims(alice.nextcloud).sub ?? "";
    const escape = await fetch(`${nc.url}/remote.php/dav/files/${aliceUid}/..%2F${bobUid}/secret.txt`, {
      headers: { Authorization: `Bearer ${alice.nextcloud}` },
    });
    expect([403, 404]).toContain(escape.status);
    const moveOut = await fetch(`${nc.url}/remote.php/dav/files/${aliceUid}/x.txt`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${alice.nextcloud}` },
      body: "x",
    });
    expect(moveOut.status).toBe(201);
    const move = await fetch(`${nc.url}/remote.php/dav/files/${aliceUid}/x.txt`, {
      method: "MOVE",
      headers: {
        Authorization: `Bearer ${alice.nextcloud}`,
        Destination: `${nc.url}/remote.php/dav/files/${bobUid}/x.txt`,
      },
    });
    expect(move.status).toBe(403);
  });

  it("alice cannot read bob's notes", async () => {
    const res = await fetch(`${nc.url}${NOTES}`, {
      method: "POST",
      headers: headers(bob.nextcloud, { "Content-Type": "application/json" }),
      body: JSON.stringify({ title: "Bob only", content: "private" }),
    });
    const { id } = (await json(res)) as { id: number };
    const peek = await fetch(`${nc.url}${NOTES}/${String(id)}`, { headers: headers(alice.nextcloud) });
    expect(peek.status).toBe(404);
    const list = (await json(await fetch(`${nc.url}${NOTES}`, { headers: headers(alice.nextcloud) }))) as {
      id: number;
    }[];
    expect(list.map((n) => n.id)).not.toContain(id);
  });
});

describe("uid mapping", () => {
  it("hashes the uid with unique uid on, as user_oidc does", async () => {
    const hashed = await startNextcloudStandin({
      issuer: inject("keycloak").issuer,
      audience: "nextcloud",
      uniqueUid: { providerId: 1 },
    });
    try {
      const res = await fetch(`${hashed.url}/ocs/v2.php/cloud/user`, { headers: headers(alice.nextcloud) });
      const body = (await json(res)) as { ocs: { data: { id: string } } };
      const sub = claims(alice.nextcloud).sub ?? "";
      expect(body.ocs.data.id).toBe(createHash("sha256").update(`1_0_${sub}`).digest("hex"));
    } finally {
      await hashed.stop();
    }
  });

  it("maps the uid from preferred_username when configured", async () => {
    const byName = await startNextcloudStandin({
      issuer: inject("keycloak").issuer,
      audience: "nextcloud",
      uidClaim: "preferred_username",
    });
    try {
      const res = await fetch(`${byName.url}/ocs/v2.php/cloud/user`, { headers: headers(bob.nextcloud) });
      expect(res.status).toBe(200);
      const body = (await json(res)) as { ocs: { data: { id: string } } };
      expect(body.ocs.data.id).toBe(claims(bob.nextcloud).preferred_username);
    } finally {
      await byName.stop();
    }
  });
});

describe("the contract validator", () => {
  it("rejects a note that misses required fields", () => {
    const errors = validate("notes", "/index.php/apps/notes/api/v1/notes/{id}", "get", 200, {
      id: 1,
      title: "x",
    });
    expect(errors.join("; ")).toMatch(/must have required property 'etag'/);
  });
});

describe("seen tokens", () => {
  it("records every bearer token it received", () => {
    expect(nc.seenTokens).toContain(alice.nextcloud);
    expect(nc.seenTokens).toContain(alice.mcp);
  });
});
