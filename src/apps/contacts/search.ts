// Contact search by name, email, phone (digits only, so "+49 (170) 123" finds "0049170123"'s tail)
// and organisation, ignoring case and accents.
import type { Contact } from "./schema.ts";

function fold(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The digits of a phone number, without a leading international prefix (+ or 00). */
export function phoneDigits(text: string): string {
  return text.replace(/\D/g, "").replace(/^00/, "");
}

/** Whether a contact matches: every word in a name, email or organisation, or the phone digits. */
export function matchesContact(contact: Contact, query: string): boolean {
  const q = query.trim();
  if (q === "") return true;
  const digits = phoneDigits(q);
  if (digits.length >= 4 && /^[\d\s()+\-./]+$/.test(q)) {
    return contact.phones.some((p) => {
      const have = phoneDigits(p.value);
      // "030 555-0100" and "+49 30 555-0100" are the same number without the trunk prefix 0.
      return have.includes(digits) || have.includes(digits.replace(/^0/, ""));
    });
  }
  const n = contact.name;
  const text = fold(
    [
      contact.fullName,
      n.given,
      n.family,
      n.additional,
      contact.organization,
      contact.department,
      ...contact.emails.map((e) => e.value),
    ]
      .filter(Boolean)
      .join("\n"),
  );
  return fold(q)
    .split(/\s+/)
    .every((w) => text.includes(w));
}

/** The contacts that match `query`, in their original order. */
export function searchContacts(contacts: Contact[], query: string): Contact[] {
  return contacts.filter((c) => matchesContact(c, query));
}
