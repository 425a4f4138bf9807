// The contacts tools that change nothing: the address books, finding contacts, one contact in full.
import type { ContentBlock } from "@modelcontextprotocol/server";
import { z } from "zod";
import {
  explained,
  nextcloudOf,
  pageInput,
  pageOf,
  pageText,
  pageOutput,
  toolMaker,
  type ToolContext,
} from "../../mcp/index.ts";
import { getCard, listAddressBooks, photoUrl, queryCards, type StoredCard } from "./client.ts";
import { bookField, idField, noBook, noContact, summaryLine, summaryOf, summarySchema } from "./fields.ts";
import type { Contact } from "./schema.ts";
import { searchContacts } from "./search.ts";
import { parseContact } from "./vcard.ts";

const tool = toolMaker("contacts");

/** contacts_list_books: the user's address books. */
export const contactsListBooks = tool.read({
  name: "contacts_list_books",
  title: "List address books",
  description: "Lists the user's address books; an id goes as `book` to other contacts tools.",
  input: z.object({}),
  output: z.object({
    books: z.array(z.object({ id: z.string(), displayName: z.string() })),
  }),
  async handler(_args, ctx) {
    const books = await listAddressBooks(nextcloudOf(ctx), ctx.signal);
    return { books: books.map(({ id, displayName }) => ({ id, displayName })) };
  },
  text: (o) =>
    o.books.length === 0
      ? "No address books."
      : o.books.map((b) => `- ${b.displayName} (id ${b.id})`).join("\n"),
});

/** Every card of `book` (or of all books), parsed; cards that do not parse are left out and logged. */
async function readBooks(
  ctx: ToolContext,
  book: string | undefined,
): Promise<{ card: StoredCard; contact: Contact }[]> {
  const nc = nextcloudOf(ctx);
  const books = book === undefined ? (await listAddressBooks(nc, ctx.signal)).map((b) => b.id) : [book];
  const cards = (
    await Promise.all(
      books.map((b) =>
        explained(queryCards(nc, b, ctx.signal), {
          not_found: noBook(b),
          too_large: `Address book "${b}" is too large to read at once (photos count); nothing was returned. Open it in Nextcloud instead.`,
        }),
      ),
    )
  ).flat();
  const out: { card: StoredCard; contact: Contact }[] = [];
  for (const card of cards) {
    try {
      out.push({ card, contact: parseContact(card.vcf) });
    } catch {
      ctx.log.warn({ book: card.book }, "a stored vCard could not be parsed; left out");
    }
  }
  return out;
}

/** contacts_find: list or search contacts, paged. */
export const contactsFind = tool.read({
  name: "contacts_find",
  title: "Find contacts",
  description:
    "Lists contacts by name, or finds them by name, email, organisation or phone digits, in all " +
    "address books or in `book`. contacts_get gives all details.",
  input: z.object({
    query: z.string().max(200).optional().describe("Words or phone digits; none lists all."),
    book: bookField.optional().describe("Only this book."),
    ...pageInput("contacts", 25, 100),
  }),
  output: z.object({ contacts: z.array(summarySchema), ...pageOutput }),
  async handler(args, ctx) {
    const all = await readBooks(ctx, args.book);
    const found = new Set(
      searchContacts(
        all.map((a) => a.contact),
        args.query ?? "",
      ),
    );
    const sorted = all
      .filter((a) => found.has(a.contact))
      .map((a) => summaryOf(a.card, a.contact))
      .sort(
        (a, b) =>
          (a.fullName ?? "").localeCompare(b.fullName ?? "") ||
          a.book.localeCompare(b.book) ||
          a.id.localeCompare(b.id),
      );
    const page = pageOf(sorted, args.offset, args.limit);
    return { contacts: page.items, offset: page.offset, total: page.total, nextOffset: page.nextOffset };
  },
  text: (o) => pageText(o, o.contacts, "contact", "No contacts found.", summaryLine),
});

/** contacts_get: one contact in full, with its etag; the photo as a resource link. */
export const contactsGet = tool.read({
  name: "contacts_get",
  title: "Get a contact",
  description:
    "One contact in full, with its etag for contacts_save or contacts_delete; a photo comes as a link.",
  input: z.object({ book: bookField, id: idField }),
  output: z.object({
    book: z.string(),
    id: z.string(),
    etag: z.string().nullable(),
    contact: z
      .record(z.string(), z.unknown())
      .describe(
        "The parsed vCard: uid, version, fullName, name, emails and phones ({value, types, preferred}), organization, department, title, addresses, birthday, note, urls, categories, photo (described, never inline), revision.",
      ),
    photoUrl: z
      .string()
      .nullable()
      .describe("Where the photo is (Nextcloud's ?photo link, or the card's URL)."),
  }),
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    const card = await explained(getCard(nc, args.book, args.id, ctx.signal), {
      not_found: noContact(args.book, args.id),
    });
    const contact = parseContact(card.vcf);
    const photo = contact.photo;
    const url =
      photo === null ? null : photo.kind === "url" ? photo.url : await photoUrl(nc, args.book, args.id);
    return { book: card.book, id: card.id, etag: card.etag, contact, photoUrl: url };
  },
  content: (o): ContentBlock[] => {
    if (o.photoUrl === null) return [];
    // The handler put a parsed Contact here; the output schema only keeps tools/list lean.
    const { fullName, photo } = o.contact as Partial<Contact>;
    return [
      {
        type: "resource_link",
        uri: o.photoUrl,
        name: `Photo of ${fullName ?? o.id}`,
        ...(photo?.mediaType == null ? {} : { mimeType: photo.mediaType }),
        ...(photo?.bytes == null ? {} : { size: photo.bytes }),
      },
    ];
  },
});
