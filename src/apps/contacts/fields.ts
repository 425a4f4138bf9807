// What the contacts tools share: the argument fields naming an address book and a contact, the
// rewording of Nextcloud errors into what the model should do next, and the lean contact summary.
import { z } from "zod";
import { segmentProblem } from "../../nextcloud/index.ts";
import type { Contact, ContactInput } from "./schema.ts";

const nameProblem = (s: string) => s === "" || s.length > 255 || segmentProblem(s) !== undefined;

/** An address book id: a single name, as contacts_list_books returns it. */
export const bookField = z
  .string()
  .refine((s) => !nameProblem(s), {
    message: 'book must be an address book id from contacts_list_books, e.g. "contacts".',
  })
  .describe("Address book id.");

/** A contact id: the card's name in its book, as contacts_find returns it. */
export const idField = z
  .string()
  .refine((s) => !nameProblem(s), {
    message: 'id must be a contact id from contacts_find, e.g. "carol.vcf".',
  })
  .describe("Contact id.");

/** What the etag argument is for. */
export const ETAG_HELP = "From contacts_find or contacts_get; a stale one changes nothing.";
/** The ETag field of a write that must apply to the version that was read. */
export const etagField = z
  .string()
  .refine((s) => s !== "", { message: "etag must not be empty." })
  .describe(ETAG_HELP);

/** What the model should do when the address book is not there. */
export const noBook = (book: string) =>
  `There is no address book "${book}"; call contacts_list_books for the ids.`;

/** What the model should do when the contact is not there. */
export const noContact = (book: string, id: string) =>
  `There is no contact "${id}" in address book "${book}"; call contacts_find for current ids.`;

/** What the model should do after a 412: re-read; nothing changed. */
export const stale = (book: string, id: string) =>
  `Contact "${id}" in "${book}" was changed since you read it; nothing was changed. Call contacts_get for the current version and etag, then apply your change again.`;

/** A contact in a list: enough to recognise it and to call contacts_get or a write. */
export const summarySchema = z.object({
  book: z.string(),
  id: z.string(),
  etag: z.string().nullable(),
  fullName: z.string().nullable(),
  emails: z.array(z.string()),
  phones: z.array(z.string()),
  organization: z.string().nullable(),
});
/** A contact in a list. */
export type Summary = z.infer<typeof summarySchema>;

/** The summary of a parsed contact stored as `book`/`id` with `etag`. */
export function summaryOf(card: { book: string; id: string; etag: string | null }, c: Contact): Summary {
  return {
    book: card.book,
    id: card.id,
    etag: card.etag,
    fullName: c.fullName,
    emails: c.emails.map((e) => e.value),
    phones: c.phones.map((p) => p.value),
    organization: c.organization,
  };
}

/** One line per contact for clients that read text. */
export function summaryLine(s: Summary): string {
  const details = [...s.emails, ...s.phones, ...(s.organization === null ? [] : [s.organization])];
  return `- ${s.fullName ?? "(no name)"} [${s.book}/${s.id}]${details.length ? `: ${details.join(", ")}` : ""}`;
}

const text = z.string().nullable().optional();
const typed = (what: string, ok: (v: string) => boolean) =>
  z
    .array(
      z.object({
        value: z.string().refine(ok, { message: `not a valid ${what}` }),
        types: z.array(z.string()).optional(),
      }),
    )
    .optional();

/**
 * The contact fields a tool takes, leaner than `contactInputSchema` in tools/list (lists are
 * replaced, [] empties one; null removes a single field); the same meaning once converted.
 */
export const contactFields = {
  fullName: z
    .string()
    .refine((v) => v.trim() !== "", { message: "fullName must not be empty." })
    .optional()
    .describe("Display name."),
  name: z
    .object({
      given: z.string().optional(),
      family: z.string().optional(),
      prefix: z.string().optional(),
    })
    .optional()
    .describe("Name parts."),
  emails: typed("email address", (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)).describe(
    "types e.g. work, home.",
  ),
  phones: typed("phone number", (v) => /\d/.test(v)).describe("types e.g. cell, work."),
  organization: text.describe("Company."),
  department: text.describe("Department."),
  title: text.describe("Job title."),
  addresses: z
    .array(
      z.object({
        types: z.array(z.string()).optional(),
        street: z.string().optional(),
        locality: z.string().optional(),
        region: z.string().optional(),
        postalCode: z.string().optional(),
        country: z.string().optional(),
      }),
    )
    .optional()
    .describe("Postal addresses."),
  birthday: text.describe('"1985-04-12" or "--04-12"'),
  note: text.describe("Free text."),
  categories: z.array(z.string()).optional().describe("Tags."),
};

/** The fields given to a tool as the vCard writer's input. */
export function contactInputOf(fields: z.output<z.ZodObject<typeof contactFields>>): ContactInput {
  const out: ContactInput = {};
  for (const [key, value] of Object.entries(fields) as [string, unknown][]) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
