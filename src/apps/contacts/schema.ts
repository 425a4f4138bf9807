// Shapes of parsed contacts (zod, for tool outputs) and of the inputs that create or change them.
import { z } from "zod";

/** An email address or phone number with its types ("work", "cell"…). */
export const typedValueSchema = z.object({
  value: z.string(),
  types: z.array(z.string()).describe('lower case, e.g. ["work"] or ["cell", "voice"]'),
  preferred: z.boolean(),
});
/** An email address or phone number with its types. */
export type TypedValue = z.infer<typeof typedValueSchema>;

/** A postal address. */
export const addressSchema = z.object({
  types: z.array(z.string()),
  poBox: z.string().nullable(),
  extended: z.string().nullable(),
  street: z.string().nullable(),
  locality: z.string().nullable(),
  region: z.string().nullable(),
  postalCode: z.string().nullable(),
  country: z.string().nullable(),
});
/** A postal address. */
export type Address = z.infer<typeof addressSchema>;

/** What is known about a contact's photo, never the image bytes themselves. */
export const photoSchema = z.object({
  kind: z.enum(["inline", "url"]).describe("inline: stored in the card; url: a link"),
  mediaType: z.string().nullable(),
  bytes: z.number().int().nullable().describe("decoded size of an inline photo"),
  url: z.string().nullable().describe("the link, for kind url"),
});
/** What is known about a contact's photo. */
export type Photo = z.infer<typeof photoSchema>;

/** A parsed vCard 3.0 or 4.0. */
export const contactSchema = z.object({
  uid: z.string().nullable(),
  version: z.enum(["3.0", "4.0"]),
  fullName: z.string().nullable(),
  name: z.object({
    family: z.string().nullable(),
    given: z.string().nullable(),
    additional: z.string().nullable(),
    prefix: z.string().nullable(),
    suffix: z.string().nullable(),
  }),
  emails: z.array(typedValueSchema),
  phones: z.array(typedValueSchema),
  organization: z.string().nullable(),
  department: z.string().nullable(),
  title: z.string().nullable(),
  addresses: z.array(addressSchema),
  birthday: z.string().nullable().describe('"1985-04-12", or "--04-12" without a year'),
  note: z.string().nullable(),
  urls: z.array(z.string()),
  categories: z.array(z.string()),
  photo: photoSchema.nullable(),
  revision: z.string().nullable(),
});
/** A parsed vCard. */
export type Contact = z.infer<typeof contactSchema>;

const typed = z.object({ value: z.string().min(1), types: z.array(z.string()).optional() });

/** Fields of a new contact, or to change on one (null removes a field; a list replaces the old one). */
export const contactInputSchema = z.object({
  fullName: z.string().min(1).optional(),
  name: z
    .object({
      family: z.string().optional(),
      given: z.string().optional(),
      additional: z.string().optional(),
      prefix: z.string().optional(),
      suffix: z.string().optional(),
    })
    .nullable()
    .optional(),
  emails: z
    .array(typed.extend({ value: z.email() }))
    .nullable()
    .optional(),
  phones: z.array(typed).nullable().optional(),
  organization: z.string().nullable().optional(),
  department: z.string().nullable().optional(),
  title: z.string().nullable().optional(),
  addresses: z
    .array(addressSchema.partial().extend({ types: z.array(z.string()).optional() }))
    .nullable()
    .optional(),
  birthday: z.string().nullable().optional().describe('"1985-04-12" or "--04-12"'),
  note: z.string().nullable().optional(),
  urls: z.array(z.string()).nullable().optional(),
  categories: z.array(z.string()).nullable().optional(),
});
/** Fields of a new contact, or to change on one. */
export type ContactInput = z.infer<typeof contactInputSchema>;
