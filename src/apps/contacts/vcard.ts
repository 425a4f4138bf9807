// Reading vCards (RFC 2426 version 3.0, RFC 6350 version 4.0) with ical.js into the contact shape;
// photos are described (kind, type, size, link), their bytes handed out only by `photoData`.
import { ICAL } from "../calendar/ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import type { Address, Contact, Photo, TypedValue } from "./schema.ts";

/** An ical.js vCard component. */
export type VcardComponent = InstanceType<typeof ICAL.Component>;
type VcardProperty = InstanceType<typeof ICAL.Property>;

/** Parses vCard text into its VCARD component. */
export function readVcard(text: string): VcardComponent {
  let root: VcardComponent;
  try {
    root = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch (err) {
    throw new GatewayError("invalid_request", "The contact is not valid vCard data.", {
      detail: err instanceof Error ? err.message : String(err),
      cause: err,
    });
  }
  if (root.name !== "vcard") {
    throw new GatewayError(
      "invalid_request",
      `A contact must start with BEGIN:VCARD, not BEGIN:${root.name.toUpperCase()}.`,
    );
  }
  return root;
}

/** Text with the escapes some writers leave in place ("\;" where only "\," was needed) removed. */
function clean(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const text = value.replace(/\\([;,\\])/g, "$1").trim();
  return text === "" ? null : text;
}

function first(card: VcardComponent, name: string): string | null {
  return clean(card.getFirstPropertyValue(name));
}

function types(prop: VcardProperty): { types: string[]; preferred: boolean } {
  const raw: unknown = prop.getParameter("type");
  const values: unknown[] = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : [];
  const list = values.flatMap((t) => (typeof t === "string" ? [t.toLowerCase()] : []));
  const pref = prop.getParameter("pref");
  return {
    types: list.filter((t) => t !== "pref" && t !== "internet"),
    preferred: list.includes("pref") || (typeof pref === "string" && pref === "1"),
  };
}

function typedValues(card: VcardComponent, name: string): TypedValue[] {
  return card.getAllProperties(name).flatMap((p) => {
    const value = clean(p.getFirstValue())
      ?.replace(/^tel:/i, "")
      .replace(/^mailto:/i, "");
    return value ? [{ value, ...types(p) }] : [];
  });
}

function parts(value: unknown): (string | null)[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return list.map((v) => clean(Array.isArray(v) ? v.join(" ") : v));
}

function address(prop: VcardProperty): Address {
  const [poBox, extended, street, locality, region, postalCode, country] = parts(prop.getFirstValue());
  return {
    types: types(prop).types,
    poBox: poBox ?? null,
    extended: extended ?? null,
    street: street ?? null,
    locality: locality ?? null,
    region: region ?? null,
    postalCode: postalCode ?? null,
    country: country ?? null,
  };
}

function birthday(card: VcardComponent): string | null {
  const prop = card.getFirstProperty("bday");
  if (!prop) return null;
  const value: unknown = prop.getFirstValue();
  const pad = (n: number) => String(n).padStart(2, "0");
  if (value instanceof ICAL.VCardTime || value instanceof ICAL.Time) {
    // Apple writes a birthday without a year as year 1604 with X-APPLE-OMIT-YEAR.
    const omit: unknown = prop.getParameter("x-apple-omit-year");
    const noYear = !(value.year as number | null) || omit !== undefined;
    const day = `${pad(value.month)}-${pad(value.day)}`;
    return noYear ? `--${day}` : `${String(value.year).padStart(4, "0")}-${day}`;
  }
  return clean(value);
}

const DATA_URI = /^data:([^;,]+)?((?:;[^,]*)?),(.*)$/is;

function base64Size(data: string): number {
  const body = data.replace(/\s/g, "");
  return Math.floor((body.length * 3) / 4) - (body.endsWith("==") ? 2 : body.endsWith("=") ? 1 : 0);
}

/** What a PHOTO property holds, without its bytes. */
export function describePhoto(card: VcardComponent): Photo | null {
  const prop = card.getFirstProperty("photo");
  if (!prop) return null;
  const value: unknown = prop.getFirstValue();
  const type = prop.getParameter("type");
  const v3Type = typeof type === "string" ? `image/${type.toLowerCase()}` : null;
  if (value instanceof ICAL.Binary) {
    return { kind: "inline", mediaType: v3Type, bytes: base64Size(value.value), url: null };
  }
  const text = typeof value === "string" ? value.trim() : "";
  const data = DATA_URI.exec(text);
  if (data) {
    const bytes = /;base64$/i.test(data[2] ?? "")
      ? base64Size(data[3] ?? "")
      : decodeURIComponent(data[3] ?? "").length;
    return { kind: "inline", mediaType: data[1]?.toLowerCase() ?? null, bytes, url: null };
  }
  if (/^https?:\/\//i.test(text)) {
    const mediatype = prop.getParameter("mediatype");
    return {
      kind: "url",
      mediaType: typeof mediatype === "string" ? mediatype : v3Type,
      bytes: null,
      url: text,
    };
  }
  return null;
}

/** The bytes and media type of an inline photo, for a resource read; null for none or a link. */
export function photoData(text: string): { mediaType: string; bytes: Uint8Array } | null {
  const card = readVcard(text);
  const info = describePhoto(card);
  if (info?.kind !== "inline") return null;
  const value: unknown = card.getFirstProperty("photo")?.getFirstValue();
  const base64 = value instanceof ICAL.Binary ? value.value : (DATA_URI.exec(String(value))?.[3] ?? "");
  return {
    mediaType: info.mediaType ?? "application/octet-stream",
    bytes: Buffer.from(base64.replace(/\s/g, ""), "base64"),
  };
}

/** Reads a vCard 3.0 or 4.0 into the contact shape. */
export function parseContact(text: string): Contact {
  const card = readVcard(text);
  const [family, given, additional, prefix, suffix] = parts(card.getFirstPropertyValue("n") ?? []);
  const [organization, ...units] = parts(card.getFirstPropertyValue("org") ?? []);
  const rev: unknown = card.getFirstPropertyValue("rev");
  return {
    uid: first(card, "uid")?.replace(/^urn:uuid:/i, "") ?? null,
    version: first(card, "version") === "4.0" ? "4.0" : "3.0",
    fullName: first(card, "fn"),
    name: {
      family: family ?? null,
      given: given ?? null,
      additional: additional ?? null,
      prefix: prefix ?? null,
      suffix: suffix ?? null,
    },
    emails: typedValues(card, "email"),
    phones: typedValues(card, "tel"),
    organization: organization ?? null,
    department: units.filter((u) => u !== null).join(", ") || null,
    title: first(card, "title"),
    addresses: card.getAllProperties("adr").map(address),
    birthday: birthday(card),
    note: first(card, "note"),
    urls: card.getAllProperties("url").flatMap((p) => clean(p.getFirstValue()) ?? []),
    categories: card
      .getAllProperties("categories")
      .flatMap((p) => p.getValues().flatMap((v) => clean(v) ?? [])),
    photo: describePhoto(card),
    revision: rev instanceof ICAL.Time || rev instanceof ICAL.VCardTime ? rev.toString() : clean(rev),
  };
}
