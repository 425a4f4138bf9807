// Writing vCards: new contacts as version 3.0 (ADR 0012), changes to selected fields of an existing
// 3.0 or 4.0 card keeping every property the change does not touch (X-, groups, photos).
import { randomUUID } from "node:crypto";
import { ICAL } from "../calendar/ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import type { ContactInput } from "./schema.ts";
import { readVcard, type VcardComponent } from "./vcard.ts";

/** The PRODID of vCards the gateway creates. */
export const VCARD_PRODID = "-//nextcloud-mcp-gateway//contacts//EN";

function is4(card: VcardComponent): boolean {
  return card.getFirstPropertyValue("version") === "4.0";
}

function typeParam(card: VcardComponent, prop: InstanceType<typeof ICAL.Property>, types: string[]): void {
  if (types.length === 0) return;
  const list = types.map((t) => (is4(card) ? t.toLowerCase() : t.toUpperCase()));
  prop.setParameter("type", list.length === 1 ? (list[0] ?? "") : list);
}

function replace(
  card: VcardComponent,
  name: string,
  values: unknown[] | null | undefined,
  each?: (p: InstanceType<typeof ICAL.Property>, i: number) => void,
): void {
  if (values === undefined) return;
  card.removeAllProperties(name);
  (values ?? []).forEach((value, i) => {
    const prop = new ICAL.Property(name, card);
    if (Array.isArray(value)) prop.setValue(value);
    else prop.setValue(value);
    each?.(prop, i);
    card.addProperty(prop);
  });
}

function checkBirthday(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) || /^--\d{2}-\d{2}$/.test(text)) return text;
  throw new GatewayError(
    "invalid_request",
    `birthday "${text}" must look like "1985-04-12", or "--04-12" without a year.`,
  );
}

function apply(card: VcardComponent, input: ContactInput): void {
  if (input.fullName !== undefined) replace(card, "fn", [input.fullName]);
  if (input.name !== undefined) {
    const n = input.name ?? {};
    replace(card, "n", [[n.family ?? "", n.given ?? "", n.additional ?? "", n.prefix ?? "", n.suffix ?? ""]]);
  }
  const emails = input.emails;
  replace(
    card,
    "email",
    emails?.map((e) => e.value),
    (p, i) => {
      typeParam(card, p, [...(is4(card) ? [] : ["INTERNET"]), ...(emails?.[i]?.types ?? [])]);
    },
  );
  const phones = input.phones;
  replace(
    card,
    "tel",
    phones?.map((t) => t.value),
    (p, i) => {
      typeParam(card, p, phones?.[i]?.types ?? []);
    },
  );
  if (input.organization !== undefined || input.department !== undefined) {
    const [oldOrg, ...oldUnits] = ((card.getFirstPropertyValue("org") as unknown) ?? []) as string[];
    const org = input.organization === undefined ? (oldOrg ?? "") : (input.organization ?? "");
    const unit = input.department === undefined ? oldUnits.join(", ") : (input.department ?? "");
    replace(card, "org", org || unit ? [unit ? [org, unit] : [org]] : null);
  }
  replace(card, "title", input.title === undefined ? undefined : input.title ? [input.title] : null);
  const addresses = input.addresses;
  replace(
    card,
    "adr",
    addresses?.map((a) => [
      a.poBox ?? "",
      a.extended ?? "",
      a.street ?? "",
      a.locality ?? "",
      a.region ?? "",
      a.postalCode ?? "",
      a.country ?? "",
    ]),
    (p, i) => {
      typeParam(card, p, addresses?.[i]?.types ?? []);
    },
  );
  if (input.birthday !== undefined) {
    card.removeAllProperties("bday");
    if (input.birthday) {
      const text = checkBirthday(input.birthday);
      const prop = new ICAL.Property("bday", card);
      prop.resetType(is4(card) ? "date-and-or-time" : "date");
      prop.setValue(ICAL.VCardTime.fromDateAndOrTimeString(text, is4(card) ? "date-and-or-time" : "date"));
      card.addProperty(prop);
    }
  }
  replace(card, "note", input.note === undefined ? undefined : input.note ? [input.note] : null);
  replace(card, "url", input.urls);
  if (input.categories !== undefined) {
    card.removeAllProperties("categories");
    if (input.categories?.length) {
      const prop = new ICAL.Property("categories", card);
      prop.setValues(input.categories);
      card.addProperty(prop);
    }
  }
}

function revise(card: VcardComponent, now: Date): void {
  card.removeAllProperties("rev");
  // Values are given in jCal's extended form; ical.js writes each version's own form.
  card.addPropertyWithValue("rev", `${now.toISOString().slice(0, 19)}Z`);
}

function fullNameOf(input: ContactInput): string | undefined {
  const n = input.name;
  const fromName = n ? [n.prefix, n.given, n.additional, n.family, n.suffix].filter(Boolean).join(" ") : "";
  return input.fullName ?? (fromName || input.organization || input.emails?.[0]?.value || undefined);
}

/** A new vCard 3.0 with a new UID; FN comes from the name, organisation or email when not given. */
export function createContact(
  input: ContactInput,
  options: { now?: Date; uid?: string } = {},
): { uid: string; vcf: string } {
  const fullName = fullNameOf(input);
  if (!fullName) {
    throw new GatewayError(
      "invalid_request",
      "A contact needs fullName, a name, an organization or an email.",
    );
  }
  const uid = options.uid ?? randomUUID();
  const card = readVcard(
    `BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:${VCARD_PRODID}\r\nUID:${uid}\r\nEND:VCARD\r\n`,
  );
  apply(card, { name: {}, ...input, fullName });
  revise(card, options.now ?? new Date());
  return { uid, vcf: `${card.toString()}\r\n` };
}

/** Changes the given fields of the vCard in `vcf`, in its own version, keeping everything else. */
export function updateContact(vcf: string, patch: ContactInput, options: { now?: Date } = {}): string {
  const card = readVcard(vcf);
  if (patch.fullName === undefined && patch.name && !card.hasProperty("fn")) {
    patch = { ...patch, fullName: fullNameOf(patch) };
  }
  apply(card, patch);
  revise(card, options.now ?? new Date());
  return `${card.toString()}\r\n`;
}
