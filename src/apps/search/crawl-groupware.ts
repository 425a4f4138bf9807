// What an indexing pass reads besides the files: the user's Notes folder (from the Notes app's own
// settings, so files there are indexed as notes), and their calendars, tasks, contacts and Deck cards
// (each part only for an app the user has; an app that went away takes its items with it).
import { NextcloudError, normalizePath, type NextcloudClient } from "../../nextcloud/index.ts";
import { NotesClient } from "../notes/client.ts";
import type { CollectionSink, PassCounts } from "./collections.ts";
import { crawlCalendars } from "./crawl-calendar.ts";
import { crawlContacts } from "./crawl-contacts.ts";
import { crawlDeck } from "./crawl-deck.ts";

/**
 * The user's Notes folder as an absolute path ("/Notes"), or undefined when the Notes app is off for
 * them: `notesPath` of the Notes settings (GET /apps/notes/api/v1/settings), else, where that route
 * refuses bearer tokens or the app has no settings yet, the `notes.notes_path` capability, else "Notes".
 */
export async function notesFolderOf(nc: NextcloudClient): Promise<string | undefined> {
  const caps = await nc.capabilities();
  if (caps.notes === undefined) return undefined;
  let path: string | undefined;
  if (await nc.routeUsable("cors-app-route")) {
    try {
      path = (await new NotesClient(nc.options).settings()).notesPath;
    } catch (err) {
      // Refused (strict mode), or a Notes app too old for settings (400): the capability says it.
      if (!(err instanceof NextcloudError) || err.kind === "unauthorized") throw err;
    }
  }
  if (typeof path !== "string" || path.trim() === "") {
    const fromCaps = caps.notes.notes_path;
    path = typeof fromCaps === "string" && fromCaps.trim() !== "" ? fromCaps : "Notes";
  }
  return normalizePath(path);
}

/** Calendars and tasks, contacts, Deck cards, one after another; their counts summed by name. */
export async function crawlGroupware(
  nc: NextcloudClient,
  sink: CollectionSink,
  signal?: AbortSignal,
): Promise<PassCounts> {
  const total: PassCounts = {};
  for (const part of [crawlCalendars, crawlContacts, crawlDeck]) {
    signal?.throwIfAborted();
    for (const [k, v] of Object.entries(await part(nc, sink, signal))) total[k] = (total[k] ?? 0) + v;
  }
  return total;
}
