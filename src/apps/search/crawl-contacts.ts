// The contacts part of an indexing pass: every address book in the user's address book home, each
// brought up to date with RFC 6578 sync-collection (collections.ts); a contact is indexed by
// "book/card" (what contacts_get takes as book and id). A book that is gone takes its contacts with
// it; no address book home (the app is off) takes them all.
import type { NextcloudClient } from "../../nextcloud/index.ts";
import { listAddressBooks, multigetCards } from "../contacts/client.ts";
import type { Address } from "../contacts/schema.ts";
import { parseContact } from "../contacts/vcard.ts";
import {
  syncDavHome,
  type CollectionItem,
  type CollectionSink,
  type DavHome,
  type PassCounts,
} from "./collections.ts";

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
  const home: DavHome = {
    kind: "contacts",
    sources: ["contacts"],
    tree: "addressbooks",
    noun: "address book",
    // The system address book (every account of the instance, where exposed) is not the user's.
    list: async () =>
      (await listAddressBooks(nc, signal))
        .map((b) => b.id)
        .filter((id) => !id.startsWith("z-server-generated--")),
    fetch: async (book, ids) =>
      (await multigetCards(nc, book, ids, signal)).map((card) => ({
        name: card.id,
        etag: card.etag,
        data: card.vcf,
      })),
    item: contactItem,
  };
  return syncDavHome(nc, await nc.userId(), home, sink, signal);
}
