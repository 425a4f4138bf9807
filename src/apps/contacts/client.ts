// The CardDAV client of the contacts tools: address books (list, create, rename, delete) and vCards
// (query, get, put with ETag preconditions, delete) in the user's own address book home, over the
// shared DAV layer (every URL built from segments, every request through the guard).
import {
  childOf,
  DAV_NS,
  davMultistatus,
  davRequest,
  hrefNames,
  propOf,
  davRoot,
  encodeSegments,
  NextcloudError,
  type DavResponse,
  type NextcloudClient,
} from "../../nextcloud/index.ts";

/** The CardDAV namespace. @see https://www.rfc-editor.org/rfc/rfc6352#section-10 */
export const CARDDAV_NS = "urn:ietf:params:xml:ns:carddav";
/** Apple's calendarserver namespace (getctag). */
export const CS_NS = "http://calendarserver.org/ns/";

const VCARD_TYPE = "text/vcard; charset=utf-8";

/** An address book in the user's home. */
export interface AddressBook {
  /** The collection's name in the URL, e.g. "contacts". */
  id: string;
  displayName: string;
  description: string | null;
  /** Changes whenever a card in the book changes (CS:getctag, else the sync token). */
  ctag: string | null;
}

/** One stored vCard: its name in the book, its ETag and its text. */
export interface StoredCard {
  book: string;
  id: string;
  etag: string | null;
  vcf: string;
}

const xml = (body: string) => `<?xml version="1.0" encoding="utf-8"?>${body}`;

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );

async function uidOf(nc: NextcloudClient): Promise<string> {
  return nc.userId();
}

const bookWhat = (book: string) => `address book "${book}"`;
const cardWhat = (book: string, id: string) => `contact "${id}" in address book "${book}"`;

/**
 * Whether the user has an address book home: 207 yes, 404 no, anything else throws ("unknown").
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-7.1.1
 */
export async function hasAddressBookHome(nc: NextcloudClient, signal?: AbortSignal): Promise<boolean> {
  const res = await davRequest(nc.options, {
    method: "PROPFIND",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [],
    collection: true,
    what: "your address books",
    depth: "0",
    contentType: "application/xml; charset=utf-8",
    body: xml(`<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>`),
    accept: [207, 404],
    ...(signal === undefined ? {} : { signal }),
  });
  return res.status === 207;
}

function isAddressBook(r: DavResponse): boolean {
  const type = propOf(r, DAV_NS, "resourcetype");
  return type !== undefined && childOf(type, CARDDAV_NS, "addressbook") !== undefined;
}

/**
 * The user's address books, sorted by display name.
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-6.2
 */
export async function listAddressBooks(nc: NextcloudClient, signal?: AbortSignal): Promise<AddressBook[]> {
  const uid = await uidOf(nc);
  const root = davRoot("addressbooks", uid);
  const responses = await davMultistatus(nc.options, {
    method: "PROPFIND",
    tree: "addressbooks",
    uid,
    path: [],
    collection: true,
    what: "your address books",
    depth: "1",
    contentType: "application/xml; charset=utf-8",
    body: xml(
      `<d:propfind xmlns:d="DAV:" xmlns:card="${CARDDAV_NS}" xmlns:cs="${CS_NS}"><d:prop><d:resourcetype/><d:displayname/><card:addressbook-description/><cs:getctag/><d:sync-token/></d:prop></d:propfind>`,
    ),
    ...(signal === undefined ? {} : { signal }),
  });
  const books: AddressBook[] = [];
  for (const r of responses) {
    const names = hrefNames(nc.options.baseUrl, root, r.href);
    if (names?.length !== 1 || !isAddressBook(r)) continue;
    const id = names[0] ?? "";
    const text = (name: string, ns = DAV_NS) => propOf(r, ns, name)?.text.trim() || null;
    books.push({
      id,
      displayName: text("displayname") ?? id,
      description: text("addressbook-description", CARDDAV_NS),
      ctag: text("getctag", CS_NS) ?? text("sync-token"),
    });
  }
  return books.sort((a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id));
}

/**
 * Creates an address book with an extended MKCOL.
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-6.3.1
 */
