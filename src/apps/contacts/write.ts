// The contacts tools that change data: address books (create, rename, delete), saving a contact
// (new cards as vCard 3.0, changes under the ETag that was read) and deleting one.
import { z } from "zod";
import { badArguments, explained, nextcloudOf, toolMaker, type ToolContext } from "../../mcp/index.ts";
import { NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";
import {
  createAddressBook,
  deleteAddressBook,
  deleteCard,
  getCard,
  listAddressBooks,
  putCard,
  renameAddressBook,
} from "./client.ts";
import {
  bookField,
  contactFields,
  contactInputOf,
  ETAG_HELP,
  etagField,
  idField,
  noBook,
  noContact,
  stale,
} from "./fields.ts";
import { createContact, updateContact } from "./vcard-write.ts";

const tool = toolMaker("contacts");

/** An address book id made from a display name: "Work Contacts" → "work-contacts". */
export function bookIdFrom(displayName: string): string {
  const slug = displayName
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return slug === "" ? `book-${Date.now().toString(36)}` : slug;
}

/** contacts_edit_book: create, rename or delete an address book. */
export const contactsEditBook = tool.write({
  name: "contacts_edit_book",
  title: "Manage address books",
  description:
    "create: a new address book named displayName; rename: sets displayName of `book`; delete: " +
    "removes `book` and all its contacts.",
  input: z.object({
    action: z.enum(["create", "rename", "delete"]).describe("What to do."),
    book: bookField.optional().describe("The address book id (rename, delete)."),
    displayName: z
      .string()
      .trim()
      .refine((v) => v !== "" && v.length <= 200, { message: "displayName must be 1 to 200 characters." })
      .optional()
      .describe("The name (create, rename)."),
  }),
  output: z.object({ action: z.string(), book: z.string(), displayName: z.string().nullable() }),
  destructive: true,
  idempotent: false,
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    if (args.action === "create") {
      if (args.displayName === undefined) throw badArguments("To create an address book, give displayName.");
      const id = args.book ?? bookIdFrom(args.displayName);
      await explained(createAddressBook(nc, { id, displayName: args.displayName }, ctx.signal), {
        conflict: `An address book "${id}" exists already; nothing was created. Give another displayName, or use it.`,
        precondition_failed: `An address book "${id}" exists already; nothing was created.`,
      });
      return { action: "created", book: id, displayName: args.displayName };
    }
    if (args.book === undefined) {
      throw badArguments(`To ${args.action} an address book, give its id as book (see contacts_list_books).`);
    }
    if (args.action === "rename") {
      if (args.displayName === undefined) throw badArguments("To rename an address book, give displayName.");
      await explained(renameAddressBook(nc, args.book, args.displayName, ctx.signal), {
        not_found: noBook(args.book),
      });
      return { action: "renamed", book: args.book, displayName: args.displayName };
    }
    await explained(deleteAddressBook(nc, args.book, ctx.signal), { not_found: noBook(args.book) });
    return { action: "deleted", book: args.book, displayName: null };
  },
  text: (o) => `Address book ${o.book} ${o.action}${o.displayName === null ? "" : ` (${o.displayName})`}.`,
});

/** The book new contacts go to when none is named: "contacts" (Nextcloud's default), else the first. */
async function defaultBook(nc: NextcloudClient, signal: AbortSignal): Promise<string> {
  const books = await listAddressBooks(nc, signal);
  const book = books.find((b) => b.id === "contacts") ?? books[0];
  if (book === undefined) {
    throw badArguments("You have no address book yet; create one with contacts_edit_book first.");
  }
  return book.id;
}

const saveInput = z.object({
  book: bookField.optional().describe('For a new one: default "contacts".'),
  id: idField.optional().describe("The contact to change; leave out to create one."),
  etag: etagField.optional().describe(ETAG_HELP),
  ...contactFields,
});

/** contacts_save: a new contact, or changes to one under the etag that was read. */
export const contactsSave = tool.write({
  name: "contacts_save",
  title: "Create or change a contact",
  description:
    "Without id: creates a contact. With book, id and etag: changes only the given fields (null " +
    "removes one, a list replaces the old one). Returns the new etag.",
  input: saveInput,
  output: z.object({ book: z.string(), id: z.string(), etag: z.string().nullable(), created: z.boolean() }),
  destructive: true,
  idempotent: false,
  async handler(args, ctx) {
    const { book, id, etag, ...given } = args;
    const fields = contactInputOf(given);
    const nc = nextcloudOf(ctx);
    if (id === undefined) {
      if (etag !== undefined)
        throw badArguments("etag goes with id, to change a contact; to create one leave both out.");
      const target = book ?? (await defaultBook(nc, ctx.signal));
      const { uid, vcf } = createContact(fields);
      const card = { book: target, id: `${uid}.vcf`, vcf };
      // A PUT into a missing collection is 409 in Sabre (and Radicale), 404 elsewhere.
      const newTag = await explained(putCard(nc, card, { create: true }, ctx.signal), {
        not_found: noBook(target),
        conflict: noBook(target),
      });
      return stored(nc, ctx, card, newTag, true);
    }
    if (book === undefined || etag === undefined) {
      throw badArguments(
        `To change contact "${id}", give its book and the etag from contacts_get; to create a contact, leave id out.`,
      );
    }
    if (Object.keys(fields).length === 0) {
      throw badArguments("Nothing to change: give at least one field, e.g. emails or phones.");
    }
    const current = await explained(getCard(nc, book, id, ctx.signal), { not_found: noContact(book, id) });
    if (current.etag !== null && current.etag !== etag) {
      throw new NextcloudError("precondition_failed", stale(book, id), { httpStatus: 412 });
    }
    const card = { book, id, vcf: updateContact(current.vcf, fields) };
    const newTag = await explained(putCard(nc, card, { etag }, ctx.signal), {
      precondition_failed: stale(book, id),
      not_found: noContact(book, id),
    });
    return stored(nc, ctx, card, newTag, false);
  },
  text: (o) =>
    `${o.created ? "Created" : "Changed"} contact ${o.book}/${o.id} (etag ${o.etag ?? "unknown"}).`,
});

/** What a save returns; reads the etag back when the server sent none with the PUT. */
async function stored(
  nc: NextcloudClient,
  ctx: ToolContext,
  card: { book: string; id: string; vcf: string },
  etag: string | null,
  created: boolean,
) {
  const tag = etag ?? (await getCard(nc, card.book, card.id, ctx.signal)).etag;
  return { book: card.book, id: card.id, etag: tag, created };
}

/** contacts_delete: delete one contact, only the version that was read. */
export const contactsDelete = tool.write({
  name: "contacts_delete",
  title: "Delete a contact",
  description: "Deletes a contact for good, only if unchanged since its etag was read.",
  input: z.object({ book: bookField, id: idField, etag: etagField }),
  output: z.object({ book: z.string(), id: z.string() }),
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    await explained(deleteCard(nextcloudOf(ctx), args, ctx.signal), {
      not_found: noContact(args.book, args.id),
      precondition_failed: `Contact "${args.id}" in "${args.book}" was changed since you read it; nothing was deleted. Call contacts_get and decide again.`,
    });
    return { book: args.book, id: args.id };
  },
  text: (o) => `Deleted contact ${o.book}/${o.id}.`,
});
