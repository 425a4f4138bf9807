// Reads the hand-written iCalendar and vCard samples in test/fixtures/ical/.
import { readFileSync } from "node:fs";

/** The text of one sample file. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../../../fixtures/ical/${name}`, import.meta.url), "utf8");
}

/** Epoch milliseconds of an ISO 8601 string with an offset. */
export function at(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
}