export async function createAddressBook(
  nc: NextcloudClient,
  book: { id: string; displayName: string; description?: string | undefined },
  signal?: AbortSignal,
): Promise<void> {
  const description =
    book.description === undefined
      ? ""
      : `<card:addressbook-description>${escapeXml(book.description)}</card:addressbook-description>`;
  await davRequest(nc.options, {
    method: "MKCOL",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [book.id],
    collection: true,
    what: bookWhat(book.id),
    contentType: "application/xml; charset=utf-8",
    body: xml(
      `<d:mkcol xmlns:d="DAV:" xmlns:card="${CARDDAV_NS}"><d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>${escapeXml(book.displayName)}</d:displayname>${description}</d:prop></d:set></d:mkcol>`,
    ),
    ...(signal === undefined ? {} : { signal }),
  });
}

/**
 * Renames an address book (PROPPATCH of its display name).
 * @see https://www.rfc-editor.org/rfc/rfc4918#section-9.2
 */
export async function renameAddressBook(
  nc: NextcloudClient,
  id: string,
  displayName: string,
  signal?: AbortSignal,
): Promise<void> {
  const responses = await davMultistatus(nc.options, {
    method: "PROPPATCH",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [id],
    collection: true,
    what: bookWhat(id),
    contentType: "application/xml; charset=utf-8",
    body: xml(
      `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>${escapeXml(displayName)}</d:displayname></d:prop></d:set></d:propertyupdate>`,
    ),
    ...(signal === undefined ? {} : { signal }),
  });
  const failed = responses.flatMap((r) => r.propstats).find((ps) => ps.status >= 300);
  if (failed !== undefined) {
    throw new NextcloudError(
      failed.status === 403 ? "forbidden" : "bad_response",
      `Nextcloud did not rename ${bookWhat(id)} (${String(failed.status)}); nothing was changed.`,
      { httpStatus: failed.status },
    );
  }
}

/** Deletes an address book and every contact in it. */
export async function deleteAddressBook(
  nc: NextcloudClient,
  id: string,
  signal?: AbortSignal,
): Promise<void> {
  await davRequest(nc.options, {
    method: "DELETE",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [id],
    collection: true,
    what: bookWhat(id),
    ...(signal === undefined ? {} : { signal }),
  });
}

/**
 * The cards of a book an addressbook-query matches, each as its id (resource name), ETag and the
 * address data asked for in `prop`; `filter` is the query's `<card:filter>` element.
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-8.6
 */
async function addressbookQuery(
  nc: NextcloudClient,
  book: string,
  prop: string,
  filter: string,
  signal: AbortSignal | undefined,
): Promise<{ id: string; etag: string | null; data: string }[]> {
  const uid = await uidOf(nc);
  const root = davRoot("addressbooks", uid);
  const responses = await davMultistatus(nc.options, {
    method: "REPORT",
    tree: "addressbooks",
    uid,
    path: [book],
    collection: true,
    what: bookWhat(book),
    depth: "1",
    contentType: "application/xml; charset=utf-8",
    body: xml(
      `<card:addressbook-query xmlns:d="DAV:" xmlns:card="${CARDDAV_NS}"><d:prop>${prop}</d:prop>${filter}</card:addressbook-query>`,
    ),
    ...(signal === undefined ? {} : { signal }),
  });
  return responses.flatMap((r) => {
    const names = hrefNames(nc.options.baseUrl, root, r.href);
    const data = propOf(r, CARDDAV_NS, "address-data")?.text;
    if (names?.length !== 2 || names[0] !== book || data === undefined || data.trim() === "") return [];
    return [{ id: names[1] ?? "", etag: propOf(r, DAV_NS, "getetag")?.text.trim() || null, data }];
  });
}

/** Every vCard of a book with its ETag (an addressbook-query whose empty filter matches all). */
export async function queryCards(
  nc: NextcloudClient,
  book: string,
  signal?: AbortSignal,
): Promise<StoredCard[]> {
  const found = await addressbookQuery(
    nc,
    book,
    "<d:getetag/><card:address-data/>",
    "<card:filter/>",
    signal,
  );
  return found.map((c) => ({ book, id: c.id, etag: c.etag, vcf: c.data }));
}

/**
 * The ids (resource names) of the cards of a book whose UID is one of `uids`, in one addressbook-query
 * (prop-filters on UID, any of them). Unified search names contacts by UID; the tools by id.
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-10.5
 */
export async function cardIdsByUid(
  nc: NextcloudClient,
  book: string,
  uids: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (uids.length === 0) return found;
  const filters = uids
    .map(
      (u) =>
        `<card:prop-filter name="UID"><card:text-match collation="i;octet" match-type="equals">${escapeXml(u)}</card:text-match></card:prop-filter>`,
    )
    .join("");
  const cards = await addressbookQuery(
    nc,
    book,
    '<card:address-data><card:prop name="UID"/></card:address-data>',
    `<card:filter test="anyof">${filters}</card:filter>`,
    signal,
  );
  for (const card of cards) {
    const cardUid = /^UID[^:\r\n]*:(.*)$/im.exec(card.data.replace(/\r?\n[ \t]/g, ""))?.[1]?.trim();
    if (cardUid !== undefined && uids.includes(cardUid)) found.set(cardUid, card.id);
  }
  return found;
}

