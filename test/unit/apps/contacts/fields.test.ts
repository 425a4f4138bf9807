import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  bookField,
  contactFields,
  contactInputOf,
  idField,
  summaryLine,
  summaryOf,
} from "../../../../src/apps/contacts/fields.ts";
import { parseContact } from "../../../../src/apps/contacts/vcard.ts";
import { bookIdFrom } from "../../../../src/apps/contacts/write.ts";

const fields = z.object(contactFields);

describe("the contacts tools' argument fields", () => {
  it("take one name for a book or a contact, and refuse paths with what to pass instead", () => {
    expect(bookField.parse("contacts")).toBe("contacts");
    expect(idField.parse("8f3a-1.vcf")).toBe("8f3a-1.vcf");
    for (const bad of ["", "..", "a/b", "a\\b", "x".repeat(256)]) {
      const r = bookField.safeParse(bad);
      expect(r.success, bad).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/address book id from contacts_list_books/);
      expect(idField.safeParse(bad).error?.issues[0]?.message).toMatch(/contact id from contacts_find/);
    }
  });

  it("check emails and phone numbers, naming what is wrong", () => {
    expect(fields.safeParse({ emails: [{ value: "a@b.org", types: ["work"] }] }).success).toBe(true);
    expect(fields.safeParse({ emails: [{ value: "not-an-email" }] }).error?.issues[0]?.message).toBe(
      "not a valid email address",
    );
    expect(fields.safeParse({ phones: [{ value: "call me" }] }).error?.issues[0]?.message).toBe(
      "not a valid phone number",
    );
    expect(fields.safeParse({ fullName: "  " }).error?.issues[0]?.message).toBe(
      "fullName must not be empty.",
    );
  });

  it("pass on only the fields given, keeping null (remove) apart from absent (keep)", () => {
    const input = contactInputOf(fields.parse({ title: null, emails: [], note: "hi" }));
    expect(input).toEqual({ title: null, emails: [], note: "hi" });
    expect(Object.keys(contactInputOf(fields.parse({})))).toEqual([]);
  });
});

describe("contact summaries", () => {
  it("carry what a model needs to recognise a contact and chain a call", () => {
    const c = parseContact(
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Jones\r\nEMAIL;TYPE=WORK:carol@example.com\r\nTEL:+49 170 1\r\nORG:Example GmbH;Sales\r\nEND:VCARD\r\n",
    );
    const s = summaryOf({ book: "contacts", id: "carol.vcf", etag: '"e1"' }, c);
    expect(s).toEqual({
      book: "contacts",
      id: "carol.vcf",
      etag: '"e1"',
      fullName: "Carol Jones",
      emails: ["carol@example.com"],
      phones: ["+49 170 1"],
      organization: "Example GmbH",
    });
    expect(summaryLine(s)).toBe(
      "- Carol Jones [contacts/carol.vcf]: carol@example.com, +49 170 1, Example GmbH",
    );
  });
});

describe("bookIdFrom", () => {
  it("makes a URL-safe id from a display name", () => {
    expect(bookIdFrom("Work Contacts")).toBe("work-contacts");
    expect(bookIdFrom("  Équipe / Müller & Co.  ")).toBe("equipe-muller-co");
    expect(bookIdFrom("日本")).toMatch(/^book-[a-z0-9]+$/);
  });
});
