// Text search over parsed events and tasks: every word of the query must appear in the summary,
// description, location, categories or a person's name or address, ignoring case and accents.
import type { CalendarEvent, CalendarTask } from "./schema.ts";

/** Lower case without accents, so "Müller" matches "muller". */
export function foldText(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

function haystack(item: CalendarEvent | CalendarTask): string {
  const people = [item.organizer, ...item.attendees].flatMap((p) => (p ? [p.name ?? "", p.email] : []));
  return foldText(
    [item.summary, item.description, item.location, ...item.categories, ...people].filter(Boolean).join("\n"),
  );
}

/** Whether every word of `query` occurs in the item's text fields or people. */
export function matchesText(item: CalendarEvent | CalendarTask, query: string): boolean {
  const words = foldText(query)
    .split(/\s+/)
    .filter((w) => w !== "");
  if (words.length === 0) return true;
  const text = haystack(item);
  return words.every((w) => text.includes(w));
}

/** The items that match `query`, in their original order. */
export function searchEvents<T extends CalendarEvent | CalendarTask>(items: T[], query: string): T[] {
  return items.filter((item) => matchesText(item, query));
}
