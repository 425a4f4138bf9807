// The contacts tools end to end: real sign-in, the real Keycloak token exchange, the Nextcloud
// stand-in serving CardDAV through Radicale, seeded with vCard 3.0 and 4.0 contacts (one with a photo).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHOTO_PNG_BASE64 } from "../../standin/groupware-seed.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

const TOOLS = [
  "contacts_delete",
  "contacts_edit_book",
  "contacts_find",
  "contacts_get",
  "contacts_list_books",
  "contacts_save",
];

interface Summary {
  book: string;
  id: string;
  etag: string | null;
  fullName: string | null;
  emails: string[];
  phones: string[];
  organization: string | null;
}
interface Found {
  contacts: Summary[];
  offset: number;
  total: number;
  nextOffset: number | null;
}
interface Got {
  book: string;
  id: string;
  etag: string;
  photoUrl: string | null;
  contact: {
    version: string;
    fullName: string | null;
    emails: { value: string; types: string[] }[];
    phones: { value: string }[];
    organization: string | null;
    title: string | null;
    note: string | null;
    birthday: string | null;
    photo: { kind: string; mediaType: string | null; bytes: number | null } | null;
  };
}
interface Saved {
  book: string;
  id: string;
  etag: string | null;
  created: boolean;
}

let scene: NextcloudScene;
let alice: string;
let bob: string;

beforeAll(async () => {
  scene = await startNextcloudScene();
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  await scene.standin.seedDemoGroupware(claims(alice).sub ?? "", "alice");
  await scene.standin.seedDemoGroupware(claims(bob).sub ?? "", "bob");
});
afterAll(async () => {
  await scene.stop();
});

async function ok<T>(as: string, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await scene.call(as, name, args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as T;
}

async function fails(as: string, name: string, args: Record<string, unknown>): Promise<string> {
  const r: ToolResult = await scene.call(as, name, args);
  expect(r.isError, JSON.stringify(r.structuredContent)).toBe(true);
  return r.content[0]?.text ?? "";
}

const names = (f: Found) => f.contacts.map((c) => c.fullName);

describe("reading contacts", () => {
  it("lists the tools and the user's address books", async () => {
    const tools = await scene.listTools(alice);
    expect(tools.filter((t) => t.startsWith("contacts_"))).toEqual(TOOLS);
    const { books } = await ok<{ books: { id: string; displayName: string }[] }>(
      alice,
      "contacts_list_books",
    );
    expect(books).toEqual([{ id: "contacts", displayName: "Contacts" }]);
  });

  it("lists vCard 3.0 and 4.0 contacts by name, paged", async () => {
    const first = await ok<Found>(alice, "contacts_find", { limit: 2 });
    expect(names(first)).toEqual(["Carol Jones", "Dave Miller"]);
    expect(first).toMatchObject({ offset: 0, total: 3, nextOffset: 2 });
    expect(first.contacts[1]).toMatchObject({
      book: "contacts",
      id: "dave.vcf",
      emails: ["dave@example.org"],
      phones: ["+1-555-0100"],
      organization: "Acme Inc.",
    });
    expect(first.contacts[1]?.etag).toMatch(/^"/);
    const rest = await ok<Found>(alice, "contacts_find", { offset: 2, limit: 2 });
    expect(names(rest)).toEqual(["Erin Photo"]);
    expect(rest.nextOffset).toBeNull();
  });

  it("finds contacts by name, email, phone and organisation", async () => {
    const find = async (query: string) => names(await ok<Found>(alice, "contacts_find", { query }));
    expect(await find("erin")).toEqual(["Erin Photo"]);
    expect(await find("carol@example.com")).toEqual(["Carol Jones"]);
    expect(await find("0170 1234567")).toEqual(["Carol Jones"]);
    expect(await find("+1 555 0100")).toEqual(["Dave Miller"]);
    expect(await find("acme")).toEqual(["Dave Miller"]);
    expect(await find("nobody-like-this")).toEqual([]);
  });

  it("gets a contact in full; a photo comes as a resource link, never inline", async () => {
    const r = await scene.call(alice, "contacts_get", { book: "contacts", id: "erin.vcf" });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const got = r.structuredContent as unknown as Got;
    expect(got.contact).toMatchObject({
      version: "3.0",
      fullName: "Erin Photo",
      organization: "Lens & Light Ltd",
    });
    expect(got.contact.photo).toEqual({ kind: "inline", mediaType: "image/png", bytes: 70, url: null });
    const link = r.content.find((c) => c.type === "resource_link") as
      { uri: string; mimeType?: string; name: string } | undefined;
    expect(link?.mimeType).toBe("image/png");
    expect(link?.uri).toMatch(/\/remote\.php\/dav\/addressbooks\/users\/[^/]+\/contacts\/erin\.vcf\?photo$/);
    expect(got.photoUrl).toBe(link?.uri);
    expect(JSON.stringify(r)).not.toContain(PHOTO_PNG_BASE64.slice(0, 40));

    const dave = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "dave.vcf" });
    expect(dave.contact).toMatchObject({ version: "4.0", birthday: "1985-04-12", photo: null });
    expect(dave.photoUrl).toBeNull();
  });
});

