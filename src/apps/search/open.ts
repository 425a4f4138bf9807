// Which tool opens a unified-search hit, and with which arguments: the ids and paths the apps' own
// tools accept, read from what each provider puts in its entries (the files provider's `path`
// attribute; the deep links of Notes, Calendar, Tasks and Contacts, which carry the item's id).
import type { SearchEntry } from "./unified.ts";

/** A tool call that opens a hit, and the id (or path) the app's tools know the item by. */
export interface OpenHint {
  tool: string;
  arguments: Record<string, string | number>;
  id: string | number;
}

/** A contact hit names the card by UID and address book; the contacts tools need the card's id. */
export interface ContactRef {
  book: string;
  uid: string;
}

/** The path part of a URL, decoded segment by segment; undefined when it is not a URL. */
function pathOf(url: string): string[] | undefined {
  try {
    return new URL(url, "http://relative.invalid").pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** The segments after `…/apps/<app>/` in a deep link, or undefined when the link is not into that app. */
function appPath(url: string, app: string): string[] | undefined {
  const parts = pathOf(url);
  if (parts === undefined) return undefined;
  const at = parts.findIndex((p, i) => p === "apps" && parts[i + 1] === app);
  return at === -1 ? undefined : parts.slice(at + 2);
}

/** A calendar object id ("calendar/object.ics") from a Nextcloud DAV path of a calendar object. */
function calendarObjectId(davPath: string): string | undefined {
  const m = /\/remote\.php\/dav\/calendars\/[^/]+\/([^/]+)\/([^/]+)$/.exec(davPath);
  return m ? `${decodeURIComponent(m[1] ?? "")}/${decodeURIComponent(m[2] ?? "")}` : undefined;
}

/** The tool call that opens `entry` of `provider`, or undefined when no tool of the gateway reads it. */
export function openHint(provider: string, entry: SearchEntry): OpenHint | undefined {
  switch (provider) {
    case "files": {
      const path = entry.attributes.path;
      if (path === undefined || path === "") return undefined;
      const folder = entry.icon === "icon-folder";
      const full = path.startsWith("/") ? path : `/${path}`;
      return { tool: folder ? "files_list" : "files_read", arguments: { path: full }, id: full };
    }
    case "notes": {
      const rest = appPath(entry.resourceUrl, "notes");
      const id = rest?.[0] === "note" ? Number(rest[1]) : NaN;
      return Number.isSafeInteger(id) && id > 0 ? { tool: "notes_get", arguments: { id }, id } : undefined;
    }
    case "calendar": {
      const rest = appPath(entry.resourceUrl, "calendar");
      if (rest?.[0] !== "edit" || rest[1] === undefined) return undefined;
      let dav: string;
      try {
        dav = Buffer.from(rest[1], "base64").toString("utf8");
      } catch {
        return undefined;
      }
      const id = calendarObjectId(dav);
      return id === undefined ? undefined : { tool: "calendar_events", arguments: { id }, id };
    }
    case "tasks": {
      const rest = appPath(entry.resourceUrl, "tasks");
      if (rest?.[0] !== "calendars" || rest[2] !== "tasks" || !rest[1] || !rest[3]) return undefined;
      // calendar_tasks lists rather than reads one task: find it by its title; the id is for changes.
      return {
        tool: "calendar_tasks",
        arguments: { query: entry.title, status: "all" },
        id: `${rest[1]}/${rest[3]}`,
      };
    }
    default:
      return undefined;
  }
}

/** The address book and UID of a contacts hit (`…/apps/contacts/direct/contact/<UID>~<book>`). */
export function contactRef(entry: SearchEntry): ContactRef | undefined {
  const rest = appPath(entry.resourceUrl, "contacts");
  if (rest?.[0] !== "direct" || rest[1] !== "contact" || rest[2] === undefined) return undefined;
  const at = rest[2].lastIndexOf("~");
  if (at <= 0 || at === rest[2].length - 1) return undefined;
  return { uid: rest[2].slice(0, at), book: rest[2].slice(at + 1) };
}
