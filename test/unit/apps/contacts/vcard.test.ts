import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { searchContacts } from "../../../../src/apps/contacts/search.ts";
import { parseContact, photoData } from "../../../../src/apps/contacts/vcard.ts";
import { createContact, updateContact } from "../../../../src/apps/contacts/vcard-write.ts";

const card = (name: string) =>
  readFileSync(new URL(`../../../fixtures/ical/${name}`, import.meta.url), "utf8");
const now = new Date("2026-10-01T12:00:00Z");

describe("parseContact", () => {
  it("reads an iPhone vCard 3.0 with grouped properties, types, escapes, a folded photo and a birthday without year", () => {
    const c = parseContact(card("apple-v3.vcf"));
    expect(c).toMatchObject({
      version: "3.0",
      uid: "8F2C6A1E-3B4D-4C5E-9F60-718293A4B5C6",
      fullName: "Dr. Jürgen Müller",
      name: { family: "Müller", given: "Jürgen", prefix: "Dr.", additional: null, suffix: null },
      organization: "Müller & Söhne GmbH",
      department: "Vertrieb",
      title: "Head of Sales",
      birthday: "--04-12",
      note: "Met at the trade fair, booth 4B.\nPrefers calls in the morning.",
      urls: ["https://mueller-soehne.example"],
      categories: ["Customers", "Berlin"],
    });
    expect(c.emails).toEqual([
      { value: "juergen.mueller@mueller-soehne.example", types: ["work"], preferred: true },
      { value: "jm@privat.example", types: ["home"], preferred: false },
    ]);
    expect(c.phones[0]).toEqual({ value: "+49 170 1234567", types: ["cell", "voice"], preferred: true });
    expect(c.addresses[0]).toMatchObject({
      types: ["work"],
      street: "Friedrichstraße 12",
      locality: "Berlin",
      postalCode: "10117",
      country: "Deutschland",
    });
    expect(c.photo).toEqual({ kind: "inline", mediaType: "image/jpeg", bytes: 92, url: null });
    expect(JSON.stringify(c)).not.toContain("/9j/4AAQ");
  });

  it("reads a Nextcloud vCard 4.0 with PREF, tel: URIs, a photo link and escaped commas", () => {
    const c = parseContact(card("nextcloud-v4.vcf"));
    expect(c).toMatchObject({
      version: "4.0",
      fullName: "Carol Chen",
      organization: "Example, Inc.",
      birthday: "--04-12",
      note: "Line one, with comma; and semicolon",
      photo: { kind: "url", url: "https://cdn.example.org/avatars/carol.png", bytes: null },
    });
    expect(c.emails.map((e) => [e.value, e.preferred])).toEqual([
      ["carol@example.org", true],
      ["carol.chen@mail.example", false],
    ]);
    expect(c.phones).toEqual([{ value: "+1-555-201-3344", types: ["voice", "cell"], preferred: false }]);
  });

  it("reads a Google export with a folded note, an empty ORG and a photo URL", () => {
    const c = parseContact(card("google-v3.vcf"));
    expect(c.note).toBe(
      "A long note that Google folds across lines because it is longer than seventy-five octets.",
    );
    expect(c.organization).toBeNull();
    expect(c.emails).toEqual([{ value: "dave@gmail.example", types: [], preferred: false }]);
    expect(c.photo?.kind).toBe("url");
  });

  it("hands out inline photo bytes only through photoData", () => {
    const photo = photoData(card("apple-v3.vcf"));
    expect(photo?.mediaType).toBe("image/jpeg");
    expect(Array.from(photo?.bytes.subarray(0, 3) ?? [])).toEqual([0xff, 0xd8, 0xff]);
    expect(photo?.bytes.length).toBe(92);
    expect(photoData(card("nextcloud-v4.vcf"))).toBeNull();
  });

  it("says what is wrong with text that is not a vCard", () => {
    expect(() => parseContact("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")).toThrow(/must start with BEGIN:VCARD/);
    expect(() => parseContact("nope")).toThrow(/not valid vCard/);
  });
});

describe("createContact and updateContact", () => {
  it("writes a vCard 3.0 that reads back with the same values", () => {
    const { uid, vcf } = createContact(
      {
        name: { given: "Erin", family: "Evans" },
        emails: [{ value: "erin@example.com", types: ["work"] }],
        phones: [{ value: "+44 20 7946 0958", types: ["cell"] }],
        organization: "Evans, Ltd.",
        birthday: "1990-02-28",
        categories: ["Friends"],
      },
      { now, uid: "erin-1" },
    );
    expect(uid).toBe("erin-1");
    expect(vcf).toMatch(/^BEGIN:VCARD\r\nVERSION:3.0\r\n/);
    expect(vcf).toContain("EMAIL;TYPE=INTERNET,WORK:erin@example.com");
    expect(vcf).toContain("ORG:Evans\\, Ltd.");
    expect(parseContact(vcf)).toMatchObject({
      uid: "erin-1",
      fullName: "Erin Evans",
      name: { given: "Erin", family: "Evans" },
      emails: [{ value: "erin@example.com", types: ["work"] }],
      phones: [{ value: "+44 20 7946 0958", types: ["cell"] }],
      organization: "Evans, Ltd.",
      birthday: "1990-02-28",
      categories: ["Friends"],
      revision: "2026-10-01T12:00:00Z",
    });
  });

  it("changes only the given fields of an Apple card and keeps X- properties, groups and the photo", () => {
    const vcf = updateContact(
      card("apple-v3.vcf"),
      { title: "Managing Director", phones: [{ value: "+49 30 5550100", types: ["work"] }] },
      { now },
    );
    expect(vcf).toContain("X-ABShowAs:COMPANY".toUpperCase());
    expect(vcf).toMatch(/item2\.X-ABADR:de/i);
    const c = parseContact(vcf);
    expect(c).toMatchObject({
      title: "Managing Director",
      fullName: "Dr. Jürgen Müller",
      photo: { kind: "inline", bytes: 92 },
    });
    expect(c.phones).toEqual([{ value: "+49 30 5550100", types: ["work"], preferred: false }]);
    expect(c.emails).toHaveLength(2);
  });

  it("keeps a 4.0 card in 4.0 and refuses a contact with no name at all or a bad birthday", () => {
    expect(parseContact(updateContact(card("nextcloud-v4.vcf"), { note: null }, { now }))).toMatchObject({
      version: "4.0",
      note: null,
      fullName: "Carol Chen",
    });
    expect(() => createContact({ note: "who?" })).toThrow(
      /needs fullName, a name, an organization or an email/,
    );
    expect(() => createContact({ fullName: "X", birthday: "12.04.1985" })).toThrow(
      /birthday "12.04.1985" must look like "1985-04-12"/,
    );
  });
});

describe("searchContacts", () => {
  const all = ["apple-v3.vcf", "nextcloud-v4.vcf", "google-v3.vcf"].map((f) => parseContact(card(f)));
  const names = (q: string) => searchContacts(all, q).map((c) => c.fullName);

  it("finds by name without accents, email, organisation and phone digits in any format", () => {
    expect(names("jurgen muller")).toEqual(["Dr. Jürgen Müller"]);
    expect(names("carol@example")).toEqual(["Carol Chen"]);
    expect(names("söhne")).toEqual(["Dr. Jürgen Müller"]);
    expect(names("(555) 201-3344")).toEqual(["Carol Chen"]);
    expect(names("0049 170 1234567")).toEqual(["Dr. Jürgen Müller"]);
    expect(names("0170 1234567")).toEqual(["Dr. Jürgen Müller"]);
    expect(names("zelda")).toEqual([]);
  });
});