describe("changing contacts", () => {
  it("creates a vCard 3.0 contact in the default book, changes it under its etag, deletes it", async () => {
    const created = await ok<Saved>(alice, "contacts_save", {
      name: { given: "Frank", family: "Ocean" },
      emails: [{ value: "frank@example.com", types: ["work"] }],
      phones: [{ value: "+49 30 5550100" }],
      note: "Met at the fair",
    });
    expect(created).toMatchObject({ book: "contacts", created: true });
    expect(created.id).toMatch(/\.vcf$/);
    const got = await ok<Got>(alice, "contacts_get", { book: "contacts", id: created.id });
    expect(got.contact).toMatchObject({ version: "3.0", fullName: "Frank Ocean", note: "Met at the fair" });
    expect(got.etag).toBe(created.etag);

    const changed = await ok<Saved>(alice, "contacts_save", {
      book: "contacts",
      id: created.id,
      etag: got.etag,
      emails: [{ value: "frank@ocean.example" }],
      title: "Singer",
    });
    expect(changed.created).toBe(false);
    expect(changed.etag).not.toBe(got.etag);
    const after = await ok<Got>(alice, "contacts_get", { book: "contacts", id: created.id });
    expect(after.contact.emails.map((e) => e.value)).toEqual(["frank@ocean.example"]);
    expect(after.contact).toMatchObject({
      title: "Singer",
      note: "Met at the fair",
      fullName: "Frank Ocean",
    });
    expect(after.contact.phones.map((p) => p.value)).toEqual(["+49 30 5550100"]);

    await ok(alice, "contacts_delete", { book: "contacts", id: created.id, etag: after.etag });
    const gone = await fails(alice, "contacts_get", { book: "contacts", id: created.id });
    expect(gone).toMatch(/no contact .* call contacts_find/i);
  });

  it("keeps a vCard 4.0 card at 4.0 when changing it, with its other properties", async () => {
    const dave = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "dave.vcf" });
    await ok<Saved>(alice, "contacts_save", {
      book: "contacts",
      id: "dave.vcf",
      etag: dave.etag,
      organization: "Acme Europe",
    });
    const after = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "dave.vcf" });
    expect(after.contact).toMatchObject({
      version: "4.0",
      organization: "Acme Europe",
      birthday: "1985-04-12",
    });
    expect(after.contact.emails.map((e) => e.value)).toEqual(["dave@example.org"]);
  });

  it("a stale etag changes nothing, for a change and for a delete", async () => {
    const before = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "carol.vcf" });
    await ok<Saved>(alice, "contacts_save", {
      book: "contacts",
      id: "carol.vcf",
      etag: before.etag,
      title: "Head of sales",
    });
    const current = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "carol.vcf" });

    const text = await fails(alice, "contacts_save", {
      book: "contacts",
      id: "carol.vcf",
      etag: before.etag,
      title: "Intern",
    });
    expect(text).toMatch(/changed since you read it; nothing was changed\. Call contacts_get/);
    const del = await fails(alice, "contacts_delete", {
      book: "contacts",
      id: "carol.vcf",
      etag: before.etag,
    });
    expect(del).toMatch(/changed since you read it; nothing was deleted/);

    const after = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "carol.vcf" });
    expect(after.etag).toBe(current.etag);
    expect(after.contact.title).toBe("Head of sales");
  });

  it("creates, renames and deletes an address book", async () => {
    const made = await ok<{ book: string }>(alice, "contacts_edit_book", {
      action: "create",
      displayName: "Work Contacts",
    });
    expect(made.book).toBe("work-contacts");
    const again = await fails(alice, "contacts_edit_book", {
      action: "create",
      displayName: "Work contacts",
    });
    expect(again).toMatch(/"work-contacts" exists already; nothing was created/);

    const saved = await ok<Saved>(alice, "contacts_save", {
      book: "work-contacts",
      fullName: "Grace Hopper",
    });
    expect(saved.book).toBe("work-contacts");
    const inBook = await ok<Found>(alice, "contacts_find", { book: "work-contacts" });
    expect(names(inBook)).toEqual(["Grace Hopper"]);

    await ok(alice, "contacts_edit_book", {
      action: "rename",
      book: "work-contacts",
      displayName: "Colleagues",
    });
    let { books } = await ok<{ books: { id: string; displayName: string }[] }>(alice, "contacts_list_books");
    expect(books).toContainEqual({ id: "work-contacts", displayName: "Colleagues" });

    await ok(alice, "contacts_edit_book", { action: "delete", book: "work-contacts" });
    ({ books } = await ok<{ books: { id: string; displayName: string }[] }>(alice, "contacts_list_books"));
    expect(books.map((b) => b.id)).toEqual(["contacts"]);
    const missing = await fails(alice, "contacts_find", { book: "work-contacts" });
    expect(missing).toMatch(/no address book "work-contacts"; call contacts_list_books/);
  });

  it("refuses bad input with what to do, before any change", async () => {
    expect(await fails(alice, "contacts_get", { book: "../other", id: "carol.vcf" })).toMatch(
      /book must be an address book id from contacts_list_books/,
    );
    expect(await fails(alice, "contacts_save", { book: "contacts", id: "carol.vcf", title: "X" })).toMatch(
      /give its book and the etag from contacts_get/,
    );
    expect(await fails(alice, "contacts_save", { emails: [{ value: "not-an-email" }] })).toMatch(
      /not a valid email address/,
    );
    expect(await fails(alice, "contacts_save", { note: "only a note" })).toMatch(
      /needs fullName, a name, an organization or an email/,
    );
    expect(await fails(alice, "contacts_edit_book", { action: "delete" })).toMatch(/give its id as book/);
    expect(await fails(alice, "contacts_save", { book: "nope", fullName: "Nobody" })).toMatch(
      /no address book "nope"; call contacts_list_books/,
    );
    const all = await ok<Found>(alice, "contacts_find");
    expect(names(all)).toEqual(["Carol Jones", "Dave Miller", "Erin Photo"]);
  });
});