/**
 * Named vCards of one book with their ETags (addressbook-multiget); names that are gone are left out.
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-8.7
 */
export async function multigetCards(
  nc: NextcloudClient,
  book: string,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<StoredCard[]> {
  if (ids.length === 0) return [];
  const uid = await uidOf(nc);
  const root = davRoot("addressbooks", uid);
  const base = new URL(nc.options.baseUrl).pathname.replace(/\/+$/, "");
  const hrefs = ids.map(
    (id) => `<d:href>${escapeXml(`${base}${root}${encodeSegments([book, id])}`)}</d:href>`,
  );
  const responses = await davMultistatus(nc.options, {
    method: "REPORT",
    tree: "addressbooks",
    uid,
    path: [book],
    collection: true,
    what: bookWhat(book),
    depth: "1",
    contentType: "application/xml; charset=utf-8",
    body: xml(
      `<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="${CARDDAV_NS}"><d:prop><d:getetag/><card:address-data/></d:prop>${hrefs.join("")}</card:addressbook-multiget>`,
    ),
    ...(signal === undefined ? {} : { signal }),
  });
  return responses.flatMap((r) => {
    const names = hrefNames(nc.options.baseUrl, root, r.href);
    const data = propOf(r, CARDDAV_NS, "address-data")?.text;
    if (names?.length !== 2 || names[0] !== book || data === undefined || data.trim() === "") return [];
    return [{ book, id: names[1] ?? "", etag: propOf(r, DAV_NS, "getetag")?.text.trim() || null, vcf: data }];
  });
}

/** One vCard and its ETag. */
export async function getCard(
  nc: NextcloudClient,
  book: string,
  id: string,
  signal?: AbortSignal,
): Promise<StoredCard> {
  const res = await davRequest(nc.options, {
    method: "GET",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [book, id],
    what: cardWhat(book, id),
    headers: { Accept: "text/vcard" },
    ...(signal === undefined ? {} : { signal }),
  });
  return { book, id, etag: res.headers.get("etag"), vcf: res.text() };
}

/**
 * Stores a vCard: `create` (If-None-Match: *, never overwrites) or an update of the version with
 * `etag` (If-Match; a stale ETag makes Nextcloud answer 412 and nothing changes). Returns the new
 * ETag when the server sends one.
 * @see https://www.rfc-editor.org/rfc/rfc6352#section-6.3.2
 */
export async function putCard(
  nc: NextcloudClient,
  card: { book: string; id: string; vcf: string },
  precondition: { create: true } | { etag: string },
  signal?: AbortSignal,
): Promise<string | null> {
  const res = await davRequest(nc.options, {
    method: "PUT",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [card.book, card.id],
    what: cardWhat(card.book, card.id),
    contentType: VCARD_TYPE,
    body: card.vcf,
    headers: "create" in precondition ? { "If-None-Match": "*" } : { "If-Match": precondition.etag },
    ...(signal === undefined ? {} : { signal }),
  });
  return res.headers.get("etag");
}

/** Deletes a vCard; with `etag`, only that version (412 otherwise, nothing deleted). */
export async function deleteCard(
  nc: NextcloudClient,
  card: { book: string; id: string; etag?: string | undefined },
  signal?: AbortSignal,
): Promise<void> {
  await davRequest(nc.options, {
    method: "DELETE",
    tree: "addressbooks",
    uid: await uidOf(nc),
    path: [card.book, card.id],
    what: cardWhat(card.book, card.id),
    ...(card.etag === undefined ? {} : { headers: { "If-Match": card.etag } }),
    ...(signal === undefined ? {} : { signal }),
  });
}

/**
 * The URL of a contact's photo as Nextcloud serves it (the dav app's ImageExportPlugin, `?photo`); a reference
 * for the user's client, not fetched by the gateway.
 */
export async function photoUrl(nc: NextcloudClient, book: string, id: string): Promise<string> {
  const base = new URL(nc.options.baseUrl).href.replace(/\/+$/, "");
  return `${base}${davRoot("addressbooks", await uidOf(nc))}${encodeSegments([book, id])}?photo`;
}
