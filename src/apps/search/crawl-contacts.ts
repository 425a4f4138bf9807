// The contacts part of an indexing pass: every address book in the user's address book home, each
// brought up to date with RFC 6578 sync-collection (collections.ts); a contact is indexed by
// "book/card" (what contacts_get takes as book and id). A book that is gone takes its contacts with
// it; no address book home (the app is off) takes them all.
import { NextcloudError, syncCollection, type NextcloudClient } from "../../nextcloud/index.ts";
import { listAddressBooks, multigetCards } from "../contacts/client.ts";
import type { Address } from "../contacts/schema.ts";
import { parseContact } from "../contacts/vcard.ts";
import {
  count,
  dropUnlisted,
  syncDavCollection,
  type CollectionItem,
  type CollectionSink,
  type PassCounts,
} from "./collections.ts";

const SOURCES = ["contacts"] as const;
const KIND = "contacts";

const addressText = (a: Address) =>
  [a.poBox, a.extended, a.street, a.postalCode, a.locality, a.region, a.country]
    .filter((p): p is string => p !== null && p !== "")
    .join(", ");

/**
 * The index item of one vCard (3.0 or 4.0): titled by its name (FN, else N, else the organisation or
 * an address), its body the organisation, department, job title, emails, phones, addresses, note,
 * categories and links. Undefined when it does not parse.
 */
export function contactItem(
  book: string,
  id: string,
  etag: string | null,
  vcf: string,
): CollectionItem | undefined {
  let c: ReturnType<typeof parseContact>;
  try {
    c = parseContact(vcf);
  } catch {
    return undefined;
  }
  const composed = [c.name.prefix, c.name.given, c.name.additional, c.name.family, c.name.suffix]
    .filter((p): p is string => p !== null && p !== "")
    .join(" ");
  const title =
    c.fullName ?? (composed === "" ? null : composed) ?? c.organization ?? c.emails[0]?.value ?? id;
  const body = [
    c.organization,
    c.department,
    c.title,
    ...c.emails.map((e) => e.value),
    ...c.phones.map((p) => p.value),
    ...c.addresses.map(addressText),
    c.note,
    c.categories.join(", "),
    ...c.urls,
  ]
    .filter((l): l is string => l !== null && l.trim() !== "")
    .join("\n");
  const revision = c.revision === null ? NaN : Date.parse(c.revision);
  return {
    source: "contacts",
    key: `${book}/${id}`,
    title,
    body,
    container: book,
    etag,
    modifiedAt: Number.isNaN(revision) ? null : new Date(revision),
  };
}

/** Brings the user's contacts in the index up to date; see the file comment. */
export async function crawlContacts(
  nc: NextcloudClient,
  sink: CollectionSink,
  signal?: AbortSignal,
): Promise<PassCounts> {
  const counts: PassCounts = { requests: 0 };
  const uid = await nc.userId();
  count(counts, "requests");
  let books: string[];
  try {
    // The system address book (every account of the instance, where exposed) is not the user's.
    books = (await listAddressBooks(nc, signal))
      .map((b) => b.id)
      .filter((id) => !id.startsWith("z-server-generated--"));
  } catch (err) {
    // No address book home: contacts are off for the user, so nothing of theirs stays indexed.
    if (!(err instanceof NextcloudError && err.kind === "not_found")) throw err;
    books = [];
  }
  await dropUnlisted(sink, KIND, SOURCES, new Set(books), counts);
  for (const book of books) {
    signal?.throwIfAborted();
    await syncDavCollection(
      {
        kind: KIND,
        sources: SOURCES,
        container: book,
        sync: (token) =>
          syncCollection(nc.options, {
            tree: "addressbooks",
            uid,
            path: [book],
            token,
            what: `address book "${book}"`,
            ...(signal === undefined ? {} : { signal }),
          }),
        fetch: async (ids) =>
          (await multigetCards(nc, book, ids, signal)).map((card) => ({
            name: card.id,
            etag: card.etag,
            data: card.vcf,
          })),
        item: (id, etag, data) => contactItem(book, id, etag, data),
      },
      sink,
      counts,
      signal,
    );
  }
  return counts;
}