describe("between users", () => {
  it("bob never sees alice's contacts", async () => {
    const all = await ok<Found>(bob, "contacts_find");
    expect(names(all)).toEqual(["Alice Example"]);
    expect(names(await ok<Found>(bob, "contacts_find", { query: "carol" }))).toEqual([]);
    // The same book and id name bob's own (empty) place, never alice's card.
    expect(await fails(bob, "contacts_get", { book: "contacts", id: "carol.vcf" })).toMatch(/no contact/i);
    expect(await fails(bob, "contacts_delete", { book: "contacts", id: "carol.vcf", etag: '"x"' })).toMatch(
      /no contact/i,
    );
    const carol = await ok<Got>(alice, "contacts_get", { book: "contacts", id: "carol.vcf" });
    expect(carol.contact.fullName).toBe("Carol Jones");
  });
});

describe("when the contacts app is not there", () => {
  let off: NextcloudScene;
  beforeAll(async () => {
    off = await startNextcloudScene({ contacts: false });
  });
  afterAll(async () => {
    await off.stop();
  });

  it("lists no contacts tools; they appear once the app is there (for a user not yet seen)", async () => {
    const aliceOff = await off.signIn("alice");
    const without = await off.listTools(aliceOff);
    expect(without.filter((t) => t.startsWith("contacts_"))).toEqual([]);
    expect(without).toContain("whoami");
    off.standin.setGroupware({ contacts: true });
    const bobOn = await off.signIn("bob");
    expect((await off.listTools(bobOn)).filter((t) => t.startsWith("contacts_"))).toEqual(TOOLS);
  });
});
